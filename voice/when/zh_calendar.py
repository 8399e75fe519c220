"""Chinese rules for numeric dates and calendar structure: 20240307, 13.5.2015, 3月第二周, 第一季度,
今年前五个月, 马上/最近."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import regex as re

from fieldsync.voice.when.calendar_math import add_months, days_in_month, week_start
from fieldsync.voice.when.numerals_zh import zh_number
from fieldsync.voice.when.pieces import Piece
from fieldsync.voice.when.zh_base import (N, REL_MONTH, REL_MONTH_RE, REL_YEAR_RE, WD, WEEKWORD, _BEFORE,
                                          _safe, _until, _year_of, day_piece, days_piece, rule)


# ------------------------------------------------------------------ numeric forms, weeks, quarters

@rule(r"(?<![\d.])(?P<y>(?:19|20)\d\d)[./](?P<m>1[0-2]|0?[1-9])(?![\d]|[./]\d)")
def _year_dot_month(m: re.Match[str], ref: datetime) -> Piece | None:
    s = date(int(m["y"]), int(m["m"]), 1)
    return days_piece(m, s, add_months(s, 1), ref, "month")


@rule(r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"
      r"|(?<!\d)(?P<y>(?:19|20)\d\d)\s(?P<m>\d{1,2})\s(?P<d>\d{1,2})(?!\d)"
      r"|(?<![\d.])(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?=\d{1,2}:\d\d)")
def _compact_date(m: re.Match[str], ref: datetime) -> Piece | None:
    d = _safe(int(m["y"]), int(m["m"]), int(m["d"]))
    return day_piece(m, d, ref) if d else None


def _two_digit_year(s: str) -> int:
    """A two-digit year in a numeric date: 00-49 are 20xx, 50-99 are 19xx (as in English)."""
    y = int(s)
    return y + (2000 if y < 50 else 1900)


@rule(r"(?<![\d./-])(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<c>\d{2}|\d{4})(?![\d./-])")
def _dmy(m: re.Match[str], ref: datetime) -> Piece | None:
    a, b, c = m["a"], int(m["b"]), m["c"]
    if len(c) == 4 or int(c) > 31:
        y = int(c) if len(c) == 4 else _two_digit_year(c)
        d = _safe(y, b, int(a))
    elif len(a) == 2:
        d = _safe(_two_digit_year(a), b, int(c))
    else:
        d = _safe(_two_digit_year(c), b, int(a))
    return day_piece(m, d, ref) if d else None


@rule(r"(?<![\d./:-])(?P<m>\d{1,2})[-·](?P<d>\d{1,2})(?![\d./:-])")
def _month_dash_day(m: re.Match[str], ref: datetime) -> Piece | None:
    mo, dd = int(m["m"]), int(m["d"])
    if not (1 <= mo <= 12 and 1 <= dd <= 31):
        return None
    for y in (ref.year, ref.year + 1):
        d = _safe(y, mo, dd)
        if d and d >= ref.date():
            return day_piece(m, d, ref)
    return None


@rule(r"(?:(?<![\d.:-])|(?<=(?:19|20)\d\d(?:[./]\d{1,2})?\s*-))(?P<y>(?:1[5-9]|20)\d\d)(?:\s*年)?"
      r"(?![\d.:/]|-\d{1,2}(?!\d)|\s*[个多])")
def _bare_year(m: re.Match[str], ref: datetime) -> Piece | None:
    y = int(m["y"])
    return days_piece(m, date(y, 1, 1), date(y + 1, 1, 1), ref, "year")


def _first_monday(y: int, mo: int) -> date:
    first = date(y, mo, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


_ORDN = rf"(?:第(?P<n>{N})个?|(?P<last>最后一)个?)"


@rule(rf"(?:(?P<y>[0-9{N[1:-2]}]{{2,4}})年|(?P<yrel>{REL_YEAR_RE}))?的?(?:(?P<m>{N})月份?|(?P<mrel>{REL_MONTH_RE}))的?"
      rf"{_ORDN}(?:{WEEKWORD}|周)(?P<wd>[一二三四五六日天])?")
def _week_of_month(m: re.Match[str], ref: datetime) -> Piece | None:
    y = _year_of(m, ref)
    if m["m"]:
        mo = zh_number(m["m"])
        y = y if y is not None else ref.year
    else:
        base = add_months(ref.date().replace(day=1), REL_MONTH[m["mrel"]])
        y, mo = (y if y is not None else base.year), base.month
    if m["wd"]:
        wd = WD[m["wd"]]
        first = date(y, mo, 1)
        if m["last"]:
            last = date(y, mo, days_in_month(y, mo))
            return day_piece(m, last - timedelta(days=(last.weekday() - wd) % 7), ref)
        d = first + timedelta(days=(wd - first.weekday()) % 7 + 7 * (zh_number(m["n"]) - 1))
        return day_piece(m, d, ref) if d.month == mo else None
    if m["last"]:
        s = week_start(date(y, mo, days_in_month(y, mo)))
    else:
        s = _first_monday(y, mo) + timedelta(days=7 * (zh_number(m["n"]) - 1))
    return days_piece(m, s, s + timedelta(days=7), ref, "week")


@rule(rf"(?:(?P<y>[0-9{N[1:-2]}]{{2,4}})年|(?P<yrel>{REL_YEAR_RE}))的?第(?P<n>{N})个?(?P<u>{WEEKWORD}|周|月|天)")
def _nth_of_year(m: re.Match[str], ref: datetime) -> Piece | None:
    y = _year_of(m, ref)
    if y is None:
        return None
    n = zh_number(m["n"])
    if m["u"] == "月":
        if not 1 <= n <= 12:
            return None
        return days_piece(m, date(y, n, 1), add_months(date(y, n, 1), 1), ref, "month")
    if m["u"] == "天":
        return day_piece(m, date(y, 1, 1) + timedelta(days=n - 1), ref)
    s = _first_monday(y, 1) + timedelta(days=7 * (n - 1))
    return days_piece(m, s, s + timedelta(days=7), ref, "week")


_Q = r"(?:第?(?P<q>[一二三四1-4])|(?P<first>首)|Q(?P<q>[1-4]))季度?"


@rule(rf"(?:(?P<y>[0-9{N[1:-2]}]{{2,4}})年|(?P<yrel>{REL_YEAR_RE}))?的?(?:{_Q}|(?P<rel>本|这个?|上上个?|下下个?|上个?|下个?|"
      rf"上一个?|下一个?)季度)"
      rf"(?P<edge>初|末|底)?{_BEFORE}|Q(?P<q>[1-4])(?![0-9])")
def _quarter(m: re.Match[str], ref: datetime) -> Piece | None:
    y = _year_of(m, ref)
    if m["rel"]:
        cur = (ref.month - 1) // 3
        steps = 2 if m["rel"][:2] in ("上上", "下下") else 1
        off = 0 if m["rel"][0] in "本这" else (-steps if m["rel"][0] == "上" else steps)
        s = add_months(date(ref.year, 3 * cur + 1, 1), 3 * off)
    else:
        q = 1 if m["first"] else zh_number(m["q"])
        s = date(y if y is not None else ref.year, 3 * q - 2, 1)
    e = add_months(s, 3)
    if m["edge"] == "初":
        e = add_months(s, 1)
    elif m["edge"]:
        s = add_months(s, 2)
    if m["before"]:
        return _until(m, e, ref)
    return days_piece(m, s, e, ref, "quarter")


@rule(rf"(?:(?P<y>[0-9{N[1:-2]}]{{2,4}})\s*年|(?P<yrel>{REL_YEAR_RE})|(?P<m>{N})月份?|(?P<mrel>{REL_MONTH_RE}))\s*的?\s*"
      rf"(?P<side>前|头|最后|后)\s*(?P<n>{N})\s*(?P<u>个月|月|个季度|季度|天|日|周|个星期|个礼拜|星期)")
def _leading(m: re.Match[str], ref: datetime) -> Piece | None:
    n = zh_number(m["n"])
    y = _year_of(m, ref)
    if m["m"] or m["mrel"]:
        if m["m"]:
            mo, yy = zh_number(m["m"]), (y if y is not None else ref.year)
        else:
            base = add_months(ref.date().replace(day=1), REL_MONTH[m["mrel"]])
            mo, yy = base.month, base.year
        s0, e0 = date(yy, mo, 1), add_months(date(yy, mo, 1), 1)
    elif y is not None:
        s0, e0 = date(y, 1, 1), date(y + 1, 1, 1)
    else:
        return None
    u = m["u"]
    if "月" in u:
        size_s, size_e = add_months(s0, n), add_months(e0, -n)
    elif "季" in u:
        size_s, size_e = add_months(s0, 3 * n), add_months(e0, -3 * n)
    else:
        days = n * (7 if u in ("周", "个星期", "个礼拜", "星期") else 1)
        size_s, size_e = s0 + timedelta(days=days), e0 - timedelta(days=days)
        if days % 7 == 0 and m["side"] in ("前", "头") and e0 - s0 > timedelta(days=31):
            s0 = _first_monday(s0.year, s0.month)
            size_s = s0 + timedelta(days=days)
        if days % 7 == 0 and m["side"] in ("最后", "后") and e0 - s0 > timedelta(days=31):
            e0 = week_start(e0 - timedelta(days=1))
            size_e = e0 - timedelta(days=days)
    if m["side"] in ("前", "头"):
        return days_piece(m, s0, size_s, ref, "day")
    return days_piece(m, size_e, e0, ref, "day")


@rule(r"(?P<w>马上|立刻|立即|最近|近期|全天|整天)")
def _misc(m: re.Match[str], ref: datetime) -> Piece | None:
    if m["w"] in ("马上", "立刻", "立即"):
        return Piece(m.span(), ref.replace(microsecond=0), None, "second", True, True, relative_time=True)
    if m["w"] in ("全天", "整天"):
        return days_piece(m, ref.date(), ref.date() + timedelta(days=1), ref, "day")
    return day_piece(m, ref.date(), ref)


@rule(rf"(?:(?P<rel>上|本|这个?|下)世纪|(?P<c>{N})世纪)?的?(?P<t>[1-9]0|[一二三四五六七八九]十)年代")
def _decade(m: re.Match[str], ref: datetime) -> Piece | None:
    """九十年代, 上世纪80年代, 19世纪70年代: ten years from the decade's first year."""
    tens = zh_number(m["t"])
    if m["c"]:
        century = (zh_number(m["c"]) - 1) * 100
    elif m["rel"]:
        century = ref.year // 100 * 100 + {"上": -100, "下": 100}.get(m["rel"][0], 0)
    else:
        century = ref.year // 100 * 100
        if century + tens > ref.year:
            century -= 100
    s = century + tens
    return days_piece(m, date(s, 1, 1), date(s + 10, 1, 1), ref, "decade")


@rule(r"(?P<rel>上|下|这|本)?个?(?P<h>上|下|前|后)半(?P<u>月|周|年)")
def _half(m: re.Match[str], ref: datetime) -> Piece | None:
    """上半月, 下半周, 上个半年 (the previous half-year): halves of a month, week or year."""
    today = ref.date()
    first_half = m["h"] in ("上", "前")
    if m["u"] == "月":
        s, e = today.replace(day=1), add_months(today.replace(day=1), 1)
        cut = s + timedelta(days=15)
    elif m["u"] == "周":
        s = week_start(today)
        e, cut = s + timedelta(days=7), s + timedelta(days=3)
    else:
        if m["rel"] in ("上", "下") and m.group(0).startswith(m["rel"] + "个"):
            # 上个半年 / 下个半年: the half-year before or after the current one
            cur = date(today.year, 1 if today.month <= 6 else 7, 1)
            s = add_months(cur, -6 if m["rel"] == "上" else 6)
            return days_piece(m, s, add_months(s, 6), ref, "half_year")
        s, e = date(today.year, 1, 1), date(today.year + 1, 1, 1)
        cut = date(today.year, 7, 1)
    grain = {"月": "month", "周": "week", "年": "half_year"}[m["u"]]
    return days_piece(m, s, cut, ref, grain) if first_half else days_piece(m, cut, e, ref, grain)
