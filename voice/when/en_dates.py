"""English rules for calendar dates: absolute dates, weekdays, relative days, periods, holidays, sets."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import regex as re

from fieldsync.voice.when.calendar_math import HOLIDAY_NAMES, add_months, at, holiday_date, week_start
from fieldsync.voice.when.en_base import (MON, MONTHS, UNIT, UNITS, WD, WEEKDAYS, _REL, _REL_DAYS, _YEAR_TAIL,
                                          _alt, _future_md, _period, _safe, _said_year, _year, day_piece, days_piece,
                                          rule)
from fieldsync.voice.when.numbers_en import NUM, ORD, YEAR_WORDS, number, ordinal, year_words
from fieldsync.voice.when.pieces import Piece


# ------------------------------------------------------------------ absolute dates

@rule(r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})")
def _iso(m: re.Match[str], ref: datetime) -> Piece | None:
    d = _safe(int(m["y"]), int(m["m"]), int(m["d"]))
    return day_piece(m, d, ref) if d else None


@rule(r"(?:(?:this|next|last)\s+)?(?:(?P<wd>" + _alt(WEEKDAYS) + r")\.?,?\s+)?"
      r"(?<![\d.]\.|\d[/-])(?P<m>\d{1,2})(?P<sep>[/-])(?P<d>\d{1,2})(?:(?P=sep)(?P<y>\d{2}|\d{4}))?(?![.,]\d)"
      r"(?!\s*(?:[ap]\.?m\b|o'?clock)|[:\d])"
      r"|(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})|(?P<y>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|"
      r"[12]\d|3[01])"
      r"|(?P<y>(?:19|20)\d\d)\s(?P<m>1[0-2]|0?[1-9])\s(?P<d>[12]\d|3[01]|0?[1-9])(?![\d:])")
def _us(m: re.Match[str], ref: datetime) -> Piece | None:
    mo, dd = int(m["m"]), int(m["d"])
    if mo > 12 and dd <= 12:
        mo, dd = dd, mo
    if not 1 <= mo <= 12:
        return None
    if m["y"]:
        d = _safe(_year(m["y"], ref.year), mo, dd)
    else:
        d = _future_md(ref.date(), mo, dd) if 1 <= dd <= 31 else None
    if d and m["wd"] and m["sep"] == "-" and d.weekday() != WEEKDAYS[m["wd"].lower()]:
        return None  # "monday 11-4" is a time range, not 4 November (which is no Monday)
    return day_piece(m, d, ref) if d else None


_OPT_WD = rf"(?:(?P<wd0>{_alt(WEEKDAYS)}),?\s+(?:the\s+)?)?"


def _month_day(m: re.Match[str], ref: datetime) -> Piece | None:
    mo = MONTHS[m["mon"].lower()]
    try:
        dd = int(m["d"]) if m["d"].isdigit() else ordinal(m["d"])
    except KeyError:
        dd = int(number(m["d"]))
    year = _said_year(m)
    d = _safe(year, mo, dd) if year is not None else _future_md(ref.date(), mo, dd)
    return day_piece(m, d, ref) if d else None


rule(_OPT_WD + MON + rf"(?:[\s/.-]*|\s+the\s+)(?P<d>{ORD}|\d{{1,2}}(?!\d)|{NUM})(?![:.]\d)" + _YEAR_TAIL)(_month_day)


rule(_OPT_WD + rf"(?:the\s+)?(?P<d>{ORD}|\d{{1,2}})(?:\s+of|\.)?[\s/-]*" + MON + _YEAR_TAIL)(_month_day)


rule(r"(?P<y>\d{4})[\s/.-]+" + MON + rf"[\s/.-]+(?P<d>\d{{1,2}})")(_month_day)


@rule(rf"(?:{WD},?\s+)?(?:the\s+)?(?P<d>{ORD})(?:\s+of\s+(?P<rel>this|next|last)\s+month)")
def _day_of_month(m: re.Match[str], ref: datetime) -> Piece | None:
    dd = ordinal(m["d"])
    base = add_months(ref.date().replace(day=1), {"this": 0, "next": 1, "last": -1}[m["rel"]])
    d = _safe(base.year, base.month, dd)
    return day_piece(m, d, ref) if d else None


_IN_RANGE = re.compile(r"(?:" + _alt(MONTHS) + r")\.?\s*(?:-|–|to|through|thru|until|till|and)\s*$", re.I)
_MONTH_CUE = re.compile(r"(?:\b(?:in|from|between|since|until|till|by|before|after|during|early|mid|late|end\s+of|"
                        r"beginning\s+of|middle\s+of)\s+|\bmid-)$", re.I)
_RANGE_ON = re.compile(r"\s*(?:-|–|to|through|thru|until|till|and)\s*" + _alt(MONTHS), re.I)
_COUNTED = re.compile(r"\s+(?!and\b|to\b|through\b|thru\b|till\b|until\b|or\b|q[1-4]\b|h[12]\b|"
                      + _alt(MONTHS) + r"\b)[a-z]", re.I)
_CODE_BEFORE = re.compile(r"(?<![\d-])(?!(?:19|20)\d\d\b)\d+\s*-\s*$")
_CODE_AFTER = re.compile(r"\s*-\s*(?!(?:19|20)\d\d\b|(?:0?[1-9]|1[0-2])\b)\d+")
_RANGE_CUE = re.compile(r"\b(?:from|to|till|until|between|and|through)\s+$", re.I)
_MAY_VERB = re.compile(r"\s+(?:be|have|take|not|want|need|i|you|we|he|she|they|it|also|still|well|help|come|go|get|"
                       r"make|see|call|cause|require|change|vary|apply|include|affect|contain|lead|or|not|be|"
                       r"well|even)\b")


@rule(rf"(?:(?P<rel>this|next|last|the\s+coming|coming|previous)\s+)?(?:month\s+of\s+)?" + MON
      + rf"(?:(?:\s*[,/-]\s*|\s+|\s+of\s+|\s+in\s+)(?P<y>\d{{4}}|'\d\d|[4-9]\d(?![\d:]))|(?:\s+of\s+|\s+)(?P<yw>"
      + YEAR_WORDS + "))?")
def _month(m: re.Match[str], ref: datetime) -> Piece | None:
    mo = MONTHS[m["mon"].lower()]
    if m["mon"].lower() in ("may", "mar", "sat", "sun", "jun") and not (
            m["y"] or m["yw"] or m["rel"] or _IN_RANGE.search(m.string, 0, m.start())
            or _MONTH_CUE.search(m.string, 0, m.start())
            or _RANGE_ON.match(m.string, m.end())):
        return None  # too often an ordinary word, unless the context makes it a month ("in May", "May to July")
    if m["mon"].lower() == "may" and _MAY_VERB.match(m.string, m.end()):
        return None  # "this may take longer"
    if m["y"] or m["yw"]:
        y = _said_year(m, ref.year) or ref.year
    elif m["rel"] in ("next", "coming", "the coming"):
        y = ref.year + 1 if mo <= ref.month else ref.year
        if m["rel"] == "next":
            y = ref.year + 1
    elif m["rel"] in ("last", "previous"):
        y = ref.year - 1
    elif m["rel"] == "this":
        y = ref.year
    else:
        y = ref.year if mo >= ref.month else ref.year + 1
    d0 = date(y, mo, 1)
    return days_piece(m, d0, add_months(d0, 1), ref, "month")


@rule(r"(?:(?P<cue>in|during|of|year|the\s+year(?:\s+of)?|since|by|before|after|fy|cy)\s+)?(?P<y>(?:19|20)\d\d)"
      r"|(?:(?P<cue>in|during|of|year|the\s+year(?:\s+of)?|since|by|before|after|from|until|till|to|and)\s+)?(?P<yw>"
      + YEAR_WORDS + ")")
def _year_only(m: re.Match[str], ref: datetime) -> Piece | None:
    if not m["cue"] and _COUNTED.match(m.string, m.end()) and not _RANGE_CUE.search(m.string, 0, m.start()):
        return None  # "deliver 2000 pieces": a count, not a year
    if m["y"] and (_CODE_BEFORE.search(m.string, 0, m.start()) or _CODE_AFTER.match(m.string, m.end())):
        return None  # "32-2015", "138-2010-...": part of a code or phone number, not a year
    if m["yw"] and m["cue"] and m["cue"].lower() in ("from", "until", "till", "to", "and"):
        m_start = m.start("yw")  # the connector belongs to the range, not to the year
        y = year_words(m["yw"])
        return Piece((m_start, m.end()), at(date(y, 1, 1), ref.tzinfo), at(date(y + 1, 1, 1), ref.tzinfo), "year",
                     True, False, "interval", explicit_year=True)
    y = _said_year(m, ref.year) or ref.year
    return days_piece(m, date(y, 1, 1), date(y + 1, 1, 1), ref, "year")


@rule(r"(?P<rel>this|next|last|the\s+coming|previous)\s+year|(?P<cur>the\s+current\s+year)")
def _rel_year(m: re.Match[str], ref: datetime) -> Piece | None:
    y = ref.year + {"this": 0, "next": 1, "last": -1, "previous": -1}.get((m["rel"] or "this").split()[-1], 1)
    return days_piece(m, date(y, 1, 1), date(y + 1, 1, 1), ref, "year")


# ------------------------------------------------------------------ relative days and weekdays

@rule(rf"(?P<w>{_alt(_REL_DAYS)})")
def _rel_day(m: re.Match[str], ref: datetime) -> Piece | None:
    w = " ".join(m["w"].lower().split())
    d = ref.date() + timedelta(days=_REL_DAYS[w])
    if w == "tonight":
        return Piece(m.span(), at(d, ref.tzinfo, 20), at(d, ref.tzinfo, 24), "part_of_day", True, True,
                     "interval", part=(20, 24))
    return day_piece(m, d, ref)


@rule(r"(?:right\s+)?now|as\s+soon\s+as\s+possible|asap")
def _now(m: re.Match[str], ref: datetime) -> Piece | None:
    return Piece(m.span(), ref.replace(microsecond=0), None, "second", True, True, relative_time=True)


@rule(r"(?:(?P<rel>this|next|last|coming|the\s+coming|upcoming|previous|following|on|by)\s+)?"
      + WD + r"(?:\s+(?P<after>after\s+next|before\s+last|next\s+week|last\s+week|this\s+week))?")
def _weekday(m: re.Match[str], ref: datetime) -> Piece | None:
    wd = WEEKDAYS[m["wd"].lower()]
    today = ref.date()
    rel = " ".join((m["rel"] or "").lower().split())
    after = " ".join((m["after"] or "").lower().split())
    monday = week_start(today)
    if after == "after next":
        d = monday + timedelta(days=14 + wd)
    elif after == "before last":
        d = monday + timedelta(days=-14 + wd)
    elif after == "next week" or rel in ("next", "following"):
        d = monday + timedelta(days=7 + wd)
    elif after == "last week" or rel in ("last", "previous", "past"):
        d = monday + timedelta(days=-7 + wd)
    elif after == "this week" or rel == "this":
        d = monday + timedelta(days=wd)
    else:
        d = today + timedelta(days=(wd - today.weekday()) % 7)
        if rel in ("coming", "the coming", "upcoming") and d == today:
            d += timedelta(days=7)
    return day_piece(m, d, ref)


# ------------------------------------------------------------------ periods

_RELW = rf"(?P<rel>{_alt(_REL)})"


@rule(_RELW + r"\s+(?P<unit>week|weekend|month|quarter|year|decade|work\s?week|working\s+week|business\s+week)"
      r"(?P<after>\s+after\s+next)?")
def _rel_period(m: re.Match[str], ref: datetime) -> Piece | None:
    off = _REL[" ".join(m["rel"].lower().split())]
    if m["after"]:
        off = max(off, 1) + 1
    p = _period(" ".join(m["unit"].lower().split()), ref.date(), off)
    return days_piece(m, p[0], p[1], ref, p[2]) if p else None


_EDGE = {"early": (0.0, 0.5), "beginning of": (0.0, 0.5), "start of": (0.0, 0.5),
         "the beginning of": (0.0, 0.5), "the start of": (0.0, 0.5), "mid": (0.33, 0.67),
         "middle of": (0.33, 0.67), "the middle of": (0.33, 0.67), "late": (0.5, 1.0),
         "end of": (0.5, 1.0), "the end of": (0.5, 1.0), "the rest of": (-1.0, 1.0),
         "rest of": (-1.0, 1.0), "remaining of": (-1.0, 1.0), "the remaining of": (-1.0, 1.0),
         "remainder of": (-1.0, 1.0), "the remainder of": (-1.0, 1.0), "later": (-1.0, 1.0),
         "later in": (-1.0, 1.0), "earlier": (0.0, -1.0),
         "earlier in": (0.0, -1.0)}


@rule(rf"(?:by\s+)?(?P<edge>{_alt(_EDGE)})-?\s*(?:(?P<rel>{_alt(_REL)})\s+)?"
      r"(?P<unit>week|month|year|quarter)|(?P<edge2>early|mid|late|end\s+of|the\s+end\s+of|"
      r"beginning\s+of|the\s+beginning\s+of|the\s+middle\s+of|middle\s+of)-?\s*" + MON
      + r"(?:\s+(?P<y>\d{4}))?")
def _edge(m: re.Match[str], ref: datetime) -> Piece | None:
    today = ref.date()
    if m["edge2"]:
        edge = " ".join(m["edge2"].lower().split())
        mo = MONTHS[m["mon"].lower()]
        y = int(m["y"]) if m["y"] else (today.year if mo >= today.month else today.year + 1)
        s, e, grain = date(y, mo, 1), add_months(date(y, mo, 1), 1), "month"
    else:
        edge = " ".join(m["edge"].lower().split())
        off = _REL[" ".join(m["rel"].lower().split())] if m["rel"] else 0
        p = _period(m["unit"].lower(), today, off)
        if p is None:
            return None
        s, e, grain = p
    lo, hi = _EDGE[edge]
    half = add_months(s, 6) if grain == "year" else s + timedelta(days=3 if grain == "week" else 15)
    if edge.startswith("later"):  # the rest of the period, but not before its second half
        return days_piece(m, max(today, half), e, ref, grain)
    if edge.startswith("earlier"):  # the part already gone, at most its first half
        return days_piece(m, s, min(today, half), ref, grain) if today > s else None
    if lo < 0:
        return days_piece(m, today, e, ref, grain)
    n = (e - s).days
    if grain == "week":
        cut = {0.0: 0, 0.33: 1, 0.5: 3, 0.67: 5, 1.0: 7}
        a, b = s + timedelta(days=cut[lo]), s + timedelta(days=cut[hi])
        if edge in ("late", "end of", "the end of"):
            a = s + timedelta(days=3)
    elif grain == "year":
        months = {0.0: 0, 0.33: 4, 0.5: 6, 0.67: 8, 1.0: 12}
        a, b = add_months(s, months[lo]), add_months(s, months[hi])
        if edge in ("end of", "the end of", "late"):
            a = add_months(s, 6)
    else:
        a = s + timedelta(days=round(n * lo)) if lo != 0.5 else s + timedelta(days=15)
        b = s + timedelta(days=round(n * hi)) if hi not in (0.5, 1.0) else (
            s + timedelta(days=15) if hi == 0.5 else e)
        if lo == 0.33:
            a, b = s + timedelta(days=10), s + timedelta(days=20)
    return days_piece(m, a, b, ref, grain)


# ------------------------------------------------------------------ holidays and sets

_HOLIDAYS = [h for h in HOLIDAY_NAMES if h.isascii()]


@rule(rf"(?:(?P<rel>this|next|last|previous|coming|"
      rf"upcoming)\s+)?(?P<h>{_alt(_HOLIDAYS)})(?:'s)?(?:\s+(?:of\s+)?(?P<y>\d{{4}})|\s+of\s+"
      r"(?:the\s+)?(?P<yrel>this|next|last|previous)\s+year)?")
def _holiday(m: re.Match[str], ref: datetime) -> Piece | None:
    name = " ".join(m["h"].lower().split())
    rel = (m["rel"] or "").lower()
    today = ref.date()
    if m["y"]:
        d = holiday_date(name, int(m["y"]))
    elif m["yrel"]:
        d = holiday_date(name, ref.year + {"this": 0, "next": 1, "last": -1, "previous": -1}[m["yrel"].lower()])
    elif rel == "this":
        d = holiday_date(name, ref.year)
    elif rel in ("last", "previous"):  # the latest one before today
        d = holiday_date(name, ref.year)
        if d is not None and d >= today:
            d = holiday_date(name, ref.year - 1)
    else:  # bare or "next": the next one from today
        d = holiday_date(name, ref.year)
        if d is not None and (d < today or (rel == "next" and d == today)):
            d = holiday_date(name, ref.year + 1)
    return day_piece(m, d, ref) if d else None


_EVERY = {"daily": "P1D", "weekly": "P1W", "monthly": "P1M", "yearly": "P1Y", "annually": "P1Y",
          "hourly": "PT1H", "nightly": "P1D", "every day": "P1D", "each day": "P1D", "every week": "P1W",
          "each week": "P1W", "every month": "P1M", "each month": "P1M", "every year": "P1Y",
          "each year": "P1Y", "every hour": "PT1H", "each hour": "PT1H"}


@rule(rf"(?P<w>{_alt(_EVERY)})|(?:every|each)\s+{WD}|(?:every|each)\s+(?P<n>{NUM})\s+{UNIT}")
def _set(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["w"]:
        rec = _EVERY[" ".join(m["w"].lower().split())]
        start = ref.replace(second=0, microsecond=0)
    elif m["wd"]:
        wd = WEEKDAYS[m["wd"].lower()]
        start = at(ref.date() + timedelta(days=(wd - ref.weekday()) % 7), ref.tzinfo)
        rec = "P1W"
    else:
        unit = UNITS[m["unit"].lower()]
        code = {"second": "PT{}S", "minute": "PT{}M", "hour": "PT{}H", "day": "P{}D", "week": "P{}W",
                "fortnight": "P{}W", "month": "P{}M", "quarter": "P{}M", "year": "P{}Y"}.get(unit)
        if code is None:
            return None
        k = int(number(m["n"])) * (2 if unit == "fortnight" else 3 if unit == "quarter" else 1)
        rec, start = code.format(k), ref.replace(second=0, microsecond=0)
    return Piece(m.span(), start, None, "day", True, False, "set", recurrence=rec)
