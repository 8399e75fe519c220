"""Chinese lunar calendar: festivals and lunar dates, through the ``lunardate`` tables (1900-2099)."""

from __future__ import annotations

from datetime import date, timedelta

from lunardate import LunarDate

__all__ = ["LUNAR_FESTIVALS", "lunar_to_solar", "festival_date", "solar_term_date"]

# name -> (lunar month, lunar day); 除夕 is the day before next year's 春节.
LUNAR_FESTIVALS = {
    "春节": (1, 1), "大年初一": (1, 1), "元宵节": (1, 15), "元宵": (1, 15), "龙抬头": (2, 2),
    "端午节": (5, 5), "端午": (5, 5), "七夕节": (7, 7), "七夕": (7, 7), "中元节": (7, 15),
    "中秋节": (8, 15), "中秋": (8, 15), "重阳节": (9, 9), "重阳": (9, 9), "腊八节": (12, 8),
    "腊八": (12, 8), "小年": (12, 23), "除夕": (0, 0), "大年三十": (0, 0), "年三十": (0, 0),
}


def lunar_to_solar(year: int, month: int, day: int, leap: bool = False) -> date | None:
    """The Gregorian date of a lunar date, or None when it does not exist."""
    try:
        return LunarDate(year, month, day, leap).to_solar_date()
    except (ValueError, IndexError):
        return None


def festival_date(name: str, lunar_year: int) -> date | None:
    """Gregorian date of a lunar festival in the given lunar year."""
    month, day = LUNAR_FESTIVALS[name]
    if month == 0:
        new_year = lunar_to_solar(lunar_year + 1, 1, 1)
        return new_year - timedelta(days=1) if new_year else None
    return lunar_to_solar(lunar_year, month, day)


_TERMS = {"立春": (2, 3.87), "春分": (3, 20.646), "清明": (4, 4.81), "立夏": (5, 5.52), "夏至": (6, 21.37),
          "立秋": (8, 7.5), "秋分": (9, 23.042), "立冬": (11, 7.438), "冬至": (12, 21.94)}


def solar_term_date(name: str, year: int) -> date | None:
    """Date of a solar term by the "[Y*D+C]-L" rule (D = 0.2422, C per term, 2000-2099); None outside."""
    if name not in _TERMS or not 2000 <= year <= 2099:
        return None
    month, c = _TERMS[name]
    yy = year % 100
    leaps = (yy - 1) // 4 if month <= 2 else yy // 4
    return date(year, month, int(yy * 0.2422 + c) - leaps)
