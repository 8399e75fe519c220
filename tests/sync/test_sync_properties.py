"""Merge is idempotent, commutative and associative, and replicas converge (Hypothesis).

Like cr-sqlite's property suite: random local edit scripts on random replicas
produce real changes (through ``writes.py``, with skewed fake clocks and
random partial syncs in between so that changes are both causally related and
concurrent); the properties are then checked on those changes. Fields of every
rule are edited on a delete-wins and an update-wins table, rows are deleted and
restored, and one replica may be the server (for ``server_wins``).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldsync.sync.hlc import MAX_COUNTER, pack
from fieldsync.sync.merge import RowState, merge_row, merge_states
from fieldsync.sync.relabel import change_hlcs, relabel_change, relabel_state, relabeling
from fieldsync.sync.rules import SERVER_SITE
from fieldsync.sync.writes import Increment, SetOps

#: Raise for a long bug hunt, e.g. FIELDSYNC_PROPERTY_EXAMPLES=2000 (the default keeps the file well under 60 s).
EXAMPLES = int(os.environ.get("FIELDSYNC_PROPERTY_EXAMPLES", "60"))
SETTINGS = settings(
    deadline=None,
    max_examples=EXAMPLES,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

WORDS = st.sampled_from(["Acme", "Beta", "华东电气", "Zeta", ""]) | st.none()
ELEMENTS = ("vip", "new", "lost", "east")
FIELD_VALUES: dict[str, Any] = {
    "name": WORDS,
    "owner": WORDS,
    "evidence": WORDS,
    "motto": WORDS,
    "high": st.integers(-20, 20) | st.none(),
    "low": st.integers(-20, 20) | st.none(),
    "visits": st.builds(Increment, st.integers(-3, 5)) | st.integers(0, 9),
    "tags": st.builds(
        SetOps,
        st.lists(st.sampled_from(ELEMENTS), max_size=2).map(tuple),
        st.lists(st.sampled_from(ELEMENTS), max_size=2).map(tuple),
    )
    | st.lists(st.sampled_from(ELEMENTS), max_size=3, unique=True),
    "notes": st.text(alphabet="ab c", max_size=8),
}
FIELDS = sorted(FIELD_VALUES)


def random_edit(data: st.DataObject, replica: Any, kit: Any) -> None:
    """One local action on ``replica``: write some fields, delete, or restore."""
    table = data.draw(st.sampled_from(["keep", "gone"]), label="table")
    row_id = data.draw(st.sampled_from(kit.ROW_IDS[:2]), label="row")
    state = replica.row(table, row_id)
    if state is not None and state.cl and not state.exists:
        if data.draw(st.booleans(), label="restore"):
            replica.restore(table, row_id)
        return
    if state is not None and state.exists and data.draw(st.integers(0, 5), label="delete?") == 0:
        replica.delete(table, row_id)
        return
    names = data.draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=3, unique=True), label="fields")
    replica.write(table, row_id, {name: data.draw(FIELD_VALUES[name], label=name) for name in names})


def make_replicas(data: st.DataObject, kit: Any, count: int) -> list[Any]:
    time = kit.FakeTime()
    server_first = data.draw(st.booleans(), label="with server")
    sites = ([SERVER_SITE] if server_first else []) + ["dev-a", "dev-b", "dev-c", "dev-d", "dev-e"]
    return [
        kit.Replica.new(site, time=time, skew_ms=data.draw(st.integers(-3000, 3000), label="skew"))
        for site in sites[:count]
    ] + [time]


def partial_sync(data: st.DataObject, replicas: list[Any]) -> None:
    """A random replica sends another a random part of what it knows (see ``deliver``)."""
    src, dst = data.draw(st.permutations(replicas), label="src,dst")[:2]
    deliver(data, src, dst)


def deliver(data: st.DataObject, src: Any, dst: Any) -> None:
    """``src`` sends ``dst`` a random subset of its changes in random order, or some whole rows (snapshot)."""
    if not src.log:
        return
    if data.draw(st.integers(0, 4), label="snapshot?") == 0:
        keys = data.draw(st.lists(st.sampled_from(sorted(src.rows)), unique=True, max_size=3), label="rows")
        for key in keys:
            dst.receive_state(src.rows[key])
        return
    picks = data.draw(st.lists(st.integers(0, len(src.log) - 1), unique=True, max_size=12), label="subset")
    dst.receive([src.log[i] for i in picks])


def run_script(data: st.DataObject, kit: Any, count: int, steps: int) -> list[Any]:
    """Random edits, clock ticks and partial syncs on ``count`` replicas; returns the replicas."""
    *replicas, time = make_replicas(data, kit, count)
    for _ in range(data.draw(st.integers(1, steps), label="steps")):
        time.advance(data.draw(st.sampled_from([0, 0, 1, 7, 1000]), label="tick"))
        if data.draw(st.integers(0, 2), label="sync?") == 0:
            partial_sync(data, replicas)
        else:
            random_edit(data, data.draw(st.sampled_from(replicas), label="replica"), kit)
    return replicas


def universe(kit: Any, replicas: list[Any]) -> list[Any]:
    """Every distinct change any replica knows, in first-seen order."""
    seen: dict[Any, Any] = {}
    for r in replicas:
        for ch in r.log:
            seen.setdefault(kit.change_key(ch), ch)
    return list(seen.values())


def join(kit: Any, left: dict[Any, RowState], right: dict[Any, RowState]) -> dict[Any, RowState]:
    """Join two sets of row states with ``merge_states``."""
    out = dict(left)
    for key, state in right.items():
        out[key] = merge_states(kit.SCHEMA.table(key[0]), out.get(key), state).state
    return out


@SETTINGS
@given(data=st.data())
def test_merge_is_idempotent(kit: Any, data: st.DataObject) -> None:
    """Merging a change set a second time changes nothing and reports nothing applied."""
    changes = universe(kit, run_script(data, kit, 3, 25))
    once = kit.merge_all(changes)
    twice = dict(once)
    for ch in changes:
        key = (ch.table, ch.row_id)
        result = merge_row(kit.SCHEMA.table(ch.table), twice[key], [ch])
        assert result.applied == []
        twice[key] = result.state
    assert kit.dump_rows(twice) == kit.dump_rows(once)
    doubled = kit.merge_all([ch for ch in changes for _ in range(2)])
    assert kit.dump_rows(doubled) == kit.dump_rows(once)


@SETTINGS
@given(data=st.data())
def test_merge_is_commutative(kit: Any, data: st.DataObject) -> None:
    """Any permutation of a change set, merged one by one or as one batch per row, gives the same state."""
    changes = universe(kit, run_script(data, kit, 3, 25))
    reference = kit.dump_rows(kit.merge_all(changes))
    shuffled = data.draw(st.permutations(changes), label="order")
    assert kit.dump_rows(kit.merge_all(shuffled)) == reference
    batched: dict[Any, RowState] = {}
    by_row: dict[Any, list[Any]] = {}
    for ch in shuffled:
        by_row.setdefault((ch.table, ch.row_id), []).append(ch)
    for key, group in by_row.items():
        batched[key] = merge_row(kit.SCHEMA.table(key[0]), None, group).state
    assert kit.dump_rows(batched) == reference


@SETTINGS
@given(data=st.data())
def test_merge_is_associative(kit: Any, data: st.DataObject) -> None:
    """Joining the states of three change sets in either grouping equals merging all the changes."""
    changes = universe(kit, run_script(data, kit, 3, 25))
    changes = data.draw(st.permutations(changes), label="order")
    i = data.draw(st.integers(0, len(changes)), label="i")
    j = data.draw(st.integers(i, len(changes)), label="j")
    a, b, c = (kit.merge_all(part) for part in (changes[:i], changes[i:j], changes[j:]))
    reference = kit.dump_rows(kit.merge_all(changes))
    assert kit.dump_rows(join(kit, join(kit, a, b), c)) == reference
    assert kit.dump_rows(join(kit, a, join(kit, b, c))) == reference
    # Merging changes into a state is the same as joining their state.
    into_a = dict(a)
    for ch in changes[i:]:
        key = (ch.table, ch.row_id)
        into_a[key] = merge_row(kit.SCHEMA.table(ch.table), into_a.get(key), [ch]).state
    assert kit.dump_rows(into_a) == reference


@SETTINGS
@given(data=st.data())
def test_state_changes_rebuild_the_state(kit: Any, data: st.DataObject) -> None:
    """A row state joined into nothing, or into itself, is that same state (snapshot rows are lossless)."""
    rows = kit.merge_all(universe(kit, run_script(data, kit, 3, 20)))
    for key, state in rows.items():
        table = kit.SCHEMA.table(key[0])
        assert merge_states(table, None, state).state == state
        again = merge_states(table, state, state)
        assert again.state == state and again.applied == []


@settings(
    deadline=None,
    max_examples=EXAMPLES + EXAMPLES // 3,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), count=st.integers(2, 5))
def test_replicas_converge_after_random_partial_syncs(kit: Any, data: st.DataObject, count: int) -> None:
    """2-5 replicas editing offline and syncing random subsets to each other end identical after a full sync."""
    replicas = run_script(data, kit, count, 40)
    everything = universe(kit, replicas)
    for r in replicas:  # full sync: each replica gets what the others know, in a random order
        missing = [ch for ch in everything if kit.change_key(ch) not in r.known]
        r.receive(data.draw(st.permutations(missing), label="delivery"))
    reference = kit.merge_all(everything)
    first = replicas[0]
    for r in replicas:
        assert r.dump() == kit.dump_rows(reference)
        assert r.materialised() == first.materialised()


@SETTINGS
@given(data=st.data())
def test_pair_converges_with_snapshot_and_changes(kit: Any, data: st.DataObject) -> None:
    """A replica that joins another's row states (snapshot) and then its changes (catch-up) ends identical."""
    a, b = run_script(data, kit, 2, 25)
    for state in list(a.rows.values()):
        b.receive_state(state)
    b.receive(a.log)
    a.receive(b.log)
    assert a.dump() == b.dump()


DAY_MS = 24 * 3600 * 1000
T_NOW = 1_764_000_000_000
T_FAR = T_NOW + 10 * DAY_MS


def fast_clock_script(data: st.DataObject, kit: Any) -> tuple[list[Any], int]:
    """Edits and partial syncs among three replicas, one of them with a clock ten days fast.

    Returns the replicas and ``limit``: the highest HLC a hub would accept now (its clock plus a week).
    """
    time = kit.FakeTime()
    replicas = [
        kit.Replica.new("dev-a", time=time),
        kit.Replica.new("dev-b", time=time, skew_ms=data.draw(st.integers(-3000, 3000), label="skew")),
        kit.Replica.new("dev-fast", time=time, skew_ms=10 * DAY_MS),
    ]
    for _ in range(data.draw(st.integers(1, 25), label="steps")):
        time.advance(data.draw(st.sampled_from([0, 1, 7, 1000]), label="tick"))
        if data.draw(st.integers(0, 2), label="sync?") == 0:
            # A hub refuses the fast replica's changes (they are beyond its limit): they reach no one.
            src = data.draw(st.sampled_from(replicas[:2]), label="src")
            dst = data.draw(st.sampled_from([r for r in replicas if r is not src]), label="dst")
            deliver(data, src, dst)
        else:
            random_edit(data, data.draw(st.sampled_from(replicas), label="replica"), kit)
    return replicas, pack(time.now + 7 * DAY_MS, MAX_COUNTER)


@SETTINGS
@given(data=st.data())
def test_relabeling_commutes_with_merge(kit: Any, data: st.DataObject) -> None:
    """Merging relabeled changes gives the relabeled merge of the originals, row by row, for every rule and delete policy."""
    replicas, limit = fast_clock_script(data, kit)
    changes = universe(kit, replicas)
    hlcs = set().union(*(change_hlcs(ch) for ch in changes)) if changes else set()
    mapping = relabeling({h for h in hlcs if h > limit}, max((h for h in hlcs if h <= limit), default=0))
    merged = kit.merge_all(changes)
    relabeled = kit.merge_all([relabel_change(ch, mapping) for ch in changes])
    expected = {key: relabel_state(kit.SCHEMA.table(key[0]), state, mapping) for key, state in merged.items()}
    assert kit.dump_rows(relabeled) == kit.dump_rows(expected)


@SETTINGS
@given(data=st.data())
def test_a_relabeled_replica_converges_with_the_others(kit: Any, data: st.DataObject) -> None:
    """A fast-clocked replica that relabels its state and its own changes beyond the limit converges with the others on full sync."""
    replicas, limit = fast_clock_script(data, kit)
    fast = replicas[-1]
    others = replicas[:-1]
    own = [ch for ch in fast.log if ch.site == fast.site]
    assert all(ch.site != fast.site for r in others for ch in r.log)  # a hub kept them from everyone
    everything_kept = [ch for r in replicas for ch in r.log if ch.site != fast.site]
    kept = set().union(*(change_hlcs(ch) for ch in everything_kept)) if everything_kept else set()
    beyond = set().union(*(change_hlcs(ch) for ch in own)) if own else set()
    mapping = relabeling({h for h in beyond if h > limit}, max({h for h in kept | beyond if h <= limit} | {0}))
    fast.log = [relabel_change(ch, mapping) if ch.site == fast.site else ch for ch in fast.log]
    fast.rows = {key: relabel_state(kit.SCHEMA.table(key[0]), state, mapping) for key, state in fast.rows.items()}
    everything = universe(kit, replicas)
    reference = kit.dump_rows(kit.merge_all(everything))
    fast.receive(everything)
    assert kit.dump_rows(fast.rows) == reference
    for r in others:
        r.receive(everything)
        assert kit.dump_rows(r.rows) == reference


def test_relabeling_keeps_order_and_lands_above_everything_kept() -> None:
    """The fresh HLCs keep the order of the old ones and are all greater than the highest HLC kept."""
    old = [pack(T_FAR, 5), pack(T_FAR, 1), pack(T_FAR + 9, 0)]
    mapping = relabeling(old, pack(T_NOW, 3))
    assert [mapping[h] for h in sorted(old)] == sorted(mapping.values())
    assert min(mapping.values()) > pack(T_NOW, 3)
