"""Folding a pulled page set (snapshot rows and changes) into replica row states.

Pure apart from the ``load`` function it is given: the replica opens a
transaction, lets a ``PageApplier`` merge everything, writes the rows it
reports dirty together with the new cursor, and commits. Rows and fields this
app does not know (a newer server) are skipped, never fatal: merging them is
the job of a newer app version, which will receive them in a later snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from fieldsync.sdk import tables as T
from fieldsync.sdk.records import ChangeEvent
from fieldsync.sync import errors as E
from fieldsync.sync.change import EXISTS, Change, change_from_wire
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.merge import (
    MergeResult,
    RowState,
    causal_length,
    merge_row,
    merge_states,
    state_from_json,
)
from fieldsync.sync.rules import Conflict
from fieldsync.sync.schema import Schema, Table

log = logging.getLogger("fieldsync.sdk")

Key = tuple[str, str]


class PageApplier:
    """Merges one page set; collects dirty rows, change events and this site's lost writes."""

    def __init__(
        self,
        schema: Schema,
        site: str,
        clock: HlcClock,
        load: Callable[[Table, Sequence[str]], Mapping[str, RowState]],
    ) -> None:
        self._schema = schema
        self._site = site
        self._clock = clock
        self._load = load
        self._states: dict[Key, RowState | None] = {}
        self._fresh: dict[Key, tuple[Mapping[str, Any], str | None, int]] = {}
        self._fields: dict[Key, set[str]] = {}
        self.conflicts: list[Conflict] = []
        self.skipped = 0

    def _state(self, table: Table, row_id: str) -> RowState | None:
        key = (table.name, row_id)
        fresh = self._fresh.pop(key, None)
        if fresh is not None:  # stored as received earlier in this page set; now it must merge
            self._states[key] = _as_state(fresh[0], fresh[2])
        elif key not in self._states:
            self._prefetch(table, [row_id])
        return self._states[key]

    def _prefetch(self, table: Table, row_ids: Sequence[str]) -> None:
        """Load the local states of many rows with few queries."""
        wanted = [
            r for r in dict.fromkeys(row_ids) if (table.name, r) not in self._states and (table.name, r) not in self._fresh
        ]
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            found = self._load(table, chunk)
            for row_id in chunk:
                self._states[(table.name, row_id)] = found.get(row_id)

    def _record(self, table: Table, result: MergeResult) -> None:
        self.conflicts.extend(c for c in result.conflicts if c.loser_site == self._site)
        if not result.changed:
            return
        key = (table.name, result.state.row_id)
        self._states[key] = result.state
        self._fields.setdefault(key, set()).update(c.field for c in result.applied if c.field != EXISTS)

    def merge_rows(self, rows: Sequence[Mapping[str, Any]], raw_rows: Sequence[str] = ()) -> None:
        """Join snapshot row states into the local ones.

        A row this replica does not hold yet needs no merge: joining a state
        with nothing gives that state, so it is stored as received (its raw
        text, when given, becomes ``_state``). Others are merged cell by cell.
        """
        top = 0
        parsed: list[tuple[Table, Mapping[str, Any], str | None]] = []
        for index, obj in enumerate(rows):
            table = self._schema.by_name.get(str(obj.get("t")))
            if table is None:
                self.skipped += 1
                continue
            try:
                top = max(top, _max_hlc(obj))
                row_id = obj["r"]
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                raise E.ProtocolError(E.MALFORMED_MESSAGE, "malformed row state in a page") from exc
            if not isinstance(row_id, str):
                raise E.ProtocolError(E.MALFORMED_MESSAGE, "malformed row id in a page")
            parsed.append((table, obj, raw_rows[index] if index < len(raw_rows) else None))
        by_table: dict[str, list[str]] = {}
        for table, obj, _ in parsed:
            by_table.setdefault(table.name, []).append(obj["r"])
        for name, row_ids in by_table.items():
            self._prefetch(self._schema.table(name), row_ids)
        for table, obj, raw in parsed:
            key = (table.name, obj["r"])
            try:
                local = self._state(table, obj["r"])
                if local is None and obj["lv"] and all(name in table.by_name for name in obj["c"]):
                    levels = {int(k): int(v) for k, v in obj["lv"].items()}
                    cl = causal_length(levels, table.delete_policy)
                    self._fresh[key] = (obj, raw if cl == obj["cl"] else None, cl)
                    self._states.pop(key, None)
                    self._fields.setdefault(key, set()).update(obj["c"])
                    continue
                remote = state_from_json(obj)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                raise E.ProtocolError(E.MALFORMED_MESSAGE, "malformed row state in a page") from exc
            known = {k: v for k, v in remote.cells.items() if k in table.by_name}
            remote = RowState(table.name, remote.row_id, remote.cl, remote.levels, known)
            self._record(table, merge_states(table, local, remote))
        if top:
            self._clock.observe(top)

    def merge_changes(self, changes: Sequence[Mapping[str, Any]]) -> None:
        """Merge catch-up or live changes, grouped by row (merging is order-insensitive)."""
        grouped: dict[Key, list[Change]] = {}
        top = 0
        for obj in changes:
            try:
                ch = change_from_wire(obj, self._schema)
            except E.ValidationError as exc:
                log.warning("skipping a pulled change this app cannot merge: %s", exc.message)
                self.skipped += 1
                continue
            grouped.setdefault((ch.table, ch.row_id), []).append(ch)
            top = max(top, ch.hlc)
        by_table: dict[str, list[str]] = {}
        for table_name, row_id in grouped:
            by_table.setdefault(table_name, []).append(row_id)
        for table_name, row_ids in by_table.items():
            self._prefetch(self._schema.table(table_name), row_ids)
        for (table_name, row_id), items in grouped.items():
            table = self._schema.table(table_name)
            self._record(table, merge_row(table, self._state(table, row_id), items))
        if top:
            self._clock.observe(top)

    def rows_to_store(self) -> Iterator[tuple[str, list[Any]]]:
        """``(table, upsert parameters)`` of every row whose state changed."""
        for key in self._fields:
            table = self._schema.table(key[0])
            fresh = self._fresh.get(key)
            if fresh is None:
                state = self._states[key]
                assert state is not None
                yield table.name, T.row_params(table, state)
                continue
            obj, raw, cl = fresh
            if raw is None:
                yield table.name, T.row_params(table, _as_state(obj, cl))
                continue
            cells = obj["c"]
            params: list[Any] = [key[1], cl, raw]
            # Only the fields present need encoding; most of a wide table is usually unset.
            params.extend(None if (cell := cells.get(fld.name)) is None else T.encode(fld, cell[0]) for fld in table.fields)
            yield table.name, params

    def events(self) -> list[ChangeEvent]:
        """One remote change event per changed row."""
        out = []
        for key, fields in self._fields.items():
            fresh = self._fresh.get(key)
            state = self._states.get(key)
            deleted = fresh[2] % 2 == 0 if fresh is not None else state is None or not state.exists
            out.append(ChangeEvent(key[0], key[1], "remote", frozenset(fields), deleted))
        return out


def _max_hlc(obj: Mapping[str, Any]) -> int:
    """The highest HLC in a wire row state (cells and odd levels): the clock must pass it."""
    top = max((int(cell[1]) for cell in obj["c"].values()), default=0)
    return max(top, max((int(h) for lv, h in obj["lv"].items() if int(lv) % 2), default=0))


def _as_state(obj: Mapping[str, Any], cl: int) -> RowState:
    state = state_from_json(obj)
    return RowState(state.table, state.row_id, cl, state.levels, state.cells)


__all__ = ["PageApplier"]
