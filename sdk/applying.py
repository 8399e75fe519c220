"""Folding a pulled page set (snapshot rows and changes) into replica row states.

Pure apart from the ``load`` function it is given: the replica opens a
transaction, lets a ``PageApplier`` merge everything, writes the rows it
reports dirty together with the new cursor, and commits. Rows and fields this
app does not know (a newer server) are skipped, never fatal: merging them is
the job of a newer app version, which will receive them in a later snapshot.
"""

from __future__ import annotations

import json
import logging
import re
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
        # Rows new to this replica, stored as received: (parsed state or None, its text or None, causal length).
        self._fresh: dict[Key, tuple[Mapping[str, Any] | None, str | None, int]] = {}
        self._fields: dict[Key, frozenset[str]] = {}  # per changed row, the fields that may have changed
        self.conflicts: list[Conflict] = []
        self.snapshot_rows: list[Key] = []  # every snapshot row of a known table, merged or not
        self.skipped = 0

    def _state(self, table: Table, row_id: str) -> RowState | None:
        key = (table.name, row_id)
        fresh = self._fresh.pop(key, None)
        if fresh is not None:  # stored as received earlier in this page set; now it must merge
            obj, raw, cl = fresh
            self._states[key] = _as_state(obj if obj is not None else json.loads(raw or "null"), cl)
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
        changed = frozenset(c.field for c in result.applied if c.field != EXISTS)
        before = self._fields.get(key)
        self._fields[key] = changed if before is None else before | changed

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
            self.snapshot_rows.append((table.name, obj["r"]))
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
                    before = self._fields.get(key)
                    self._fields[key] = frozenset(obj["c"]) if before is None else before | frozenset(obj["c"])
                    continue
                remote = state_from_json(obj)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
                raise E.ProtocolError(E.MALFORMED_MESSAGE, "malformed row state in a page") from exc
            known = {k: v for k, v in remote.cells.items() if k in table.by_name}
            remote = RowState(table.name, remote.row_id, remote.cl, remote.levels, known)
            self._record(table, merge_states(table, local, remote))
        if top:
            self._clock.observe(top)

    def merge_texts(self, texts: Sequence[str]) -> None:
        """Join snapshot row states given as their texts (feature ``row-text``).

        The server writes every state with the same encoder, so a state's head
        -- table, row id, causal length, levels -- is read with one regular
        expression, and a row this replica does not hold is stored as its text,
        never parsed. The server sends a device only the fields of its schema
        version (docs/protocol.md), so no cell needs checking. Anything else
        (a row to merge, a head that does not match) takes ``merge_rows``.
        """
        heads: list[tuple[Table, str, int, int, str]] = []
        others: list[str] = []
        by_table: dict[str, list[str]] = {}
        top = 0
        for text in texts:
            m = _HEAD.match(text)
            if m is None:
                others.append(text)
                continue
            table = self._schema.by_name.get(m.group(1))
            if table is None:
                self.skipped += 1
                continue
            if m.group(4) is not None:  # the usual row: one level (created once, never deleted)
                level, mark = int(m.group(4)), int(m.group(5))
                derived = level
                if level % 2 and mark > top:
                    top = mark
            else:
                levels = {int(a): int(b) for a, b in _LEVEL.findall(m.group(6))}
                top = max(top, max((b for a, b in levels.items() if a % 2), default=0))
                derived = causal_length(levels, table.delete_policy) if levels else -1
            row_id = m.group(2)
            heads.append((table, row_id, int(m.group(3)), derived, text))
            ids = by_table.get(table.name)
            if ids is None:
                by_table[table.name] = [row_id]
            else:
                ids.append(row_id)
        for name, row_ids in by_table.items():
            self._prefetch(self._schema.table(name), row_ids)
            self.snapshot_rows.extend((name, r) for r in row_ids)
        fresh, states, fields = self._fresh, self._states, self._fields
        for table, row_id, cl, derived, text in heads:
            key = (table.name, row_id)
            if derived == cl and key not in fresh and states.get(key) is None:
                fresh[key] = (None, text, cl)
                states.pop(key, None)
                fields[key] = _field_names(table)  # new here: any field "may have changed"
                continue
            others.append(text)
        if others:
            try:
                self.merge_rows([json.loads(t) for t in others], others)
            except ValueError as exc:
                raise E.ProtocolError(E.MALFORMED_MESSAGE, "malformed row state in a page") from exc
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

    def rows_to_store(self) -> Iterator[tuple[str, tuple[str, int, str]]]:
        """``(table, upsert parameters)`` of every row whose state changed."""
        for key in self._fields:
            fresh = self._fresh.get(key)
            if fresh is None:
                state = self._states[key]
                assert state is not None
                yield key[0], T.row_params(state)
                continue
            obj, raw, cl = fresh
            if raw is not None:
                yield key[0], (key[1], cl, raw)
            else:
                assert obj is not None  # a fresh row without its text was parsed
                yield key[0], T.row_params(_as_state(obj, cl))

    def events(self) -> list[ChangeEvent]:
        """One remote change event per changed row."""
        out = []
        for key, fields in self._fields.items():
            fresh = self._fresh.get(key)
            state = self._states.get(key)
            deleted = fresh[2] % 2 == 0 if fresh is not None else state is None or not state.exists
            out.append(ChangeEvent(key[0], key[1], "remote", fields, deleted))
        return out


#: The head of a stored row state, as ``dumps_state`` writes it: table, row id, causal length, and its
#: levels -- the single level and its watermark (groups 4, 5), or all of them as text (group 6).
_HEAD = re.compile(
    r'\{"t":"([a-z][a-z0-9_]*)","r":"([^"\\]+)","cl":(\d+),"lv":\{(?:"(\d+)":"(\d+)"|((?:"\d+":"\d+",?)*))\},"c":\{'
)
_LEVEL = re.compile(r'"(\d+)":"(\d+)"')
_NAMES: dict[int, tuple[Table, frozenset[str]]] = {}


def _field_names(table: Table) -> frozenset[str]:
    """The table's field names, one shared frozenset per table."""
    entry = _NAMES.get(id(table))
    if entry is None or entry[0] is not table:
        entry = _NAMES[id(table)] = (table, frozenset(table.by_name))
    return entry[1]


def _max_hlc(obj: Mapping[str, Any]) -> int:
    """The highest HLC in a wire row state: the clock must pass it.

    That is the highest watermark of an odd level: merging raises the level a
    change was made at to at least its HLC, so no cell is stamped above it
    (``fieldsync.sync.merge``), and reading one level is cheaper than every cell.
    """
    return max((int(h) for lv, h in obj["lv"].items() if int(lv) % 2), default=0)


def _as_state(obj: Mapping[str, Any], cl: int) -> RowState:
    state = state_from_json(obj)
    return RowState(state.table, state.row_id, cl, state.levels, state.cells)


__all__ = ["PageApplier"]
