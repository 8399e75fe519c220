"""Row existence by causal length, the two delete policies, and the conflict history."""

from __future__ import annotations

from typing import Any

from fieldsync.sync.change import EXISTS, Change
from fieldsync.sync.merge import RowState, causal_length, merge_row
from fieldsync.sync.rules import SERVER_SITE
from fieldsync.sync.schema import DeletePolicy

ROW = "0192f4c8-0000-7000-8000-000000000001"


def both_orders(kit: Any, table: str, first: list[Change], second: list[Change]) -> list[RowState]:
    out = []
    for order in (first + second, second + first):
        out.append(kit.merge_all(order)[(table, ROW)])
    assert out[0] == out[1]
    return out


# --- causal length ---------------------------------------------------------


def test_causal_length_from_levels() -> None:
    """The causal length is the top level; under update-wins a write newer than the delete's watermark revives it."""
    assert causal_length({}, DeletePolicy.DELETE_WINS) == 0
    assert causal_length({1: 10}, DeletePolicy.DELETE_WINS) == 1
    assert causal_length({1: 10, 2: 10}, DeletePolicy.UPDATE_WINS) == 2  # the delete saw everything
    assert causal_length({1: 11, 2: 10}, DeletePolicy.UPDATE_WINS) == 3  # a write the delete had not seen
    assert causal_length({1: 11, 2: 10}, DeletePolicy.DELETE_WINS) == 2
    assert causal_length({1: 11, 2: 10, 3: 20, 4: 20}, DeletePolicy.UPDATE_WINS) == 4
    assert causal_length({1: 11, 2: 10, 3: 20, 4: 20, 5: 30}, DeletePolicy.DELETE_WINS) == 5


def test_insert_update_creates_the_row(kit: Any) -> None:
    """Writing a new row gives causal length 1 and its values."""
    r = kit.Replica.new("dev-a")
    changes = r.write("keep", ROW, {"name": "Acme", "high": 3})
    assert [c.cl for c in changes] == [1, 1]
    state = r.row("keep", ROW)
    assert state.exists and state.cl == 1 and state.row_id == ROW
    assert state.values() == {"name": "Acme", "high": 3}


def test_insert_without_values_is_an_existence_change(kit: Any) -> None:
    """Inserting an empty row emits one existence change at causal length 1."""
    r = kit.Replica.new("dev-a")
    (change,) = r.write("keep", ROW, {})
    assert change.field == EXISTS and change.cl == 1 and change.value == "0"
    assert r.exists("keep", ROW) and r.values("keep", ROW) == {}


def test_delete_then_restore_keeps_values(kit: Any) -> None:
    """A delete makes the length even and hides the row; a restore makes it odd again with its values."""
    r = kit.Replica.new("dev-a")
    r.write("gone", ROW, {"name": "Acme"})
    (delete,) = r.delete("gone", ROW)
    assert delete.field == EXISTS and delete.cl == 2 and int(delete.value) == r.row("gone", ROW).levels[1]
    assert not r.exists("gone", ROW)
    assert r.delete("gone", ROW) == []  # already deleted
    (restore,) = r.restore("gone", ROW)
    assert restore.cl == 3 and r.exists("gone", ROW)
    assert r.values("gone", ROW) == {"name": "Acme"}
    assert r.restore("gone", ROW) == []  # already alive


def test_delete_reaches_the_other_replica(pair: Any) -> None:
    """A delete synced to another replica deletes the row there."""
    pair.a.write("keep", ROW, {"name": "Acme"})
    pair.sync()
    pair.a.delete("keep", ROW)
    pair.sync()
    assert not pair.b.exists("keep", ROW)
    pair.assert_converged()


def test_delete_wins_over_a_concurrent_update(pair: Any) -> None:
    """Under delete-wins, a row deleted on one device and edited on another concurrently stays deleted."""
    pair.a.write("gone", ROW, {"name": "Acme"})
    pair.sync()
    pair.a.delete("gone", ROW)
    pair.b.write("gone", ROW, {"name": "Acme Ltd"})
    pair.sync()
    for r in (pair.a, pair.b):
        assert not r.exists("gone", ROW)
        assert r.values("gone", ROW)["name"] == "Acme Ltd"  # kept for a restore and the history
    pair.assert_converged()


def test_update_wins_over_a_concurrent_delete(pair: Any) -> None:
    """Under update-wins, a row deleted on one device and edited on another concurrently lives on with the edit."""
    pair.a.write("keep", ROW, {"name": "Acme"})
    pair.sync()
    pair.a.delete("keep", ROW)
    pair.b.write("keep", ROW, {"name": "Acme Ltd"})
    pair.sync()
    for r in (pair.a, pair.b):
        state = r.row("keep", ROW)
        assert state.exists and state.cl == 3
        assert state.values()["name"] == "Acme Ltd"
    pair.assert_converged()


def test_update_wins_delete_after_seeing_the_update_deletes(pair: Any) -> None:
    """Under update-wins, a delete made after seeing an update (its watermark covers it) deletes the row."""
    pair.a.write("keep", ROW, {"name": "Acme"})
    pair.sync()
    pair.b.write("keep", ROW, {"name": "Acme Ltd"})
    pair.sync()
    pair.a.delete("keep", ROW)
    pair.sync()
    assert not pair.a.exists("keep", ROW) and not pair.b.exists("keep", ROW)
    pair.assert_converged()


def test_update_wins_can_be_deleted_again_after_reviving(pair: Any) -> None:
    """A row revived by a racing update can be deleted again (length 4) by someone who saw it."""
    pair.a.write("keep", ROW, {"name": "Acme"})
    pair.sync()
    pair.a.delete("keep", ROW)
    pair.b.write("keep", ROW, {"name": "Acme Ltd"})
    pair.sync()
    (delete,) = pair.a.delete("keep", ROW)
    assert delete.cl == 4
    pair.sync()
    assert pair.b.row("keep", ROW).cl == 4
    pair.assert_converged()


def test_concurrent_deletes_agree(pair: Any) -> None:
    """Two devices deleting the same row concurrently both end at length 2 with the higher watermark."""
    pair.a.write("gone", ROW, {"name": "Acme"})
    pair.sync()
    pair.a.delete("gone", ROW)
    pair.b.delete("gone", ROW)
    pair.sync()
    assert pair.a.row("gone", ROW).cl == 2
    pair.assert_converged()


def test_concurrent_restores_agree(pair: Any) -> None:
    """Two devices restoring the same row concurrently both end at length 3."""
    pair.a.write("gone", ROW, {"name": "Acme"})
    pair.a.delete("gone", ROW)
    pair.sync()
    pair.a.restore("gone", ROW)
    pair.b.restore("gone", ROW)
    pair.sync()
    assert pair.a.row("gone", ROW).cl == 3
    pair.assert_converged()


def test_delete_wins_restore_brings_back_the_concurrent_update(pair: Any) -> None:
    """Under delete-wins, restoring a row shows the update that lost to the delete (nothing was thrown away)."""
    pair.a.write("gone", ROW, {"name": "Acme"})
    pair.sync()
    pair.a.delete("gone", ROW)
    pair.b.write("gone", ROW, {"name": "Acme Ltd"})
    pair.sync()
    pair.a.restore("gone", ROW)
    pair.sync()
    assert pair.b.exists("gone", ROW) and pair.b.values("gone", ROW)["name"] == "Acme Ltd"
    pair.assert_converged()


def test_existence_policies_decide_alike_in_both_arrival_orders(kit: Any) -> None:
    """The delete/update race is decided the same whichever change arrives first, under both policies."""
    for table, alive in (("keep", True), ("gone", False)):
        insert = Change(table, ROW, "name", "Acme", 100, "a", 1, 0)
        delete = Change(table, ROW, EXISTS, "100", 200, "a", 2, 0)
        update = Change(table, ROW, "name", "Acme Ltd", 150, "b", 1, 100)
        states = both_orders(kit, table, [insert, delete], [update])
        assert states[0].exists is alive


def test_seen_watermark_limit_a_lower_stamped_concurrent_update_counts_as_seen(kit: Any) -> None:
    """Documented limit: an update whose HLC is below the delete's watermark is taken as seen, even if concurrent."""
    insert = Change("keep", ROW, "name", "Acme", 500, "a", 1, 0)  # a's clock runs ahead
    delete = Change("keep", ROW, EXISTS, "500", 501, "a", 2, 0)
    late_clock_update = Change("keep", ROW, "motto", "x", 300, "b", 1, 0)  # b never saw a's writes
    (state, _) = both_orders(kit, "keep", [insert, delete], [late_clock_update])
    assert not state.exists


def test_existence_change_below_a_known_watermark_is_not_applied(kit: Any) -> None:
    """An existence change that raises no level alters nothing and is not reported as applied."""
    first = Change("gone", ROW, EXISTS, "100", 200, "a", 2, 0)
    older = Change("gone", ROW, EXISTS, "50", 210, "b", 2, 0)
    state = merge_row(kit.GONE, None, [first]).state
    result = merge_row(kit.GONE, state, [older])
    assert result.applied == [] and result.state is state and not result.changed


# --- conflict history ------------------------------------------------------


def test_same_field_concurrent_write_records_exactly_the_loser(pair: Any) -> None:
    """Two devices writing one field concurrently: each replica records one conflict, naming the loser."""
    pair.a.write("keep", ROW, {"name": "Acme"})
    pair.sync()
    pair.a.write("keep", ROW, {"name": "from a"})
    pair.b.write("keep", ROW, {"name": "from b"})
    pair.sync()
    pair.assert_converged()
    winner = pair.a.values("keep", ROW)["name"]
    loser = "from a" if winner == "from b" else "from b"
    for r in (pair.a, pair.b):
        (conflict,) = r.conflicts
        assert conflict.kind == "value" and conflict.field == "name" and conflict.row_id == ROW
        assert conflict.winner_value == winner and conflict.loser_value == loser
        assert conflict.loser_site != conflict.winner_site


def test_sequential_overwrite_records_no_conflict(pair: Any) -> None:
    """Overwriting a value one has seen is not a conflict."""
    pair.a.write("keep", ROW, {"name": "Acme"})
    pair.sync()
    pair.b.write("keep", ROW, {"name": "Acme Ltd"})
    pair.sync()
    pair.a.write("keep", ROW, {"name": "Acme Group"})
    pair.sync()
    assert pair.a.conflicts == [] and pair.b.conflicts == []
    assert pair.b.values("keep", ROW)["name"] == "Acme Group"


def test_concurrent_edits_to_different_fields_both_survive(pair: Any) -> None:
    """Concurrent edits to different fields both survive with no conflict."""
    pair.a.write("keep", ROW, {"name": "Acme"})
    pair.sync()
    pair.a.write("keep", ROW, {"name": "Acme Ltd"})
    pair.b.write("keep", ROW, {"motto": "fast"})
    pair.sync()
    assert pair.b.values("keep", ROW) == {"name": "Acme Ltd", "motto": "fast"}
    assert pair.a.conflicts == [] and pair.b.conflicts == []
    pair.assert_converged()


def test_first_write_wins_records_the_later_write_as_loser(pair: Any, kit: Any) -> None:
    """A later concurrent write to a first-write-wins field loses and is recorded."""
    pair.a.write("keep", ROW, {"evidence": "at the door"})
    pair.b.write("keep", ROW, {"evidence": "from the car park"})
    pair.sync()
    assert pair.a.values("keep", ROW)["evidence"] == "at the door"
    (conflict,) = pair.b.conflicts
    assert conflict.loser_value == "from the car park" and conflict.winner_value == "at the door"


def test_server_wins_records_the_device_write_as_loser(kit: Any) -> None:
    """A device write concurrent with a server write loses and is recorded, whatever the clocks say."""
    time = kit.FakeTime()
    server = kit.Replica.new(SERVER_SITE, time=time)
    device = kit.Replica.new("dev-a", time=time, skew_ms=60_000)  # device clock a minute fast
    pair = kit.ReplicaPair(server, device)
    server.write("keep", ROW, {"owner": "manager's pick"})
    device.write("keep", ROW, {"owner": "rep's pick"})
    pair.sync()
    assert device.values("keep", ROW)["owner"] == "manager's pick"
    (conflict,) = device.conflicts
    assert conflict.loser_site == "dev-a"


def test_mergeable_rules_record_no_conflicts(pair: Any) -> None:
    """Counters, sets and text keep every concurrent contribution, so nothing is recorded as lost."""
    pair.a.write("keep", ROW, {"notes": "hello", "visits": 1, "tags": ["a"]})
    pair.sync()
    pair.a.write("keep", ROW, {"notes": "hello world", "visits": 2, "tags": ["a", "b"]})
    pair.b.write("keep", ROW, {"notes": "oh hello", "visits": 5, "tags": []})
    pair.sync()
    assert pair.a.conflicts == [] and pair.b.conflicts == []
    values = pair.a.values("keep", ROW)
    assert values["notes"] == "oh hello world"
    assert values["visits"] == 1 + 1 + 4
    assert values["tags"] == ["b"]
    pair.assert_converged()


def test_update_losing_to_a_delete_is_recorded_in_both_orders(kit: Any) -> None:
    """Under delete-wins, an update concurrent with the delete is recorded as a 'deleted' conflict, whichever arrives first."""
    insert = Change("gone", ROW, "name", "Acme", 100, "a", 1, 0)
    delete = Change("gone", ROW, EXISTS, "100", 200, "a", 2, 0)
    update = Change("gone", ROW, "name", "Acme Ltd", 150, "b", 1, 100)
    for order in ([insert, delete, update], [insert, update, delete]):
        state = None
        conflicts = []
        for ch in order:
            result = merge_row(kit.GONE, state, [ch])
            state, conflicts = result.state, conflicts + result.conflicts
        (conflict,) = conflicts
        assert conflict.kind == "deleted" and conflict.field == "name"
        assert (conflict.loser_value, conflict.loser_site, conflict.loser_hlc) == ("Acme Ltd", "b", 150)
        assert conflict.winner_value is None and conflict.winner_site is None


def test_update_wins_records_no_deleted_conflict(kit: Any) -> None:
    """Under update-wins the racing update wins, so no conflict is recorded for it."""
    insert = Change("keep", ROW, "name", "Acme", 100, "a", 1, 0)
    delete = Change("keep", ROW, EXISTS, "100", 200, "a", 2, 0)
    update = Change("keep", ROW, "name", "Acme Ltd", 150, "b", 1, 100)
    result = merge_row(kit.KEEP, None, [insert, delete, update])
    assert result.conflicts == [] and result.state.exists


def test_deleters_own_and_seen_writes_are_not_recorded(kit: Any) -> None:
    """A delete does not record the writes it had seen, nor the deleter's own writes, as lost."""
    seen = Change("gone", ROW, "name", "Acme", 100, "b", 1, 0)
    own = Change("gone", ROW, "motto", "1", 150, "a", 1, 0)
    delete = Change("gone", ROW, EXISTS, "150", 200, "a", 2, 0)
    assert merge_row(kit.GONE, None, [seen, own, delete]).conflicts == []


def test_losing_write_is_reported_but_not_applied(kit: Any) -> None:
    """A concurrent write that loses alters nothing, so it is not in ``applied``, but it is in ``conflicts``."""
    winner = Change("keep", ROW, "name", "b", 200, "b", 1, 0)
    loser = Change("keep", ROW, "name", "a", 150, "a", 1, 0)
    state = merge_row(kit.KEEP, None, [winner]).state
    result = merge_row(kit.KEEP, state, [loser])
    assert result.applied == [] and result.state is state
    (conflict,) = result.conflicts
    assert conflict.loser_value == "a" and conflict.winner_value == "b"


def test_redelivered_loser_reports_the_same_conflict_again(kit: Any) -> None:
    """A losing change delivered twice is reported twice with the same identity, so the history can deduplicate it."""
    winner = Change("keep", ROW, "name", "b", 200, "b", 1, 0)
    loser = Change("keep", ROW, "name", "a", 150, "a", 1, 0)
    state = merge_row(kit.KEEP, None, [winner]).state
    first = merge_row(kit.KEEP, state, [loser]).conflicts
    again = merge_row(kit.KEEP, state, [loser]).conflicts
    assert first == again and len(first) == 1
