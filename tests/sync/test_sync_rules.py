"""Each field rule picks the documented winner, in any arrival order, and keeps what it must."""

from __future__ import annotations

import base64
import itertools
from typing import Any

import pytest
from pycrdt import Doc, Text

from fieldsync.sync import errors as E
from fieldsync.sync.change import Change
from fieldsync.sync.rules import (
    RULES,
    SERVER_SITE,
    Cell,
    Conflict,
    concurrent,
    live_tags,
    register_rule,
    rule_for,
    set_tag,
    text_client_id,
    text_edit,
)
from fieldsync.sync.schema import Field, FieldType

ROW = "0192f4c8-0000-7000-8000-0000000000bb"


def ch(value: Any, hlc: int, site: str, *, base: int = 0, cl: int = 1, fname: str = "f") -> Change:
    return Change("t", ROW, fname, value, hlc, site, cl, base)


def fold(rule: str, changes: list[Change]) -> Cell:
    cell: Cell | None = None
    for change in changes:
        cell, _ = RULES[rule].apply(cell, change)
    assert cell is not None
    return cell


def all_orders(rule: str, changes: list[Change]) -> Cell:
    """Fold every permutation, check they agree, return the result."""
    results = {repr(fold(rule, list(p))) for p in itertools.permutations(changes)}
    assert len(results) == 1, results
    return fold(rule, changes)


# --- register rules --------------------------------------------------------


def test_lww_greater_hlc_wins_in_any_order() -> None:
    """Last-writer-wins keeps the write with the greatest HLC whatever the arrival order."""
    cell = all_orders("lww", [ch("a", 10, "s1"), ch("b", 30, "s2"), ch("c", 20, "s3")])
    assert (cell.value, cell.hlc, cell.site) == ("b", 30, "s2")


def test_lww_equal_hlc_ties_by_site() -> None:
    """Two writes with the same HLC are ordered by site id (greater wins)."""
    cell = all_orders("lww", [ch("a", 10, "alpha"), ch("b", 10, "beta")])
    assert cell.value == "b"


def test_register_apply_reports_the_loser() -> None:
    """Applying a register change returns the kept cell and the losing write."""
    old = fold("lww", [ch("a", 10, "s1")])
    new, loser = RULES["lww"].apply(old, ch("b", 20, "s2"))
    assert new.value == "b" and loser == old
    kept, loser = RULES["lww"].apply(new, ch("c", 15, "s3"))
    assert kept is new and loser is not None and loser.value == "c"


def test_register_same_write_twice_is_a_no_op() -> None:
    """Re-applying the write a cell already holds changes nothing and reports no loser."""
    cell = fold("lww", [ch("a", 10, "s1")])
    again, loser = RULES["lww"].apply(cell, ch("a", 10, "s1"))
    assert again is cell and loser is None


def test_register_cell_keeps_base_and_causal_length() -> None:
    """The winning cell records the write's base and causal length."""
    cell = fold("lww", [ch("a", 10, "s1", base=5, cl=3)])
    assert (cell.base, cell.cl, cell.meta) == (5, 3, None)


def test_server_wins_beats_a_later_device_write() -> None:
    """A server write beats any device write, even one with a greater HLC."""
    cell = all_orders("server_wins", [ch("manager", 10, SERVER_SITE), ch("rep", 99, "dev-1")])
    assert cell.value == "manager"


def test_server_wins_is_lww_among_devices_and_among_server_writes() -> None:
    """Without a server write, or between two server writes, the later write wins."""
    assert all_orders("server_wins", [ch("a", 10, "dev-1"), ch("b", 20, "dev-2")]).value == "b"
    assert all_orders("server_wins", [ch("a", 10, SERVER_SITE), ch("b", 20, SERVER_SITE), ch("z", 99, "dev")]).value == "b"


def test_first_write_wins_keeps_the_earliest() -> None:
    """First-write-wins keeps the write with the smallest HLC: evidence cannot be rewritten."""
    cell = all_orders("first_write_wins", [ch("first", 10, "s2"), ch("second", 20, "s1"), ch("third", 30, "s3")])
    assert (cell.value, cell.site) == ("first", "s2")


def test_first_write_wins_ties_by_smaller_site() -> None:
    """Equal HLCs under first-write-wins: the smaller site id wins."""
    assert all_orders("first_write_wins", [ch("a", 10, "alpha"), ch("b", 10, "beta")]).value == "a"


def test_max_keeps_the_greatest_value() -> None:
    """``max`` keeps the greatest value whatever its HLC."""
    assert all_orders("max", [ch(5, 30, "s1"), ch(9, 10, "s2"), ch(7, 20, "s3")]).value == 9


def test_min_keeps_the_smallest_value() -> None:
    """``min`` keeps the smallest value whatever its HLC."""
    assert all_orders("min", [ch(5, 30, "s1"), ch(9, 10, "s2"), ch(-7, 20, "s3")]).value == -7


@pytest.mark.parametrize("rule", ["max", "min"])
def test_max_min_none_never_wins_and_ties_go_to_lww(rule: str) -> None:
    """A null never beats a value, and equal values are decided by (hlc, site)."""
    assert all_orders(rule, [ch(None, 50, "s1"), ch(3, 10, "s2")]).value == 3
    cell = all_orders(rule, [ch(3, 10, "s1"), ch(3, 20, "s2")])
    assert (cell.value, cell.site) == (3, "s2")
    assert all_orders(rule, [ch(None, 10, "s1"), ch(None, 20, "s2")]).site == "s2"


def test_max_orders_canonical_timestamps_by_time() -> None:
    """``max`` on canonical timestamps picks the later instant even when one has no fractional part."""
    whole, fraction = "2025-11-24T10:00:05Z", "2025-11-24T10:00:05.250000Z"
    assert all_orders("max", [ch(whole, 20, "s1"), ch(fraction, 10, "s2")]).value == fraction
    assert all_orders("min", [ch(whole, 10, "s1"), ch(fraction, 20, "s2")]).value == whole
    assert all_orders("max", [ch("2025-11-24T10:00:04.999999Z", 20, "s1"), ch(whole, 10, "s2")]).value == whole


def test_custom_rule_is_a_key_with_lww_ties() -> None:
    """A registered custom rule keeps the greatest key, and equal keys fall back to last-writer-wins."""
    register_rule("test_rules_stage", ["lead", "qualified", "won"].index)
    assert all_orders("test_rules_stage", [ch("won", 10, "s1"), ch("lead", 20, "s2"), ch("qualified", 30, "s3")]).value == "won"
    assert all_orders("test_rules_stage", [ch("lead", 10, "s1"), ch("lead", 20, "s2")]).site == "s2"


def test_custom_rule_descending() -> None:
    """``descending=True`` keeps the smallest key."""
    register_rule("test_rules_shortest", len, descending=True)
    assert all_orders("test_rules_shortest", [ch("long text", 10, "s1"), ch("short", 20, "s2")]).value == "short"


def test_custom_rule_cannot_replace_a_builtin() -> None:
    """Registering a rule under a built-in name is refused."""
    with pytest.raises(ValueError):
        register_rule("lww", len)


def test_rule_for_an_unregistered_rule_fails_loudly() -> None:
    """A field naming an unknown rule raises LookupError instead of merging by accident."""
    assert rule_for(Field("x")) is RULES["lww"]
    with pytest.raises(LookupError):
        rule_for(Field("x", rule="no_such_rule"))


def test_concurrent_means_neither_saw_the_other() -> None:
    """Two writes are concurrent when they come from different sites and neither overwrote the other."""
    a = Cell("a", 10, "s1", base=0)
    b = Cell("b", 20, "s2", base=5)
    assert concurrent(a, b) and concurrent(b, a)
    seen = Cell("c", 20, "s2", base=10)  # overwrote a
    assert not concurrent(a, seen) and not concurrent(seen, a)
    assert not concurrent(a, Cell("d", 30, "s1", base=0))  # same site: sequential


def test_conflict_to_json_uses_string_hlcs() -> None:
    """A conflict's JSON form carries both values with HLCs as strings."""
    c = Conflict("t", ROW, "f", "value", "win", 20, "s2", "lose", 10, "s1")
    assert c.to_json() == {
        "table": "t",
        "row_id": ROW,
        "field": "f",
        "kind": "value",
        "winner": {"value": "win", "hlc": "20", "site": "s2"},
        "loser": {"value": "lose", "hlc": "10", "site": "s1"},
    }
    deleted = Conflict("t", ROW, "f", "deleted", None, None, None, "lose", 10, "s1")
    assert deleted.to_json()["winner"] == {"value": None, "hlc": None, "site": None}


# --- counter ---------------------------------------------------------------

COUNT = Field("n", FieldType.INTEGER, rule="counter")


def test_counter_sums_each_sites_latest_total() -> None:
    """The counter's value is the sum of every site's latest running total."""
    cell = all_orders("counter", [ch(1, 10, "s1"), ch(3, 20, "s1"), ch(2, 15, "s2"), ch(-1, 12, "s3")])
    assert cell.value == 3 + 2 - 1
    assert cell.meta == {"s1": ["20", 3], "s2": ["15", 2], "s3": ["12", -1]}
    assert (cell.hlc, cell.site) == (20, "s1")


def test_counter_ignores_stale_and_resent_totals() -> None:
    """A site's older or repeated total does not change the sum (a resent change is harmless)."""
    cell = fold("counter", [ch(3, 20, "s1")])
    assert RULES["counter"].apply(cell, ch(1, 10, "s1")) == (cell, None)
    assert RULES["counter"].apply(cell, ch(3, 20, "s1")) == (cell, None)


def test_counter_float_sum_is_order_independent() -> None:
    """Real counters sum in a fixed order, so every replica gets the same float."""
    cell = all_orders("counter", [ch(0.1, 10, "a"), ch(0.2, 11, "b"), ch(0.3, 12, "c"), ch(1e16, 13, "d")])
    assert cell.value == sum([0.1, 0.2, 0.3, 1e16])


def test_counter_validation() -> None:
    """Counter totals must be numbers on a numeric field; null is refused."""
    assert RULES["counter"].validate(COUNT, 4) == 4
    with pytest.raises(E.ValidationError) as info:
        RULES["counter"].validate(COUNT, None)
    assert info.value.code is E.WRONG_TYPE
    with pytest.raises(E.ValidationError) as info:
        RULES["counter"].validate(Field("n", FieldType.TEXT, rule="counter"), 1)
    assert info.value.code is E.INVALID_OPERATION


# --- add-wins set ----------------------------------------------------------


def test_set_add_and_observed_remove() -> None:
    """A removal removes exactly the add-tags it names."""
    cell = fold("add_wins_set", [ch({"add": ["vip", "east"]}, 10, "s1")])
    assert cell.value == ["east", "vip"]
    assert live_tags(cell, "vip") == [["vip", set_tag(10, "s1")]]
    cell = fold("add_wins_set", [ch({"add": ["vip", "east"]}, 10, "s1"), ch({"remove": live_tags(cell, "vip")}, 20, "s2")])
    assert cell.value == ["east"]
    assert live_tags(cell, "vip") == []


def test_set_concurrent_add_survives_a_remove() -> None:
    """An add the remover had not seen survives its removal (add wins), in any order."""
    first = ch({"add": ["vip"]}, 10, "s1")
    removal = ch({"add": [], "remove": [["vip", set_tag(10, "s1")]]}, 20, "s2")
    concurrent_add = ch({"add": ["vip"]}, 15, "s3")
    assert all_orders("add_wins_set", [first, removal, concurrent_add]).value == ["vip"]
    assert all_orders("add_wins_set", [first, removal]).value == []


def test_set_stamp_includes_changes_that_altered_nothing() -> None:
    """Two sites removing the same tag concurrently leave the same cell stamp in either order."""
    first = ch({"add": ["vip"]}, 10, "s1")
    r1 = ch({"add": [], "remove": [["vip", set_tag(10, "s1")]]}, 20, "s2")
    r2 = ch({"add": [], "remove": [["vip", set_tag(10, "s1")]]}, 30, "s3")
    cell = all_orders("add_wins_set", [first, r1, r2])
    assert (cell.hlc, cell.site, cell.value) == (30, "s3", [])


def test_set_same_change_twice_is_a_no_op() -> None:
    """Re-applying a set change returns the same cell."""
    change = ch({"add": ["a"]}, 10, "s1")
    cell = fold("add_wins_set", [change])
    assert RULES["add_wins_set"].apply(cell, change) == (cell, None)


def test_live_tags_of_nothing() -> None:
    """An absent set has no live tags."""
    assert live_tags(None, "x") == []


# --- text -------------------------------------------------------------------

NOTES = Field("notes", FieldType.TEXT, rule="text", max_bytes=64 * 1024)


def text_of(cell: Cell) -> str:
    doc = Doc()
    text = doc.get("text", type=Text)
    doc.apply_update(base64.b64decode(cell.meta))
    return str(text)


def test_text_concurrent_edits_both_survive() -> None:
    """Two people editing different parts of a note concurrently both keep their edit, in any order."""
    base = ch(text_edit(None, "s1", "Met the buyer."), 10, "s1")
    cell = fold("text", [base])
    a = ch(text_edit(cell, "s1", "Met the buyer. Send quote."), 20, "s1")
    b = ch(text_edit(cell, "s2", "Today: Met the buyer."), 21, "s2")
    merged = all_orders("text", [base, a, b])
    assert merged.value == "Today: Met the buyer. Send quote."
    assert text_of(merged) == merged.value


def test_text_deletion_only_edit_is_applied() -> None:
    """An edit that only deletes characters is merged (deletions do not move the Yjs state vector)."""
    base = ch(text_edit(None, "s1", "hello world"), 10, "s1")
    cell = fold("text", [base])
    cut = ch(text_edit(cell, "s2", "hello"), 20, "s2")
    merged = all_orders("text", [base, cut])
    assert merged.value == "hello"


def test_text_edit_arriving_before_its_base_is_kept() -> None:
    """An edit received before the edit it builds on is kept and shows once the base arrives."""
    base = ch(text_edit(None, "s1", "hello world"), 10, "s1")
    cell = fold("text", [base])
    insert = ch(text_edit(cell, "s2", "hello big world"), 20, "s2")
    cut = ch(text_edit(cell, "s3", "world"), 30, "s3")
    early = fold("text", [insert, cut])
    assert early.value == ""  # nothing to show yet
    assert all_orders("text", [insert, cut, base]).value == "big world"


def test_text_same_update_twice_is_a_no_op() -> None:
    """Re-applying a text update returns the same cell."""
    change = ch(text_edit(None, "s1", "x"), 10, "s1")
    cell = fold("text", [change])
    assert RULES["text"].apply(cell, change) == (cell, None)


def test_text_edit_is_a_minimal_splice() -> None:
    """``text_edit`` replaces only the differing middle, so text around it keeps its identity."""
    cell = fold("text", [ch(text_edit(None, "s1", "abcdef"), 10, "s1")])
    edited = fold("text", [ch(cell.meta, 10, "s1"), ch(text_edit(cell, "s2", "abXYef"), 20, "s2")])
    assert edited.value == "abXYef"


def test_text_client_id_is_stable_and_31_bit() -> None:
    """A site's Yjs client id is the masked first 4 bytes of sha256(site)."""
    assert text_client_id("dev-7f3a") == text_client_id("dev-7f3a")
    assert 0 <= text_client_id("dev-7f3a") < 2**31
    assert text_client_id("a") != text_client_id("b")


def test_text_validation() -> None:
    """A text change must be base64 of a Yjs update and within four times the field's byte limit."""
    update = text_edit(None, "s1", "hi")
    assert RULES["text"].validate(NOTES, update) == update
    for bad, code in [(5, E.WRONG_TYPE), ("%%%", E.WRONG_TYPE), ("A" * (4 * NOTES.max_bytes + 4), E.VALUE_TOO_LARGE)]:
        with pytest.raises(E.ValidationError) as info:
            RULES["text"].validate(NOTES, bad)
        assert info.value.code is code


def test_explode_rebuilds_each_mergeable_cell() -> None:
    """Every rule's ``explode`` yields changes that rebuild the same cell from nothing."""
    cases = {
        "lww": [ch("a", 10, "s1")],
        "counter": [ch(2, 10, "s1"), ch(5, 12, "s2")],
        "add_wins_set": [ch({"add": ["a", "b"]}, 10, "s1"), ch({"remove": [["a", set_tag(10, "s1")]]}, 20, "s2")],
        "text": [ch(text_edit(None, "s1", "hey"), 10, "s1")],
    }
    for rule, changes in cases.items():
        cell = fold(rule, changes)
        rebuilt = fold(rule, RULES[rule].explode("t", ROW, "f", cell))
        assert rebuilt == cell, rule
