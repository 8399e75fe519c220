"""Chinese lexicon shared by the Chinese rule modules: normalisation, words, regex pieces, the rule
registry and the small constructors every rule uses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import regex as re

from fieldsync.voice.when.calendar_math import at
from fieldsync.voice.when.numerals_zh import NUM_ZH, zh_number, zh_year
from fieldsync.voice.when.pieces import Piece


_TRAD = str.maketrans({"週": "周", "後": "后", "個": "个", "點": "点", "號": "号", "時": "时", "鐘": "钟",
                       "兩": "两", "這": "这", "禮": "礼", "後": "后", "間": "间", "來": "来", "過": "过",
                       "內": "内", "晩": "晚", "：": ":", "～": "~", "－": "-", "—": "-", "／": "/",
                       "．": ".", "，": ",", "　": " ", "曰": "日", "廿": "廿", "零": "零"})


_FW = {0xFF10 + i: 0x30 + i for i in range(10)}


def normalize_zh(text: str) -> str:
    """Same-length normalisation: traditional forms, full-width digits and punctuation."""
    return text.translate(_TRAD).translate(_FW)


N = NUM_ZH


WD = {"一": 0, "1": 0, "二": 1, "2": 1, "三": 2, "3": 2, "四": 3, "4": 3, "五": 4, "5": 4, "六": 5, "6": 5,
      "日": 6, "天": 6, "七": 6, "7": 6, "末": 5}


PARTS = {"凌晨": (0, 6), "清晨": (5, 8), "早上": (8, 12), "早晨": (8, 12), "早间": (8, 12), "一早": (8, 12),
         "早": (8, 12), "上午": (8, 12), "中午": (11, 13), "午间": (11, 13), "正午": (12, 12), "下午": (12, 16),
         "午后": (12, 16), "傍晚": (16, 20), "黄昏": (16, 20), "晚上": (16, 20), "晚间": (16, 20),
         "晚": (16, 20), "夜里": (20, 24), "夜间": (20, 24), "夜晚": (20, 24), "今夜": (20, 24),
         "深夜": (22, 24), "半夜": (0, 5), "午夜": (0, 0), "后半夜": (2, 5), "前半夜": (20, 24),
         "白天": (8, 18)}


_NIGHT = {"晚上", "晚间", "晚", "夜里", "夜间", "夜晚", "今夜", "深夜", "前半夜"}
PART = "|".join(sorted(PARTS, key=len, reverse=True))


REL_DAY = {"今天": 0, "今日": 0, "当天": 0, "当日": 0, "本日": 0, "明天": 1, "明日": 1, "次日": 1,
           "翌日": 1, "第二天": 1, "隔天": 1, "后天": 2, "大后天": 3, "大大后天": 4, "昨天": -1,
           "昨日": -1, "前天": -2, "大前天": -3, "今": 0, "明": 1, "昨": -1, "现在": 0, "此刻": 0}


REL_DAY_RE = "|".join(sorted((k for k in REL_DAY if len(k) > 1), key=len, reverse=True))


REL_YEAR = {"今年": 0, "本年": 0, "明年": 1, "来年": 1, "去年": -1, "前年": -2, "后年": 2, "大前年": -3,
            "大后年": 3, "上年": -1, "上一年": -1, "下一年": 1, "这一年": 0}


REL_YEAR_RE = "|".join(sorted(REL_YEAR, key=len, reverse=True))


REL_MONTH = {"本月": 0, "这个月": 0, "这月": 0, "当月": 0, "下月": 1, "下个月": 1, "上月": -1, "上个月": -1,
             "下下个月": 2, "下下月": 2, "上上个月": -2, "上上月": -2}


REL_MONTH_RE = "|".join(sorted(REL_MONTH, key=len, reverse=True))


REL_WEEK = {"本": 0, "这": 0, "这个": 0, "下": 1, "下个": 1, "上": -1, "上个": -1, "下下": 2, "下下个": 2,
            "上上": -2, "上上个": -2, "下下下": 3, "下下下个": 3, "上上上": -3, "上上上个": -3}


REL_WEEK_RE = "|".join(sorted(REL_WEEK, key=len, reverse=True))
WEEKWORD = r"(?:周|星期|礼拜|週)"
Handler = Callable[[re.Match[str], datetime], Piece | None]
_RULES: list[tuple[re.Pattern[str], Handler]] = []


def rule(pattern: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for every match of ``pattern``; the handler turns a match into a Piece or None."""
    def register(fn: Handler) -> Handler:
        _RULES.append((re.compile(pattern), fn))
        return fn
    return register


def _year_given(m: re.Match[str]) -> bool:
    """Whether the match named its year (a filled year group), which ranges use to share years."""
    groups = m.groupdict()
    return any(groups.get(k) for k in ("y", "yrel"))


def day_piece(m: re.Match[str], d: date, ref: datetime, grain: str = "day") -> Piece:
    """A whole-day point at the match's span."""
    return Piece(m.span(), at(d, ref.tzinfo), None, grain, True, False, explicit_year=_year_given(m))


def days_piece(m: re.Match[str], d0: date, d1: date, ref: datetime, grain: str) -> Piece:
    """The days ``[d0, d1)`` as an interval at the match's span."""
    return Piece(m.span(), at(d0, ref.tzinfo), at(d1, ref.tzinfo), grain, True, False, "interval",
                 explicit_year=_year_given(m))


def _until(m: re.Match[str], d1: date, ref: datetime) -> Piece | None:
    """"X前" after a period: from the reference up to the end of X (None when X is already over)."""
    end = at(d1, ref.tzinfo)
    if end <= ref:
        return None
    return Piece(m.span(), ref.replace(microsecond=0), end, "day", True, True, "interval")


def _safe(y: int, mo: int, d: int) -> date | None:
    try:
        return date(y, mo, d)
    except ValueError:
        return None


def _num(s: str | None) -> int | None:
    if s is None:
        return None
    return zh_number(s)


_BEFORE = r"(?P<before>(?:之前|以前|前)(?![往进来去夕后者面台景提任期]))?"


def _year_of(m: re.Match[str], ref: datetime) -> int | None:
    if m["y"]:
        return zh_year(m["y"], ref.year)
    if m["yrel"]:
        return ref.year + REL_YEAR[m["yrel"]]
    return None
