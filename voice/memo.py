"""One memo, end to end: transcript (from the phone or from audio) -> suggested tasks.

This is what the CLI, the REST endpoint and (later) the attachment worker
call. It decides which transcript to trust and in which order to refuse bad
input, cheapest check first:

* a request with neither text nor audio, or a recording time that cannot be
  placed in time, is FS-6006 before anything runs;
* oversize text or audio is FS-6007 before any decoding;
* a phone transcript, when present, is used as is: it is usually better than
  what a server-side engine makes of compressed phone audio, and it is the
  only way to get Chinese with the default English engine. Audio sent with it
  is still checked to be audio (magic bytes, claimed length), not decoded;
* otherwise the audio goes through ``asr.transcribe`` (FS-6001..6005).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fieldsync.sync import errors as E
from fieldsync.voice.asr import Recogniser, select_recogniser, transcribe
from fieldsync.voice.audio import check_audio
from fieldsync.voice.customers import Directory
from fieldsync.voice.due import reference_time
from fieldsync.voice.extract import SuggestedTask, extract_tasks
from fieldsync.voice.language import memo_language
from fieldsync.voice.rows import memo_to_task_rows

__all__ = ["MAX_AUDIO_BYTES", "MAX_TEXT_CHARS", "MemoResult", "process_memo"]

MAX_AUDIO_BYTES = 64 * 1024 * 1024
MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True, slots=True)
class MemoResult:
    """The transcript a memo was read from and the tasks suggested from it."""

    text: str
    lang: str
    engine: str  # "phone" when the transcript came with the request
    audio_seconds: float | None
    recorded_at: datetime
    tasks: tuple[SuggestedTask, ...]

    def to_dict(self, *, memo_id: str | None = None) -> dict[str, Any]:
        """JSON-safe answer: transcript, tasks, and the CRM rows they would become."""
        return {
            "transcript": {"text": self.text, "lang": self.lang, "engine": self.engine,
                           "audio_seconds": self.audio_seconds},
            "recorded_at": self.recorded_at.isoformat(),
            "tasks": [task.to_dict() for task in self.tasks],
            "task_rows": memo_to_task_rows(self.tasks, memo_id=memo_id) if memo_id else None,
        }


def process_memo(
    *,
    recorded_at: datetime,
    text: str | None = None,
    audio: bytes | None = None,
    time_zone: str | None = None,
    lang: str = "auto",
    accounts: Iterable[Mapping[str, Any]] | Directory = (),
    recogniser: Recogniser | None = None,
    max_seconds: float = 1800.0,
    max_audio_bytes: int = MAX_AUDIO_BYTES,
) -> MemoResult:
    """Transcribe (unless the phone did) and extract suggested tasks, resolved at ``recorded_at``."""
    text = text.strip() if text else None
    if not text and not audio:
        raise E.error_for(E.INVALID_MEMO_REQUEST, "send a transcript, audio, or both", field="text")
    reference = reference_time(recorded_at, time_zone)
    if text and len(text) > MAX_TEXT_CHARS:
        raise E.error_for(E.MEMO_TOO_LARGE, f"the transcript exceeds {MAX_TEXT_CHARS} characters",
                          limit=MAX_TEXT_CHARS)
    if audio and len(audio) > max_audio_bytes:
        raise E.error_for(E.MEMO_TOO_LARGE, f"the audio exceeds {max_audio_bytes} bytes", limit=max_audio_bytes)

    seconds: float | None = None
    if text:
        engine = "phone"
        if audio:
            seconds = check_audio(audio, max_seconds=max_seconds)[1]
        lang = memo_language(text, lang)
    else:
        assert audio is not None
        heard = transcribe(audio, lang=lang, recogniser=recogniser or select_recogniser(), max_seconds=max_seconds)
        text, engine, seconds = heard.text, heard.engine, heard.seconds
        lang = memo_language(text, heard.lang)
    tasks = extract_tasks(text, recorded_at=reference, lang=lang, accounts=accounts)
    return MemoResult(text=text, lang=lang, engine=engine, audio_seconds=seconds, recorded_at=reference,
                      tasks=tuple(tasks))

