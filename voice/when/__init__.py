"""Date and time resolution for voice memos (English and Chinese).

Public surface::

    resolve_when(text, *, reference, lang) -> When | None
    find_whens(text, *, reference, lang) -> list[When]

``reference`` is the timezone-aware recording time; ``lang`` is "en", "zh"
or "auto".  See ``docs/dates.md`` for the rules.
"""

from __future__ import annotations

from fieldsync.voice.when.model import When
from fieldsync.voice.when.resolve import find_whens, resolve_when

__all__ = ["When", "find_whens", "resolve_when"]
