"""The storage interface the hub drives (``ChangeStore``) and the values it returns."""

from __future__ import annotations

import json

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from fieldsync.sync import errors as E
from fieldsync.sync.change import Change
from fieldsync.sync.protocol import Reject
from fieldsync.sync.rules import Conflict


@dataclass(slots=True)
class LogEntry:
    """One record of the change log as the feed sees it.

    ``body`` holds the wire texts of the ``count`` field changes ``site``
    made to one row in one write, joined by commas (a JSON array's contents),
    so that a page of changes is its records' bodies joined. When the write
    created the row, the server's stamp of its owner and department leads the
    body: its first ``stamp`` characters, the part ``site`` itself is sent
    (``stamp_body``). Never mutated once built (not frozen: one is built per
    committed record, see ``Change``).
    """

    seq: int
    site: str
    table: str
    row_id: str
    owner_id: str | None
    department_id: str | None
    body: str
    moved_from: tuple[str | None, str | None] | None = None  # (owner, department) before a reassignment
    erased: bool = False  # the row was erased: every device drops it (``evict``), nothing else is sent
    count: int = 1
    stamp: int = 0

    def stamp_body(self) -> tuple[str, int]:
        """The leading stamp changes' texts and how many there are (``("", 0)`` without a stamp)."""
        if not self.stamp:
            return "", 0
        part = self.body[: self.stamp]
        # Change texts are canonical JSON objects starting '{"t":'; inside a string value '"' is escaped,
        # so ',{"t":' occurs only between two changes.
        return part, part.count(',{"t":') + 1

    def changes(self) -> list[dict[str, Any]]:
        """The record's field changes, parsed."""
        parsed: list[dict[str, Any]] = json.loads("[" + self.body + "]")
        return parsed


@dataclass(frozen=True, slots=True)
class Principal:
    """Who pushes: the device's user, department and site (from its token)."""

    user_id: str
    department_id: str | None
    site: str


#: ``check(changes, owners) -> (kept, rejects)``: the write-scope check a push runs inside the store's transaction.
#: ``owners`` maps (table, row id) to (owner, department) for the rows that exist at that moment.
ScopeCheck = Callable[[Sequence[tuple[int, Change]], Mapping[tuple[str, str], tuple[str | None, str | None]]], tuple[list[Change], list[Reject]]]


@dataclass(frozen=True, slots=True)
class PushRequest:
    """One validated push batch, ready for ``ChangeStore.apply_batches``.

    ``changes`` pairs each valid change with its index in the pushed batch
    (``raw``); ``rejects`` are the changes validation already refused;
    ``matches(digest)`` tells whether a stored digest is this batch's (a
    resend) or another batch's (a reused id). ``check``, when given, is the
    pusher's write-scope check, run against the row owners inside the write
    transaction so that a reassignment can never slip between check and write.
    """

    principal: Principal
    batch_id: str
    digest: str
    changes: Sequence[tuple[int, Change]]
    rejects: Sequence[Reject]
    total: int
    raw: Sequence[Any] = ()
    check: ScopeCheck | None = None
    legacy_digest: Callable[[], str] | None = None

    def matches(self, stored: str) -> bool:
        """True when ``stored`` (a digest kept in ``sync_batches``) is this batch's content."""
        if stored == self.digest:
            return True
        return self.legacy_digest is not None and ":" not in stored and stored == self.legacy_digest()


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

    def apply_batches(self, requests: Sequence[PushRequest]) -> list[BatchOutcome | E.FieldSyncError]:
        """Apply several push batches in order, in one transaction (group commit).

        Each batch succeeds or fails on its own: a failure is returned in its
        place (``BATCH_ID_REUSED``, say) and the other batches still commit.
        An error of the database itself fails them all (raised).
        """
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
