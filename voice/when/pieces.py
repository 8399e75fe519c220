"""Language-neutral pieces and how adjacent pieces become one ``When``.

Theory of operation
-------------------
Each language module scans the text with many small patterns and turns every
match into a ``Piece``: a resolved candidate that says whether it fixes a
calendar day (``has_date``), a time of day (``has_time``), or both.  A
time-only piece is provisionally put on the reference day.

``assemble`` then works in passes over the pieces sorted by position:

1. overlap: of overlapping pieces the longest wins (ties: the earlier, and
   anything before a duration);
2. anchors (English): a length followed by "before/after/from" and a day
   counts from that day ("3 days after Christmas");
3. fusion: a day, a part of day and a clock separated only by a *joiner*
   ("at", "on", ",", "的", nothing) fuse into one piece ("next Tuesday at 3",
   "下周二下午三点", "tonight at 7"); the part of day fixes the clock's half
   of the day; a recurring set takes the clock of its first occurrence;
4. ranges: two pieces joined by a *range connector* ("to", "until", "-",
   "到", "至"), optionally introduced by "from"/"between"/"从", become an
   interval.  Missing parts flow between the ends: the day, the am/pm half
   ("from 2 to 4pm"), the month of a bare right-hand day ("从一月十日到十二日"),
   the year ("June-August 1992"); a start and a length make an interval too
   ("from 2pm for 2 hours").

Finally bare times (no day) move to their next occurrence at or after the
reference, and each piece becomes a ``When``.  ``deadline`` turns a resolved
expression into "from now until then" for "before X", "until X" and X前.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fieldsync.voice.when.model import When

__all__ = ["Piece", "assemble", "deadline"]


@dataclass(frozen=True, slots=True)
class Piece:
    """A resolved candidate expression at ``span``; ``end`` exclusive or None for a point."""

    span: tuple[int, int]
    start: datetime
    end: datetime | None
    grain: str
    has_date: bool
    has_time: bool
    kind: str = "point"
    ambiguous_ampm: bool = False
    duration: timedelta | None = None
    recurrence: str | None = None
    relative_time: bool = False  # "in 3 hours": already absolute, never re-anchored
    part: tuple[int, int] | None = None  # part of day (start hour, end hour) not yet tied to a clock
    explicit_year: bool = False  # the text named the year ("June 1992", "2017年8月")

    @property
    def clock(self) -> bool:
        """True for a clock time or clock range (not a part of day)."""
        return self.has_time and self.part is None and self.kind in ("point", "interval")

    @property
    def day_point(self) -> bool:
        """True for a single calendar day (possibly with a part of day), which a clock can join."""
        return self.has_date and not self.clock and (self.kind == "point" or self.part is not None)


def _shift_to_part(t: Piece, part: tuple[int, int]) -> Piece:
    """Read a clock inside a part of day: "tonight at 7" is 19:00, "7 in the morning" 07:00."""
    lo, hi = part
    h = t.start.hour
    delta = timedelta(0)
    if not t.ambiguous_ampm:
        # an explicit "1am" tonight is the small hours after midnight; other explicit clocks stay as said
        if lo >= 20 and h < 6:
            delta = timedelta(days=1)
    elif lo >= 16 and h == 12:
        delta = timedelta(hours=12)  # "tonight at 12", "晚上十二点": midnight at the end of the day
    elif lo >= 12 and h < 12:
        delta = timedelta(hours=12)
    elif hi <= 12 and h >= 13 and t.ambiguous_ampm:
        delta = timedelta(hours=-12)
    end = t.end + delta if t.end is not None else None
    return replace(t, start=t.start + delta, end=end, ambiguous_ampm=False)


def _fuse(q: Piece, p: Piece, span: tuple[int, int]) -> Piece | None:
    """Join a day, a part of day and a clock that stand next to each other, or None."""
    if q.kind == "set" and p.kind in ("point", "interval") and p.has_time and not p.has_date:
        # "every Monday at 9", "每周一上午九点": the first occurrence takes the clock time
        day = q.start.date()
        t = _shift_to_part(p, p.part) if p.part and p.kind == "point" else p
        start = t.start.replace(year=day.year, month=day.month, day=day.day)
        return replace(q, span=span, start=start, grain=t.grain if t.kind == "point" else q.grain)
    if q.kind not in ("point", "interval") or p.kind not in ("point", "interval"):
        return None
    if q.relative_time or p.relative_time:
        return None
    if q.has_date and q.clock and q.kind == "point" and p.part is not None and not p.has_date:
        # "ten thirty tomorrow morning": the trailing part of day only settles the half of the day
        return replace(_shift_to_part(q, p.part), span=span)
    if q.has_date and p.has_date:
        return None
    if q.clock and p.clock:
        return None
    parts = [x.part for x in (q, p) if x.part is not None]
    if len(parts) > 1:
        return None
    dated = q if q.has_date else p if p.has_date else None
    if dated is not None and not dated.day_point:
        return None
    clock = q if q.clock else p if p.clock else None
    part = parts[0] if parts else None
    if clock is None and dated is None:
        return None
    if clock is not None:
        t = _shift_to_part(clock, part) if part else clock
        start, end, base = t.start, t.end, clock.start
        grain, amb, kind, left = t.grain, t.ambiguous_ampm, t.kind, None
    else:
        holder = q if q.part else p
        start, end, grain, amb, kind, left = holder.start, holder.end, holder.grain, False, "interval", part
        base = start
    if dated is not None:
        day = dated.start.date()
        shift = datetime(day.year, day.month, day.day) - datetime(base.year, base.month, base.day)
        start = start + shift
        end = end + shift if end is not None else None
    return Piece(span, start, end, grain, dated is not None, True, kind, amb, part=left)


_BARE_DAY = re.compile(r"(?:the\s+)?\d{1,2}(?:st|nd|rd|th)?|[0-9零〇一二两三四五六七八九十廿卅]{1,3}[日号]", re.I)


_CLOCK_FIRST = re.compile(r"\d|(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|noon|midnight|half|"
                          r"quarter|at\b)|[零〇一二两三四五六七八九十上下中凌早晚傍午]", re.I)


def _range(a: Piece, b: Piece, span: tuple[int, int], bare_day_right: bool = False,
           day_first_right: bool = False) -> Piece | None:
    """Join ``a`` and ``b`` into one interval, or None when they do not make a range.

    ``bare_day_right``: the right end is a bare day of the month ("到十二日"); ``day_first_right``: the right
    end opens with its own day ("from 2pm till tomorrow 4:30pm"), which then does not spread to the left end.
    """
    if a.kind in ("duration", "set") or b.kind in ("duration", "set"):
        return None
    if a.has_date != b.has_date and a.has_time != b.has_time:
        return _fuse(a, b, span)
    if a.has_time and b.has_time:
        if b.ambiguous_ampm and not a.ambiguous_ampm and a.start.hour < 24:
            # "早上五到六点", "3pm to 5": the right end follows the left end's half of the day
            cand = b.start.replace(year=a.start.year, month=a.start.month, day=a.start.day)
            for shift in (-12, 0, 12):
                c = cand + timedelta(hours=shift)
                if c.date() == a.start.date() and a.start < c <= a.start + timedelta(hours=12):
                    b = replace(b, start=c, ambiguous_ampm=False)
                    break
        if a.ambiguous_ampm and not b.ambiguous_ampm:
            if b.start.hour >= 12 and a.start.hour < 12 and a.start.hour + 12 <= b.start.hour:
                a = replace(a, start=a.start + timedelta(hours=12))
            elif b.start.hour < 12 and a.start.hour >= 12 and a.start.hour - 12 <= b.start.hour:
                a = replace(a, start=a.start - timedelta(hours=12))
        if not a.has_date and b.has_date and not day_first_right:
            bd = b.start.date()
            a = replace(a, start=a.start.replace(year=bd.year, month=bd.month, day=bd.day))
        elif a.has_date and not b.has_date:
            ad = a.start.date()
            b = replace(b, start=b.start.replace(year=ad.year, month=ad.month, day=ad.day))
        end = b.start
        if end <= a.start and not b.has_date:
            end += timedelta(days=1)
        grain = "minute" if a.start.minute or end.minute else "hour"
        return Piece(span, a.start, end, grain, a.has_date or b.has_date, True, "interval")
    if a.has_date and b.has_date and not a.has_time and not b.has_time:
        if bare_day_right and b.grain == "day" and (b.start.year, b.start.month) != (a.start.year, a.start.month):
            # "从一月十日到十二日", "from the 4th to the 23rd": a bare day on the right is in the left side's month
            try:
                moved = b.start.replace(year=a.start.year, month=a.start.month)
            except ValueError:
                moved = b.start
            if moved > a.start:
                b = replace(b, start=moved, end=None)
        if b.start <= a.start < b.start + timedelta(days=7) and b.grain == "day" and a.grain == "day" \
                and b.end is None and a.end is None:
            # "between Monday and Wednesday" said on a Wednesday: the right end is the next Wednesday
            b = replace(b, start=b.start + timedelta(days=7))
        if b.explicit_year and not a.explicit_year:
            a = _into_year(a, b)
        elif not a.explicit_year and not b.explicit_year and _end(b) <= a.start \
                and a.start - timedelta(days=366) < b.start:
            # "from May to September" said in September: the left end is this year's May, not next year's
            a = _shifted_year(a, -1)
        if not b.explicit_year:
            b = _same_year(a, b)
        end = b.end if b.end is not None else b.start + timedelta(days=1)
        if end <= a.start:
            return None
        return Piece(span, a.start, end, "day", True, False, "interval")
    if a.has_date and b.has_date:
        if b.relative_time and b.start <= a.start and not a.explicit_year:
            a = _shifted_year(a, -1)  # "between Jan 22 and now" said in April: this January
        end = b.end if (b.end is not None and not b.has_time) else b.start
        if end <= a.start:
            return None
        return Piece(span, a.start, end, "minute", True, True, "interval")
    return None


def _end(p: Piece) -> datetime:
    return p.end if p.end is not None else p.start + timedelta(days=1)


def _shifted_year(p: Piece, years: int) -> Piece:
    try:
        start = p.start.replace(year=p.start.year + years)
        end = p.end.replace(year=p.end.year + years) if p.end is not None else None
    except ValueError:
        return p
    return replace(p, start=start, end=end)


def _into_year(a: Piece, b: Piece) -> Piece:
    """"June-August 1992", "26 June to 28 June in 2020": the left end takes the right end's year."""
    for year in (b.start.year, b.start.year - 1):
        try:
            start = a.start.replace(year=year)
            end = a.end.replace(year=year + (a.end.year - a.start.year)) if a.end is not None else None
        except ValueError:
            continue
        if start <= b.start:
            return replace(a, start=start, end=end, explicit_year=True)
    return a


def _same_year(a: Piece, b: Piece) -> Piece:
    """A right end more than a year after the left one lost its year: "2017年8月11日至8月22日"."""
    if b.start - a.start <= timedelta(days=366):
        return b
    for year in (a.start.year, a.start.year + 1):
        try:
            start = b.start.replace(year=year)
            end = b.end.replace(year=year + (b.end.year - b.start.year)) if b.end is not None else None
        except ValueError:
            continue
        if start >= a.start:
            return replace(b, start=start, end=end)
    return b


_FOR_GAP = re.compile(r"\s*,?\s*(?:from|starting(?:\s+(?:at|from|on))?|beginning(?:\s+(?:at|on))?|for|从|起|开始)?\s*",
                      re.I)


def _with_duration(q: Piece, p: Piece, gap: str, span: tuple[int, int]) -> Piece | None:
    """"from 2pm for 2 hours", "for 3 hours from 10 am": a start and a length make an interval."""
    if not _FOR_GAP.fullmatch(gap):
        return None
    if q.kind == "duration" and p.kind == "point" and (p.has_time or p.has_date):
        dur, at_ = q, p
    elif p.kind == "duration" and q.kind == "point" and (q.has_time or q.has_date) and not q.relative_time:
        dur, at_ = p, q
    else:
        return None
    if dur.duration is None or (not at_.has_time and dur.duration < timedelta(days=1)):
        return None
    return Piece(span, at_.start, at_.start + dur.duration, at_.grain, at_.has_date, at_.has_time, "interval")


def _drop_overlaps(pieces: list[Piece]) -> list[Piece]:
    ordered = sorted(pieces, key=lambda p: (-(p.span[1] - p.span[0]), p.span[0], p.kind == "duration"))
    kept: list[Piece] = []
    for p in ordered:
        if all(p.span[1] <= k.span[0] or p.span[0] >= k.span[1] for k in kept):
            kept.append(p)
    return sorted(kept, key=lambda p: p.span[0])


def _anchored(dur: Piece, base: Piece, back: bool, span: tuple[int, int]) -> Piece | None:
    """"3 days after Christmas", "two months after next friday": a length counted from a day."""
    if dur.duration is None or base.kind != "point" or not base.has_date:
        return None
    step = dur.duration
    if dur.grain in ("month", "year", "quarter", "decade"):
        months = {"month": 1, "quarter": 3, "year": 12, "decade": 120}[dur.grain]
        n = round(step.days / {"month": 30, "quarter": 91, "year": 365, "decade": 3650}[dur.grain])
        total = base.start.year * 12 + base.start.month - 1 + (-n if back else n) * months
        y, mo = divmod(total, 12)
        day = min(base.start.day, calendar.monthrange(y, mo + 1)[1])
        start = base.start.replace(year=y, month=mo + 1, day=day)
    else:
        start = base.start - step if back else base.start + step
    return Piece(span, start, None, base.grain if base.has_time else "day", True, base.has_time)


def assemble(pieces: list[Piece], text: str, reference: datetime, *, joiner: re.Pattern[str],
             connector: re.Pattern[str], opener: re.Pattern[str],
             anchor: re.Pattern[str] | None = None) -> list[When]:
    """Turn raw pieces into the final, ordered list of ``When`` (see module docstring)."""
    ps = _drop_overlaps(pieces)
    if anchor is not None:
        linked: list[Piece] = []
        for p in ps:
            if linked and linked[-1].kind == "duration" and not text[linked[-1].span[0]:].lower().startswith("for"):
                m = anchor.fullmatch(text[linked[-1].span[1]:p.span[0]])
                a = _anchored(linked[-1], p, bool(m and m["back"]), (linked[-1].span[0], p.span[1])) if m else None
                if a is not None:
                    linked[-1] = a
                    continue
            linked.append(p)
        ps = linked
    fused: list[Piece] = []
    for p in ps:
        if fused and joiner.fullmatch(text[fused[-1].span[1]:p.span[0]]):
            f = _fuse(fused[-1], p, (fused[-1].span[0], p.span[1]))
            if f is not None:
                fused[-1] = f
                continue
        fused.append(p)
    ranged: list[Piece] = []
    for p in fused:
        if ranged:
            q = ranged[-1]
            gap = text[q.span[1]:p.span[0]]
            spanned = _with_duration(q, p, gap, (q.span[0], p.span[1]))
            if spanned is not None:
                ranged[-1] = spanned
                continue
            if connector.fullmatch(gap):
                before = text[:q.span[0]]
                m = opener.search(before)
                begin = m.start() if m else q.span[0]
                right = text[p.span[0]:p.span[1]].strip()
                r = _range(q, p, (begin, p.span[1]), bool(_BARE_DAY.fullmatch(right)),
                           not _CLOCK_FIRST.match(right))
                if r is not None:
                    ranged[-1] = r
                    continue
        ranged.append(p)
    out: list[When] = []
    for p in ranged:
        start, end = p.start, p.end
        passed = (end if end is not None else start + timedelta(minutes=1)) <= reference.replace(microsecond=0)
        if p.has_time and not p.has_date and not p.relative_time and passed:
            start += timedelta(days=1)
            end = end + timedelta(days=1) if end is not None else None
        s0, s1 = p.span
        out.append(When(start, end, p.grain, text[s0:s1], (s0, s1), p.kind, p.duration, p.recurrence))
    return out


_STEP = {"second": timedelta(seconds=1), "minute": timedelta(minutes=1), "hour": timedelta(hours=1),
         "day": timedelta(days=1), "week": timedelta(days=7)}


def deadline(w: When, reference: datetime, span: tuple[int, int], text: str, *, inclusive: bool) -> When | None:
    """"before Christmas" / "下周五前": the interval from the reference up to ``w``.

    Inclusive deadlines (Chinese X前, "until X") end where ``w`` ends (a point lasts one unit of its grain);
    exclusive ones ("before X") end where ``w`` starts.  None when ``w`` is not after the reference.
    """
    if w.kind not in ("point", "interval"):
        return None
    if inclusive:
        end = w.end if w.end is not None else w.start + _STEP.get(w.grain, timedelta(days=1))
    else:
        end = w.start
    if end <= reference:
        return None
    grain = "day" if w.grain in ("second", "minute", "hour", "part_of_day") else w.grain
    return When(reference.replace(microsecond=0), end, grain, text[span[0]:span[1]], span, "interval")
