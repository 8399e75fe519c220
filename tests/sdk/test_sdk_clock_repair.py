"""A device whose clock ran ahead of the hub's reach loses nothing: its writes are re-stamped and delivered."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from fieldsync.sdk import Backoff, Increment, Replica, SetOps, SyncClient
from fieldsync.sdk.testing import FakeClock
from fieldsync.sync.merge import dumps_state, loads_state

pytestmark = pytest.mark.timeout(120)

FAST = Backoff(base=0.01, cap=0.2)
DAY_MS = 24 * 3600 * 1000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def client(hub: Any, replica: Replica) -> SyncClient:
    return SyncClient(hub.ws_url, replica=replica, token=hub.token(replica), backoff=FAST)


def server_state(hub: Any, table: str, row_id: str) -> str:
    return hub.server.app.state.store.row_states(table, [row_id])[row_id]


def local_state(replica: Replica, table: str, row_id: str) -> str:
    state = replica._load_state(replica.schema.table(table), row_id)
    assert state is not None
    return dumps_state(state)


def test_offline_writes_of_a_clock_a_month_fast_all_reach_the_hub(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """Everything written offline while the clock was a month fast (every rule, a delete) is accepted, and the device,
    the hub and another device end with identical rows; the device's next writes are stamped near the hub's time."""
    fake = FakeClock(now_ms())
    a = open_replica("a", clock=fake)
    kept = a.insert("accounts", {"name": "Before", "tags": ["vip"]})
    gone = a.insert("accounts", {"name": "To delete"})
    client(hub, a).sync_once(timeout=20)
    fake.advance(30 * DAY_MS)  # the phone's clock jumps a month ahead while offline
    new = a.insert("accounts", {"name": "Future", "tier": "A"})
    a.update("accounts", kept.id, {"name": "After", "visit_count": Increment(2), "tags": SetOps(add=("east",), remove=("vip",))})
    a.update("accounts", kept.id, {"notes": "met the buyer"})
    a.delete("accounts", gone.id)
    summary = client(hub, a).sync_once(timeout=20)
    assert a.pending_count == 0 and a.errors == [] and summary.rejected == 0
    b = open_replica("b")
    client(hub, b).sync_once(timeout=20)
    record = b.get("accounts", kept.id)
    assert record is not None and (record["name"], record["visit_count"], record["tags"], record["notes"]) == (
        "After", 2, ["east"], "met the buyer"
    )
    assert b.get("accounts", new.id) is not None and b.get("accounts", gone.id) is None
    for row in (kept.id, gone.id, new.id):
        assert local_state(a, "accounts", row) == server_state(hub, "accounts", row) == local_state(b, "accounts", row)
    later = a.update("accounts", new.id, {"tier": "B"})
    assert later["tier"] == "B"
    assert loads_state(local_state(a, "accounts", new.id)).cells["tier"].hlc >> 16 < now_ms() + DAY_MS  # near real time again


def test_a_clock_that_jumps_ahead_mid_session_is_repaired_on_reconnect(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """A live device whose clock jumps ahead gets FS-2011 for its write, keeps it, reconnects, re-stamps it and delivers it."""
    fake = FakeClock(now_ms())
    a = open_replica("a", clock=fake)
    b = open_replica("b")
    live_a, live_b = client(hub, a), client(hub, b)
    live_a.start()
    live_b.start()
    try:
        wait(lambda: live_a.status.online and live_b.status.online)
        fake.advance(20 * DAY_MS)
        acct = a.insert("accounts", {"name": "Jumped"})
        wait(lambda: b.get("accounts", acct.id) is not None)
        wait(lambda: a.pending_count == 0)
        assert a.errors == []
        assert local_state(a, "accounts", acct.id) == server_state(hub, "accounts", acct.id)
    finally:
        live_a.stop()
        live_b.stop()


def test_a_write_an_older_sdk_dropped_is_sent_again(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """A far-ahead write that an SDK without clock repair dropped after its reject (kept only in the row) is queued again and delivered."""
    fake = FakeClock(now_ms())
    a = open_replica("a", clock=fake)
    fake.advance(30 * DAY_MS)
    acct = a.insert("accounts", {"name": "Dropped", "tier": "A"})
    with a._tx() as conn:  # what an older SDK left behind: the change gone from the outbox, an error instead
        conn.execute("DELETE FROM _fs_outbox")
        conn.execute(
            "INSERT INTO _fs_errors (tbl, row_id, field, code, name, message, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("accounts", acct.id, "name", "FS-2006", "bad_hlc", "hlc is too far in the future", 0),
        )
    client(hub, a).sync_once(timeout=20)
    assert a.pending_count == 0 and a.errors == []
    b = open_replica("b")
    client(hub, b).sync_once(timeout=20)
    record = b.get("accounts", acct.id)
    assert record is not None and (record["name"], record["tier"]) == ("Dropped", "A")


def test_retryable_rejects_stay_in_the_outbox(open_replica: Callable[..., Replica]) -> None:
    """An ack rejecting a change as retryable (FS-2011) leaves that change queued, out of any batch; other rejects drop theirs."""
    r = open_replica()
    first = r.insert("accounts", {"name": "One"})
    r.insert("accounts", {"name": "Two"})
    batch = r.take_batch(max_changes=100, max_bytes=1_000_000)
    assert batch is not None and len(batch.changes) == 2
    errors = r.complete_batch(batch.batch_id, [
        {"i": 0, "code": "FS-2011", "name": "clock_ahead", "message": "ahead", "retryable": True},
        {"i": 1, "code": "FS-2003", "name": "wrong_type", "message": "bad", "retryable": False},
    ])
    assert [e.code for e in errors] == ["FS-2003"]
    again = r.take_batch(max_changes=100, max_bytes=1_000_000)
    assert again is not None and again.batch_id != batch.batch_id
    assert [json.loads(c)["r"] for c in again.changes] == [first.id]


def wait(predicate: Callable[[], Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def test_a_server_clock_stepping_back_never_relabels_accepted_stamps(open_replica: Callable[..., Replica]) -> None:
    """Stamps a server accepted stay as they are even if a later welcome brings an earlier server time."""
    t = now_ms()
    fake = FakeClock(t + 5 * DAY_MS)  # five days fast: within a hub's reach
    r = open_replica(clock=fake)
    r.set_server_offset(-5 * DAY_MS)  # a welcome at the true time
    assert r.repair_clock() == 0
    acct = r.insert("accounts", {"name": "Acme"})
    batch = r.take_batch(max_changes=10, max_bytes=100_000)
    assert batch is not None
    r.complete_batch(batch.batch_id, [])  # accepted
    before = local_state(r, "accounts", acct.id)
    r.set_server_offset(-15 * DAY_MS)  # a later welcome from a hub whose clock is ten days behind
    assert r.repair_clock() == 0
    assert local_state(r, "accounts", acct.id) == before and r.pending_count == 0
