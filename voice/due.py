"""From time expressions to due moments, against the recording time in the rep's zone.

``reference_time`` places the recording in the rep's zone (FS-6006 when it
cannot). ``due_from_when`` maps a resolved ``When`` to a due moment: a point
with a clock time is that moment; a day is an all-day task; a stretch longer
than a day ("next week", 月底前, "by the end of the month") is a deadline on
its last day; a part of a day starts when it starts; anything before the
recording day is history, not a due date.

``times_and_amounts`` runs the date resolver (``fieldsync.voice.when``) and the
amount finder over a memo and settles the words both claim (see its doc).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fieldsync.sync import errors as E
from fieldsync.voice.amounts import Amount, find_amounts
from fieldsync.voice.when import When, find_whens

__all__ = ["due_from_when", "is_bare_part_of_day", "reference_time", "times_and_amounts"]

_FINE_GRAINS = frozenset({"second", "minute", "hour", "part_of_day"})


def reference_time(recorded_at: datetime, time_zone: str | None = None) -> datetime:
    """The recording moment in the rep's zone; FS-6006 when it cannot be placed in time."""
    zone = None
    if time_zone:
        try:
            zone = ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise E.error_for(E.INVALID_MEMO_REQUEST, f"unknown time zone {time_zone!r}", field="time_zone") from exc
    if recorded_at.tzinfo is None or recorded_at.utcoffset() is None:
        if zone is None:
            raise E.error_for(E.INVALID_MEMO_REQUEST, "recorded_at needs a UTC offset or a time_zone",
                              field="recorded_at")
        return recorded_at.replace(tzinfo=zone)
    return recorded_at.astimezone(zone) if zone else recorded_at


def due_from_when(when: When, reference: datetime) -> tuple[datetime, bool] | None:
    """(due moment, all day?) for a resolved expression, or None when it cannot be a due date."""
    if when.kind == "duration":
        return None
    start = when.start
    if when.grain in _FINE_GRAINS:
        due, all_day = start, False
    elif when.end is not None and when.end - start > timedelta(days=1):
        last = when.end - timedelta(microseconds=1)
        due, all_day = last.replace(hour=0, minute=0, second=0, microsecond=0), True
    else:
        due, all_day = start.replace(hour=0, minute=0, second=0, microsecond=0), True
    if due.date() < reference.date():
        return None
    return due, all_day


_VAGUE_TIMES = re.compile(r"^(?:asap|as soon as possible|right away|immediately|at some|some ?time|soon|now|"
                          r"马上|立刻|立即|尽快|赶紧|现在|随时)$", re.IGNORECASE)
_DAYLESS = re.compile(r"^(?:(?:in the |this )?(?:morning|afternoon|evening|noon)|at \d.*|\d.*|上午|下午|中午|晚上|早上|傍晚|"
                      r"(?:上午|下午|中午|晚上|早上)?[零一二两三四五六七八九十\d]+点.*)$", re.IGNORECASE)


def times_and_amounts(text: str, reference: datetime, lang: str) -> tuple[list[When], list[Amount]]:
    """Time expressions and amounts, settling the places where both claim the same words.

    "around 3 million RMB" is money, not 15:00: amounts with a currency or a
    magnitude are blanked out before dates are resolved; a bare number ("the
    2027 budget") stays a time. Urgency words ("ASAP", 马上) are a priority, not a due.
    A bare part of day after a dated expression in the same sentence belongs to
    that date ("明天上午...，下午去华东电气" is tomorrow afternoon).
    """
    strong = [a for a in find_amounts(text, lang=lang)
              if a.currency or re.search(r"[万亿kKmMbB]|thousand|million|billion|grand", a.text)]
    masked = text
    for amount in strong:  # blank the money out (same length) so "Friday, 12 thousand" is just Friday
        masked = masked[: amount.span[0]] + " " * (amount.span[1] - amount.span[0]) + masked[amount.span[1] :]
    whens = [replace(w, text=text[w.span[0] : w.span[1]]) if masked != text else w
             for w in find_whens(masked, reference=reference, lang=lang) if not _VAGUE_TIMES.match(w.text.strip())]
    amounts = find_amounts(text, lang=lang, skip=[w.span for w in whens])
    anchored: list[When] = []
    for when in whens:
        earlier = [w for w in anchored if w.start.date() != reference.date() or "今" in w.text or "today" in w.text.lower()]
        if (earlier and when.start.date() == reference.date() and _DAYLESS.match(when.text.strip())
                and _same_sentence(text, earlier[-1].span[1], when.span[0])):
            day = earlier[-1].start.date()
            when = replace(when, start=when.start.replace(year=day.year, month=day.month, day=day.day),
                           end=None if when.end is None else when.end + (day - when.start.date()))
        anchored.append(when)
    return anchored, amounts


_MEALS = re.compile(r"^(?:breakfast|lunch|dinner|supper|tonight|早饭|午饭|晚饭|中饭|今晚)$", re.IGNORECASE)


def is_bare_part_of_day(when: When, reference: datetime) -> bool:
    """A part of a day with no day of its own ("dinner", "下午"), read as the recording day."""
    text = when.text.strip(" .,;!?，。")
    return when.start.date() == reference.date() and bool(_DAYLESS.match(text) or _MEALS.match(text))


def _same_sentence(text: str, start: int, end: int) -> bool:
    return not re.search(r"[.!?;。！？；\n]", text[start:end])
