"""Calendar arithmetic shared by both languages: month steps, week starts, holidays.

Weeks start on Monday (ISO 8601, and the Chinese convention).  Month steps
clamp the day ("Jan 31 + 1 month" is Feb 28/29).  Holidays are the fixed-date
ones plus a few computable ones (Easter, US Thanksgiving, Mother's and
Father's Day); lunar festivals are not computed.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone, tzinfo

__all__ = ["elapsed", "add_months", "month_start", "week_start", "at", "easter", "nth_weekday",
           "last_weekday", "holiday_date", "days_in_month"]


def elapsed(moment: datetime, delta: timedelta) -> datetime:
    """``moment`` plus ``delta`` of real (elapsed) time, in ``moment``'s zone: "in 3 hours" across a DST change."""
    return (moment.astimezone(timezone.utc) + delta).astimezone(moment.tzinfo)


def days_in_month(year: int, month: int) -> int:
    """Number of days of ``month`` in ``year``."""
    return calendar.monthrange(year, month)[1]


def add_months(d: date, n: int) -> date:
    """``d`` moved by ``n`` months, the day clamped to the target month's length."""
    total = d.year * 12 + (d.month - 1) + n
    y, m = divmod(total, 12)
    return date(y, m + 1, min(d.day, days_in_month(y, m + 1)))


def month_start(year: int, month: int) -> date:
    """First day of a month given a possibly out-of-range month number (13 -> next January)."""
    y, m = divmod(year * 12 + month - 1, 12)
    return date(y, m + 1, 1)


def week_start(d: date) -> date:
    """Monday of ``d``'s week."""
    return d - timedelta(days=d.weekday())


def at(d: date, tz: tzinfo | None, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An aware datetime on ``d``; hour 24 rolls into the next day."""
    extra, hour = divmod(hour, 24)
    return datetime(d.year, d.month, d.day, hour, minute, second, tzinfo=tz) + timedelta(days=extra)


def easter(year: int) -> date:
    """Western Easter Sunday (anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The ``n``-th (1-based) ``weekday`` (0 = Monday) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def last_weekday(year: int, month: int, weekday: int) -> date:
    """The last ``weekday`` (0 = Monday) of a month."""
    last = date(year, month, days_in_month(year, month))
    return last - timedelta(days=(last.weekday() - weekday) % 7)


_FIXED = {
    "new year": (1, 1), "new years": (1, 1), "new year's day": (1, 1), "new years day": (1, 1),
    "valentine": (2, 14), "valentines": (2, 14), "valentine's day": (2, 14), "valentines day": (2, 14),
    "st patrick's day": (3, 17), "saint patrick's day": (3, 17), "st patricks day": (3, 17),
    "april fools": (4, 1), "april fool's day": (4, 1), "april fools day": (4, 1),
    "labour day": (5, 1), "may day": (5, 1), "independence day": (7, 4), "halloween": (10, 31),
    "juneteenth": (6, 19), "jubilee day": (6, 19), "freedom day": (6, 19), "earth day": (4, 22),
    "international workers' day": (5, 1), "international workers day": (5, 1), "workers' day": (5, 1),
    "st patrick": (3, 17), "saint patrick": (3, 17), "st. patrick's day": (3, 17), "groundhog day": (2, 2),
    "flag day": (6, 14), "veterans day": (11, 11), "veteran's day": (11, 11), "christmas": (12, 25), "xmas": (12, 25),
    "christmas day": (12, 25), "christmas eve": (12, 24), "new year's eve": (12, 31), "new year eve": (12, 31),
    "new years eve": (12, 31), "boxing day": (12, 26), "all saints day": (11, 1),
    "元旦": (1, 1), "情人节": (2, 14), "妇女节": (3, 8), "三八妇女节": (3, 8), "植树节": (3, 12),
    "愚人节": (4, 1), "劳动节": (5, 1), "五一": (5, 1), "五一劳动节": (5, 1), "青年节": (5, 4),
    "五四青年节": (5, 4), "儿童节": (6, 1), "六一": (6, 1), "六一儿童节": (6, 1), "建党节": (7, 1),
    "七一": (7, 1), "建军节": (8, 1), "八一": (8, 1), "教师节": (9, 10), "国庆": (10, 1),
    "国庆节": (10, 1), "十一": (10, 1), "圣诞": (12, 25), "圣诞节": (12, 25), "平安夜": (12, 24),
    "万圣节": (10, 31), "新年": (1, 1), "女生节": (3, 7), "女神节": (3, 8), "护士节": (5, 12), "消费者权益日": (3, 15),
    "双十一": (11, 11), "光棍节": (11, 11), "双十二": (12, 12),
}


def holiday_date(name: str, year: int) -> date | None:
    """Date of a named holiday in ``year``, or None when the name is unknown."""
    key = name.lower().replace("’", "'").strip()
    if key in _FIXED:
        m, d = _FIXED[key]
        return date(year, m, d)
    if key in ("easter", "easter sunday", "easter day", "复活节"):
        return easter(year)
    if key in ("good friday",):
        return easter(year) - timedelta(days=2)
    if key in ("easter monday",):
        return easter(year) + timedelta(days=1)
    if key in ("presidents' day", "presidents day", "president's day", "washington's birthday"):
        return nth_weekday(year, 2, 0, 3)
    if key in ("thanksgiving", "thanksgiving day", "thanks giving day", "thanks giving", "感恩节"):
        return nth_weekday(year, 11, 3, 4)
    if key in ("black friday",):
        return nth_weekday(year, 11, 3, 4) + timedelta(days=1)
    if key in ("cyber monday",):
        return nth_weekday(year, 11, 3, 4) + timedelta(days=4)
    if key in ("mother's day", "mothers day", "mother day", "母亲节"):
        return nth_weekday(year, 5, 6, 2)
    if key in ("father's day", "fathers day", "father day", "父亲节"):
        return nth_weekday(year, 6, 6, 3)
    if key in ("memorial day",):
        return last_weekday(year, 5, 0)
    if key in ("labor day",):
        return nth_weekday(year, 9, 0, 1)
    if key in ("martin luther king day", "mlk day"):
        return nth_weekday(year, 1, 0, 3)
    if key in ("columbus day",):
        return nth_weekday(year, 10, 0, 2)
    return None


HOLIDAY_NAMES = tuple(sorted(set(_FIXED) | {
    "easter", "easter sunday", "easter day", "good friday", "easter monday", "thanksgiving",
    "thanksgiving day", "black friday", "cyber monday", "mother's day", "mothers day", "father's day", "fathers day",
    "presidents' day", "presidents day", "president's day", "washington's birthday", "thanks giving day",
    "thanks giving", "memorial day", "labor day", "martin luther king day", "mlk day", "columbus day", "复活节", "感恩节",
    "母亲节", "父亲节"}, key=len, reverse=True))
