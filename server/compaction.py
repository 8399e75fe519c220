"""Compaction: trim the change log, tombstones and old bookkeeping past a horizon.

Theory of operation
-------------------
The horizon is the longest a device may stay offline and still catch up from
the log (``Settings.compaction_horizon_days``). Compaction deletes:

* change-log entries committed before the horizon -- except the newest entry,
  so the head (and the next sequence number) survives even on a quiet server;
* tombstones (rows whose causal length is even) whose last change is among
  the deleted entries: nobody who could still resurrect them from the log
  remains;
* batch records older than the horizon (a batch resent after that long is
  still harmless: merging is idempotent, and counters carry running totals);
* conflict history older than ``Settings.conflict_retention_days``.

The *log floor* -- the newest sequence no longer in the log -- is
``min(seq) - 1``. A device whose cursor is below the floor cannot catch up
from the log; the hub sends it a fresh snapshot with ``reset: true`` and the
SDK drops the rows the snapshot no longer holds, keeping (and pushing) its
unsent local changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class CompactionReport:
    """What one compaction removed."""

    floor: int
    changes: int
    tombstones: int
    batches: int
    conflicts: int


def log_floor(store: Any) -> int:
    """The newest sequence number no longer in the log (0 if nothing was ever compacted)."""
    with store.engine.connect() as conn:
        lowest = conn.execute(select(func.min(store.t_changes.c.seq))).scalar()
    return 0 if lowest is None else int(lowest) - 1


def compact(store: Any, *, horizon_days: float, conflict_retention_days: float, now_ms: int | None = None) -> CompactionReport:
    """Delete what lies past the horizon (see module docstring), in one write transaction."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    horizon = now - int(horizon_days * DAY_MS)
    retention = now - int(conflict_retention_days * DAY_MS)
    c = store.t_changes.c
    with store._write() as conn:
        head = conn.execute(select(func.max(c.seq))).scalar() or 0
        old = conn.execute(select(func.max(c.seq)).where(c.committed_ms < horizon, c.seq < head)).scalar()
        floor = int(old or 0)
        tombstones = 0
        for table in store.rows.values():
            tombstones += conn.execute(delete(table).where(table.c._cl % 2 == 0, table.c._seq <= floor)).rowcount or 0
        changes = conn.execute(delete(store.t_changes).where(c.seq <= floor)).rowcount or 0 if floor else 0
        batches = conn.execute(delete(store.t_batches).where(store.t_batches.c.committed_ms < horizon)).rowcount or 0
        conflicts = conn.execute(delete(store.t_conflicts).where(store.t_conflicts.c.committed_ms < retention)).rowcount or 0
    return CompactionReport(floor, changes, tombstones, batches, conflicts)


__all__ = ["CompactionReport", "compact", "log_floor"]
