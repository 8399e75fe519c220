"""Re-stamping a replica's writes that a clock running ahead put beyond the server's reach.

Theory of operation
-------------------
A hub refuses changes stamped more than ``MAX_DRIFT_MS`` ahead of its clock
(``FS-2011``): otherwise a phone whose clock is a week fast would win every
last-writer-wins conflict for a week. A hybrid logical clock never goes
back, so once a device has written with such a clock, every later write is
stamped at least as far ahead, and every one is refused until real time
catches up -- days in which nothing the rep types would reach anyone.

No one but the device holds those HLCs: a hub never accepted them, and every
other HLC a replica holds came through a hub, which accepted it when it was
within reach, so it still is. The device may therefore renumber them. A
*relabeling* maps each HLC beyond ``limit`` to a fresh HLC, keeping their
order and placing them all above every HLC kept: every comparison between
two HLCs of the replica (which write wins, which write had seen which,
whether an update raced a delete) comes out as before, so the merged states
stay exactly what merging the relabeled changes produces, on the device and
on the hub alike. Only comparisons with HLCs the device has not seen yet
change, and those are the unfair wins the limit exists to prevent.

``relabeling`` builds the map; ``relabel_state`` and ``relabel_change`` apply
it to every place an HLC lives: cells (stamp and base), levels (write and
"seen" watermarks), counter shares (per-site stamps), set add-tags
(``hlc@site``) and existence changes (their "seen" watermark). Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from fieldsync.sync.change import EXISTS, Change
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.merge import RowState
from fieldsync.sync.rules import Cell, rule_for
from fieldsync.sync.schema import Table

Relabeling = Mapping[int, int]


def relabeling(beyond: Iterable[int], above: int, *, site: str = "relabel") -> dict[int, int]:
    """An order-keeping map of the HLCs in ``beyond`` onto fresh HLCs, all greater than ``above``."""
    clock = HlcClock(site, now_ms=lambda: 0, last=above)
    return {old: clock.tick() for old in sorted(set(beyond))}


def state_hlcs(table: Table, state: RowState) -> set[int]:
    """Every HLC a row state holds (cells, bases, levels, counter shares, set tags)."""
    out = set(state.levels.values())
    for name, cell in state.cells.items():
        out.add(cell.hlc)
        out.add(cell.base)
        rule = _rule_name(table, name)
        if rule == "counter" and cell.meta:
            out.update(int(share[0]) for share in cell.meta.values())
        elif rule == "add_wins_set" and cell.meta:
            out.update(_tag_hlc(tag) for _, tag in (*cell.meta["a"], *cell.meta["r"]))
    out.discard(0)
    return out


def change_hlcs(change: Change) -> set[int]:
    """Every HLC a change holds (stamp, base, an existence change's seen watermark, set tags removed)."""
    out = {change.hlc, change.base}
    if change.field == EXISTS:
        out.add(int(change.value))
    elif isinstance(change.value, dict) and "remove" in change.value:
        out.update(_tag_hlc(tag) for _, tag in change.value["remove"])
    out.discard(0)
    return out


def relabel_state(table: Table, state: RowState, mapping: Relabeling) -> RowState:
    """``state`` with every HLC in ``mapping`` replaced."""
    m = _mapper(mapping)
    cells: dict[str, Cell] = {}
    for name, cell in state.cells.items():
        rule = _rule_name(table, name)
        meta = cell.meta
        if rule == "counter" and meta:
            meta = {site: [str(m(int(h))), total] for site, (h, total) in meta.items()}
        elif rule == "add_wins_set" and meta:
            meta = {"a": sorted([e, _retag(t, m)] for e, t in meta["a"]), "r": sorted([e, _retag(t, m)] for e, t in meta["r"])}
        cells[name] = Cell(cell.value, m(cell.hlc), cell.site, m(cell.base), cell.cl, meta)
    levels = {level: m(mark) for level, mark in state.levels.items()}
    return RowState(state.table, state.row_id, state.cl, levels, cells)


def relabel_change(change: Change, mapping: Relabeling) -> Change:
    """``change`` with every HLC in ``mapping`` replaced."""
    m = _mapper(mapping)
    value: Any = change.value
    if change.field == EXISTS:
        value = str(m(int(value)))
    elif isinstance(value, dict) and "remove" in value:
        value = {"add": value["add"], "remove": sorted([e, _retag(t, m)] for e, t in value["remove"])}
    return Change(change.table, change.row_id, change.field, value, m(change.hlc), change.site, change.cl, m(change.base))


def _mapper(mapping: Relabeling) -> Any:
    return lambda hlc: mapping.get(hlc, hlc)


def _rule_name(table: Table, name: str) -> str | None:
    fld = table.by_name.get(name)
    return None if fld is None else rule_for(fld).name


def _tag_hlc(tag: str) -> int:
    return int(tag.partition("@")[0])


def _retag(tag: str, m: Any) -> str:
    stamp, _, site = tag.partition("@")
    return f"{m(int(stamp))}@{site}"


__all__ = ["Relabeling", "change_hlcs", "relabel_change", "relabel_state", "relabeling", "state_hlcs"]
