"""Local writes become the right changes: counters, sets, text splices, refusals and causal stamps."""

from __future__ import annotations

from typing import Any

import pytest

from fieldsync.sync import errors as E
from fieldsync.sync import hlc as H
from fieldsync.sync.change import EXISTS, Change, change_from_wire
from fieldsync.sync.writes import Increment, SetOps, update_changes

ROW = "0192f4c8-0000-7000-8000-000000000001"


def test_writes_are_valid_on_the_wire(kit: Any) -> None:
    """Every change a local write emits passes wire validation unchanged (in meaning)."""
    r = kit.Replica.new("dev-a")
    changes = r.write("keep", ROW, {"name": "Acme", "visits": Increment(2), "tags": ["a"], "notes": "hi", "high": 1})
    changes += r.write("keep", ROW, {"tags": SetOps(remove=("a",)), "notes": "hi there"})
    changes += r.delete("keep", ROW)
    for ch in changes:
        back = change_from_wire(ch.to_wire(), kit.SCHEMA, site="dev-a")
        assert (back.table, back.row_id, back.field, back.hlc, back.cl, back.base) == (
            ch.table,
            ch.row_id,
            ch.field,
            ch.hlc,
            ch.cl,
            ch.base,
        )


def test_counter_increment_publishes_the_sites_running_total(kit: Any) -> None:
    """``Increment(d)`` sends this site's new running total, and the value adds up across sites."""
    pair = kit.ReplicaPair.new()
    (c1,) = pair.a.write("keep", ROW, {"visits": Increment(2)})
    (c2,) = pair.a.write("keep", ROW, {"visits": Increment(3)})
    assert (c1.value, c2.value) == (2, 5)
    pair.sync()
    (c3,) = pair.b.write("keep", ROW, {"visits": Increment(-1)})
    assert c3.value == -1
    pair.sync()
    assert pair.a.values("keep", ROW)["visits"] == 4 == pair.b.values("keep", ROW)["visits"]


def test_counter_plain_number_sets_the_shown_value(kit: Any) -> None:
    """Writing a plain number to a counter adjusts this site's share so the field shows that number."""
    pair = kit.ReplicaPair.new()
    pair.a.write("keep", ROW, {"visits": 5})
    pair.sync()
    (change,) = pair.b.write("keep", ROW, {"visits": 2})
    assert change.value == -3
    assert pair.b.values("keep", ROW)["visits"] == 2


def test_counter_zero_delta_emits_nothing(kit: Any) -> None:
    """An increment of zero, or setting the current value, writes nothing."""
    r = kit.Replica.new("dev-a")
    r.write("keep", ROW, {"visits": 5})
    assert r.write("keep", ROW, {"visits": Increment(0)}) == []
    assert r.write("keep", ROW, {"visits": 5}) == []


def test_concurrent_increments_both_count(kit: Any) -> None:
    """Two devices incrementing offline both count after sync."""
    pair = kit.ReplicaPair.new()
    pair.a.write("keep", ROW, {"visits": Increment(1)})
    pair.b.write("keep", ROW, {"visits": Increment(1)})
    pair.sync()
    assert pair.a.values("keep", ROW)["visits"] == 2 == pair.b.values("keep", ROW)["visits"]


def test_set_ops_add_and_remove(kit: Any) -> None:
    """``SetOps`` adds elements and removes the live tags of removed ones."""
    r = kit.Replica.new("dev-a")
    (add,) = r.write("keep", ROW, {"tags": SetOps(add=("vip", "east"))})
    assert add.value == {"add": ["east", "vip"], "remove": []}
    (rem,) = r.write("keep", ROW, {"tags": SetOps(remove=("vip",))})
    assert rem.value == {"add": [], "remove": [["vip", f"{add.hlc}@dev-a"]]}
    assert r.values("keep", ROW)["tags"] == ["east"]


def test_set_full_list_derives_additions_and_removals(kit: Any) -> None:
    """A plain list is the new full set: the write adds what is new and removes what is gone."""
    r = kit.Replica.new("dev-a")
    r.write("keep", ROW, {"tags": ["a", "b"]})
    (change,) = r.write("keep", ROW, {"tags": ["b", "c"]})
    assert change.value["add"] == ["c"] and [e for e, _ in change.value["remove"]] == ["a"]
    assert r.values("keep", ROW)["tags"] == ["b", "c"]


def test_set_write_that_changes_nothing_emits_nothing(kit: Any) -> None:
    """Removing an absent element, or writing the same full list, emits no change."""
    r = kit.Replica.new("dev-a")
    r.write("keep", ROW, {"tags": ["a"]})
    assert r.write("keep", ROW, {"tags": SetOps(remove=("zzz",))}) == []
    assert r.write("keep", ROW, {"tags": ["a"]}) == []


def test_set_rejects_other_values(kit: Any) -> None:
    """A set field takes a list of strings or SetOps, nothing else."""
    r = kit.Replica.new("dev-a")
    for bad in ("vip", [1, 2], {"add": ["x"]}):
        with pytest.raises(E.ValidationError) as info:
            r.write("keep", ROW, {"tags": bad})
        assert info.value.code is E.WRONG_TYPE


def test_set_remove_concurrent_with_add_keeps_the_add(kit: Any) -> None:
    """A tag removed on one device and re-added on another concurrently stays (add wins)."""
    pair = kit.ReplicaPair.new()
    pair.a.write("keep", ROW, {"tags": ["vip"]})
    pair.sync()
    pair.a.write("keep", ROW, {"tags": []})
    pair.b.write("keep", ROW, {"tags": SetOps(add=("vip",))})
    pair.sync()
    assert pair.a.values("keep", ROW)["tags"] == ["vip"] == pair.b.values("keep", ROW)["tags"]


def test_text_splice_keeps_concurrent_edits(kit: Any) -> None:
    """Two devices editing different parts of a note offline both keep their words."""
    pair = kit.ReplicaPair.new()
    pair.a.write("keep", ROW, {"notes": "Met Li. Wants a quote."})
    pair.sync()
    pair.a.write("keep", ROW, {"notes": "Met Li Wei. Wants a quote."})
    pair.b.write("keep", ROW, {"notes": "Met Li. Wants a quote by Friday."})
    pair.sync()
    assert pair.a.values("keep", ROW)["notes"] == "Met Li Wei. Wants a quote by Friday."
    pair.assert_converged()


def test_text_deletion_reaches_the_other_replica(kit: Any) -> None:
    """Deleting words from a note deletes them on the other replica too."""
    pair = kit.ReplicaPair.new()
    pair.a.write("keep", ROW, {"notes": "call back tomorrow morning"})
    pair.sync()
    pair.b.write("keep", ROW, {"notes": "call back tomorrow"})
    pair.sync()
    assert pair.a.values("keep", ROW)["notes"] == "call back tomorrow"
    pair.assert_converged()


def test_text_same_text_emits_nothing(kit: Any) -> None:
    """Writing the text a note already has emits no change."""
    r = kit.Replica.new("dev-a")
    r.write("keep", ROW, {"notes": "x"})
    assert r.write("keep", ROW, {"notes": "x"}) == []


def test_same_value_emits_nothing(kit: Any) -> None:
    """Writing a register field's current value emits no change."""
    r = kit.Replica.new("dev-a")
    r.write("keep", ROW, {"name": "Acme"})
    assert r.write("keep", ROW, {"name": "Acme"}) == []


def test_writing_a_deleted_row_is_refused(kit: Any) -> None:
    """Editing a deleted row raises FS-2009 until it is restored."""
    r = kit.Replica.new("dev-a")
    r.write("gone", ROW, {"name": "Acme"})
    r.delete("gone", ROW)
    with pytest.raises(E.ValidationError) as info:
        r.write("gone", ROW, {"name": "Acme Ltd"})
    assert info.value.code is E.ROW_DELETED
    r.restore("gone", ROW)
    (change,) = r.write("gone", ROW, {"name": "Acme Ltd"})
    assert change.cl == 3


def test_server_only_fields_are_refused_to_devices(kit: Any) -> None:
    """A device writing a server-only field gets FS-2008; the server may write it."""
    r = kit.Replica.new("dev-a")
    with pytest.raises(E.ValidationError) as info:
        r.write("keep", ROW, {"verdict": "verified"})
    assert info.value.code is E.READ_ONLY_FIELD
    (change,) = r.write("keep", ROW, {"verdict": "verified"}, allow_server_only=True)
    assert change.value == "verified"


def test_unknown_field_and_wrong_type_are_refused(kit: Any) -> None:
    """Local writes are validated like wire changes (FS-2002, FS-2003)."""
    r = kit.Replica.new("dev-a")
    with pytest.raises(E.ValidationError) as info:
        r.write("keep", ROW, {"nope": 1})
    assert info.value.code is E.UNKNOWN_FIELD
    with pytest.raises(E.ValidationError) as info:
        r.write("keep", ROW, {"high": "three"})
    assert info.value.code is E.WRONG_TYPE


def test_stamps_are_causally_after_what_they_overwrite(kit: Any) -> None:
    """A write is stamped after the value it overwrites and records it as base, even if the local clock lags."""
    time = kit.FakeTime()
    fast = kit.Replica.new("fast", time=time, skew_ms=3_600_000)  # an hour ahead
    (first,) = fast.write("keep", ROW, {"name": "from the future"})
    state = kit.merge_all(fast.log)[("keep", ROW)]
    slow = H.HlcClock("slow", now_ms=time.for_site(0))  # has not observed the fast stamp
    (second,) = update_changes(kit.KEEP, state, ROW, {"name": "fixed"}, clock=slow)
    assert second.hlc > first.hlc and second.base == first.hlc
    assert kit.merge_all([first, second])[("keep", ROW)].values()["name"] == "fixed"


def test_delete_and_restore_are_stamped_after_everything_seen(kit: Any) -> None:
    """Delete and restore stamps exceed every HLC on the row, and the delete's watermark is the row's max."""
    time = kit.FakeTime()
    fast = kit.Replica.new("fast", time=time, skew_ms=3_600_000)
    slow = kit.Replica(site="slow", clock=H.HlcClock("slow", now_ms=time.for_site(0)))
    fast.write("gone", ROW, {"name": "x", "motto": "y"})
    state = kit.merge_all(fast.log)[("gone", ROW)]
    slow.rows[("gone", ROW)] = state
    (delete,) = slow.delete("gone", ROW)
    assert int(delete.value) == state.max_hlc and delete.hlc > state.max_hlc
    (restore,) = slow.restore("gone", ROW)
    assert restore.hlc > delete.hlc and restore.field == EXISTS and restore.value == "0"


def test_each_field_gets_its_own_stamp(kit: Any) -> None:
    """One write of several fields stamps each change distinctly and in increasing order."""
    r = kit.Replica.new("dev-a")
    changes = r.write("keep", ROW, {"name": "a", "motto": "b", "high": 1})
    stamps = [c.hlc for c in changes]
    assert stamps == sorted(set(stamps))
