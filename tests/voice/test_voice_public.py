"""The public surface of fieldsync.voice is small and pinned."""

from __future__ import annotations

import fieldsync.voice as voice
from fieldsync.sync import errors as E


def test_public_names() -> None:
    """fieldsync.voice exports exactly the documented names."""
    assert sorted(voice.__all__) == ["SuggestedTask", "Transcript", "When", "extract_tasks", "memo_to_task_rows",
                                     "resolve_when", "transcribe"]
    for name in voice.__all__:
        assert getattr(voice, name) is not None


def test_resolve_when_is_the_date_resolver() -> None:
    """resolve_when is re-exported from fieldsync.voice.when, not a copy."""
    from fieldsync.voice import when

    assert voice.resolve_when is when.resolve_when
    assert voice.When is when.When


def test_voice_error_codes_are_in_range() -> None:
    """Every voice error code is FS-6xxx with a name and a 4xx/5xx status."""
    voice_codes = [c for c in E.CATALOGUE.values() if c.code.startswith("FS-6")]
    assert {c.name for c in voice_codes} >= {"not_audio", "audio_too_long", "no_speech", "unsupported_language",
                                             "asr_engine_unavailable", "invalid_memo_request", "memo_too_large"}
    assert all(400 <= c.http_status < 600 for c in voice_codes)
