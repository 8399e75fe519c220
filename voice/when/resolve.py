"""Entry points: pick the language and run its recogniser."""

from __future__ import annotations

import re
from datetime import datetime

from fieldsync.voice.when.chinese import find_chinese
from fieldsync.voice.when.english import find_english
from fieldsync.voice.when.model import When

__all__ = ["find_whens", "resolve_when"]

_HAN = re.compile(r"[\u4e00-\u9fff]")


def _language(text: str, lang: str) -> str:
    if lang in ("en", "zh"):
        return lang
    if lang != "auto":
        raise ValueError(f"lang must be 'en', 'zh' or 'auto', not {lang!r}")
    return "zh" if _HAN.search(text) else "en"


def find_whens(text: str, *, reference: datetime, lang: str) -> list[When]:
    """Every time expression in ``text``, in order, resolved against the aware ``reference``."""
    if reference.tzinfo is None or reference.utcoffset() is None:
        raise ValueError("reference must be timezone-aware")
    if _language(text, lang) == "zh":
        return find_chinese(text, reference)
    return find_english(text, reference)


def resolve_when(text: str, *, reference: datetime, lang: str) -> When | None:
    """The main time expression in ``text`` (date and time fused), or None when there is none.

    The main one is the first that names a moment or a stretch of time; a duration ("for 2 hours") or a
    recurrence ("every Monday") is returned only when the text holds nothing else.
    """
    found = find_whens(text, reference=reference, lang=lang)
    for w in found:
        if w.kind in ("point", "interval"):
            return w
    return found[0] if found else None
