"""What one write transaction changes, kept in memory and written at the end.

Theory of operation
-------------------
A write transaction (one push, a group of pushes, or a server write) reads
the states of the rows it touches with one ``IN`` query per table, merges in
memory with the pure engine, and ends with a handful of bulk statements: one
upsert per table for the rows' final states, one insert for the change log,
one for the batches, one for the conflicts. A row touched by several batches
of a group is read once and written once.

Each ``merge`` call works on copies and is folded into the write set only
when it has finished, so a batch that fails half-way (a bug, a bad state)
leaves the write set exactly as before it: the other batches of the group
still commit, and nothing needs a savepoint.

Sequence numbers are assigned here, consecutively after the head read under
the store's write lock, so sequence order is commit order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fieldsync.server.store.base import LogEntry, Principal
from fieldsync.server.store.bulk import insert_rows, json_columns, json_text, select_in
from fieldsync.sync.change import Change
from fieldsync.sync.merge import RowState, dumps_state, loads_state, merge_row
from fieldsync.sync.rules import SERVER_SITE, Conflict

if TYPE_CHECKING:
    from fieldsync.server.store.sql import SqlChangeStore

Key = tuple[str, str]
LOG_COLUMNS = (
    "seq", "tbl", "row_id", "field", "site", "hlc", "owner_id", "department_id", "body", "committed_ms", "moved_from", "n_changes",
    "stamp_chars",
)
BATCH_COLUMNS = ("site", "batch_id", "digest", "seq", "ack", "user_id", "committed_ms")


@dataclass(slots=True)
class Merged:
    """What one ``merge`` call committed to the write set."""

    entries: list[LogEntry]
    conflicts: list[Conflict]
    seq: int


class RowColumns:
    """How a synced table's rows become the parameters of their upsert.

    A row's columns mirror its state's cells, and a cell, once written, is
    never removed. So a field that no row of an upsert has a cell for is NULL
    in each of those rows already and stays so: the upsert leaves its column
    out (``used``). Forms fill a few of a table's fields, and every column
    left out is a parameter less to bind and a column less to update
    (``docs/performance.md``).
    """

    __slots__ = ("fields", "json_fields")

    HEAD = ("id", "_cl", "_state", "_seq")

    def __init__(self, table: Any, field_names: Sequence[str]) -> None:
        self.fields = tuple(field_names)
        flags = json_columns(table, self.fields)
        self.json_fields = frozenset(name for name, is_json in zip(self.fields, flags) if is_json)

    def used(self, states: Iterable[RowState]) -> tuple[str, ...]:
        """The fields some of ``states`` have a cell for, in declaration order (a few statement texts per table)."""
        present: set[str] = set()
        for state in states:
            present.update(state.cells)
        return tuple(name for name in self.fields if name in present)

    def params(self, state: RowState, seq: int, fields: Sequence[str]) -> tuple[Any, ...]:
        """The upsert parameters of ``state`` for the columns ``HEAD + fields``."""
        cells = state.cells
        values: list[Any] = [state.row_id, state.cl, dumps_state(state), seq]
        json_fields = self.json_fields
        for name in fields:
            cell = cells.get(name)
            if cell is None:
                values.append(None)
            elif name in json_fields:
                values.append(json_text(cell.value))
            else:
                values.append(cell.value)
        return tuple(values)


class WriteSet:
    """The effects of one write transaction, applied with bulk statements by ``flush``."""

    def __init__(self, store: SqlChangeStore, conn: Any, head: int) -> None:
        self.store = store
        self.conn = conn
        self.seq = head
        self.committed_ms = store.now_ms()
        self.states: dict[Key, RowState | None] = {}
        self._dirty: dict[Key, int] = {}  # row -> sequence of its last change
        self._log: list[tuple[Any, ...]] = []
        self._conflicts: list[tuple[Conflict, str | None, str | None, int]] = []
        self._batches: list[tuple[Any, ...]] = []

    # --- reads --------------------------------------------------------------------

    def load(self, keys: Iterable[Key]) -> None:
        """Read the stored states of rows not read yet (one query per table and 500 rows)."""
        wanted: dict[str, list[str]] = {}
        for key in keys:
            if key not in self.states:
                self.states[key] = None
                wanted.setdefault(key[0], []).append(key[1])
        for table, ids in wanted.items():
            for row_id, text in select_in(self.conn, table, ("id", "_state"), "id", ids):
                self.states[(table, row_id)] = loads_state(text)

    def owners(self, keys: Iterable[Key]) -> dict[Key, tuple[str | None, str | None]]:
        """(owner, department) of those rows that exist in the store (or earlier in this transaction)."""
        self.load(keys)
        out: dict[Key, tuple[str | None, str | None]] = {}
        for key in keys:
            state = self.states[key]
            if state is not None:
                out[key] = (_value(state, "owner_id"), _value(state, "department_id"))
        return out

    # --- merging ------------------------------------------------------------------

    def merge(self, changes: Sequence[Change], principal: Principal | None) -> Merged:
        """Merge ``changes`` (a pusher's, or the server's when ``principal`` is None) into the write set."""
        by_row: dict[Key, list[Change]] = {}
        for ch in changes:
            key = (ch.table, ch.row_id)
            group = by_row.get(key)
            if group is None:
                by_row[key] = [ch]
            else:
                group.append(ch)
        self.load(by_row)
        schema = self.store.schema
        seq = self.seq
        committed = self.committed_ms
        entries: list[LogEntry] = []
        log: list[tuple[Any, ...]] = []
        conflicts: list[tuple[Conflict, str | None, str | None]] = []
        merged: list[tuple[Key, RowState, int]] = []
        for key, row_changes in by_row.items():
            table_name, row_id = key
            state = self.states[key]
            before = None if state is None else (_value(state, "owner_id"), _value(state, "department_id"))
            if principal is not None and state is None:
                stamp = stamp_owner(row_changes, principal)
                for ch in stamp:
                    ch.wire_text()  # now, so that its cell carries its text (``Change.cell_text``); the log needs it anyway
                row_changes = row_changes + stamp
            result = merge_row(schema.table(table_name), state, row_changes)
            new_state = result.state
            owner = _value(new_state, "owner_id")
            dept = _value(new_state, "department_id")
            for conflict in result.conflicts:
                conflicts.append((conflict, owner, dept))
            if not result.applied:
                continue
            moved = before if before is not None and before != (owner, dept) else None
            moved_text = None if moved is None else json_text(list(moved))
            for site, group, stamp in _records(result.applied, principal is not None):
                seq += 1
                texts = [ch.wire_text() for ch in group]
                body = ",".join(texts)
                stamp_chars = len(",".join(texts[:stamp]))
                top = max(ch.hlc for ch in group)
                fname = group[0].field if len(group) == 1 else "*"
                entries.append(LogEntry(seq, site, table_name, row_id, owner, dept, body, moved, False, len(group), stamp_chars))
                log.append((seq, table_name, row_id, fname, site, top, owner, dept, body, committed, moved_text, len(group), stamp_chars))
            merged.append((key, new_state, seq))
        # Everything computed: only now fold it in, so a failure above leaves the write set untouched.
        for key, new_state, row_seq in merged:
            self.states[key] = new_state
            self._dirty[key] = row_seq
        self._log.extend(log)
        self._conflicts.extend((c, owner, dept, seq) for c, owner, dept in conflicts)
        self.seq = seq
        return Merged(entries, [c for c, _, _ in conflicts], seq)

    def add_batch(self, site: str, batch_id: str, digest: str, ack_text: str, user_id: str | None) -> None:
        """Remember an applied push batch (exactly-once: a resend finds it)."""
        self._batches.append((site, batch_id, digest, self.seq, ack_text, user_id, self.committed_ms))

    # --- the bulk statements ----------------------------------------------------------

    def flush(self) -> None:
        """Write everything with one statement per kind (and per table for row states)."""
        store, conn = self.store, self.conn
        by_table: dict[str, list[tuple[RowState, int]]] = {}
        for key, row_seq in self._dirty.items():
            state = self.states[key]
            assert state is not None
            by_table.setdefault(key[0], []).append((state, row_seq))
        for table, dirty in by_table.items():
            shape = store.row_columns[table]
            fields = shape.used(state for state, _ in dirty)
            rows = [shape.params(state, row_seq, fields) for state, row_seq in dirty]
            insert_rows(conn, store.rows[table], RowColumns.HEAD + fields, rows, upsert_key="id")
        insert_rows(conn, store.t_changes, LOG_COLUMNS, self._log)
        insert_rows(conn, store.t_batches, BATCH_COLUMNS, self._batches)
        if self._conflicts:
            store.record_conflicts(conn, self._conflicts, self.committed_ms)


def stamp_owner(row_changes: Sequence[Change], principal: Principal) -> list[Change]:
    """Owner and department for a row new to the server, unless the device set them.

    The stamp carries the row's earliest HLC in the batch (site ``server``,
    so ``server_wins`` still ranks it above device writes): a delete that
    saw the insert has then seen the stamp too, so on update-wins tables
    the stamp can never look like an update racing that delete. Built as
    plain changes, it is valid even when the batch also deletes the row.
    """
    first = row_changes[0]
    owner, dept = principal.user_id, principal.department_id
    for ch in row_changes:  # one pass: the earliest change, and whether the device set owner or department itself
        if ch.hlc < first.hlc:
            first = ch
        if ch.field == "owner_id":
            owner = None
        elif ch.field == "department_id":
            dept = None
    level = first.cl if first.cl % 2 else first.cl - 1
    out = []
    if owner is not None:
        out.append(Change(first.table, first.row_id, "owner_id", owner, first.hlc, SERVER_SITE, level, 0))
    if dept is not None:
        out.append(Change(first.table, first.row_id, "department_id", dept, first.hlc, SERVER_SITE, level, 0))
    return out


def _records(applied: Sequence[Change], pushed: bool) -> list[tuple[str, list[Change], int]]:
    """The log records of one row's applied changes: (site, changes, how many leading changes are the stamp).

    One record per writing site, except that in a push (``pushed``) the
    server's stamp of a new row and the pushing device's changes make one
    record of the device's, the stamp first, so a new row costs one record.
    """
    groups: dict[str, list[Change]] = {}
    for ch in applied:
        group = groups.get(ch.site)
        if group is None:
            groups[ch.site] = [ch]
        else:
            group.append(ch)
    if pushed and len(groups) == 2 and SERVER_SITE in groups:
        stamp = groups.pop(SERVER_SITE)
        [(site, own)] = groups.items()
        return [(site, stamp + own, len(stamp))]
    return [(site, group, 0) for site, group in groups.items()]


def _value(state: RowState, name: str) -> Any:
    cell = state.cells.get(name)
    return None if cell is None else cell.value


__all__ = ["BATCH_COLUMNS", "LOG_COLUMNS", "Merged", "RowColumns", "WriteSet", "stamp_owner"]
