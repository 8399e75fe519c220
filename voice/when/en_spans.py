"""English rules for lengths of time: offsets ("in 3 days", "2 weeks ago"), windows ("next 3 days"),
durations ("for 90 minutes") and compound ones ("1 month 21 days ago")."""

from __future__ import annotations

from datetime import datetime, timedelta

import regex as re

from fieldsync.voice.when.calendar_math import add_months, at, elapsed
from fieldsync.voice.when.en_base import UNIT, UNITS, _alt, _period, day_piece, days_piece, rule
from fieldsync.voice.when.numbers_en import NUM, number
from fieldsync.voice.when.pieces import Piece


# ------------------------------------------------------------------ offsets and durations

_SIZE = {"second": timedelta(seconds=1), "minute": timedelta(minutes=1), "hour": timedelta(hours=1),
         "day": timedelta(days=1), "week": timedelta(days=7), "fortnight": timedelta(days=14)}


def _shift(ref: datetime, unit: str, n: float) -> tuple[datetime, bool]:
    """``ref`` moved by ``n`` units; the flag says whether the result keeps a clock time."""
    if unit in ("second", "minute", "hour"):
        return elapsed(ref, _SIZE[unit] * n), True
    if unit in ("day", "week", "fortnight"):
        return at(ref.date() + _SIZE[unit] * round(n), ref.tzinfo), False
    months = {"month": 1, "quarter": 3, "year": 12, "decade": 120}.get(unit, 0)
    whole = int(n)
    d = add_months(ref.date(), months * whole)
    if n != whole:
        d = d + timedelta(days=round((n - whole) * months * 30.4))
    return at(d, ref.tzinfo), False


_N = rf"(?P<n>{NUM}(?:\s+and\s+a\s+half)?|half\s+an?|an?\s+half)"


def _n(m: re.Match[str]) -> float:
    s = " ".join(m["n"].lower().split())
    if s in ("half a", "half an", "a half", "an half"):
        return 0.5
    half = s.endswith(" and a half")
    return number(s.removesuffix(" and a half")) + (0.5 if half else 0.0)


@rule(rf"(?:in|after)\s+(?:the\s+next\s+|another\s+|(?:less|more)\s+than\s+|about\s+|around\s+|"
      rf"approximately\s+)?{_N}\s+{UNIT}|{_N}\s+{UNIT}\s+(?P<dir>from\s+now|"
      r"later|hence|from\s+today|from\s+tomorrow)|(?P<n2>" + NUM + r")\s+" + UNIT.replace("unit", "unit2")
      + r"\s+(?P<ago>ago|earlier|back)")
def _offset(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["n2"]:
        n, unit = -number(m["n2"]), UNITS[m["unit2"].lower()]
    else:
        n, unit = _n(m), UNITS[m["unit"].lower()]
    if unit == "weekend":
        return None
    base = ref + timedelta(days=1) if (m["dir"] or "").endswith("tomorrow") else ref
    moved, timed = _shift(base, unit, n)
    if timed:
        return Piece(m.span(), moved.replace(microsecond=0), None, unit, True, True, relative_time=True)
    return Piece(m.span(), moved, None, "day", True, False)


@rule(rf"(?P<dir>next|last|past|previous|following|upcoming|coming|the\s+next|the\s+last|the\s+past|the\s+previous|"
      rf"the\s+following|the\s+coming)\s+{_N}\s+{UNIT}|{_N}\s+(?P<dir>next|last|past|previous|upcoming|"
      rf"coming)\s+{UNIT}")
def _window(m: re.Match[str], ref: datetime) -> Piece | None:
    n, unit = _n(m), UNITS[m["unit"].lower()]
    back = m["dir"].lower().split()[-1] in ("last", "past", "previous")
    if unit in ("quarter", "decade") and n == int(n):
        # calendar-aligned: "last 2 quarters" are the two whole quarters before this one
        p = _period(unit, ref.date(), -int(n) if back else 1)
        q = _period(unit, ref.date(), -1 if back else int(n))
        if p and q:
            return days_piece(m, p[0], q[1], ref, unit)
    if unit in ("second", "minute", "hour"):
        a, b = (elapsed(ref, -_SIZE[unit] * n), ref) if back else (ref, elapsed(ref, _SIZE[unit] * n))
        return Piece(m.span(), a.replace(microsecond=0), b.replace(microsecond=0), "minute", True, True,
                     "interval", relative_time=True)
    today = ref.date()
    far, _ = _shift(at(today, ref.tzinfo), unit, -n if back else n)
    if back:
        return days_piece(m, far.date(), today, ref, "day")
    return days_piece(m, today + timedelta(days=1), far.date() + timedelta(days=1), ref, "day")


@rule(rf"(?:for\s+|lasting\s+|about\s+)?{_N}[\s-]+{UNIT}(?:\s+long)?")
def _duration(m: re.Match[str], ref: datetime) -> Piece | None:
    n, unit = _n(m), UNITS[m["unit"].lower()]
    if m["n"].lower() in ("a", "an") and unit in ("second", "minute", "weekend", "quarter"):
        return None  # "a second round", "a quarter of the budget": not lengths of time
    if unit in _SIZE:
        size = _SIZE[unit] * n
    else:
        size = timedelta(days={"month": 30, "year": 365, "decade": 3650, "quarter": 91,
                               "weekend": 2}[unit] * n)
    return Piece(m.span(), ref, None, unit, False, False, "duration", duration=size)


# ------------------------------------------------------------------ more dates and times

_DUR_ITEM = rf"(?:{NUM}|an?)\s*(?:and\s+a\s+half\s+)?(?:{_alt(UNITS)})s?(?:\s+and\s+a\s+half)?"
_DUR_SEQ = rf"(?P<seq>{_DUR_ITEM}(?:\s*,?\s*(?:and\s+)?{_DUR_ITEM})+)"
_ITEM_RE = re.compile(rf"(?P<n>{NUM}|an?)\s*(?P<half1>and\s+a\s+half\s+)?(?P<u>{_alt(UNITS)})s?"
                      rf"(?P<half2>\s+and\s+a\s+half)?")


def _seq_parts(s: str) -> list[tuple[str, float]]:
    out = []
    for it in _ITEM_RE.finditer(s):
        n = number(it["n"]) + (0.5 if it["half1"] or it["half2"] else 0.0)
        out.append((UNITS[it["u"].lower()], n))
    return out


@rule(_DUR_SEQ + r"\s+(?P<dir>ago|earlier|later|from\s+now|hence)")
def _compound_offset(m: re.Match[str], ref: datetime) -> Piece | None:
    sign = -1 if m["dir"].lower() in ("ago", "before", "earlier") else 1
    cur, timed = ref, False
    for unit, n in _seq_parts(m["seq"]):
        if unit in ("second", "minute", "hour"):
            cur, timed = elapsed(cur, _SIZE[unit] * n * sign), True
        elif unit in ("day", "week", "fortnight"):
            cur = cur + _SIZE[unit] * n * sign
        else:
            months = {"month": 1, "quarter": 3, "year": 12, "decade": 120}.get(unit, 0)
            d = add_months(cur.date(), int(months * n * sign))
            cur = cur.replace(year=d.year, month=d.month, day=d.day)
    if timed:
        return Piece(m.span(), cur.replace(microsecond=0), None, "minute", True, True, relative_time=True)
    return day_piece(m, cur.date(), ref)


@rule(r"(?:for\s+|lasting\s+|more\s+than\s+|less\s+than\s+|about\s+)?" + _DUR_SEQ
      + r"|(?P<n>" + NUM + r")\s+and\s+(?:a\s+)?half\s+(?P<u>" + _alt(UNITS) + r")s?"
      + r"|(?P<n>" + NUM + r")\s+(?P<u>" + _alt(UNITS) + r")s?\s+and\s+(?:a\s+)?(?P<frac>half|quarter)"
      + r"|(?P<n>\d+(?:\.\d+)?|½)\s*(?P<u>h|hrs?|m|mins?|s|secs?|d)(?![a-z])"
      + r"|all\s+(?P<all>day|week|month|year)|(?P<n>" + NUM + r")\s+(?P<nights>nights?)")
def _compound_duration(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["seq"]:
        parts = _seq_parts(m["seq"])
    elif m["all"]:
        parts = [(m["all"].lower(), 1.0)]
    elif m["nights"]:
        parts = [("day", number(m["n"]))]
    else:
        raw = m["n"]
        n = 0.5 if raw == "½" else number(raw)
        u = m["u"].lower()
        short = {"h": "hour", "hr": "hour", "hrs": "hour", "m": "minute", "min": "minute", "mins": "minute",
                 "s": "second", "sec": "second", "secs": "second", "d": "day"}
        unit = short.get(u) or UNITS[u]
        extra = {"half": 0.5, "quarter": 0.25}.get((m["frac"] or "").lower(), 0.0)
        if m["frac"] is None and "and" in m.group(0) and "half" in m.group(0):
            extra = 0.5
        parts = [(unit, n + extra)]
    size = timedelta(0)
    for unit, n in parts:
        if unit in _SIZE:
            size += _SIZE[unit] * n
        else:
            size += timedelta(days={"month": 30, "year": 365, "decade": 3650, "quarter": 91, "weekend": 2}[unit] * n)
    return Piece(m.span(), ref, None, parts[0][0], False, False, "duration", duration=size)


@rule(r"(?P<n>" + NUM + r")\s+(?P<u>" + _alt(UNITS) + r")s?\s+(?P<dir>from|after|"
      r"before)\s+(?P<anchor>yesterday|today|tomorrow)")
def _anchored_offset(m: re.Match[str], ref: datetime) -> Piece | None:
    unit = UNITS[m["u"].lower()]
    if unit not in ("day", "week", "fortnight"):
        return None
    base = ref.date() + timedelta(days={"yesterday": -1, "today": 0, "tomorrow": 1}[m["anchor"].lower()])
    sign = -1 if m["dir"].lower() == "before" else 1
    return day_piece(m, base + _SIZE[unit] * number(m["n"]) * sign, ref)


@rule(r"(?:within|in\s+less\s+than|less\s+than(?=.*\sfrom\s+(?:today|now)))\s+(?:the\s+)?(?:next\s+|coming\s+|"
      r"upcoming\s+)?" + _N
      + r"\s+" + UNIT + r"(?:\s+from\s+(?:today|now))?|(?:the\s+)?next\s+couple(?:\s+of)?\s+(?P<u2>days|weeks|months)")
def _within(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["u2"]:
        n, unit = 2.0, UNITS[m["u2"].lower()[:-1]]
    else:
        n, unit = _n(m), UNITS[m["unit"].lower()]
    if unit in ("second", "minute", "hour"):
        end = elapsed(ref, _SIZE[unit] * n).replace(microsecond=0)
        return Piece(m.span(), ref.replace(microsecond=0), end, "minute",
                     True, True, "interval", relative_time=True)
    far, _ = _shift(at(ref.date(), ref.tzinfo), unit, n)
    if m["u2"]:
        return days_piece(m, ref.date() + timedelta(days=1), far.date() + timedelta(days=1), ref, "day")
    # "within 3 days": from now to the end of the third day, a deadline
    return Piece(m.span(), ref.replace(microsecond=0), at(far.date() + timedelta(days=1), ref.tzinfo), "day", True,
                 True, "interval")


_GLUED = {"y": "year", "yr": "year", "yrs": "year", "year": "year", "years": "year", "mo": "month",
          "month": "month", "months": "month", "w": "week", "wk": "week", "wks": "week", "week": "week",
          "weeks": "week", "day": "day", "days": "day", "hour": "hour", "hours": "hour", "minute": "minute",
          "minutes": "minute"}


@rule(r"(?P<n>\d+(?:\.\d+)?)(?P<u>" + _alt(_GLUED) + r")(?![a-z])|(?P<all>all|full|whole|entire)[\s-]+(?:the\s+)?"
      r"(?P<u2>day|week|month|year)|(?:another|one\s+more)\s+(?:business\s+)?(?P<u3>day|week|month|year|hour)|"
      r"half\s+(?:an?\s+)?(?P<u4>hour|day|year|minute)")
def _more_durations(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["u"]:
        unit, n = _GLUED[m["u"].lower()], float(m["n"])
    elif m["u2"]:
        unit, n = m["u2"].lower(), 1.0
    elif m["u3"]:
        unit, n = m["u3"].lower(), 1.0
    else:
        unit, n = m["u4"].lower(), 0.5
    size = _SIZE[unit] * n if unit in _SIZE else timedelta(days={"month": 30, "year": 365}[unit] * n)
    return Piece(m.span(), ref, None, unit, False, False, "duration", duration=size)


@rule(r"(?:within|in\s+less\s+than)\s+(?:the\s+)?(?:next\s+|coming\s+|upcoming\s+)?" + _DUR_SEQ)
def _within_compound(m: re.Match[str], ref: datetime) -> Piece | None:
    """"within 2 days 1 hour 5 minutes": from now for that long."""
    end = ref
    for unit, n in _seq_parts(m["seq"]):
        if unit in _SIZE:
            end = end + _SIZE[unit] * n
        else:
            months = {"month": 1, "quarter": 3, "year": 12, "decade": 120}.get(unit, 0)
            d = add_months(end.date(), int(months * n))
            end = end.replace(year=d.year, month=d.month, day=d.day)
    return Piece(m.span(), ref.replace(microsecond=0), end.replace(microsecond=0), "minute", True, True, "interval",
                 relative_time=True)


@rule(r"(?:the\s+)?(?P<dir>next|last|past|previous|coming)\s+(?P<u>hour|minute)")
def _this_unit_window(m: re.Match[str], ref: datetime) -> Piece | None:
    """"next hour", "last minute": the hour/minute after or before now."""
    size = _SIZE[m["u"].lower()]
    now = ref.replace(second=0, microsecond=0)
    back = m["dir"].lower() in ("last", "past", "previous")
    a, b = (elapsed(now, -size), now) if back else (now, elapsed(now, size))
    return Piece(m.span(), a, b, "minute", True, True, "interval", relative_time=True)


@rule(r"(?:the\s+)?(?:rest|remainder)\s+(?:of\s+)?(?:the\s+|my\s+|this\s+|current\s+|today'?s?\s+)?(?P<u>day|"
      r"work\s?day)")
def _rest_of_day(m: re.Match[str], ref: datetime) -> Piece | None:
    """"rest of the day": from now to the end of today."""
    end = at(ref.date() + timedelta(days=1), ref.tzinfo)
    return Piece(m.span(), ref.replace(second=0, microsecond=0), end, "minute", True, True, "interval",
                 relative_time=True)
