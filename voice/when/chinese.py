"""Chinese time expressions: patterns that yield ``Piece`` values.

Rules worth knowing (documented in docs/dates.md):

* weeks start on Monday: 下周二 is Tuesday of the next calendar week, 本周五/这周五
  Friday of this week, a bare 周五 the next Friday from today (today counts);
* parts of day follow the English table (Recognizers-Text): 凌晨 00-06, 早上/上午
  08-12, 中午 11-13, 下午 12-16, 傍晚/晚上 16-20, 夜里 20-24; they shift the clock:
  下午三点 = 15:00, 晚上十二点 = the midnight ending that day;
* a clock without a part of day reads business hours (三点 = 15:00, 九点 = 09:00),
  except a colon clock ("5:00"), which is a 24-hour reading;
* 月初 = days 1-5, 上旬 1-10, 中旬 11-20, 月中 11-20, 下旬 21-end, 月底 25-end;
  年初 = Jan-Feb, 年中 = Jun-Jul, 年底 = Nov-Dec;  "X前" after a period (月底前,
  年底前) is the interval from the reference to the end of X;
* a month or day with no year is the next one from today (this month counts);
* N天后 is a day, N小时后 a moment, N年后 the whole year; N天内 runs from now to the end
  of the N-th day; X起/X以来/X至今 runs from X to the reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import regex as re

from fieldsync.voice.when.model import When
from fieldsync.voice.when.pieces import Piece, assemble, deadline
from fieldsync.voice.when.zh_base import _RULES, normalize_zh

from fieldsync.voice.when import zh_dates  # noqa: F401  (registers its rules)
from fieldsync.voice.when import zh_times  # noqa: F401  (registers its rules)
from fieldsync.voice.when import zh_calendar  # noqa: F401  (registers its rules)
from fieldsync.voice.when import zh_spans  # noqa: F401  (registers its rules)

__all__ = ["find_chinese", "normalize_zh"]


# ------------------------------------------------------------------ driver

_JOINER = re.compile(r"\s*(?:的)?\s*")
_CONNECTOR = re.compile(r"\s*(?:到|至|~|-{1,2}|和|与|—+)\s*")
_OPENER = re.compile(r"(?:从|自|由|在)\s*$")


_NUMERALS = frozenset("0123456789零〇一二两三四五六七八九十百千万廿卅")
_GLUED_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{2}$")  # "2018-12-1209:03": the time follows the date


def _scan(text: str, ref: datetime) -> Iterator[Piece]:
    for pattern, handler in _RULES:
        for m in pattern.finditer(text, overlapped=True):
            if m.end() == m.start():
                continue
            if m.start() and text[m.start()] in _NUMERALS and text[m.start() - 1] in _NUMERALS \
                    and not _GLUED_DATE.search(text, 0, m.start()):
                continue  # a tail of a longer number ("7 年" inside "07 年"), unless a date ends there
            try:
                piece = handler(m, ref)
            except (ValueError, OverflowError, KeyError, IndexError):
                continue
            if piece is not None:
                yield piece


def _free(found: list[When], i: int, end: int) -> bool:
    """Whether expression ``i`` may grow to ``end`` without running into the next one."""
    return i + 1 >= len(found) or found[i + 1].span[0] >= end


_SINCE = re.compile(r"\s*(?:起|以来|开始)?\s*(?:至今|迄今|到现在|到目前|到今天|至现在|为止|以来|起)")


def _since(found: list[When], text: str, ref: datetime) -> list[When]:
    """"2019年5月8日起", "从2001年起至今", "从去年9月以来": from that time up to the reference."""
    out = []
    for i, w in enumerate(found):
        m = _SINCE.match(text, w.span[1])
        if m and w.start < ref and w.kind in ("point", "interval") and _free(found, i, m.end()):
            span = (w.span[0], m.end())
            out.append(When(w.start, ref.replace(microsecond=0), w.grain, text[span[0]:span[1]], span, "interval"))
        else:
            out.append(w)
    return out


_BEFORE = re.compile(r"\s*(?:之前|以前|前)(?![往进来去夕后者面台景提任期天日年月周])")


def _before(found: list[When], text: str, ref: datetime) -> list[When]:
    """"下周五前", "下月15号下午6点前": by that time, i.e. from the reference to its end."""
    out = []
    for i, w in enumerate(found):
        m = _BEFORE.match(text, w.span[1])
        late = None
        if m and _free(found, i, m.end()):
            late = deadline(w, ref, (w.span[0], m.end()), text, inclusive=True)
        out.append(late if late is not None else w)
    return out


_WITHIN = re.compile(r"\s*(?:以内|之内|内)")


def _within(found: list[When], text: str, ref: datetime) -> list[When]:
    """"本周内", "这个月内", "今年之内": from the reference to the end of that period."""
    out = []
    for i, w in enumerate(found):
        m = _WITHIN.match(text, w.span[1])
        late = None
        if m and w.end is not None and w.start <= ref < w.end and _free(found, i, m.end()):
            late = deadline(w, ref, (w.span[0], m.end()), text, inclusive=True)
        out.append(late if late is not None else w)
    return out


def find_chinese(text: str, reference: datetime) -> list[When]:
    """Every Chinese time expression in ``text``, resolved against ``reference``."""
    norm = normalize_zh(text)
    found = assemble(list(_scan(norm, reference)), norm, reference, joiner=_JOINER, connector=_CONNECTOR,
                     opener=_OPENER)
    found = _within(_before(_since(found, norm, reference), norm, reference), norm, reference)
    return [When(w.start, w.end, w.grain, text[w.span[0]:w.span[1]], w.span, w.kind, w.duration, w.recurrence)
            for w in found]
