"""The real SDK against the real hub (uvicorn on 127.0.0.1:0): offline, convergence, exactly-once, resume, fallback."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from fieldsync.sdk import AsyncSyncClient, Backoff, ChangeEvent, Conflict, Replica, SyncClient
from fieldsync.sdk.testing import FakeClock, FlakyTransport
from fieldsync.sdk.transport import Connection, Transport, WebSocketTransport

pytestmark = pytest.mark.timeout(120)

FAST = Backoff(base=0.01, cap=0.2)
DAY_MS = 24 * 3600 * 1000


class Recording:
    """Transport wrapper that keeps every frame received, per connection."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.name = inner.name
        self.connections: list[list[dict[str, Any]]] = []

    async def connect(self) -> Connection:
        conn = await self.inner.connect()
        frames: list[dict[str, Any]] = []
        self.connections.append(frames)
        return _RecordingConnection(conn, frames)

    def frames(self, kind: str) -> list[dict[str, Any]]:
        return [f for conn in self.connections for f in conn if f.get("type") == kind]


class _RecordingConnection:
    def __init__(self, inner: Connection, frames: list[dict[str, Any]]) -> None:
        self._inner = inner
        self._frames = frames

    async def send(self, text: str) -> None:
        await self._inner.send(text)

    async def recv(self) -> str:
        text = await self._inner.recv()
        head, _, states = text.partition("\n")  # feature row-text: row states follow the JSON object, one per line
        self._frames.append({**json.loads(head), "state_lines": states.split("\n") if states else []})
        return text

    async def close(self) -> None:
        await self._inner.close()


def client(hub: Any, replica: Replica, **kw: Any) -> SyncClient:
    return SyncClient(hub.ws_url, replica=replica, token=hub.token(replica), backoff=FAST, **kw)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_offline_writes_survive_reopening_and_sync_later(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """Writes made with no network survive closing and reopening the replica, then reach another device."""
    a = open_replica("a")
    acct = a.insert("accounts", {"name": "华东电气", "tier": "A", "lat": 31.23, "lon": 121.47})
    a.update("accounts", acct.id, {"phone": "+8613812345678"})
    a.increment("accounts", acct.id, "visit_count", 2)
    pending = a.pending_count
    path = a.path
    a.close()

    a2 = Replica.open(path)
    assert a2.pending_count == pending > 0
    assert a2.get("accounts", acct.id) is not None
    summary = client(hub, a2).sync_once(timeout=20)
    assert summary.pushed == pending and a2.pending_count == 0

    b = open_replica("b")
    client(hub, b).sync_once(timeout=20)
    got = b.get("accounts", acct.id)
    assert got is not None
    assert (got["name"], got["phone"], got["visit_count"], got["lat"]) == ("华东电气", "+8613812345678", 2, 31.23)
    a2.close()


def test_concurrent_edits_to_different_fields_both_survive(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """Two devices editing different fields of one record offline both keep their edit after syncing."""
    a, b = open_replica("a"), open_replica("b")
    ca, cb = client(hub, a), client(hub, b)
    acct = a.insert("accounts", {"name": "Acme"})
    ca.sync_once(timeout=20)
    cb.sync_once(timeout=20)
    a.update("accounts", acct.id, {"phone": "111"})
    b.update("accounts", acct.id, {"industry": "steel"})
    b.add_to_set("accounts", acct.id, "tags", "vip")
    a.add_to_set("accounts", acct.id, "tags", "north")
    for c in (ca, cb, ca):
        c.sync_once(timeout=20)
    for replica in (a, b):
        rec = replica.get("accounts", acct.id)
        assert rec is not None
        assert (rec["phone"], rec["industry"], sorted(rec["tags"])) == ("111", "steel", ["north", "vip"])


def test_same_field_conflict_resolves_identically_and_the_loser_hears_of_it(
    hub: Any, open_replica: Callable[..., Replica]
) -> None:
    """A same-field conflict ends with one value on every replica; the losing device gets an on_conflict callback."""
    a, b = open_replica("a"), open_replica("b")
    ca, cb = client(hub, a), client(hub, b)
    acct = a.insert("accounts", {"name": "Acme", "notes": "met the buyer"})
    ca.sync_once(timeout=20)
    cb.sync_once(timeout=20)
    lost: dict[str, list[Conflict]] = {"a": [], "b": []}
    ca.on_conflict(lost["a"].append)
    cb.on_conflict(lost["b"].append)
    a.update("accounts", acct.id, {"tier": "A", "notes": "met the buyer; wants a quote"})
    b.update("accounts", acct.id, {"tier": "B", "notes": "Monday: met the buyer"})
    for c in (ca, cb, ca):
        c.sync_once(timeout=20)
    ra, rb = a.get("accounts", acct.id), b.get("accounts", acct.id)
    assert ra is not None and rb is not None
    assert ra["tier"] == rb["tier"] in {"A", "B"}
    assert ra["notes"] == rb["notes"] == "Monday: met the buyer; wants a quote"  # text merges, no conflict
    loser, winner_value = ("b", "A") if ra["tier"] == "A" else ("a", "B")
    conflicts = lost[loser]
    assert [(c.field, c.winner_value) for c in conflicts] == [("tier", winner_value)]
    assert conflicts[0].loser_value == ("B" if loser == "b" else "A")
    assert (a if loser == "a" else b).conflicts == conflicts
    assert lost["a" if loser == "b" else "b"] == []


def test_batch_resent_after_a_lost_ack_applies_once(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """A batch whose ack was lost is resent with the same id and content and the server answers it as a duplicate."""
    a = open_replica("a")
    acct = a.insert("accounts", {"name": "Acme"})
    a.increment("accounts", acct.id, "visit_count", 1)
    flaky = FlakyTransport(WebSocketTransport(hub.ws_url), lose_acks=1)
    recording = Recording(flaky)
    summary = SyncClient(hub.ws_url, replica=a, token=hub.token(a), transport=recording, backoff=FAST).sync_once(timeout=20)
    assert flaky.drops == 1 and a.pending_count == 0
    lost = json.loads(flaky.lost_acks[0])
    acks = recording.frames("ack")
    assert [(x["batch"], x["duplicate"]) for x in acks] == [(lost["batch"], True)]
    assert acks[0]["accepted"] == lost["accepted"] and summary.pushed == lost["accepted"]

    b = open_replica("b")
    client(hub, b).sync_once(timeout=20)
    got = b.get("accounts", acct.id)
    assert got is not None and got["visit_count"] == 1


def rows_in(frame: dict[str, Any]) -> int:
    """Row states in a ``changes`` frame, as objects (``rows``) or as lines of text (feature row-text)."""
    return len(frame["rows"]) + len(frame["state_lines"])


def test_client_cut_mid_initial_sync_resumes_without_redownloading(
    make_hub: Callable[..., Any], open_replica: Callable[..., Replica]
) -> None:
    """A fresh device cut off during its snapshot resumes from its last checkpoint instead of starting over."""
    hub = make_hub(page_rows=20)
    a = open_replica("a")
    for i in range(200):
        a.insert("accounts", {"name": f"Account {i:03d}"})
    client(hub, a).sync_once(timeout=30)

    b = open_replica("b")
    flaky = FlakyTransport(WebSocketTransport(hub.ws_url), drop_after_received=9)  # welcome + 4 pages + 4 checkpoints
    recording = Recording(flaky)
    SyncClient(hub.ws_url, replica=b, token=hub.token(b), transport=recording, backoff=FAST).sync_once(timeout=30)
    assert flaky.drops == 1 and b.count("accounts") == 200
    first, *rest = recording.connections
    rows_before_cut = sum(rows_in(f) for f in first if f["type"] == "changes")
    rows_after = sum(rows_in(f) for conn in rest for f in conn if f["type"] == "changes")
    assert rows_before_cut == 80
    assert rows_after == 200 - 80


def test_http_fallback_when_the_websocket_is_refused(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """With the WebSocket endpoint unreachable the client syncs both ways over HTTP push/pull."""
    a, b = open_replica("a"), open_replica("b")
    dead_ws = f"ws://127.0.0.1:{closed_port()}/v1/sync"
    acct = a.insert("accounts", {"name": "Acme"})
    ca = SyncClient(dead_ws, replica=a, token=hub.token(a), http_url=hub.http_sync_url, backoff=FAST)
    summary = ca.sync_once(timeout=20)
    assert summary.pushed > 0 and a.pending_count == 0
    assert ca.status.transport == "http"
    cb = SyncClient(dead_ws, replica=b, token=hub.token(b), http_url=hub.http_sync_url, backoff=FAST)
    cb.sync_once(timeout=20)
    got = b.get("accounts", acct.id)
    assert got is not None and got["name"] == "Acme"


def test_live_updates_arrive_via_on_change(hub: Any, open_replica: Callable[..., Replica], until: Callable[..., Any]) -> None:
    """A started client receives another device's change live and reports it through on_change."""
    a, b = open_replica("a"), open_replica("b")
    ca, cb = client(hub, a), client(hub, b)
    acct = a.insert("accounts", {"name": "Acme"})
    ca.sync_once(timeout=20)
    seen: list[ChangeEvent] = []
    cb.on_change(seen.append)
    cb.start()
    try:
        assert cb.wait_synced_blocking(timeout=20)
        assert cb.status.online
        a.update("accounts", acct.id, {"phone": "555"})
        ca.sync_once(timeout=20)
        until(lambda: (b.get("accounts", acct.id) or {}).get("phone") == "555")
        until(lambda: any(e.origin == "remote" and "phone" in e.fields for e in seen))
        b.update("accounts", acct.id, {"industry": "retail"})  # pushed by the running client by itself
        until(lambda: b.pending_count == 0)
        ca.sync_once(timeout=20)
        assert (a.get("accounts", acct.id) or {}).get("industry") == "retail"
    finally:
        cb.stop()
    assert not cb.running


def test_async_client_runs_inside_an_existing_event_loop(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """AsyncSyncClient.run() syncs from an app's own asyncio loop and wait_synced() reports catching up."""
    a = open_replica("a")
    a.insert("accounts", {"name": "Acme"})

    async def scenario() -> None:
        c = AsyncSyncClient(hub.ws_url, replica=a, token=hub.token(a), backoff=FAST)
        task = asyncio.create_task(c.run())
        assert await c.wait_synced(timeout=20)
        assert a.pending_count == 0 and c.status.online and c.status.last_synced_at is not None
        c.stop()
        await asyncio.wait_for(task, 10)

    asyncio.run(scenario())


def _now_ms() -> int:
    import time

    return time.time_ns() // 1_000_000


def test_delete_policies_hold_through_the_hub(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """Delete racing an update: accounts (update-wins) survive, leads (delete-wins) go and the editor hears of it."""
    a, b = open_replica("a"), open_replica("b")
    ca, cb = client(hub, a), client(hub, b)
    acct = a.insert("accounts", {"name": "Acme"})
    lead = a.insert("leads", {"name": "Zhang"})
    ca.sync_once(timeout=20)
    cb.sync_once(timeout=20)
    lost: list[Conflict] = []
    cb.on_conflict(lost.append)
    a.delete("accounts", acct.id)
    a.delete("leads", lead.id)
    b.update("accounts", acct.id, {"phone": "1"})
    b.update("leads", lead.id, {"phone": "2"})
    for c in (ca, cb, ca):
        c.sync_once(timeout=20)
    for replica in (a, b):
        assert (replica.get("accounts", acct.id) or {}).get("phone") == "1"
        assert replica.get("leads", lead.id) is None
    assert [(c.table, c.field, c.kind, c.loser_value) for c in lost] == [("leads", "phone", "deleted", "2")]


def test_running_client_reconnects_after_the_hub_restarts(
    make_hub: Callable[..., Any], open_replica: Callable[..., Replica], until: Callable[..., Any]
) -> None:
    """A started client rides out a hub restart: it reconnects by itself and pushes what was written meanwhile."""
    first = make_hub()
    port = first.server.port
    a = open_replica("a")
    ca = client(first, a)
    ca.start()
    try:
        assert ca.wait_synced_blocking(timeout=20)
        first.server.stop()
        until(lambda: not ca.status.online)
        acct = a.insert("accounts", {"name": "written while the hub was down"})
        second = make_hub(port=port)
        second.user = first.user
        until(lambda: ca.status.online and a.pending_count == 0, timeout=30)
    finally:
        ca.stop()
    b = open_replica("b")
    client(second, b).sync_once(timeout=20)
    assert b.get("accounts", acct.id) is not None


def test_bad_token_is_a_non_retryable_error_on_both_transports(hub: Any, open_replica: Callable[..., Replica]) -> None:
    """A token the hub refuses ends sync_once with SyncError FS-3001 over WebSocket and over HTTP."""
    from fieldsync.sdk import SyncError

    a = open_replica("a")
    a.insert("accounts", {"name": "Acme"})
    dead_ws = f"ws://127.0.0.1:{closed_port()}/v1/sync"
    for url in (hub.ws_url, dead_ws):
        c = SyncClient(url, replica=a, token="not-a-token", http_url=hub.http_sync_url, backoff=FAST)
        with pytest.raises(SyncError) as err:
            c.sync_once(timeout=20)
        assert err.value.code == "FS-3001" and not err.value.retryable
        assert c.status.last_error == "FS-3001"
    assert a.pending_count > 0


def test_live_updates_arrive_over_the_http_fallback(hub: Any, open_replica: Callable[..., Replica], until: Callable[..., Any]) -> None:
    """A started client stuck on HTTP keeps polling and delivers another device's change through on_change."""
    a, b = open_replica("a"), open_replica("b")
    acct = a.insert("accounts", {"name": "Acme"})
    client(hub, a).sync_once(timeout=20)
    dead_ws = f"ws://127.0.0.1:{closed_port()}/v1/sync"
    cb = SyncClient(dead_ws, replica=b, token=hub.token(b), http_url=hub.http_sync_url, backoff=FAST)
    seen: list[ChangeEvent] = []
    cb.on_change(seen.append)
    cb.start()
    try:
        assert cb.wait_synced_blocking(timeout=20) and cb.status.transport == "http"
        a.update("accounts", acct.id, {"tier": "A"})
        client(hub, a).sync_once(timeout=20)
        until(lambda: any(e.id == acct.id and "tier" in e.fields for e in seen))
        b.update("accounts", acct.id, {"phone": "9"})
        until(lambda: b.pending_count == 0)
    finally:
        cb.stop()
    client(hub, a).sync_once(timeout=20)
    assert (a.get("accounts", acct.id) or {}).get("phone") == "9"
