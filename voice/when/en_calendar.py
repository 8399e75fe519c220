"""English rules for calendar structure: weeks of months and years, quarters, decades, a day of the
month with its weekday ("Friday the 13th"), year-month forms."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import regex as re

from fieldsync.voice.when.calendar_math import add_months, at, days_in_month, last_weekday, nth_weekday, week_start
from fieldsync.voice.when.en_base import (MON, MONTHS, WEEKDAYS, _REL, _alt, _future_md, _period, _safe,
                                          _said_year, day_piece, days_piece, rule)
from fieldsync.voice.when.numbers_en import NUM, ORD, YEAR_WORDS, number, ordinal
from fieldsync.voice.when.pieces import Piece


# ------------------------------------------------------------------ more dates and times

@rule(r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[t\s](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?")
def _iso_datetime(m: re.Match[str], ref: datetime) -> Piece | None:
    start = datetime(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]), int(m["s"] or 0),
                     tzinfo=ref.tzinfo)
    return Piece(m.span(), start, None, "second" if m["s"] else "minute", True, True)


@rule(r"(?:on\s+)?(?:the\s+)?(?P<wd>" + _alt(WEEKDAYS) + r")\s+(?:of\s+)?(?P<rel>this|next|last|the\s+next|the\s+last|"
      r"the\s+previous|previous)\s+week|(?P<rel>this|next|last|previous)\s+week(?:'s)?,?\s+(?:on\s+)?(?P<wd>"
      + _alt(WEEKDAYS) + r")|this\s+past\s+(?P<past>" + _alt(WEEKDAYS) + ")")
def _week_weekday(m: re.Match[str], ref: datetime) -> Piece | None:
    today = ref.date()
    if m["past"]:
        wd = WEEKDAYS[m["past"].lower()]
        return day_piece(m, today - timedelta(days=(today.weekday() - wd - 1) % 7 + 1), ref)
    wd = WEEKDAYS[m["wd"].lower()]
    off = _REL[" ".join(m["rel"].lower().split())]
    return day_piece(m, week_start(today) + timedelta(days=7 * off + wd), ref)


def _month_ref(m: re.Match[str], ref: datetime) -> tuple[int, int] | None:
    if m["mon"]:
        mo = MONTHS[m["mon"].lower()]
        if m["y"]:
            return int(m["y"]), mo
        return (ref.year if mo >= ref.month else ref.year + 1), mo
    if m["y"] and not m["rel"]:
        return None
    off = _REL.get(" ".join((m["rel"] or "this").lower().split()), 0)
    d = add_months(ref.date().replace(day=1), off)
    return d.year, d.month


_OF_MONTH = (r"\s+(?:of|in)\s+(?:(?:the\s+)?(?P<rel>this|next|last|previous|coming|the\s+next|the\s+following)\s+month"
             r"|" + MON + r"(?:,?\s+(?P<y>\d{4}))?|(?P<y>\d{4})|(?:the\s+)?(?P<yrel>this|next|last|previous)\s+year)")


@rule(r"(?:the\s+)?(?P<n>" + ORD + r"|last)\s+(?P<wd>" + _alt(WEEKDAYS) + r")(?:" + _OF_MONTH + ")?")
def _nth_weekday(m: re.Match[str], ref: datetime) -> Piece | None:
    ym = _month_ref(m, ref) if (m["mon"] or m["rel"] or m["y"]) else (ref.year, ref.month)
    if ym is None:
        return None
    wd = WEEKDAYS[m["wd"].lower()]
    if m["n"].lower() == "last":
        return day_piece(m, last_weekday(ym[0], ym[1], wd), ref)
    d = nth_weekday(ym[0], ym[1], wd, ordinal(m["n"]))
    return day_piece(m, d, ref) if d.month == ym[1] else None


@rule(r"(?:the\s+)?(?P<n>" + ORD + r"|last)\s+week(?:" + _OF_MONTH + r"|\s+(?P<yrel>next|last|this)\s+year)")
def _nth_week(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["mon"] is None and m["rel"] is None and (m["y"] or m["yrel"]):
        y = int(m["y"]) if m["y"] else ref.year + {"this": 0, "next": 1, "last": -1, "previous": -1}[m["yrel"].lower()]
        first, last = date(y, 1, 1), date(y, 12, 31)
    else:
        ym = _month_ref(m, ref)
        if ym is None:
            return None
        first = date(ym[0], ym[1], 1)
        last = date(ym[0], ym[1], days_in_month(*ym))
    # ISO-style: the N-th week is the one holding the N-th Thursday (so week 1 of Jan 2015 starts Dec 29)
    thursdays = [first + timedelta(days=(3 - first.weekday()) % 7 + 7 * k) for k in range(54)]
    thursdays = [t for t in thursdays if t <= last]
    n = len(thursdays) if m["n"].lower() == "last" else ordinal(m["n"])
    if not 1 <= n <= len(thursdays):
        return None
    s = week_start(thursdays[n - 1])
    return days_piece(m, s, s + timedelta(days=7), ref, "week")


@rule(r"(?:the\s+)?week\s+(?:of|starting(?:\s+on)?|commencing(?:\s+on)?|beginning(?:\s+on)?)\s+(?:the\s+)?"
      + MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?|w/c\s+" + MON + r"\s+(?P<d>\d{1,2})")
def _week_of(m: re.Match[str], ref: datetime) -> Piece | None:
    mo = MONTHS[m["mon"].lower()]
    d = _future_md(ref.date(), mo, int(m["d"]))
    if d is None:
        return None
    s = week_start(d)
    return days_piece(m, s, s + timedelta(days=7), ref, "week")


@rule(r"(?:(?P<y>\d{4})[\s-]*)?(?P<q>q|h)(?P<n>[1-4])(?:(?:\s+of\s+|[\s-]+)(?P<y2>\d{4}))?|(?P<qw>first|second|"
      r"third|fourth"
      r"|1st|2nd|3rd|4th|last)\s+quarter(?:\s+of\s+(?:(?P<y3>\d{4})|"
      r"(?P<yw>" + YEAR_WORDS + r")|(?P<rel>this|next|last)\s+year))?")
def _quarter(m: re.Match[str], ref: datetime) -> Piece | None:
    y = _said_year(m, ref.year) or ref.year
    if m["rel"]:
        y = ref.year + {"this": 0, "next": 1, "last": -1}[m["rel"].lower()]
    if m["qw"]:
        q = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
             "last": 4}[m["qw"].lower()]
        size = 3
    else:
        q, size = int(m["n"]), (3 if m["q"].lower() == "q" else 6)
        if size == 6 and q > 2:
            return None
    s = date(y, 1 + size * (q - 1), 1)
    return days_piece(m, s, add_months(s, size), ref, "quarter" if size == 3 else "half_year")


def _day_number(word: str) -> int:
    try:
        return ordinal(word)
    except KeyError:
        return int(number(word))


@rule(r"(?:on\s+)?the\s+(?P<d>\d{1,2}|" + NUM + r"|" + ORD + r")(?![:\d])(?=\s*(?:$|[,.;!?]|at\s|between\s|"
      r"from\s|of\s+(?:this|next|last)))"
      r"|on\s+(?P<d>\d{1,2})(?![:\d/.-])|(?<![\d/-])(?P<o>\d{1,2}(?:st|nd|rd|th))(?!\s*(?:of|week|day|time|floor|"
      r"place|year|quarter|century))")
def _bare_day(m: re.Match[str], ref: datetime) -> Piece | None:
    try:
        dd = int(m["d"]) if (m["d"] or "").isdigit() else _day_number(m["d"]) if m["d"] else ordinal(m["o"])
    except KeyError:
        return None
    if not 1 <= dd <= 31:
        return None
    for k in range(0, 3):
        b = add_months(ref.date().replace(day=1), k)
        c = _safe(b.year, b.month, dd)
        if c and c >= ref.date():
            return day_piece(m, c, ref)
    return None


@rule(r"(?:the\s+)?(?:iso\s+)?week\s+(?:no\.?\s*|number\s+|#)?(?P<n>\d{1,2})(?:\s+(?:of|in)\s+(?:(?P<y>\d{4})|"
      r"(?P<rel>this|next|last)\s+year))?")
def _iso_week(m: re.Match[str], ref: datetime) -> Piece | None:
    y = int(m["y"]) if m["y"] else ref.year + {"this": 0, "next": 1, "last": -1}.get((m["rel"] or "this").lower(), 0)
    n = int(m["n"])
    if not 1 <= n <= 53:
        return None
    s = date.fromisocalendar(y, n, 1)
    return days_piece(m, s, s + timedelta(days=7), ref, "week")


_DECADES = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60, "seventies": 70,
            "eighties": 80, "nineties": 90}


@rule(r"(?:the\s+)?(?:(?P<c>\d{2})?(?P<d>\d)0'?s|(?P<w>" + _alt(_DECADES) + r"))"
      r"|(?:the\s+)?(?P<cent>\d{1,2})(?:st|nd|rd|th)\s+century")
def _decade(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["cent"]:
        s = (int(m["cent"]) - 1) * 100
        return days_piece(m, date(max(s, 1), 1, 1), date(s + 100, 1, 1), ref, "century")
    tens = _DECADES[m["w"].lower()] if m["w"] else int(m["d"]) * 10
    century = int(m["c"]) * 100 if m["c"] else (1900 if 1900 + tens + 10 <= ref.year + 5 else 2000)
    if not m["c"] and century + tens > ref.year:
        century -= 100
    s = century + tens
    return days_piece(m, date(s, 1, 1), date(s + 10, 1, 1), ref, "decade")


@rule(r"(?P<w>tonite|weekend|the\s+weekend|this\s+calendar\s+year|this\s+working\s+week|this\s+work\s+week|"
      r"same\s+(?:day|week|month|year)|the\s+present\s+time|at\s+the\s+moment|at\s+present|at\s+this\s+time|"
      r"(?<=(?:till|until|and)\s+)(?:current\s+)?date|current\s+date|(?<=\bto\s+)date(?=\s*[.,;!?]?\s*$)|at\s+lunch|"
      r"(?:this\s+)?past\s+" + _alt(WEEKDAYS) + r")")
def _misc(m: re.Match[str], ref: datetime) -> Piece | None:
    w = " ".join(m["w"].lower().split())
    today = ref.date()
    if w == "tonite":
        return Piece(m.span(), at(today, ref.tzinfo, 20), at(today, ref.tzinfo, 24), "part_of_day", True, True,
                     "interval", part=(20, 24))
    if w.endswith("weekend"):
        s = week_start(today) + timedelta(days=5)
        return days_piece(m, s, s + timedelta(days=2), ref, "weekend")
    if w == "this calendar year" or w == "same year":
        return days_piece(m, date(today.year, 1, 1), date(today.year + 1, 1, 1), ref, "year")
    if w in ("this working week", "this work week"):
        s = week_start(today)
        return days_piece(m, s, s + timedelta(days=5), ref, "week")
    if w == "same week":
        s = week_start(today)
        return days_piece(m, s, s + timedelta(days=7), ref, "week")
    if w == "same month":
        s = today.replace(day=1)
        return days_piece(m, s, add_months(s, 1), ref, "month")
    if w == "same day":
        return day_piece(m, today, ref)
    if w in ("the present time", "at the moment", "at present", "at this time", "date", "current date"):
        return Piece(m.span(), ref.replace(microsecond=0), None, "second", True, True, relative_time=True)
    if w == "at lunch":
        return Piece(m.span(), at(today, ref.tzinfo, 11), at(today, ref.tzinfo, 13), "part_of_day", False, True,
                     "interval", part=(11, 13))
    wd = WEEKDAYS[w.split()[-1]]
    return day_piece(m, today - timedelta(days=(today.weekday() - wd - 1) % 7 + 1), ref)


@rule(r"(?P<wd>" + _alt(WEEKDAYS) + r")\.?,?\s+(?:the\s+)?(?P<d>" + ORD + r"|"
      r"\d{1,2}(?![:\d/.-])(?!\s*(?:[ap]\.?m\b|o'?clock)))")
def _weekday_day(m: re.Match[str], ref: datetime) -> Piece | None:
    try:
        dd = int(m["d"]) if m["d"].isdigit() else ordinal(m["d"])
    except KeyError:
        return None
    wd = WEEKDAYS[m["wd"].lower()]
    first = ref.date().replace(day=1)
    # the weekday names one date: this month if it fits, else the nearest month where it does
    for k in (0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -8, 9, -9, 10, -10, 11, -11, 12):
        b = add_months(first, k)
        c = _safe(b.year, b.month, dd)
        if c and c.weekday() == wd:
            return day_piece(m, c, ref)
    return None


@rule(r"(?P<y>(?:19|20)\d\d)\s*[-/.,]\s*(?P<m>1[0-2]|0?[1-9])(?![\d/.:-])|(?<![\d/.:-])(?P<m>1[0-2]|"
      r"0?[1-9])\s*[-/]\s*(?P<y>(?:19|20)\d\d)(?![\d/])"
      r"|(?P<y>(?:19|20)\d\d),?\s+" + MON + r"(?!\s*\d)")
def _year_month(m: re.Match[str], ref: datetime) -> Piece | None:
    mo = MONTHS[m["mon"].lower()] if m["mon"] else int(m["m"])
    s = date(int(m["y"]), mo, 1)
    return days_piece(m, s, add_months(s, 1), ref, "month")


@rule(r"the\s+(?P<unit>week|weekend|month|year)\s+after\s+(?:the\s+)?next")
def _after_next(m: re.Match[str], ref: datetime) -> Piece | None:
    p = _period(m["unit"].lower(), ref.date(), 2)
    return days_piece(m, p[0], p[1], ref, p[2]) if p else None


@rule(r"the\s+(?P<n>" + ORD + r"|last)\s+(?P<u>day|month)\s+of\s+(?:(?P<y>\d{4})|(?:the\s+)?(?P<rel>this|next|last|"
      r"previous|coming)\s+(?P<per>month|year)|(?P<mon2>" + _alt(MONTHS) + r"))")
def _nth_unit_of(m: re.Match[str], ref: datetime) -> Piece | None:
    n = -1 if m["n"].lower() == "last" else ordinal(m["n"])
    if m["y"]:
        base, per = date(int(m["y"]), 1, 1), "year"
    elif m["mon2"]:
        mo = MONTHS[m["mon2"].lower()]
        base, per = date(ref.year if mo >= ref.month else ref.year + 1, mo, 1), "month"
    else:
        off = {"this": 0, "next": 1, "coming": 1, "last": -1, "previous": -1}[m["rel"].lower()]
        per = m["per"].lower()
        base = add_months(ref.date().replace(day=1), off) if per == "month" else date(ref.year + off, 1, 1)
    if m["u"].lower() == "month":
        if per != "year" or not 1 <= abs(n) <= 12:
            return None
        s = date(base.year, n if n > 0 else 12, 1)
        return days_piece(m, s, add_months(s, 1), ref, "month")
    last = add_months(base, 1 if per == "month" else 12) - timedelta(days=1)
    d = base + timedelta(days=n - 1) if n > 0 else last
    return day_piece(m, d, ref) if d <= last else None


@rule(r"(?:(?P<mon0>" + _alt(MONTHS) + r")\s+)?(?:from\s+|between\s+)?(?:the\s+)?(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s*"
      r"(?:-|–|to|till|til|until|and|through)\s*(?:the\s+)?(?P<d2>\d{1,2})(?:st|nd|rd|th)?"
      r"(?:\s+(?:of\s+|in\s+)?(?:the\s+)?(?P<rel>this|next|last|previous)\s+month)?")
def _days_of_month(m: re.Match[str], ref: datetime) -> Piece | None:
    """"from 4 to 22 this month", "4 till 23 next month", "November between 19 and 20"."""
    if not (m["rel"] or m["mon0"]):
        return None
    if m["mon0"]:
        mo = MONTHS[m["mon0"].lower()]
        base = date(ref.year if mo >= ref.month else ref.year + 1, mo, 1)
    else:
        offset = {"this": 0, "next": 1, "last": -1, "previous": -1}[m["rel"].lower()]
        base = add_months(ref.date().replace(day=1), offset)
    a, b = _safe(base.year, base.month, int(m["d1"])), _safe(base.year, base.month, int(m["d2"]))
    if a is None or b is None or b < a:
        return None
    return days_piece(m, a, b + timedelta(days=1), ref, "day")


@rule(r"(?:the\s+)?(?P<side>first|last|final)\s+(?P<n>" + NUM + r")\s+(?P<u>days|weeks|months)\s+of\s+(?:(?P<y>\d{4})|"
      r"(?:the\s+)?(?P<yrel>this|next|last|previous)\s+year)")
def _leading_part(m: re.Match[str], ref: datetime) -> Piece | None:
    """"the first 2 weeks of 2021", "the last four months of 2021": a slice at one end of a year."""
    y = int(m["y"]) if m["y"] else ref.year + {"this": 0, "next": 1, "last": -1, "previous": -1}[m["yrel"].lower()]
    n = int(number(m["n"]))
    first = m["side"].lower() == "first"
    u = m["u"].lower()
    if u == "months":
        if not 1 <= n <= 12:
            return None
        s, e = (date(y, 1, 1), date(y, 1 + n, 1) if n < 12 else date(y + 1, 1, 1)) if first else (
            date(y, 13 - n, 1), date(y + 1, 1, 1))
    elif u == "weeks":  # ISO weeks: week 1 holds the year's first Thursday
        if first:
            s = date.fromisocalendar(y, 1, 1)
            e = s + timedelta(days=7 * n)
        else:
            e = date.fromisocalendar(y + 1, 1, 1)
            s = e - timedelta(days=7 * n)
    else:
        s, e = (date(y, 1, 1), date(y, 1, 1) + timedelta(days=n)) if first else (
            date(y + 1, 1, 1) - timedelta(days=n), date(y + 1, 1, 1))
    return days_piece(m, s, e, ref, "day")


_THIRDS = {"beginning of": 0, "the beginning of": 0, "start of": 0, "the start of": 0, "early": 0, "mid": 1,
           "middle of": 1, "the middle of": 1, "mid-": 1, "end of": 2, "the end of": 2, "late": 2}


@rule(r"(?P<edge>" + _alt(_THIRDS) + r")\s*(?P<y>(?:19|20)\d\d)")
def _year_third(m: re.Match[str], ref: datetime) -> Piece | None:
    """"end of 2000", "mid 1989": a third of a named year (Jan-Apr, May-Aug, Sep-Dec)."""
    k = _THIRDS[" ".join(m["edge"].lower().split())]
    y = int(m["y"])
    s = date(y, 1 + 4 * k, 1)
    return days_piece(m, s, add_months(s, 4), ref, "month")


@rule(r"(?P<u>year|month|week|quarter)[\s-]+to[\s-]+date|(?P<abbr>ytd|mtd|qtd|wtd)")
def _to_date(m: re.Match[str], ref: datetime) -> Piece | None:
    """"year to date", "YTD": from the start of the period to today."""
    unit = m["u"].lower() if m["u"] else {"ytd": "year", "mtd": "month", "qtd": "quarter", "wtd": "week"}[
        m["abbr"].lower()]
    p = _period(unit, ref.date(), 0)
    return days_piece(m, p[0], ref.date(), ref, unit) if p and p[0] < ref.date() else None


@rule(r"the\s+day\s+(?P<dir>after|before)(?=\s*(?:$|[,.;!?]))")
def _day_after(m: re.Match[str], ref: datetime) -> Piece | None:
    """"the day after" / "the day before" said on its own: the day next to the reference."""
    return day_piece(m, ref.date() + timedelta(days=1 if m["dir"].lower() == "after" else -1), ref)
