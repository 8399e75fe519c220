"""Chinese rules for clock times and parts of day: 下午三点, 十点一刻, 晚上八点半, 凌晨, 傍晚."""

from __future__ import annotations

from datetime import datetime

import regex as re

from fieldsync.voice.when.calendar_math import at
from fieldsync.voice.when.numerals_zh import zh_number
from fieldsync.voice.when.pieces import Piece
from fieldsync.voice.when.zh_base import N, PART, PARTS, _NIGHT, rule


# ------------------------------------------------------------------ clock times and parts of day

def _clock(part: str | None, h: int, mi: int, s: int) -> tuple[int, int, int, bool] | None:
    if h > 24 or mi > 59 or s > 59:
        return None
    amb = False
    if part:
        lo, hi = PARTS[part]
        if lo >= 12 and h < 12 and not (part in _NIGHT and h <= 4):
            h += 12
        elif part in ("中午", "午间", "正午") and h < 6:
            h += 12
        elif part in _NIGHT and h == 12:
            h = 24
        elif part in ("半夜", "午夜", "凌晨") and h == 12:
            h = 0
    elif 1 <= h <= 6:
        h, amb = h + 12, True
    elif 7 <= h <= 12:
        amb = True
    return h, mi, s, amb


@rule(rf"(?:(?<![今明昨])(?P<part>{PART}))?(?:的)?(?P<h>{N})(?:点钟?|时|:(?=\d))(?:(?P<half>半)|(?P<q>[一二三123])刻|"
      rf"(?P<mi>{N})(?:分钟?)?)?"
      rf"(?:(?P<s>{N})秒|:(?P<s>\d{{2}}))?(?P<tail>整|钟|左右|许|多钟?|前后|时)?(?:\s*(?P<ap>[ap])\.?m\.?)?")
def _time(m: re.Match[str], ref: datetime) -> Piece | None:
    if m.group(0)[-1] == ":" or (m["h"] and not m["part"] and ":" not in m.group(0) and "点" not in m.group(0)
                                 and "时" in m.group(0) and not (m["mi"] or m["half"] or m["q"])):
        if m["mi"] is None and not m["half"] and not m["q"]:
            return None
    if _idiom(m) or _decimal(m):
        return None
    h = zh_number(m["h"])
    mi = 30 if m["half"] else 15 * zh_number(m["q"]) if m["q"] else (zh_number(m["mi"]) if m["mi"] else 0)
    s = zh_number(m["s"]) if m["s"] else 0
    c = _clock(m["part"], h, mi, s)
    if c is None:
        return None
    hh, mi, s, amb = c
    if amb and ":" in m.group(0):
        hh = h  # "5:00" written with a colon is a 24-hour clock reading (still free to follow a range's left end)
    if m["ap"]:
        hh, amb = h % 12 + (12 if m["ap"] == "p" else 0), False
    start = at(ref.date(), ref.tzinfo, hh, mi, s)
    grain = "second" if m["s"] else "minute" if (m["mi"] or m["half"] or m["q"]) else "hour"
    return Piece(m.span(), start, None, grain, False, True, ambiguous_ampm=amb)


@rule(rf"(?:(?<![今明昨])(?P<part>{PART}))?(?P<h>{N})(?=\s*(?:到|至|~|-{{1,2}}|—+)\s*(?:{PART})?{N}(?:点|时|:))")
def _hour_before_range(m: re.Match[str], ref: datetime) -> Piece | None:
    c = _clock(m["part"], zh_number(m["h"]), 0, 0)
    if c is None:
        return None
    return Piece(m.span(), at(ref.date(), ref.tzinfo, c[0]), None, "hour", False, True, ambiguous_ampm=c[3])


def _decimal(m: re.Match[str]) -> bool:
    """"八点八", "二十四点五度", "24点5": a decimal number, not a clock time (minutes need 分 or two digits)."""
    whole = m.group(0)
    if "点" not in whole or m["mi"] is None or whole.endswith(("分", "分钟")) or m["part"]:
        return m.string[m.end():m.end() + 1] in ("度", "%", "倍", "米", "元", "万", "亿") and "点" in whole
    return zh_number(m["mi"]) < 10 and not m["mi"].startswith(("0", "零"))


_IDIOM_AFTER = ("都", "也", "儿", "没", "不", "点", "小", "东", "时间", "钱", "事", "建议", "意见", "问题", "头绪")


def _idiom(m: re.Match[str]) -> bool:
    """"一点都不", "有一点", "晚一点": 一点/两点 meaning "a bit", not a clock time."""
    whole = m.group(0)
    if m["part"] or not whole.endswith("点") or m["h"] not in ("一", "两", "二"):
        return False
    after = m.string[m.end():m.end() + 2]
    before = m.string[max(0, m.start() - 1):m.start()]
    return after.startswith(_IDIOM_AFTER) or before in ("有", "这", "那", "差", "快", "好", "晚", "早", "多", "少",
                                                        "慢", "大", "便宜", "宜", "高", "低", "再")


@rule(rf"(?P<part>{PART})")
def _part(m: re.Match[str], ref: datetime) -> Piece | None:
    lo, hi = PARTS[m["part"]]
    if lo == hi:
        return Piece(m.span(), at(ref.date(), ref.tzinfo, lo), None, "hour", False, True)
    return Piece(m.span(), at(ref.date(), ref.tzinfo, lo), at(ref.date(), ref.tzinfo, hi), "part_of_day", False,
                 True, "interval", part=(lo, hi))


@rule(r"(?P<w>零点(?![零〇一二三四五六七八九十0-9])|午夜十二点|子夜)")
def _midnight(m: re.Match[str], ref: datetime) -> Piece | None:
    return Piece(m.span(), at(ref.date(), ref.tzinfo, 0), None, "hour", False, True)
