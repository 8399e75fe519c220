"""Repairing a replica whose clock ran ahead of the hub's reach (see ``fieldsync.sync.relabel``).

A phone whose clock was more than a week fast while it worked offline holds
writes a hub refuses (``FS-2011``), and, since an HLC never goes back, every
later write would be refused too until real time caught up. Once the session
knows the hub's time (``welcome``), ``repair_clock`` relabels, in the
replica's transaction, every HLC beyond the hub's limit: in the rows' states
and in the outbox, keeping their order and placing them just above every
HLC the replica keeps. The writes then go out normally and the hub accepts
them; nothing the rep typed is dropped or changes value.

A batch that holds a relabeled change gets a new id: its old id may be
recorded at the hub (an ack lost on the way) with other content. Changes of
such a batch that the hub did apply are applied again, which merging makes
harmless.

Writes from SDKs that dropped refused changes (before ``FS-2011`` existed)
survive only in the rows' states and in the replica's error records: a
relabeled cell of such a row whose change is not in the outbox is queued
again from the state (``explode``).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable

from fieldsync.sdk import outbox
from fieldsync.sdk import tables as T
from fieldsync.sync import errors as E
from fieldsync.sync.change import Change, change_from_wire
from fieldsync.sync.hlc import MAX_COUNTER, MAX_DRIFT_MS, HlcClock, pack
from fieldsync.sync.merge import RowState, loads_state
from fieldsync.sync.relabel import change_hlcs, relabel_change, relabel_state, relabeling, state_hlcs
from fieldsync.sync.rules import rule_for
from fieldsync.sync.schema import Schema

_LEVELS = re.compile(r'"lv":\{([^}]*)\}')
#: The replica's error records of changes a hub refused for a clock ahead (older servers: FS-2006 "... future").
_CLOCK_ERRORS = "code = 'FS-2011' OR (code = 'FS-2006' AND message LIKE '%future%')"
_MARK = re.compile(r'":"(\d+)"')


def hub_limit(clock: HlcClock, server_time_max: int = 0) -> int:
    """The highest HLC any hub may have accepted: a week past the latest hub time this replica has seen.

    The latest, not the current one: should a hub's clock step back, stamps it
    accepted under its later time must not be taken for stamps nobody holds.
    """
    return pack(max(clock.physical_ms(), server_time_max) + MAX_DRIFT_MS, MAX_COUNTER)


def repair_clock(conn: sqlite3.Connection, schema: Schema, clock: HlcClock, *, server_time_max: int = 0) -> int:
    """Relabel every HLC beyond the hubs' reach (inside the replica's transaction); returns how many."""
    limit = hub_limit(clock, server_time_max)
    if clock.last <= limit:
        return 0
    kept, beyond = 0, set()

    def sort_out(hlcs: Iterable[int]) -> None:  # each HLC: beyond the hubs' reach, or the highest one kept so far
        nonlocal kept
        for h in hlcs:
            if h > limit:
                beyond.add(h)
            elif h > kept:
                kept = h

    rows: dict[tuple[str, str], RowState] = {}
    for table in schema.tables:
        for row_id, text in conn.execute(f"SELECT id, _state FROM {T.store(table)}"):
            top = _row_top(text)
            if top <= limit:
                kept = max(kept, top)
                continue
            state = loads_state(text)
            rows[(table.name, row_id)] = state
            sort_out(state_hlcs(table, state))
    queued: list[tuple[int, str | None, Change]] = []
    for row, text, batch in conn.execute("SELECT id, change, batch FROM _fs_outbox ORDER BY id"):
        try:
            change = change_from_wire(json.loads(text), schema)
        except (ValueError, E.ValidationError):  # not one this app can read (a later schema's field): left as it is
            continue
        queued.append((row, batch, change))
        sort_out(change_hlcs(change))
    floor = max(kept, pack(clock.physical_ms(), 0))
    mapping = relabeling(beyond, floor, site=clock.site)
    if not mapping:
        clock.relabeled(floor)
        return 0
    stale_batches: set[str] = set()
    sent: set[tuple[str, str, str, int]] = set()
    for row, batch, change in queued:
        new = relabel_change(change, mapping)
        sent.add((new.table, new.row_id, new.field, new.hlc))
        if new != change:
            text = outbox.encode_change(new)
            conn.execute("UPDATE _fs_outbox SET change = ?, size = ? WHERE id = ?", (text, len(text.encode()), row))
            if batch is not None:
                stale_batches.add(batch)
    conn.executemany("UPDATE _fs_outbox SET batch = NULL WHERE batch = ?", [(b,) for b in stale_batches])
    dropped = {(t, r) for t, r in conn.execute(f"SELECT tbl, row_id FROM _fs_errors WHERE {_CLOCK_ERRORS}")}
    again: list[Change] = []
    for (table_name, row_id), state in rows.items():
        table = schema.table(table_name)
        fixed = relabel_state(table, state, mapping)
        conn.execute(T.upsert_sql(table), T.row_params(fixed))
        if (table_name, row_id) not in dropped:
            continue
        for name, cell in fixed.cells.items():
            if state.cells[name].hlc in mapping and (table_name, row_id, name, cell.hlc) not in sent:
                fld = table.by_name.get(name)
                if fld is not None:  # a write refused and dropped by an older SDK (its error says so): send it again
                    again.extend(rule_for(fld).explode(table_name, row_id, name, cell))
    outbox.enqueue(conn, [ch for ch in again if ch.site == clock.site])
    conn.execute(f"DELETE FROM _fs_errors WHERE {_CLOCK_ERRORS}")
    clock.relabeled(max(mapping.values()))
    return len(mapping)


def _row_top(text: str) -> int:
    """The highest HLC a stored state holds: the highest watermark of its levels.

    Merging raises the level a change was made at to at least its HLC, and a
    delete's watermark is an HLC it had seen, so no HLC of the row is above them.
    """
    m = _LEVELS.search(text)
    if m is None:  # not the stored form: read it whole
        state = loads_state(text)
        return max([*state.levels.values(), *(c.hlc for c in state.cells.values())], default=0)
    return max((int(mark) for mark in _MARK.findall(m.group(1))), default=0)


__all__ = ["hub_limit", "repair_clock"]
