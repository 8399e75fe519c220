"""English time expressions: patterns that yield ``Piece`` values.

Rules worth knowing (documented in docs/dates.md):

* weeks start on Monday; "next Tuesday" is the Tuesday of next calendar week,
  "this Tuesday" the one of this week, "last Tuesday" the one of last week,
  a bare or "on"/"by"/"coming" Tuesday the next one from today (today counts);
* a clock time with no am/pm is read in business hours: 1-6 -> afternoon,
  7-11 -> morning, 12 -> noon;
* a month or day of month with no year is the next one from today (this
  month/year counts);
* parts of day follow Recognizers-Text: morning 08-12, afternoon 12-16,
  evening 16-20, night 20-24.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import regex as re

from fieldsync.voice.when.en_base import _RULES
from fieldsync.voice.when.model import When
from fieldsync.voice.when.pieces import Piece, assemble, deadline

from fieldsync.voice.when import en_dates  # noqa: F401  (registers its rules)
from fieldsync.voice.when import en_spans  # noqa: F401  (registers its rules)
from fieldsync.voice.when import en_times  # noqa: F401  (registers its rules)
from fieldsync.voice.when import en_calendar  # noqa: F401  (registers its rules)

__all__ = ["find_english"]


# ------------------------------------------------------------------ driver

_JOINER = re.compile(r"\s*(?:,|at|on|of|in\s+the|@|around|about|by|this|,?\s*the)?\s*", re.I)
_ANCHOR = re.compile(r"\s*(?:(?P<back>before)|after|from|following)\s*", re.I)
_CONNECTOR = re.compile(r"\s*(?:-|–|—|~|to|till|until|til|through|thru|and)\s*", re.I)
_OPENER = re.compile(r"(?:from|between)\s*$", re.I)


def _scan(text: str, ref: datetime) -> Iterator[Piece]:
    low = text.lower()
    for pattern, handler in _RULES:
        for m in pattern.finditer(low):
            if m.end() == m.start():
                continue
            try:
                piece = handler(m, ref)
            except (ValueError, OverflowError, KeyError):
                continue
            if piece is not None:
                yield piece


_DEADLINE = re.compile(r"(?:(?P<excl>before|no\s+later\s+than|not\s+later\s+than|prior\s+to)|(?:until|till|up\s+to))"
                       r"\s+$", re.I)


def _deadlines(found: list[When], text: str, ref: datetime) -> list[When]:
    """"before Christmas" ends when Christmas starts; "until Friday" ends when Friday ends."""
    out = []
    for i, w in enumerate(found):
        m = _DEADLINE.search(text, 0, w.span[0])
        late = None
        if m and m.end() == w.span[0] and (i == 0 or found[i - 1].span[1] <= m.start()):
            late = deadline(w, ref, (m.start(), w.span[1]), text, inclusive=not m["excl"])
        out.append(late if late is not None else w)
    return out


def find_english(text: str, reference: datetime) -> list[When]:
    """Every English time expression in ``text``, resolved against ``reference``."""
    found = assemble(list(_scan(text, reference)), text, reference, joiner=_JOINER, connector=_CONNECTOR,
                     opener=_OPENER, anchor=_ANCHOR)
    return _deadlines(found, text, reference)
