"""The storage interface the hub drives (``ChangeStore``) and the values it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fieldsync.sync.change import Change
from fieldsync.sync.protocol import Reject
from fieldsync.sync.rules import Conflict


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One committed change as the feed sees it: ``body`` is its wire JSON text."""

    seq: int
    site: str
    table: str
    row_id: str
    owner_id: str | None
    department_id: str | None
    body: str
    moved_from: tuple[str | None, str | None] | None = None  # (owner, department) before a reassignment
    erased: bool = False  # the row was erased: every device drops it (``evict``), nothing else is sent


@dataclass(frozen=True, slots=True)
class Principal:
    """Who pushes: the device's user, department and site (from its token)."""

    user_id: str
    department_id: str | None
    site: str


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What applying one push batch did."""

    ack: dict[str, Any]
    entries: list[LogEntry] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    duplicate: bool = False


class ChangeStore(Protocol):
    """Durable server state: row states, the change log, batches and conflicts.

    Implementations must apply a batch atomically and durably before
    returning, assign ``seq`` in commit order, and be safe to call from
    several threads (writes are serialised inside).
    """

    def head(self) -> int:
        """The highest committed sequence (0 for an empty log)."""
        ...

    def apply_batch(
        self, principal: Principal, batch_id: str, digest: str, changes: Sequence[Change], pre_rejects: Sequence[Reject], total: int
    ) -> BatchOutcome:
        """Merge a validated batch, append what changed to the log, remember the batch; one transaction."""
        ...

    def apply_server_changes(self, changes: Sequence[Change]) -> BatchOutcome:
        """Merge changes written by the server itself (site ``server``)."""
        ...

    def changes_after(self, seq: int, limit: int) -> list[LogEntry]:
        """Log entries with ``seq`` greater than the given one, in order, at most ``limit``."""
        ...

    def snapshot_page(self, table: str, after_id: str, limit: int) -> list[tuple[str, str]]:
        """``(id, state JSON)`` of rows of ``table`` with id > ``after_id``, by id."""
        ...

    def row_states(self, table: str, ids: Sequence[str]) -> dict[str, str]:
        """State JSON of the given rows that exist in the store."""
        ...

    def conflicts(self, table: str, row_id: str) -> list[dict[str, Any]]:
        """The conflict history of one row, oldest first."""
        ...

    def close(self) -> None: ...
