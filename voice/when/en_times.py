"""English rules for clock times, parts of day and time ranges ("3:30pm", "half past four",
"tonight", "from 2 to 4pm", "end of day")."""

from __future__ import annotations

from datetime import datetime, timedelta

import regex as re

from fieldsync.voice.when.calendar_math import at
from fieldsync.voice.when.en_base import (AMPM, MON, MONTHS, PARTS, WEEKDAYS, _REL_DAYS, _YEAR_TAIL, _alt,
                                          _safe, _said_year, days_piece, rule)
from fieldsync.voice.when.numbers_en import NUM, number
from fieldsync.voice.when.pieces import Piece


# ------------------------------------------------------------------ clock times

def _clock(h: int, mi: int, ampm: str | None) -> tuple[int, bool] | None:
    if h > 24 or mi > 59:
        return None
    if ampm:
        if h > 12:
            return (h, False) if ampm.lower().startswith("p") and h < 24 else None
        pm = ampm.lower().startswith("p")
        return (h % 12 + (12 if pm else 0)), False
    if h == 0 or h > 12:
        return h, False
    return (h + 12 if 1 <= h <= 6 else h), True


def time_piece(m: re.Match[str], ref: datetime, h: int, mi: int, ampm: str | None, sec: int = 0,
               grain: str | None = None) -> Piece | None:
    c = _clock(h, mi, ampm)
    if c is None:
        return None
    hour, amb = c
    start = at(ref.date(), ref.tzinfo, hour, mi, sec)
    return Piece(m.span(), start, None, grain or ("minute" if mi or sec else "hour"), False, True,
                 ambiguous_ampm=amb)


_PARTSUFFIX = r"(?:\s+(?:in\s+the\s+|this\s+|at\s+)(?P<part>morning|afternoon|evening|night))?"


@rule(r"(?:at\s+|@\s*|around\s+|about\s+)?(?P<h>\d{1,2})(?::|\.(?=\d\d\s*[ap]\.?\s?m\b)|(?<=at\s+\d{1,2})\.(?=\d\d(?!\d|"
      r"\s*(?:%|per)))"
      r")(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*"
      + rf"(?:{AMPM})?(?:\s*(?:h|hrs|o'?clock))?" + _PARTSUFFIX)
def _hhmm(m: re.Match[str], ref: datetime) -> Piece | None:
    return time_piece(m, ref, int(m["h"]), int(m["mi"]), m["ampm"] or _part_ampm(m["part"], int(m["h"])),
                      int(m["s"] or 0))


def _part_ampm(part: str | None, h: int) -> str | None:
    if not part:
        return None
    if part.lower() == "morning":
        return "am"
    if part.lower() == "night" and h == 12:
        return "am"
    return "pm"


_HOURW = rf"(?P<h>\d{{1,2}}(?![.,]\d)|(?!\d){NUM})"
_MINW = rf"(?P<mi>{NUM})"


@rule(r"(?:at\s+|@\s*|around\s+|about\s+|by\s+)?" + _HOURW + rf"(?:\s+(?!and){_MINW})?\s*(?:{AMPM}|(?P<oc>o'?\s?clock))"
      + _PARTSUFFIX)
def _h_ampm(m: re.Match[str], ref: datetime) -> Piece | None:
    try:
        h, mi = int(number(m["h"])), int(number(m["mi"])) if m["mi"] else 0
    except KeyError:
        return None
    return time_piece(m, ref, h, mi, m["ampm"] or _part_ampm(m["part"], h))


@rule(r"(?:at|@|around|about)\s+" + _HOURW + r"(?![.,:]\d)" + rf"(?:\s+{_MINW})?" + _PARTSUFFIX)
def _at_h(m: re.Match[str], ref: datetime) -> Piece | None:
    try:
        h, mi = int(number(m["h"])), int(number(m["mi"])) if m["mi"] else 0
    except KeyError:
        return None
    if m["mi"] and mi < 10 and not m["mi"].startswith("0"):
        return None
    return time_piece(m, ref, h, mi, _part_ampm(m["part"], h))


@rule(_HOURW + r"[\s-]+" + _MINW + r"(?=\s*$|\s+(?:tomorrow|today|tonight|this|next|on|in\s+the|[ap]\.?\s?m\b))")
def _bare_h_m(m: re.Match[str], ref: datetime) -> Piece | None:
    try:
        h, mi = int(number(m["h"])), int(number(m["mi"]))
    except KeyError:
        return None
    if not (m["h"].isalpha() and 10 <= mi <= 59):
        return None
    return time_piece(m, ref, h, mi, None)


re_minutes = re.compile(r"\bmin(?:ute)?s?\b", re.I)


@rule(r"(?:at\s+|around\s+)?(?P<q>half|quarter|a\s+quarter|(?P<mn>" + NUM + r")(?:\s*(?:minutes?|mins?))?)\s+"
      r"(?P<dir>past|after|to|before|till)\s+" + _HOURW + rf"(?:\s*{AMPM}|\s+o'?clock)?" + _PARTSUFFIX)
def _past_to(m: re.Match[str], ref: datetime) -> Piece | None:
    q = " ".join(m["q"].lower().split())
    if m["dir"].lower() in ("to", "till") and m["mn"] and not re_minutes.search(m.group(0)):
        return None  # "five to seven" is a range, "five minutes to seven" a clock time
    try:
        h = int(number(m["h"]))
        mins = 30 if q == "half" else 15 if q.endswith("quarter") else int(number(m["mn"]))
    except (KeyError, TypeError):
        return None
    if m["dir"].lower() in ("to", "before", "till"):
        h, mins = h - 1, 60 - mins
        if h == 0 and not m["ampm"]:
            h = 12
    return time_piece(m, ref, h, mins, m["ampm"] or _part_ampm(m["part"], h), grain="minute")


@rule(r"(?:at\s+)?(?P<w>noon|midday|midnight|mid-night|12\s+noon)")
def _noon(m: re.Match[str], ref: datetime) -> Piece | None:
    h = 0 if "night" in m["w"].lower() else 12
    d = ref.date() + timedelta(days=1 if h == 0 else 0)
    return Piece(m.span(), at(d, ref.tzinfo, h), None, "hour", h == 0, True)


@rule(r"(?:(?P<this>in\s+the|during\s+the|this|the|around|at|for)\s+)?(?:(?P<edge>early|late|"
      r"later)[\s-]+(?:in\s+)?)?(?:(?P<this>this|in\s+the|during\s+the|the)\s+)?(?P<p>morning|afternoon|"
      r"evening|night|lunchtime|"
      r"lunch\s+time|daytime|business\s+hours|working\s+hours|overnight|dinner\s*time|dinner|breakfast)s?")
def _part(m: re.Match[str], ref: datetime) -> Piece | None:
    if m.string[max(0, m.start() - 5):m.start()].endswith("good "):
        return None  # a greeting, not a time
    lo, hi = PARTS[" ".join(m["p"].lower().split())]
    if lo == hi:
        return None
    this = bool(m["this"]) and m["this"].lower() == "this"
    if m["p"].lower() == "business hours":
        lo, hi = 8, 18
    if m["edge"]:
        lo, hi = _part_edge(m["edge"], lo, hi)
    return Piece(m.span(), at(ref.date(), ref.tzinfo, lo), at(ref.date(), ref.tzinfo, hi), "part_of_day",
                 this, True, "interval", part=(lo, hi))


def _part_edge(edge: str, lo: int, hi: int) -> tuple[int, int]:
    mid = (lo + hi) // 2
    if edge.lower().startswith("early"):
        return lo, mid
    return mid, hi


# ------------------------------------------------------------------ time ranges with bare numbers

@rule(r"(?:from\s+|between\s+)?(?P<h1>\d{1,2})(?::(?P<m1>\d{2}))?\s*(?P<a1>a\.?m\.?|p\.?m\.?)?\s*"
      r"(?:-|–|to|till|til|until|and)\s*(?P<h2>\d{1,2})(?::(?P<m2>\d{2}))?\s*(?:(?P<a2>a\.?m\.?|p\.?m\.?)|"
      r"(?P<oc>o'?clock))" + _PARTSUFFIX.replace("part", "part2"))
def _hour_range(m: re.Match[str], ref: datetime) -> Piece | None:
    a2 = m["a2"] or _part_ampm(m["part2"], int(m["h2"]))
    end = _clock(int(m["h2"]), int(m["m2"] or 0), a2)
    start = _clock(int(m["h1"]), int(m["m1"] or 0), m["a1"] or a2)
    if end is None or start is None:
        return None
    h1, h2 = start[0], end[0]
    if not m["a1"] and a2:
        # the left end is the reading of its number that comes last before the right end
        options = [h for h in (int(m["h1"]) % 12, int(m["h1"]) % 12 + 12) if h < h2 or (h == h2 and m["m2"])]
        h1 = max(options) if options else int(m["h1"]) % 12 + 12
    s = at(ref.date(), ref.tzinfo, h1, int(m["m1"] or 0))
    e = at(ref.date(), ref.tzinfo, h2, int(m["m2"] or 0))
    if e <= s:
        e += timedelta(days=1)
    return Piece(m.span(), s, e, "minute" if m["m1"] or m["m2"] else "hour", False, True, "interval")


@rule(r"(?<=(?:" + _alt(WEEKDAYS) + r"|today|tomorrow|tonight|yesterday)\.?,?\s+)(?P<h1>\d{1,2})(?::(?P<m1>\d{2}))?\s*"
      r"(?:-|–|to|till|til|until)\s*(?P<h2>\d{1,2})(?::(?P<m2>\d{2}))?(?![\d:/])")
def _day_hour_range(m: re.Match[str], ref: datetime) -> Piece | None:
    """"monday 8 to 9", "Monday 11-4": a bare range right after a day is a time range."""
    a = _clock(int(m["h1"]), int(m["m1"] or 0), None)
    h2, m2 = int(m["h2"]), int(m["m2"] or 0)
    if a is None or h2 > 24 or m2 > 59:
        return None
    s = at(ref.date(), ref.tzinfo, a[0], int(m["m1"] or 0))
    e = at(ref.date(), ref.tzinfo, h2 % 24, m2)
    while e <= s:
        e += timedelta(hours=12)
    if e - s > timedelta(hours=12):
        return None
    return Piece(m.span(), s, e, "minute" if m["m1"] or m["m2"] else "hour", False, True, "interval")


@rule(r"(?:from\s+|between\s+)?(?:the\s+)?(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*(?:-|–|to|till|until|and)\s*"
      r"(?:the\s+)?(?P<d2>\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+" + MON + _YEAR_TAIL
      + r"|(?:from\s+|between\s+)?" + MON.replace("mon", "mon2") + r"\s+(?P<e1>\d{1,2})(?:st|nd|rd|th)?\s*"
      r"(?:-|–|to|till|until|and)\s*(?P<e2>\d{1,2})(?:st|nd|rd|th)?" + _YEAR_TAIL.replace("<y>", "<y2>"))
def _day_range(m: re.Match[str], ref: datetime) -> Piece | None:
    mon, d1, d2 = (m["mon"], m["d1"], m["d2"]) if m["mon"] else (m["mon2"], m["e1"], m["e2"])
    mo = MONTHS[mon.lower()]
    year = _said_year(m) or (ref.year if mo >= ref.month else ref.year + 1)
    a, b = _safe(year, mo, int(d1)), _safe(year, mo, int(d2))
    if not a or not b or b < a:
        return None
    return days_piece(m, a, b + timedelta(days=1), ref, "day")


# ------------------------------------------------------------------ more dates and times

@rule(r"(?:at\s+)?(?P<h>\d{1,2})(?P<mi>\d{2})\s*" + AMPM + r"|(?P<h>\d{1,2})\s*h\s*(?P<mi>\d{2})(?:\s*" + AMPM + ")?"
      r"|(?P<h>\d{1,2})(?::(?P<mi>\d{2}))?\.?(?P<ampm>a\.?m\.?|p\.?m\.?|a|p)(?![a-z])")
def _compact_time(m: re.Match[str], ref: datetime) -> Piece | None:
    return time_piece(m, ref, int(m["h"]), int(m["mi"] or 0), m["ampm"])


@rule(r"(?:at\s+|around\s+)?(?P<h>\d{1,2}|" + NUM + r")\s*-?ish|(?P<noon>noon)ish")
def _ish(m: re.Match[str], ref: datetime) -> Piece | None:
    try:
        h = 12 if m["noon"] else int(number(m["h"]))
    except KeyError:
        return None
    return time_piece(m, ref, h, 0, None)


_MIDS = {"midmorning": 10, "mid-morning": 10, "mid morning": 10, "midafternoon": 14, "mid-afternoon": 14,
         "mid afternoon": 14, "mid-day": 12, "mid day": 12, "mid night": 0, "midevening": 18,
         "mid-evening": 18, "mid evening": 18}


@rule(rf"(?P<w>{_alt(_MIDS)})")
def _mid(m: re.Match[str], ref: datetime) -> Piece | None:
    h = _MIDS[" ".join(m["w"].lower().split())]
    return Piece(m.span(), at(ref.date(), ref.tzinfo, h), None, "hour", False, True)


@rule(_HOURW + r"(?:[\s:]+(?P<mi>\d{2}|" + NUM + r"))?\s+(?:in\s+the|this|at|during\s+the)\s+"
      r"(?P<part>morning|afternoon|evening|night)")
def _h_part(m: re.Match[str], ref: datetime) -> Piece | None:
    try:
        h, mi = int(number(m["h"])), int(number(m["mi"])) if m["mi"] else 0
    except KeyError:
        return None
    return time_piece(m, ref, h, mi, _part_ampm(m["part"], h))


@rule(r"(?:(?:by|at|before|until|till)\s+)?(?:the\s+)?(?:end\s+of\s+(?:the\s+|this\s+)?(?P<what>day|business\s+day|"
      r"today|tomorrow|tonight|" + _alt(WEEKDAYS) + r")|(?P<eod>eod|cob|close\s+of\s+business))"
      r"(?:\s+(?P<when>today|tomorrow))?")
def _end_of_day(m: re.Match[str], ref: datetime) -> Piece | None:
    what = (m["when"] or m["what"] or "day").lower()
    d = ref.date()
    if what == "tomorrow":
        d += timedelta(days=1)
    elif what in WEEKDAYS:
        d += timedelta(days=(WEEKDAYS[what] - d.weekday()) % 7)
    if m["eod"] and m["eod"].lower() in ("cob", "close of business") or "business" in what:
        return Piece(m.span(), at(d, ref.tzinfo, 17), None, "hour", True, True)
    return Piece(m.span(), at(d, ref.tzinfo, 23, 59, 59), None, "second", True, True)


_RANGE_PART = r"\s+(?:in\s+the|this|at|during\s+the)\s+(?P<part>morning|afternoon|evening|night)"


@rule(r"(?:(?:from|between)\s+(?P<h1>\d{1,2}|" + NUM + r")(?:[:.](?P<m1>\d{2}))?\s*(?P<a1>a\.?\s?m\.?|p\.?\s?m\.?)?\s*"
      r"(?:-|–|to|till|until|and)\s*"
      r"(?P<h2>\d{1,2}|" + NUM + r")(?:[:.](?P<m2>\d{2}))?(?:\s*o'?clock)?(?!\s*(?:%|[:\d]))"
      r"(?!\s+(?!on\b|in\s+the\b|tomorrow|today|tonight|next|this|last|yesterday|o'?clock|morning|afternoon|"
      r"evening|night|at\b|[ap]\.?m\b|"
      r"" + _alt(WEEKDAYS) + r")[a-z])|(?P<h1>\d{1,2}|" + NUM + r")(?:[:.](?P<m1>\d{2}))?\s*"
      r"(?:-|–|to|till|until)\s*(?P<h2>\d{1,2}|" + NUM + r")(?:[:.](?P<m2>\d{2}))?)(?:" + _RANGE_PART + ")?")
def _bare_hour_range(m: re.Match[str], ref: datetime) -> Piece | None:
    """"from 9 to 11", "between 5 and 6 in the afternoon", "5 to seven in the morning"."""
    if not m["part"] and not re.match(r"(?:from|between)\b", m.group(0), re.I):
        return None
    try:
        h1, h2 = int(number(m["h1"])), int(number(m["h2"]))
    except KeyError:
        return None
    m1, m2 = int(m["m1"] or 0), int(m["m2"] or 0)
    if m["part"]:  # the part of day settles both ends' half of the day
        ap = _part_ampm(m["part"], h2)
        if h1 > 12 or h2 > 12 or ap is None:
            return None
        s = at(ref.date(), ref.tzinfo, h1 % 12 + (12 if ap == "pm" else 0), m1)
        e = at(ref.date(), ref.tzinfo, h2 % 12 + (12 if ap == "pm" else 0), m2)
        if e <= s:
            return None
        return Piece(m.span(), s, e, "minute" if m1 or m2 else "hour", False, True, "interval")
    a = _clock(h1, m1, m["a1"])
    if a is None or h2 > 24 or m2 > 59:
        return None
    s = at(ref.date(), ref.tzinfo, a[0], m1)
    e = at(ref.date(), ref.tzinfo, h2 % 24, m2)
    step = timedelta(hours=12 if h2 <= 12 else 24)
    while e <= s:
        e += step
    if e - s > timedelta(hours=24):
        return None
    return Piece(m.span(), s, e, "minute" if m1 or m2 else "hour", False, True, "interval", ambiguous_ampm=a[1])


@rule(r"(?P<d>today|tomorrow|yesterday|tonight|" + _alt(WEEKDAYS) + r")\s+(?P<ap>am|pm|a\.m\.|p\.m\.)(?![a-z])"
      r"|(?P<last>last)\s+night")
def _day_ampm(m: re.Match[str], ref: datetime) -> Piece | None:
    today = ref.date()
    if m["last"]:
        d, lo, hi = today - timedelta(days=1), 20, 24
    else:
        w = m["d"].lower()
        if w in WEEKDAYS:
            d = today + timedelta(days=(WEEKDAYS[w] - today.weekday()) % 7)
        else:
            d = today + timedelta(days=_REL_DAYS[w])
        lo, hi = (8, 12) if m["ap"].lower().startswith("a") else (12, 16)
    return Piece(m.span(), at(d, ref.tzinfo, lo), at(d, ref.tzinfo, hi), "part_of_day", True, True, "interval",
                 part=(lo, hi))


@rule(r"(?:from|starting\s+at|starting|beginning\s+at)\s+" + _HOURW + r"(?::(?P<mi>\d{2}))?(?=\s+for\s)")
def _from_hour(m: re.Match[str], ref: datetime) -> Piece | None:
    try:
        h = int(number(m["h"]))
    except KeyError:
        return None
    return time_piece(m, ref, h, int(m["mi"] or 0), None)
