"""Chinese rules for calendar dates: 年月日, 今天/明天/后天, 下周二, 下周, holidays and lunar dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import regex as re

from fieldsync.voice.when.calendar_math import (HOLIDAY_NAMES, add_months, at, days_in_month, holiday_date,
                                                week_start)
from fieldsync.voice.when.lunar import LUNAR_FESTIVALS, festival_date, lunar_to_solar, solar_term_date
from fieldsync.voice.when.numerals_zh import zh_number
from fieldsync.voice.when.pieces import Piece
from fieldsync.voice.when.zh_base import (N, REL_DAY, REL_DAY_RE, REL_MONTH, REL_MONTH_RE, REL_WEEK,
                                          REL_WEEK_RE, REL_YEAR_RE, WD, WEEKWORD, _BEFORE, _safe, _until,
                                          _year_of, day_piece, days_piece, rule)


# ------------------------------------------------------------------ year / month / day

_EDGE_M = {"初": (1, 6), "上旬": (1, 11), "中旬": (11, 21), "月中": (11, 21), "中": (11, 21), "下旬": (21, 32),
           "底": (25, 32), "末": (25, 32), "月底": (25, 32), "月末": (25, 32), "月初": (1, 6)}


_EDGE_Y = {"初": (1, 3), "年初": (1, 3), "中": (6, 8), "年中": (6, 8), "底": (11, 13), "末": (11, 13),
           "年底": (11, 13), "年末": (11, 13), "上半年": (1, 7), "下半年": (7, 13), "前半年": (1, 7),
           "后半年": (7, 13), "一季度": (1, 4), "二季度": (4, 7), "三季度": (7, 10), "四季度": (10, 13),
           "第一季度": (1, 4), "第二季度": (4, 7), "第三季度": (7, 10), "第四季度": (10, 13)}


@rule(rf"(?P<lunar>农历|阴历)?(?:(?P<y>[0-9{N[1:-2]}]{{2,4}})\s*年|(?P<yrel>{REL_YEAR_RE}))?的?(?P<lunar>农历|阴历)?"
      rf"\s*(?:(?P<m>{N})\s*月份?|(?P<mrel>{REL_MONTH_RE}))"
      rf"(?:(?P<d>{N})\s*(?:日|号)|(?P<d>{N})(?![\d{N[1:-2]}]|[点时:个天周年月小分秒]|{WEEKWORD})|(?P<edge>月底|月末|月初|月中|"
      rf"初(?![一二三四五六七八九十])|上旬|中旬|下旬|中|底|末))?"
      rf"(?:\s*,?\s*(?:{WEEKWORD}|周)[一二三四五六日天])?" + _BEFORE)
def _ymd(m: re.Match[str], ref: datetime) -> Piece | None:
    y = _year_of(m, ref)
    if m["m"]:
        mo = zh_number(m["m"])
        if not 1 <= mo <= 12:
            return None
        if m["lunar"] and m["d"]:
            return _lunar(m, ref, y, mo, zh_number(m["d"]))
        if y is None:
            y = ref.year
            if m["d"] is None and mo < ref.month or m["d"] is not None and (mo, zh_number(m["d"])) < (
                    ref.month, ref.day):
                y += 1
            if m["d"] is not None:
                dd = zh_number(m["d"])
                while dd <= 31 and _safe(y, mo, dd) is None and y < ref.year + 8:
                    y += 1
    else:
        base = add_months(ref.date().replace(day=1), REL_MONTH[m["mrel"]])
        if y is not None:
            base = base.replace(year=y)
        y, mo = base.year, base.month
    if m["d"]:
        d = _safe(y, mo, zh_number(m["d"]))
        if d is None:
            return None
        if m["before"]:
            return _until(m, d + timedelta(days=1), ref)
        return day_piece(m, d, ref)
    first = date(y, mo, 1)
    if m["edge"]:
        lo, hi = _EDGE_M[m["edge"]]
        a = first + timedelta(days=lo - 1)
        b = date(y, mo, min(hi - 1, days_in_month(y, mo))) + timedelta(days=1)
        if m["before"]:
            return _until(m, b, ref)
        return days_piece(m, a, b, ref, "month")
    if m["before"]:
        return _until(m, add_months(first, 1), ref)
    return days_piece(m, first, add_months(first, 1), ref, "month")


@rule(rf"(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})[-/.](?P<d>\d{{1,2}})(?!\d)|"
      rf"(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/(?P<y>\d{{4}})")
def _numeric_date(m: re.Match[str], ref: datetime) -> Piece | None:
    d = _safe(int(m["y"]), int(m["m"]), int(m["d"]))
    return day_piece(m, d, ref) if d else None


@rule(r"(?<![\d/])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?![\d/])(?:号|日)?")
def _month_slash_day(m: re.Match[str], ref: datetime) -> Piece | None:
    mo, dd = int(m["m"]), int(m["d"])
    for y in (ref.year, ref.year + 1):
        d = _safe(y, mo, dd)
        if d and d >= ref.date():
            return day_piece(m, d, ref)
    return None


@rule(rf"(?P<y>[0-9{N[1:-2]}]{{2,4}})年(?:的)?(?P<edge>上半年|下半年|前半年|后半年|第?[一二三四1-4]季度|初|中|底|末)?{_BEFORE}"
      rf"|(?P<yrel>{REL_YEAR_RE})(?:的)?(?:年?(?P<edge>上半年|下半年|前半年|后半年|第?[一二三四1-4]季度|初|中|底|末))?{_BEFORE}"
      rf"|(?P<bare>年初|年中|年底|年末|上半年|下半年){_BEFORE}")
def _year(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["y"] and len(m["y"]) <= 2 and m["before"] and not m["edge"]:
        return None  # "11年前" is eleven years ago, not "before (20)11"
    y = _year_of(m, ref) if not m["bare"] else ref.year
    if y is None:
        return None
    edge = m["edge"] or m["bare"]
    if edge:
        lo, hi = _EDGE_Y[edge if edge in _EDGE_Y else edge.lstrip("第").replace("1", "一").replace(
            "2", "二").replace("3", "三").replace("4", "四")]
        a, b = date(y, lo, 1), add_months(date(y, 1, 1), hi - 1)
        if m["before"]:
            return _until(m, b, ref)
        return days_piece(m, a, b, ref, "year" if hi - lo > 6 else "month")
    if m["before"]:
        return _until(m, date(y + 1, 1, 1), ref)
    return days_piece(m, date(y, 1, 1), date(y + 1, 1, 1), ref, "year")


@rule(rf"(?P<edge>月初|月中|月底|月末|上旬|中旬|下旬){_BEFORE}")
def _month_edge(m: re.Match[str], ref: datetime) -> Piece | None:
    y, mo = ref.year, ref.month
    lo, hi = _EDGE_M[m["edge"]]
    a = date(y, mo, lo)
    b = date(y, mo, min(hi - 1, days_in_month(y, mo))) + timedelta(days=1)
    if m["before"]:
        return _until(m, b, ref)
    return days_piece(m, a, b, ref, "month")


@rule(rf"(?<![月\d{N[1:-2]}])(?P<d>{N})(?:日|号)(?![个天])")
def _day_of_month(m: re.Match[str], ref: datetime) -> Piece | None:
    dd = zh_number(m["d"])
    if not 1 <= dd <= 31:
        return None
    for k in range(0, 3):
        b = add_months(ref.date().replace(day=1), k)
        d = _safe(b.year, b.month, dd)
        if d and d >= ref.date():
            return day_piece(m, d, ref)
    return None


# ------------------------------------------------------------------ relative days, weeks

@rule(rf"(?P<w>{REL_DAY_RE})")
def _rel_day(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["w"] in ("现在", "此刻"):
        return Piece(m.span(), ref.replace(microsecond=0), None, "second", True, True, relative_time=True)
    return day_piece(m, ref.date() + timedelta(days=REL_DAY[m["w"]]), ref)


@rule(r"(?P<w>今|明|昨)(?P<p>早|晚|夜|晨)(?!上|间)")
def _rel_day_part(m: re.Match[str], ref: datetime) -> Piece | None:
    d = ref.date() + timedelta(days=REL_DAY[m["w"]])
    lo, hi = {"早": (8, 12), "晨": (8, 12), "晚": (16, 20), "夜": (20, 24)}[m["p"]]
    return Piece(m.span(), at(d, ref.tzinfo, lo), at(d, ref.tzinfo, hi), "part_of_day", True, True, "interval",
                 part=(lo, hi))


@rule(rf"(?:(?P<rel>{REL_WEEK_RE}){WEEKWORD}的?)?(?P<rel>{REL_WEEK_RE})?{WEEKWORD}(?P<wd>[一二三四五六日天1-7])")
def _weekday(m: re.Match[str], ref: datetime) -> Piece | None:
    wd = WD[m["wd"]]
    today = ref.date()
    if m["rel"]:
        d = week_start(today) + timedelta(days=7 * REL_WEEK[m["rel"]] + wd)
    else:
        d = today + timedelta(days=(wd - today.weekday()) % 7)
    return day_piece(m, d, ref)


@rule(rf"(?P<rel>{REL_WEEK_RE}){WEEKWORD}(?P<end>末)?(?![一二三四五六日天1-7])|(?P<bare>周末){_BEFORE}")
def _week(m: re.Match[str], ref: datetime) -> Piece | None:
    off = REL_WEEK[m["rel"]] if m["rel"] else 0
    s = week_start(ref.date()) + timedelta(days=7 * off)
    if m["end"] or m["bare"]:
        return days_piece(m, s + timedelta(days=5), s + timedelta(days=7), ref, "weekend")
    return days_piece(m, s, s + timedelta(days=7), ref, "week")


# ------------------------------------------------------------------ holidays

_FIXED_ZH = [h for h in HOLIDAY_NAMES if not h.isascii()]
_LUNAR = sorted(LUNAR_FESTIVALS, key=len, reverse=True)
_TERMS = ["清明", "冬至", "夏至", "立春", "春分", "秋分", "立秋", "立夏", "立冬"]
_HOLI = "|".join(sorted(set(_FIXED_ZH) | set(_LUNAR) | set(_TERMS), key=len, reverse=True))


@rule(rf"(?:(?P<y>[0-9{N[1:-2]}]{{2,4}})年|(?P<yrel>{REL_YEAR_RE}))?的?(?:农历)?(?P<h>{_HOLI})(?:节)?{_BEFORE}")
def _holiday(m: re.Match[str], ref: datetime) -> Piece | None:
    name = m["h"]
    if name in ("十一", "五一", "六一", "七一", "八一") and not (m["y"] or m["yrel"]):
        after = m.string[m.end():m.end() + 1]
        if after not in ("", "节", "假", "前", "后", "期", "长", "当", "那", ",", "。", "的"):
            return None
    explicit = _year_of(m, ref)

    def resolve(y: int) -> date | None:
        if name in LUNAR_FESTIVALS:
            return festival_date(name, y)
        if name in _TERMS:
            return solar_term_date(name, y)
        return holiday_date(name, y)

    if explicit is not None:
        d = resolve(explicit)
    else:
        d = resolve(ref.year)
        if d is not None and d < ref.date():
            d = resolve(ref.year + 1)
    if d is None:
        return None
    if m["before"]:
        return _until(m, d, ref)
    return day_piece(m, d, ref)


def _lunar(m: re.Match[str], ref: datetime, year: int | None, month: int, day: int) -> Piece | None:
    if year is not None:
        d = lunar_to_solar(year, month, day)
    else:
        d = lunar_to_solar(ref.year, month, day)
        if d is not None and d < ref.date():
            d = lunar_to_solar(ref.year + 1, month, day)
    return day_piece(m, d, ref) if d else None


@rule(rf"(?:农历|阴历)?(?:(?P<y>[0-9{N[1:-2]}]{{2,4}})年|(?P<yrel>{REL_YEAR_RE}))?(?:农历|阴历)?(?P<lm>正|腊|冬|"
      rf"{N})月(?P<ld>初[一二三四五六七八九十]|"
      rf"[二三]十[一二三四五六七八九]?|廿[一二三四五六七八九]?|十[一二三四五六七八九]?|卅|(?<=[正腊冬]月)[1-3]?\d)(?!日|号|\d)")
def _lunar_date(m: re.Match[str], ref: datetime) -> Piece | None:
    lm = {"正": 1, "腊": 12, "冬": 11}.get(m["lm"]) or zh_number(m["lm"])
    ld = m["ld"]
    day = zh_number(ld[1:]) if ld.startswith("初") else zh_number(ld)
    if not 1 <= day <= 30:
        return None
    return _lunar(m, ref, _year_of(m, ref), lm, day)


@rule(rf"大年初(?P<ld>[一二三四五六七八九十]|十[一二三四五])")
def _new_year_days(m: re.Match[str], ref: datetime) -> Piece | None:
    day = zh_number(m["ld"])
    d = lunar_to_solar(ref.year, 1, day)
    if d is not None and d < ref.date() - timedelta(days=180):
        d = lunar_to_solar(ref.year + 1, 1, day)
    return day_piece(m, d, ref) if d else None


@rule(rf"(?:每|每个)(?:(?P<wk>{WEEKWORD})(?P<wd>[一二三四五六日天1-7])|(?P<u>天|日|晚|早|周|星期|礼拜|月|年|工作日|小时))")
def _every(m: re.Match[str], ref: datetime) -> Piece | None:
    """每周一, 每天, 每个月: a recurring set; ``start`` is the first occurrence from today."""
    today = ref.date()
    if m["wd"]:
        d = today + timedelta(days=(WD[m["wd"]] - today.weekday()) % 7)
        return Piece(m.span(), at(d, ref.tzinfo), None, "day", True, False, "set", recurrence="P1W")
    rec = {"天": "P1D", "日": "P1D", "晚": "P1D", "早": "P1D", "周": "P1W", "星期": "P1W", "礼拜": "P1W",
           "月": "P1M", "年": "P1Y", "工作日": "P1D", "小时": "PT1H"}[m["u"]]
    return Piece(m.span(), at(today, ref.tzinfo), None, "day", True, False, "set", recurrence=rec)
