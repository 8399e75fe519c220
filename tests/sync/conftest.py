"""Helpers for the sync engine tests: a test schema, in-memory replicas and a ReplicaPair.

A ``Replica`` is the smallest honest driver of the pure engine: a site id, an
HLC on a fake clock, one ``RowState`` per row, and the log of every change it
knows (its own and received ones). Local writes go through ``writes.py`` and
are merged into the replica's own state exactly as the SDK does; received
changes are observed by the clock and merged with ``merge_row``.

``ReplicaPair`` moves changes between two replicas like h11's
``ConnectionPair`` moves bytes between two connections. Test files reach these
through the session-scoped ``kit`` fixture (test folders have no
``__init__.py``, so they cannot import this module).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

from fieldsync.sync.change import Change
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.merge import RowState, dumps_state, merge_row, merge_states
from fieldsync.sync.rules import Conflict, register_rule
from fieldsync.sync.schema import DeletePolicy, Field, FieldType, Schema, Table
from fieldsync.sync.writes import delete_changes, restore_changes, update_changes

#: A custom rule used by the test tables: the longest text wins (ties: lww).
CUSTOM_RULE = "test_longest"
register_rule(CUSTOM_RULE, len)


def _fields() -> tuple[Field, ...]:
    T, I, J = FieldType.TEXT, FieldType.INTEGER, FieldType.JSON
    return (
        Field("name", T),  # lww
        Field("owner", T, rule="server_wins"),
        Field("evidence", T, rule="first_write_wins"),
        Field("high", I, rule="max"),
        Field("low", I, rule="min"),
        Field("visits", I, rule="counter"),
        Field("tags", J, rule="add_wins_set"),
        Field("notes", T, rule="text", max_bytes=64 * 1024),
        Field("motto", T, rule=CUSTOM_RULE),
        Field("verdict", T, rule="server_wins", server_only=True),
    )


#: Same fields, two delete policies.
KEEP = Table("keep", _fields(), DeletePolicy.UPDATE_WINS)
GONE = Table("gone", _fields(), DeletePolicy.DELETE_WINS)
SCHEMA = Schema(1, (KEEP, GONE))
ROW_IDS = (
    "0192f4c8-0000-7000-8000-000000000001",
    "0192f4c8-0000-7000-8000-000000000002",
    "0192f4c8-0000-7000-8000-000000000003",
)
T0 = 1_764_000_000_000  # 2025-11-24, a plausible "now" in ms


class FakeTime:
    """A settable millisecond clock shared by replicas (each adds its own skew)."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def advance(self, ms: int) -> None:
        self.now += ms

    def for_site(self, skew_ms: int = 0) -> Any:
        return lambda: self.now + skew_ms


def change_key(ch: Change) -> tuple[Any, ...]:
    """What identifies one write (a site never stamps two writes of a field with one HLC)."""
    return (ch.table, ch.row_id, ch.field, ch.hlc, ch.site, ch.cl)


@dataclass(repr=False)
class Replica:
    """One site's copy of the data, driven through the pure engine."""

    site: str
    clock: HlcClock
    schema: Schema = SCHEMA
    rows: dict[tuple[str, str], RowState] = field(default_factory=dict)
    log: list[Change] = field(default_factory=list)
    known: set[tuple[Any, ...]] = field(default_factory=set, repr=False)
    conflicts: list[Conflict] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"Replica({self.site!r})"

    @classmethod
    def new(cls, site: str, *, time: FakeTime | None = None, skew_ms: int = 0) -> Replica:
        time = time or FakeTime()
        return cls(site, HlcClock(site, now_ms=time.for_site(skew_ms)))

    # --- reading -----------------------------------------------------------
    def row(self, table: str, row_id: str) -> RowState | None:
        return self.rows.get((table, row_id))

    def values(self, table: str, row_id: str) -> dict[str, Any]:
        state = self.row(table, row_id)
        return {} if state is None else state.values()

    def exists(self, table: str, row_id: str) -> bool:
        state = self.row(table, row_id)
        return state is not None and state.exists

    def dump(self) -> dict[tuple[str, str], str]:
        """Every row's stored text: equal dumps mean identical replicas."""
        return {key: dumps_state(state) for key, state in sorted(self.rows.items())}

    def materialised(self) -> dict[tuple[str, str], tuple[bool, dict[str, Any]]]:
        """What an app would see: existence and plain values per row."""
        return {key: (s.exists, s.values()) for key, s in sorted(self.rows.items())}

    # --- local writes ------------------------------------------------------
    def write(self, table: str, row_id: str, values: dict[str, Any], **kw: Any) -> list[Change]:
        tbl = self.schema.table(table)
        return self._local(tbl, update_changes(tbl, self.row(table, row_id), row_id, values, clock=self.clock, **kw))

    def delete(self, table: str, row_id: str) -> list[Change]:
        tbl = self.schema.table(table)
        state = self.row(table, row_id)
        assert state is not None
        return self._local(tbl, delete_changes(tbl, state, clock=self.clock))

    def restore(self, table: str, row_id: str) -> list[Change]:
        tbl = self.schema.table(table)
        state = self.row(table, row_id)
        assert state is not None
        return self._local(tbl, restore_changes(tbl, state, clock=self.clock))

    def _local(self, table: Table, changes: list[Change]) -> list[Change]:
        self._merge(table, changes)
        return changes

    # --- receiving ---------------------------------------------------------
    def receive(self, changes: Iterable[Change]) -> list[Change]:
        """Merge changes from elsewhere (any order, duplicates allowed); returns those that altered state."""
        changes = list(changes)
        for ch in changes:
            self.clock.observe(ch.hlc)
        applied: list[Change] = []
        by_table: dict[str, list[Change]] = {}
        for ch in changes:
            by_table.setdefault(ch.table, []).append(ch)
        for name, group in by_table.items():
            applied += self._merge(self.schema.table(name), group)
        return applied

    def receive_state(self, state: RowState) -> None:
        """Join a whole remote row state (a snapshot row)."""
        key = (state.table, state.row_id)
        result = merge_states(self.schema.table(state.table), self.rows.get(key), state)
        self.rows[key] = result.state
        self.conflicts += result.conflicts

    def _merge(self, table: Table, changes: list[Change]) -> list[Change]:
        applied: list[Change] = []
        for ch in changes:
            ident = change_key(ch)
            if ident not in self.known:
                self.known.add(ident)
                self.log.append(ch)
            key = (ch.table, ch.row_id)
            result = merge_row(table, self.rows.get(key), [ch])
            self.rows[key] = result.state
            applied += result.applied
            self.conflicts += result.conflicts
        return applied


@dataclass
class ReplicaPair:
    """Two replicas and the changes each has not yet sent the other (like h11's ConnectionPair)."""

    a: Replica
    b: Replica
    sent: dict[str, int] = field(default_factory=dict)

    @classmethod
    def new(cls, site_a: str = "site-a", site_b: str = "site-b", *, time: FakeTime | None = None) -> ReplicaPair:
        time = time or FakeTime()
        return cls(Replica.new(site_a, time=time), Replica.new(site_b, time=time))

    def send(self, src: Replica) -> list[Change]:
        """Deliver everything ``src`` knows and has not yet sent to the other; returns what altered it."""
        dst = self.b if src is self.a else self.a
        start = self.sent.get(src.site, 0)
        pending = [ch for ch in src.log[start:] if ch.site != dst.site]  # like the hub: never echo
        self.sent[src.site] = len(src.log)
        return dst.receive(pending)

    def sync(self) -> None:
        """Both directions until quiet."""
        while self.send(self.a) or self.send(self.b) or self._unsent():
            pass

    def _unsent(self) -> bool:
        return any(self.sent.get(r.site, 0) < len(r.log) for r in (self.a, self.b))

    def assert_converged(self) -> None:
        assert self.a.dump() == self.b.dump()


def merge_all(changes: Iterable[Change], schema: Schema = SCHEMA) -> dict[tuple[str, str], RowState]:
    """Merge changes one at a time into empty states; the reference result."""
    rows: dict[tuple[str, str], RowState] = {}
    for ch in changes:
        key = (ch.table, ch.row_id)
        rows[key] = merge_row(schema.table(ch.table), rows.get(key), [ch]).state
    return rows


def dump_rows(rows: dict[tuple[str, str], RowState]) -> dict[tuple[str, str], str]:
    return {key: dumps_state(state) for key, state in sorted(rows.items())}


class Kit(SimpleNamespace):
    def __repr__(self) -> str:
        return "kit"


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The helpers above, for test modules (and Hypothesis tests, which need a non-function scope)."""
    return Kit(
        SCHEMA=SCHEMA,
        KEEP=KEEP,
        GONE=GONE,
        ROW_IDS=ROW_IDS,
        T0=T0,
        CUSTOM_RULE=CUSTOM_RULE,
        FakeTime=FakeTime,
        Replica=Replica,
        ReplicaPair=ReplicaPair,
        merge_all=merge_all,
        change_key=change_key,
        dump_rows=dump_rows,
    )


@pytest.fixture
def pair() -> ReplicaPair:
    """Two fresh replicas on one fake clock."""
    return ReplicaPair.new()
