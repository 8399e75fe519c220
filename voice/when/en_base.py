"""English lexicon shared by the English rule modules: words, regex pieces, the rule registry
and the small constructors every rule uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

import regex as re

from fieldsync.voice.when.calendar_math import add_months, at, days_in_month, week_start
from fieldsync.voice.when.numbers_en import YEAR_WORDS, year_words
from fieldsync.voice.when.pieces import Piece


MONTHS = {"january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
          "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
          "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12,
          "dec": 12}


WEEKDAYS = {"monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "wed": 2,
            "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4, "saturday": 5,
            "sat": 5, "sunday": 6, "sun": 6}


UNITS = {"second": "second", "sec": "second", "minute": "minute", "min": "minute", "hour": "hour",
         "hr": "hour", "day": "day", "week": "week", "wk": "week", "fortnight": "fortnight",
         "month": "month", "year": "year", "yr": "year", "decade": "decade", "weekend": "weekend",
         "quarter": "quarter"}


PARTS = {"morning": (8, 12), "afternoon": (12, 16), "evening": (16, 20), "night": (20, 24),
         "dinner": (16, 20), "dinnertime": (16, 20), "dinner time": (16, 20), "breakfast": (8, 12),
         "tonight": (20, 24), "noon": (12, 12), "midday": (12, 12), "lunchtime": (11, 13),
         "lunch time": (11, 13), "daytime": (8, 18), "business hours": (9, 17),
         "working hours": (9, 17), "overnight": (20, 24)}


def _alt(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first, spaces matching any whitespace."""
    return "(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True)) + ")"


MON = rf"(?P<mon>{_alt(MONTHS)})\.?"
WD = rf"(?P<wd>{_alt(WEEKDAYS)})\.?"
UNIT = rf"(?P<unit>{_alt(UNITS)})s?"
AMPM = r"(?P<ampm>a\.?\s?m\.?|p\.?\s?m\.?)(?![a-z])"
B = r"(?<![a-z0-9$])"
E = r"(?![a-z0-9])"
Handler = Callable[[re.Match[str], datetime], Piece | None]
_RULES: list[tuple[re.Pattern[str], Handler]] = []


def rule(pattern: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for every match of ``pattern``; the handler turns a match into a Piece or None."""
    def register(fn: Handler) -> Handler:
        _RULES.append((re.compile(B + "(?:" + pattern + ")" + E), fn))
        return fn
    return register


def _year_given(m: re.Match[str]) -> bool:
    """Whether the match named its year (a filled year group), which ranges use to share years."""
    groups = m.groupdict()
    return any(groups.get(k) for k in ("y", "y2", "y3", "yw"))


def day_piece(m: re.Match[str], d: date, ref: datetime, grain: str = "day") -> Piece:
    """A whole-day point at the match's span."""
    return Piece(m.span(), at(d, ref.tzinfo), None, grain, True, False, explicit_year=_year_given(m))


def days_piece(m: re.Match[str], d0: date, d1: date, ref: datetime, grain: str) -> Piece:
    """The days ``[d0, d1)`` as an interval at the match's span."""
    return Piece(m.span(), at(d0, ref.tzinfo), at(d1, ref.tzinfo), grain, True, False, "interval",
                 explicit_year=_year_given(m))


def _said_year(m: re.Match[str], default: int | None = None) -> int | None:
    """The year the match names, in digits ("1992", "'92") or words ("nineteen ninety two")."""
    groups = m.groupdict()
    if groups.get("yw"):
        return year_words(groups["yw"])
    for key in ("y", "y2", "y3"):
        if groups.get(key):
            return _year(groups[key].lstrip("'"), default or 0)
    return default


def _year(s: str | None, default: int) -> int:
    """A written year; two digits mean 2000-2049 or 1950-1999."""
    if not s:
        return default
    y = int(s)
    return y + (2000 if y < 50 else 1900) if y < 100 else y


def _future_md(ref: date, month: int, day: int) -> date | None:
    """The next month/day on or after ``ref`` (Feb 29 waits for a leap year)."""
    for y in range(ref.year, ref.year + 8):
        if day <= days_in_month(y, month) and date(y, month, day) >= ref:
            return date(y, month, day)
    return None


def _safe(y: int, mo: int, d: int) -> date | None:
    try:
        return date(y, mo, d)
    except ValueError:
        return None


_YEAR_TAIL = (r"(?:(?:\s*[,/-]\s*|\s+|\s+of\s+|\s+in\s+)(?P<y>\d{4}|'\d{2})|\s+of\s+(?P<y>\d{2})(?!\d)"
              r"|(?:\s*,\s*|\s+|\s+of\s+)(?P<yw>" + YEAR_WORDS + "))?")


_REL_DAYS = {"today": 0, "tonight": 0, "this day": 0, "tomorrow": 1, "tmr": 1, "tmrw": 1,
             "yesterday": -1, "the day after tomorrow": 2, "day after tomorrow": 2,
             "the day before yesterday": -2, "day before yesterday": -2, "the next day": 1}


def _period(unit: str, ref: date, offset: int) -> tuple[date, date, str] | None:
    """The calendar week/month/quarter/year/... ``offset`` steps from the one holding ``ref``."""
    if unit == "week":
        s = week_start(ref) + timedelta(days=7 * offset)
        return s, s + timedelta(days=7), "week"
    if unit == "weekend":
        s = week_start(ref) + timedelta(days=5 + 7 * offset)
        return s, s + timedelta(days=2), "weekend"
    if unit == "month":
        s = add_months(ref.replace(day=1), offset)
        return s, add_months(s, 1), "month"
    if unit == "quarter":
        q0 = add_months(date(ref.year, 3 * ((ref.month - 1) // 3) + 1, 1), 3 * offset)
        return q0, add_months(q0, 3), "quarter"
    if unit == "year":
        return date(ref.year + offset, 1, 1), date(ref.year + offset + 1, 1, 1), "year"
    if unit == "decade":
        y = ref.year // 10 * 10 + 10 * offset
        return date(y, 1, 1), date(y + 10, 1, 1), "decade"
    if unit in ("workweek", "work week", "working week", "business week"):
        s = week_start(ref) + timedelta(days=7 * offset)
        return s, s + timedelta(days=5), "week"
    return None


_REL = {"this": 0, "current": 0, "the current": 0, "the": 0, "next": 1, "the next": 1, "coming": 1,
        "the coming": 1, "upcoming": 1, "following": 1, "the following": 1, "last": -1,
        "the last": -1, "previous": -1, "the previous": -1, "past": -1, "the past": -1}
