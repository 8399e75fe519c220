"""Values the SDK hands to applications: records, change events, errors, status.

All are immutable. A ``Record`` holds decoded field values (JSON fields and
sets as Python lists/dicts, booleans as ``bool``); fields never written are
``None``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fieldsync.sync.rules import Conflict

Origin = Literal["local", "remote"]


@dataclass(frozen=True, slots=True)
class Record:
    """One row of a replica table: ``record.id``, ``record["name"]``, ``record.values``."""

    table: str
    id: str
    values: Mapping[str, Any]

    def __getitem__(self, name: str) -> Any:
        if name == "id":
            return self.id
        return self.values[name]

    def __contains__(self, name: object) -> bool:
        return name == "id" or name in self.values

    def get(self, name: str, default: Any = None) -> Any:
        """The value of ``name`` (``default`` if the table has no such field)."""
        return self[name] if name in self else default

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of the values plus ``id``."""
        return {"id": self.id, **self.values}


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A row changed in the replica: by this app (``local``) or by a pull (``remote``).

    ``fields`` names the fields whose value may have changed; ``deleted`` is
    True when the row no longer exists (deleted, evicted or purged).
    """

    table: str
    id: str
    origin: Origin
    fields: frozenset[str] = frozenset()
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class RecordError:
    """A change of this device the server rejected (it was never applied there)."""

    table: str
    record_id: str
    field: str | None
    code: str
    name: str
    message: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """A snapshot of the sync client's state.

    ``pending``: local changes not yet acknowledged by the server.
    ``last_error``: the code (``FS-...``) or a short reason of the last
    connection-level failure, ``None`` once a sync succeeds. ``errors``: the
    latest rejected-change code per record id.
    """

    online: bool = False
    pending: int = 0
    last_synced_at: datetime | None = None
    last_error: str | None = None
    errors: Mapping[str, str] = field(default_factory=dict)
    transport: str | None = None


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """What one ``sync_once`` did."""

    pushed: int
    rejected: int
    pulled: int
    cursor: str | None


__all__ = ["ChangeEvent", "Conflict", "Origin", "Record", "RecordError", "SyncStatus", "SyncSummary"]
