"""The outbox: local changes waiting for the server's ack, grouped into batches.

Each change is stored as its wire JSON text in ``_fs_outbox`` (autoincrement
id, text, size, batch id). A batch id is assigned the first time changes are
taken for a push and stored with them, so a resend after a lost ack repeats
the same id and the same bytes, and the hub applies the batch once
(docs/protocol.md §6, "Exactly once"). The functions here run inside the
replica's transaction; they are given its connection.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fieldsync.sdk.records import RecordError
from fieldsync.sdk.tables import execute_rows
from fieldsync.sync.change import EXISTS, Change

#: Bytes a push frame needs besides its changes (type, batch id, brackets).
PUSH_OVERHEAD = 128


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """A batch of outbox changes with its id, as stored: a resend reuses both."""

    batch_id: str
    changes: tuple[str, ...]

    def frame(self) -> str:
        """The ``push`` frame text."""
        return f'{{"type":"push","batch":{json.dumps(self.batch_id)},"changes":[{",".join(self.changes)}]}}'


def encode_change(change: Change) -> str:
    """The stored (and sent) text of a change: compact JSON, UTF-8 as is."""
    return json.dumps(change.to_wire(), ensure_ascii=False, separators=(",", ":"))


def enqueue(conn: sqlite3.Connection, changes: Sequence[Change]) -> None:
    """Append changes to the outbox (inside the write's transaction)."""
    texts = [encode_change(c) for c in changes]
    execute_rows(conn, "INSERT INTO _fs_outbox (change, size)", [(t, len(t.encode())) for t in texts])


def take_batch(
    conn: sqlite3.Connection,
    *,
    max_changes: int,
    max_bytes: int,
    exclude: Collection[str],
    new_id: Callable[[], str],
) -> OutboxBatch | None:
    """The oldest assigned batch not in ``exclude``; else a new batch of the oldest unassigned changes.

    A new batch holds at most ``max_changes`` changes and ``max_bytes`` of
    frame (always at least one change, however large).
    """
    assigned = conn.execute(
        "SELECT batch FROM _fs_outbox WHERE batch IS NOT NULL GROUP BY batch ORDER BY MIN(id)"
    ).fetchall()
    for (batch_id,) in assigned:
        if batch_id not in exclude:
            return OutboxBatch(batch_id, tuple(text for _, text, _ in _rows(conn, "batch = ?", (batch_id,))))
    rows = _rows(conn, "batch IS NULL", (), limit=max_changes)
    if not rows:
        return None
    taken: list[tuple[int, str]] = []
    total = PUSH_OVERHEAD
    for row_id, text, size in rows:
        if taken and total + size + 1 > max_bytes:
            break
        taken.append((row_id, text))
        total += size + 1
    batch_id = new_id()
    conn.execute(
        "UPDATE _fs_outbox SET batch = ? WHERE batch IS NULL AND id BETWEEN ? AND ?",
        (batch_id, taken[0][0], taken[-1][0]),
    )
    return OutboxBatch(batch_id, tuple(text for _, text in taken))


def complete_batch(
    conn: sqlite3.Connection, batch_id: str, rejects: Sequence[Mapping[str, Any]], *, at_ms: int
) -> list[RecordError]:
    """Drop an acknowledged batch and record its rejects per record.

    A change rejected as *retryable* (``FS-2011``, a clock ahead of the hub's)
    is not dropped: it stays in the outbox, out of any batch, to be pushed
    again once it can be accepted. Errors of records whose changes in this
    batch were all accepted are cleared: the record is in sync again. An
    unknown batch id (a repeated ack) changes nothing.
    """
    stored = _rows(conn, "batch = ?", (batch_id,))
    if not stored:
        return []
    changes = [json.loads(t) for _, t, _ in stored]
    errors: list[RecordError] = []
    rejected: set[int] = set()
    kept: set[int] = set()
    for rej in rejects:
        index = rej.get("i")
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(changes):
            continue
        if rej.get("retryable") is True:
            kept.add(index)
            continue
        rejected.add(index)
        ch = changes[index]
        errors.append(
            RecordError(
                table=str(ch["t"]),
                record_id=str(ch["r"]),
                field=None if ch["f"] == EXISTS else str(ch["f"]),
                code=str(rej.get("code", "")),
                name=str(rej.get("name", "")),
                message=str(rej.get("message", ""))[:500],
                at_ms=at_ms,
            )
        )
    bad_rows = {changes[i]["r"] for i in rejected | kept}
    ok_rows = sorted({c["r"] for i, c in enumerate(changes) if i not in rejected and i not in kept} - bad_rows)
    if ok_rows and conn.execute("SELECT 1 FROM _fs_errors LIMIT 1").fetchone() is not None:  # usually none at all
        _where_in(conn, "DELETE FROM _fs_errors WHERE row_id IN", ok_rows)
    execute_rows(
        conn,
        "INSERT INTO _fs_errors (tbl, row_id, field, code, name, message, at)",
        [(e.table, e.record_id, e.field, e.code, e.name, e.message, e.at_ms) for e in errors],
    )
    _where_in(conn, "UPDATE _fs_outbox SET batch = NULL WHERE id IN", [stored[i][0] for i in sorted(kept)])
    conn.execute("DELETE FROM _fs_outbox WHERE batch = ?", (batch_id,))
    return errors


def _rows(conn: sqlite3.Connection, where: str, params: tuple[Any, ...], *, limit: int = -1) -> list[tuple[int, str, int]]:
    """Outbox rows ``(id, change, size)`` matching ``where``, in id order, at most ``limit`` (-1: all).

    Read as one aggregated row rather than row by row: the driver releases the
    GIL at every row it steps to, which in an app whose other threads run
    Python can cost a switch interval per row (see ``tables.execute_rows``).
    """
    (text,) = conn.execute(
        "SELECT json_group_array(json_array(id, change, size)) FROM "
        f"(SELECT id, change, size FROM _fs_outbox WHERE {where} ORDER BY id LIMIT ?)",
        (*params, limit),
    ).fetchone()
    rows = [(int(i), str(change), int(size)) for i, change, size in json.loads(text)]
    rows.sort()  # the aggregate's order follows the subquery's in SQLite, but nothing promises it
    return rows


def _where_in(conn: sqlite3.Connection, statement: str, values: Sequence[Any]) -> None:
    """Run ``statement`` (ending in ``IN``) over ``values``, 500 to a statement."""
    for i in range(0, len(values), 500):
        chunk = values[i : i + 500]
        conn.execute(f"{statement} ({', '.join('?' * len(chunk))})", chunk)


__all__ = ["PUSH_OVERHEAD", "OutboxBatch", "complete_batch", "encode_change", "enqueue", "take_batch"]
