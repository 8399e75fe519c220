"""Properties of the replica's change capture, by Hypothesis: the outbox is a complete record of the writes."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldsync.sdk import Replica

NAMES = st.sampled_from(["Acme", "华东电气", "Beta", "", "Zeta GmbH"])
TAGS = st.sampled_from(["vip", "north", "south", "key"])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), NAMES),
        st.tuples(st.just("name"), NAMES),
        st.tuples(st.just("tier"), st.sampled_from(["A", "B", None])),
        st.tuples(st.just("inc"), st.integers(-3, 5)),
        st.tuples(st.just("tag"), TAGS),
        st.tuples(st.just("untag"), TAGS),
        st.tuples(st.just("notes"), st.text(alphabet="ab c", max_size=12)),
        st.tuples(st.just("delete"), st.none()),
        st.tuples(st.just("restore"), st.none()),
    ),
    min_size=1,
    max_size=25,
)


def run_script(replica: Replica, ops: list[tuple[str, Any]], pick: random.Random) -> None:
    ids: list[str] = []
    for op, arg in ops:
        if op == "insert" or not ids:
            ids.append(replica.insert("accounts", {"name": arg if isinstance(arg, str) else "x"}).id)
            continue
        row = pick.choice(ids)
        alive = replica.get("accounts", row) is not None
        if op == "restore":
            if not alive:
                replica.restore("accounts", row)
        elif not alive:
            continue
        elif op == "delete":
            replica.delete("accounts", row)
        elif op == "inc":
            replica.increment("accounts", row, "visit_count", arg)
        elif op == "tag":
            replica.add_to_set("accounts", row, "tags", arg)
        elif op == "untag":
            replica.remove_from_set("accounts", row, "tags", arg)
        else:
            replica.update("accounts", row, {op: arg})


def drain(replica: Replica) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while (batch := replica.take_batch(max_changes=7, max_bytes=4096)) is not None:
        out.extend(json.loads(text) for text in batch.changes)
        replica.complete_batch(batch.batch_id, [])
    return out


def snapshot(replica: Replica) -> dict[str, Any]:
    rows = {r.id: r.values for r in replica.query("accounts")}
    states = {row: replica.row_state("accounts", row) for row in rows}
    return {"rows": rows, "states": states}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, seed=st.integers(0, 10_000), chunks=st.integers(1, 6))
def test_replaying_the_outbox_in_any_chunking_and_order_rebuilds_the_same_replica(
    ops: list[tuple[str, Any]], seed: int, chunks: int
) -> None:
    """Another replica that merges the outbox changes, split and shuffled anyhow, ends identical."""
    pick = random.Random(seed)
    a = Replica.open(":memory:")
    b = Replica.open(":memory:")
    try:
        run_script(a, ops, pick)
        changes = drain(a)
        assert a.pending_count == 0
        size = max(1, len(changes) // chunks)
        parts = [changes[i : i + size] for i in range(0, len(changes), size)]
        pick.shuffle(parts)
        for n, part in enumerate(parts):
            b.apply_pages([], part, cursor=f"c:{n}")
        assert snapshot(b) == snapshot(a)
        assert b.hlc.last >= max((int(c["h"]) for c in changes), default=0)
    finally:
        a.close()
        b.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=OPS, seed=st.integers(0, 10_000))
def test_a_snapshot_of_row_states_rebuilds_the_same_replica(ops: list[tuple[str, Any]], seed: int) -> None:
    """Rows sent as whole states (a snapshot), raw or parsed, rebuild the same replica."""
    pick = random.Random(seed)
    a = Replica.open(":memory:")
    b = Replica.open(":memory:")
    try:
        run_script(a, ops, pick)
        ids = [row.id for row in a.query("accounts")]
        from fieldsync.sync.merge import dumps_state

        texts = [dumps_state(s) for s in (a.row_state("accounts", i) for i in ids) if s is not None]
        b.apply_pages([json.loads(t) for t in texts], [], cursor="s:1", raw_rows=texts)
        assert snapshot(b) == snapshot(a)
    finally:
        a.close()
        b.close()
