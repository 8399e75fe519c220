"""Row states: JSON round trips, canonical stored text, and joining whole states (snapshot rows)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldsync.sync.change import EXISTS
from fieldsync.sync.merge import (
    RowState,
    dumps_state,
    loads_state,
    merge_row,
    merge_states,
    state_changes,
    state_from_json,
    state_to_json,
)
from fieldsync.sync.rules import Cell
from fieldsync.sync.writes import Increment, SetOps

ROW = "0192f4c8-0000-7000-8000-000000000001"
EVERY_FIELD = {
    "name": "华东电气",
    "owner": "o",
    "evidence": "e",
    "high": 3,
    "low": -3,
    "visits": Increment(2),
    "tags": SetOps(add=("vip", "east")),
    "notes": "hello 世界",
    "motto": "go",
}


def rich_pair(kit: Any, table: str = "keep") -> Any:
    """Two replicas that edited every field, concurrently, and deleted/restored the row."""
    pair = kit.ReplicaPair.new()
    pair.a.write(table, ROW, EVERY_FIELD)
    pair.sync()
    pair.a.write(table, ROW, {"visits": Increment(3), "tags": SetOps(remove=("vip",)), "notes": "hello big 世界"})
    pair.b.write(table, ROW, {"visits": Increment(-1), "tags": ["vip", "new"], "name": "HD", "notes": "hello 世界!"})
    pair.b.delete(table, ROW)
    pair.b.restore(table, ROW)
    return pair


def test_state_json_round_trip(kit: Any) -> None:
    """``loads_state(dumps_state(s)) == s`` for a row with every rule, levels and a deletion history."""
    pair = rich_pair(kit)
    pair.sync()
    for r in (pair.a, pair.b):
        state = r.row("keep", ROW)
        assert loads_state(dumps_state(state)) == state
        assert state_from_json(json.loads(json.dumps(state_to_json(state)))) == state


def test_state_json_shape_matches_the_protocol(kit: Any) -> None:
    """The JSON form is {t, r, cl, lv, c} with HLCs as strings and a sixth cell element only for merge state."""
    r = kit.Replica.new("dev-a")
    r.write("keep", ROW, {"name": "Acme", "visits": 3})
    obj = state_to_json(r.row("keep", ROW))
    assert set(obj) == {"t", "r", "cl", "lv", "c"}
    assert obj["t"] == "keep" and obj["r"] == ROW and obj["cl"] == 1
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in obj["lv"].items())
    name = obj["c"]["name"]
    assert len(name) == 5 and name[0] == "Acme" and isinstance(name[1], str) and name[2] == "dev-a"
    visits = obj["c"]["visits"]
    assert len(visits) == 6 and visits[0] == 3 and visits[5] == {"dev-a": [visits[1], 3]}


def test_stored_text_does_not_depend_on_arrival_order(kit: Any) -> None:
    """Replicas holding the same state store the same text, whichever order their changes arrived in."""
    pair = rich_pair(kit)
    changes = pair.a.log + pair.b.log
    forward = kit.merge_all(changes)
    backward = kit.merge_all(list(reversed(changes)))
    assert forward == backward
    assert kit.dump_rows(forward) == kit.dump_rows(backward)


def test_merge_states_equals_merging_all_changes(kit: Any) -> None:
    """Joining the two replicas' states gives what merging all their changes gives, both ways round."""
    for table in ("keep", "gone"):
        pair = rich_pair(kit, table)
        sa, sb = pair.a.row(table, ROW), pair.b.row(table, ROW)
        reference = kit.merge_all(pair.a.log + pair.b.log)[(table, ROW)]
        tbl = kit.SCHEMA.table(table)
        assert merge_states(tbl, sa, sb).state == reference
        assert merge_states(tbl, sb, sa).state == reference
        assert dumps_state(merge_states(tbl, sa, sb).state) == dumps_state(reference)


def test_merge_states_into_nothing_copies(kit: Any) -> None:
    """Joining a state into an empty replica reproduces it exactly."""
    pair = rich_pair(kit)
    pair.sync()
    state = pair.a.row("keep", ROW)
    result = merge_states(kit.KEEP, None, state)
    assert result.state == state and result.changed


def test_merge_states_of_a_known_state_is_a_no_op(kit: Any) -> None:
    """Joining a state one already holds applies nothing."""
    pair = rich_pair(kit)
    pair.sync()
    state = pair.a.row("keep", ROW)
    result = merge_states(kit.KEEP, state, state)
    assert result.applied == [] and result.state is state


def test_merge_states_of_a_deleted_row(kit: Any) -> None:
    """A snapshot of a deleted row arrives deleted, with its values kept."""
    r = kit.Replica.new("dev-a")
    r.write("gone", ROW, {"name": "Acme"})
    r.delete("gone", ROW)
    copy = merge_states(kit.GONE, None, r.row("gone", ROW)).state
    assert not copy.exists and copy.values() == {"name": "Acme"} and copy == r.row("gone", ROW)


def test_state_changes_lists_levels_then_cells(kit: Any) -> None:
    """``state_changes`` emits one existence change per level (deletes carry their watermark) and the cells' changes."""
    r = kit.Replica.new("dev-a")
    r.write("gone", ROW, {"name": "Acme", "visits": 2})
    r.delete("gone", ROW)
    state = r.row("gone", ROW)
    changes = state_changes(kit.GONE, state)
    levels = [c for c in changes if c.field == EXISTS]
    assert [c.cl for c in levels] == [1, 2]
    assert levels[1].value == str(state.levels[2])
    assert {c.field for c in changes} == {EXISTS, "name", "visits"}
    assert merge_row(kit.GONE, None, changes).state == state


def test_row_state_helpers() -> None:
    """``exists`` follows the parity of the length; ``max_hlc`` covers cells and live levels only."""
    assert not RowState("t", ROW).exists
    assert RowState("t", ROW, cl=3).exists and not RowState("t", ROW, cl=2).exists
    state = RowState("t", ROW, cl=2, levels={1: 10, 2: 99})
    assert state.max_hlc == 10
    assert state.values() == {}


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(1 << 63), (1 << 63) - 1) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_CELLS = st.builds(
    Cell,
    value=_VALUES,
    hlc=st.integers(0, (1 << 63) - 1),
    site=st.text(max_size=20),
    base=st.integers(0, (1 << 63) - 1),
    cl=st.integers(0, 99),
    meta=st.none() | _VALUES,
)


@settings(max_examples=300, deadline=None)
@given(
    table=st.text(max_size=10),
    row=st.text(max_size=40),
    cl=st.integers(0, 99),
    levels=st.dictionaries(st.integers(0, 99), st.integers(0, (1 << 63) - 1), max_size=4),
    cells=st.dictionaries(st.text(max_size=12), _CELLS, max_size=6),
)
def test_stored_text_is_the_canonical_encoding(table: str, row: str, cl: int, levels: dict[int, int], cells: dict[str, Cell]) -> None:
    """``dumps_state`` is byte for byte the stdlib encoder's compact text of ``state_to_json``, for any content."""
    state = RowState(table, row, cl, levels, cells)
    canonical = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode(state_to_json(state))
    assert dumps_state(state) == canonical
