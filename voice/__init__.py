"""Voice memos -> transcript -> suggested follow-up tasks (English and Chinese).

    from fieldsync.voice import extract_tasks, transcribe
    heard = transcribe(wav_bytes, lang="en")              # FS-6001..6005 for bad input
    tasks = extract_tasks(heard.text, recorded_at=when_recorded, lang="en", accounts=my_accounts)

Dates resolve against the recording time (``resolve_when``), customers against
the rep's own accounts; ``memo_to_task_rows`` turns tasks into CRM ``tasks`` rows.
"""

from __future__ import annotations

from fieldsync.voice.asr import Transcript, transcribe
from fieldsync.voice.extract import SuggestedTask, extract_tasks
from fieldsync.voice.rows import memo_to_task_rows
from fieldsync.voice.when import When, resolve_when

__all__ = [
    "SuggestedTask",
    "Transcript",
    "When",
    "extract_tasks",
    "memo_to_task_rows",
    "resolve_when",
    "transcribe",
]
