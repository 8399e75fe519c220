"""Suggested tasks -> rows of the CRM ``tasks`` table (pure; the sync layer writes them).

The offline attachment flow is: the SDK uploads a memo attachment, the server
transcribes it and calls ``memo_to_task_rows``, then inserts the rows through
the sync core so they reach the rep's devices as ``status="suggested"`` tasks
for confirmation.

Row ids are deterministic when ``memo_id`` is given (a UUID derived from the
memo id and the task's position), so re-running extraction after a crash or
a retried upload rewrites the same rows instead of adding duplicates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from fieldsync.voice.extract import SuggestedTask

__all__ = ["TASK_ROW_FIELDS", "memo_to_task_rows", "task_row_id"]

TASK_ROW_FIELDS = ("id", "title", "due_at", "account_id", "contact_id", "amount", "currency", "priority",
                   "status", "source", "source_text", "confidence")
_NAMESPACE = uuid.UUID("5f0c6a52-8c1e-4b57-9d0e-3c1f7a9e2b10")


def task_row_id(memo_id: str, index: int) -> str:
    """The stable id of the ``index``-th task suggested from memo ``memo_id``."""
    return str(uuid.uuid5(_NAMESPACE, f"voice-memo:{memo_id}:{index}"))


def memo_to_task_rows(
    tasks: Iterable[SuggestedTask],
    *,
    memo_id: str | None = None,
    assignee_id: str | None = None,
) -> list[dict[str, Any]]:
    """One ``tasks`` row per suggested task: ISO due with offset, amount as an exact decimal string.

    ``id`` is stable per (memo, position) when ``memo_id`` is given and a fresh
    random UUID otherwise; ``assignee_id`` is added when given.
    """
    rows = []
    for index, task in enumerate(tasks):
        row: dict[str, Any] = {
            "id": task_row_id(memo_id, index) if memo_id else str(uuid.uuid4()),
            "title": task.title,
            "due_at": task.due_at.isoformat() if task.due_at else None,
            "account_id": task.account_id,
            "contact_id": task.contact_id,
            "amount": str(task.amount) if task.amount is not None else None,
            "currency": task.currency,
            "priority": task.priority.value,
            "status": "suggested",
            "source": "voice",
            "source_text": task.source_text,
            "confidence": task.confidence,
        }
        if assignee_id is not None:
            row["assignee_id"] = assignee_id
        rows.append(row)
    return rows
