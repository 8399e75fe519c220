"""Turning a local write into changes: what a replica emits for insert/update/delete.

Pure: the current row state and a clock in, changes out. The caller merges
the changes into its own state (``merge_row``) and queues them for upload.
Field values are plain values for every rule except three, where the
caller states an intent the rule can merge:

* ``counter``: ``Increment(delta)`` (a plain number sets the site's share so
  the field shows that number);
* ``add_wins_set``: ``SetOps(add=..., remove=...)`` or a plain list (the new
  full set: additions and removals are derived from the current one);
* ``text``: the new full text; a minimal Yjs splice is derived from the
  current text, so concurrent edits elsewhere in the note survive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fieldsync.sync import errors as E
from fieldsync.sync.change import EXISTS, Change
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.merge import RowState
from fieldsync.sync.rules import live_tags, rule_for, text_edit
from fieldsync.sync.schema import Table, coerce


@dataclass(frozen=True, slots=True)
class Increment:
    """Add ``delta`` to a counter field."""

    delta: int | float


@dataclass(frozen=True, slots=True)
class SetOps:
    """Add and remove elements of an add-wins set field."""

    add: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()


def update_changes(
    table: Table,
    state: RowState | None,
    row_id: str,
    values: Mapping[str, Any],
    *,
    clock: HlcClock,
    allow_server_only: bool = False,
) -> list[Change]:
    """Changes for writing ``values`` into row ``row_id`` (inserting it if new).

    Raises ``ValidationError`` for unknown fields, wrong types, or writing a
    deleted row (restore it first).
    """
    if state is not None and state.cl and not state.exists:
        raise E.ValidationError(E.ROW_DELETED, f"{table.name} {row_id} is deleted; restore it before editing")
    cl = state.cl if state is not None and state.cl else 1
    cells = state.cells if state is not None else {}
    out: list[Change] = []
    site = clock.site
    for name, raw in values.items():
        fld = table.field(name)
        if fld.server_only and not allow_server_only:
            raise E.ValidationError(E.READ_ONLY_FIELD, f"{table.name}.{name} is written by the server only")
        rule = rule_for(fld)
        cell = cells.get(name)
        if rule.name == "counter":
            mine = cell.meta[site][1] if cell is not None and site in cell.meta else 0
            current = cell.value if cell is not None else 0
            delta = raw.delta if isinstance(raw, Increment) else coerce(fld, raw) - current
            if not delta:
                continue
            value = rule.validate(fld, mine + delta)
        elif rule.name == "add_wins_set":
            value = _set_value(cell, raw)
            if not value["add"] and not value["remove"]:
                continue  # nothing to add and nothing live to remove
        elif rule.name == "text":
            text = coerce(fld, raw) or ""
            if cell is not None and cell.value == text:
                continue
            value = text_edit(cell, site, text)
        else:
            value = rule.validate(fld, raw)
            if cell is not None and cell.value == value:
                continue
        base = cell.hlc if cell is not None else 0
        stamp = _stamp_after(clock, max(base, state.max_hlc if state is not None else 0))
        out.append(Change(table.name, row_id, name, value, stamp, site, cl, base))
    if not out and (state is None or not state.cl):
        stamp = clock.tick()
        out.append(Change(table.name, row_id, EXISTS, "0", stamp, site, 1, 0))
    return out


def _stamp_after(clock: HlcClock, floor: int) -> int:
    """A fresh HLC greater than ``floor``: a write is causally after what it overwrites."""
    stamp = clock.tick()
    return stamp if stamp > floor else clock.observe(floor)


def _set_value(cell: Any, raw: Any) -> dict[str, list[Any]]:
    current = set(cell.value) if cell is not None else set()
    if isinstance(raw, SetOps):
        adds, removes = set(raw.add), set(raw.remove)
    elif isinstance(raw, (list, tuple, set, frozenset)) and all(isinstance(x, str) for x in raw):
        adds, removes = set(raw) - current, current - set(raw)
    else:
        raise E.ValidationError(E.WRONG_TYPE, "a set field takes a list of strings or SetOps")
    pairs = [pair for element in sorted(removes) for pair in live_tags(cell, element)]
    return {"add": sorted(adds), "remove": pairs}


def delete_changes(table: Table, state: RowState, *, clock: HlcClock) -> list[Change]:
    """The change deleting an existing row (its causal length becomes even)."""
    if not state.exists:
        return []
    stamp = _stamp_after(clock, state.max_hlc)
    return [Change(table.name, state.row_id, EXISTS, str(state.max_hlc), stamp, clock.site, state.cl + 1, 0)]


def restore_changes(table: Table, state: RowState, *, clock: HlcClock) -> list[Change]:
    """The change restoring a deleted row (its causal length becomes odd again)."""
    if state.exists:
        return []
    stamp = _stamp_after(clock, state.max_hlc)
    return [Change(table.name, state.row_id, EXISTS, "0", stamp, clock.site, state.cl + 1, 0)]


__all__ = ["Increment", "SetOps", "delete_changes", "restore_changes", "update_changes"]
