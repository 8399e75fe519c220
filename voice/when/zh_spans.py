"""Chinese rules for lengths of time: 三天后, 两个小时前, 三天内, 未来两天, 两个半小时, 一年又一个月."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import regex as re

from fieldsync.voice.when.calendar_math import add_months, at, elapsed, week_start
from fieldsync.voice.when.numerals_zh import zh_number
from fieldsync.voice.when.pieces import Piece
from fieldsync.voice.when.zh_base import N, _until, day_piece, days_piece, rule


# ------------------------------------------------------------------ relative days, weeks

_UNIT = r"\s*(?P<unit>秒钟?|分钟|分|刻钟|个?半?小时|个?半?钟头|天|日|夜|个?半?星期|周|个?半?礼拜|个半?月|半个月|年)(?P<half2>半)?钟?"


_UNIT_SIZE = {"秒": timedelta(seconds=1), "分": timedelta(minutes=1), "时": timedelta(hours=1), "刻": timedelta(minutes=15),
              "头": timedelta(hours=1), "天": timedelta(days=1), "日": timedelta(days=1), "夜": timedelta(days=1),
              "期": timedelta(days=7), "周": timedelta(days=7), "拜": timedelta(days=7)}


def _unit_key(unit: str) -> str:
    unit = unit.strip()
    u = unit.replace("个", "").replace("半", "").replace("钟", "") or unit
    if u.startswith("小"):
        return "时"
    if u.startswith("刻"):
        return "刻"
    if u.startswith("星"):
        return "期"
    if u.startswith("礼"):
        return "拜"
    return u[-1]


def _count(m: re.Match[str]) -> float:
    raw = m["n"]
    n = 0.5 if raw == "半" else 3.0 if raw in ("几", "数") else float(zh_number(raw))
    if "半" in (m["unit"] or "")[:2] and raw != "半" or m["half"] or m["half2"]:
        n += 0.5
    return n


def _move(ref: datetime, unit: str, n: float) -> tuple[datetime, str]:
    key = _unit_key(unit)
    if key in ("秒", "分", "刻", "时", "头"):
        return elapsed(ref, _UNIT_SIZE[key] * n), "moment"
    if key in _UNIT_SIZE:
        return at(ref.date() + _UNIT_SIZE[key] * n, ref.tzinfo), "day"
    months = 12 if key == "年" else 1
    whole = int(n)
    d = add_months(ref.date(), whole * months)
    if n != whole:
        d += timedelta(days=round((n - whole) * months * 30.4))
    return at(d, ref.tzinfo), ("year" if key == "年" and n == whole else "day")


@rule(rf"(?P<pre>再过|过|等)?(?P<n>{N}|半|几)(?P<half>个半)?{_UNIT}(?P<dir>以后|之后|后|以前|之前|前|以内|之内|内|以来)"
      rf"|(?P<pre>再过|过)(?P<n>{N}|半|几)(?P<half>个半)?{_UNIT}")
def _offset(m: re.Match[str], ref: datetime) -> Piece | None:
    n = _count(m)
    d = m["dir"] or "后"
    back = d.endswith("前")
    if d == "以来":  # "三天以来": over that stretch up to now
        start, kind = _move(ref, m["unit"], -n)
        if kind != "moment":
            start = start.replace(hour=ref.hour, minute=ref.minute, second=ref.second)
        return Piece(m.span(), start.replace(microsecond=0), ref.replace(microsecond=0), "minute", True, True,
                     "interval", relative_time=True)
    if d.endswith("内"):
        end, kind = _move(ref, m["unit"], n)
        if kind == "moment":
            return Piece(m.span(), ref.replace(microsecond=0), end.replace(microsecond=0), "minute", True, True,
                         "interval", relative_time=True)
        return _until(m, end.date() + timedelta(days=1), ref)
    moved, kind = _move(ref, m["unit"], -n if back else n)
    if kind == "moment":  # as precise as the unit said: 十三秒后 to the second, 两个小时后 to the hour
        grain = {"秒": "second", "时": "hour", "头": "hour"}.get(_unit_key(m["unit"]), "minute")
        return Piece(m.span(), moved.replace(microsecond=0), None, grain, True, True, relative_time=True)
    if kind == "year":
        y = moved.year
        return days_piece(m, date(y, 1, 1), date(y + 1, 1, 1), ref, "year")
    return day_piece(m, moved.date(), ref)


@rule(rf"(?P<dir>未来|接下来|今后|最近|近|过去|前|后|上|下|这|还剩|还有|剩下)\s*的?(?P<n>{N}|半|几)(?P<half>个半)?{_UNIT}")
def _window(m: re.Match[str], ref: datetime) -> Piece | None:
    n = _count(m)
    key = _unit_key(m["unit"])
    if n == 1 and m["dir"] in ("上", "下", "这") and key in ("月", "年", "周", "期", "拜"):
        off = {"上": -1, "下": 1, "这": 0}[m["dir"]]
        today = ref.date()
        if key == "月":
            s = add_months(today.replace(day=1), off)
            return days_piece(m, s, add_months(s, 1), ref, "month")
        if key == "年":
            return days_piece(m, date(today.year + off, 1, 1), date(today.year + off + 1, 1, 1), ref, "year")
        s = week_start(today) + timedelta(days=7 * off)
        return days_piece(m, s, s + timedelta(days=7), ref, "week")
    back = m["dir"] in ("过去", "前", "上", "最近", "近")
    if m["dir"] in ("还剩", "还有", "剩下"):  # "还剩5分钟": from now for that long
        end, kind = _move(ref, m["unit"], n)
        if kind == "moment":
            return Piece(m.span(), ref.replace(microsecond=0), end.replace(microsecond=0), "minute", True, True,
                         "interval", relative_time=True)
        return days_piece(m, ref.date(), end.date(), ref, "day")
    moved, kind = _move(ref, m["unit"], -n if back else n)
    if kind == "moment":
        a, b = (moved, ref) if back else (ref, moved)
        return Piece(m.span(), a.replace(microsecond=0), b.replace(microsecond=0), "minute", True, True,
                     "interval", relative_time=True)
    if back:
        return days_piece(m, moved.date(), ref.date(), ref, "day")
    return days_piece(m, ref.date() + timedelta(days=1), moved.date() + timedelta(days=1), ref, "day")


_DUR_FIRST = rf"(?:{N}|半|几)(?:个半)?\s*(?:秒钟?|分钟|个?半?小时|个?半?钟头|天|夜|个?半?星期|周|个?半?礼拜|个半?月|半个月|年)半?"
_DUR_ITEM = rf"(?:{N}|半|几)(?:个半)?\s*(?:秒钟?|分钟|分|个?半?小时|个?半?钟头|时|天|日|夜|个?半?星期|周|个?半?礼拜|个半?月|半个月|年)半?"
_ITEM_RE = re.compile(rf"(?P<n>{N}|半|几)(?P<half>个半)?{_UNIT}")


@rule(rf"(?P<seq>{_DUR_FIRST}(?:(?:又|零|余|多)?{_DUR_ITEM})*)(?:多|余)?(?!前|后|以|之|内)")
def _duration(m: re.Match[str], ref: datetime) -> Piece | None:
    if re.fullmatch(r"(?:\d{4}|0\d)\s*年|\d{2}\s+年", m["seq"]) or m.string[max(0, m.start() - 2):m.start()] in (
            "民国", "元年") or re.search(r"(?:康熙|雍正|乾隆|嘉庆|道光|咸丰|同治|光绪|宣统|民国)$", m.string[:m.start()]):
        return None  # "2008 年", "07 年", "民国三年" name years, not lengths
    total = timedelta(0)
    for it in _ITEM_RE.finditer(m["seq"]):
        total += _size(it["unit"], _count(it))
    for tail in re.finditer(rf"(?P<n>{N})时", m["seq"]):  # "8天20时": 时 after a count of days is hours
        total += timedelta(hours=zh_number(tail["n"]))
    if not total:
        return None
    return Piece(m.span(), ref, None, "duration", False, False, "duration", duration=total)


def _size(unit: str, n: float) -> timedelta:
    key = _unit_key(unit.strip())
    if key in _UNIT_SIZE:
        return _UNIT_SIZE[key] * n
    return timedelta(days=(365 if key == "年" else 30) * n)
