"""The sync client's I/O policy over the shipped fakes: reconnects, backoff, fatal errors, purge, fallback."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from fieldsync.sdk import AsyncSyncClient, Backoff, Replica, SyncClient, SyncError, SyncStatus
from fieldsync.sdk.testing import FakeClock, FlakyTransport, MemoryConnection, MemoryTransport
from fieldsync.sdk.transport import ConnectionLost, fs_code_from_close
from fieldsync.sync import protocol as P

pytestmark = pytest.mark.timeout(60)
FAST = Backoff(base=0.001, cap=0.01)
Open = Callable[..., Replica]


class TinyHub:
    """A scripted in-memory hub: optional error or purge per connection, then welcome, done, acks."""

    def __init__(self, script: list[dict[str, Any] | None] | None = None) -> None:
        self.script = list(script or [])
        self.pushed: list[dict[str, Any]] = []
        self.hellos: list[dict[str, Any]] = []

    async def __call__(self, conn: MemoryConnection) -> None:
        hello = json.loads(await conn.recv())
        self.hellos.append(hello)
        first = self.script.pop(0) if self.script else None
        if first is not None:
            await conn.send(json.dumps(first))
            return
        await conn.send(json.dumps(P.welcome(site=hello["site"], session="s", server_seq=1, server_time_ms=1_764_000_000_000, schema=1, mode="catchup")))
        await conn.send(json.dumps(P.checkpoint(cursor="c:1", checksum=P.PageChecksum().hexdigest(), count=0, done=True)))
        while True:
            msg = json.loads(await conn.recv())
            if msg["type"] == "push":
                self.pushed.extend(msg["changes"])
                await conn.send(json.dumps(P.ack(msg["batch"], seq=2, accepted=len(msg["changes"]), rejects=[])))


def error(code: str, name: str, retryable: bool) -> dict[str, Any]:
    return {"type": "error", "code": code, "name": name, "retryable": retryable, "message": name}


def test_backoff_is_exponential_with_full_jitter_and_a_cap() -> None:
    """Delays are uniform below min(cap, base·2ⁿ): zero jitter gives 0, full jitter the ceiling."""
    assert [Backoff(base=1, cap=10, jitter=lambda: 1.0).delay(n) for n in range(6)] == [1, 2, 4, 8, 10, 10]
    assert Backoff(jitter=lambda: 0.0).delay(3) == 0
    rng = random.Random(7)
    assert all(0 <= Backoff(base=0.5, cap=30, jitter=rng.random).delay(n) <= min(30, 0.5 * 2**n) for n in range(100))


def test_close_codes_map_back_to_error_codes() -> None:
    """A hub close code 4000 + 100·family + number names its FS code."""
    assert fs_code_from_close(4305) == "FS-3005" and fs_code_from_close(4001 + 1000 - 1000) == "FS-0001"
    assert fs_code_from_close(1006) is None and fs_code_from_close(None) is None


def test_fake_clock_moves_only_when_told() -> None:
    """FakeClock reads a fixed time that advance() and set() change."""
    clock = FakeClock(1_000)
    assert clock() == 1_000 and clock.advance(500) == 1_500 and clock() == 1_500
    clock.set(10)
    assert clock() == 10


def test_sync_once_pushes_everything_over_an_in_memory_transport(open_replica: Open) -> None:
    """sync_once over MemoryTransport pushes the outbox and returns a summary once caught up."""
    r = open_replica()
    for i in range(7):
        r.insert("accounts", {"name": f"n{i}"})
    hub = TinyHub()
    client = SyncClient("ws://test/v1/sync", replica=r, token="t", transport=MemoryTransport(hub), batch_changes=3, backoff=FAST)
    summary = client.sync_once(timeout=10)
    assert (summary.pushed, summary.rejected, summary.cursor) == (7, 0, "c:1")
    assert len(hub.pushed) == 7 and r.pending_count == 0 and r.cursor == "c:1"
    assert client.status.last_synced_at is not None and client.status.last_error is None


def test_retryable_errors_reconnect_with_backoff(open_replica: Open) -> None:
    """A retryable error frame and a dropped connection are followed by reconnects until the sync succeeds."""
    r = open_replica()
    r.insert("accounts", {"name": "Acme"})
    hub = TinyHub([error("FS-9003", "overloaded", True)])
    flaky = FlakyTransport(MemoryTransport(hub), drop_after_sent=0, faults=2)
    summary = asyncio.run(AsyncSyncClient("ws://t", replica=r, token="t", transport=flaky, backoff=FAST).sync_once(timeout=10))
    assert summary.pushed == 1 and flaky.drops == 2 and len(hub.hellos) == 2


def test_non_retryable_errors_stop_the_client_and_show_in_status(open_replica: Open) -> None:
    """A non-retryable error ends run() and sets status.last_error; sync_once raises SyncError."""
    r = open_replica()
    hub = TinyHub([error("FS-3001", "unauthenticated", False)] * 2)
    seen: list[SyncStatus] = []

    async def scenario() -> None:
        client = AsyncSyncClient("ws://t", replica=r, token="bad", transport=MemoryTransport(hub), backoff=FAST)
        client.on_status(seen.append)
        await asyncio.wait_for(client.run(), 10)
        assert client.status.last_error == "FS-3001" and not client.status.online
        with pytest.raises(SyncError) as err:
            await client.sync_once(timeout=10)
        assert err.value.code == "FS-3001" and not err.value.retryable

    asyncio.run(scenario())
    assert any(s.last_error == "FS-3001" for s in seen)


def test_purge_wipes_the_replica_and_stops_syncing(open_replica: Open) -> None:
    """A purge frame wipes the replica and run() returns."""
    r = open_replica()
    r.insert("accounts", {"name": "Acme"})
    hub = TinyHub([{"type": "purge", "reason": "device_revoked"}])
    asyncio.run(asyncio.wait_for(AsyncSyncClient("ws://t", replica=r, token="t", transport=MemoryTransport(hub), backoff=FAST).run(), 10))
    assert r.count("accounts") == 0 and r.pending_count == 0 and r.purged == "device_revoked"


def test_falls_back_after_refused_websockets_and_tries_the_websocket_again(open_replica: Open) -> None:
    """After repeated connect failures the fallback transport syncs, and the WebSocket is retried later."""
    r = open_replica()
    r.insert("accounts", {"name": "Acme"})
    ws_hub, http_hub = TinyHub(), TinyHub()
    ws = MemoryTransport(ws_hub, refuse=2)
    http = MemoryTransport(http_hub)
    http.name = "http"

    async def scenario() -> None:
        client = AsyncSyncClient(
            "ws://t", replica=r, token="t", transport=ws, http_transport=http, backoff=FAST, fallback_after=2, websocket_retry=0.2
        )
        task = asyncio.create_task(client.run())
        assert await client.wait_synced(timeout=10)
        assert client.status.transport == "http" and len(http_hub.pushed) == 1
        while ws.connections == 0:  # the WebSocket is tried again after websocket_retry
            await asyncio.sleep(0.01)
        assert await client.wait_synced(timeout=10)
        client.stop()
        await asyncio.wait_for(task, 10)
        assert client.status.transport == "memory"

    asyncio.run(scenario())


def test_threaded_client_starts_stops_and_guards_sync_once(open_replica: Open) -> None:
    """start() syncs in the background, sync_once() is refused meanwhile, stop() ends the thread."""
    r = open_replica()
    hub = TinyHub()
    client = SyncClient("ws://t", replica=r, token="t", transport=MemoryTransport(hub), backoff=FAST)
    client.start()
    try:
        assert client.wait_synced_blocking(timeout=10)
        with pytest.raises(RuntimeError):
            client.sync_once()
        r.insert("accounts", {"name": "Acme"})
        assert asyncio.run(client.wait_synced(timeout=10)) and r.pending_count == 0
    finally:
        client.stop()
    assert not client.running and len(hub.pushed) == 1
    client.stop()  # idempotent


def test_memory_transport_accept_and_flaky_receive_drop() -> None:
    """MemoryTransport hands server ends to accept(); FlakyTransport drops after N received frames."""

    async def scenario() -> None:
        inner = MemoryTransport()
        flaky = FlakyTransport(inner, drop_after_received=1)
        client = await flaky.connect()
        server = await inner.accept()
        await client.send("hi")
        assert await server.recv() == "hi"
        await server.send("one")
        await server.send("two")
        assert await client.recv() == "one"
        with pytest.raises(ConnectionLost):
            await client.recv()
        assert flaky.drops == 1
        with pytest.raises(ConnectionLost):
            await server.recv()

    asyncio.run(scenario())


def test_a_token_function_is_asked_for_a_fresh_token_at_every_connection(open_replica: Open) -> None:
    """When token is a callable, each connection's hello carries the token it returns at that moment."""
    r = open_replica()
    hub = TinyHub([error("FS-3002", "token_expired", True)])
    tokens = iter(["old", "new"])
    summary = asyncio.run(
        AsyncSyncClient("ws://t", replica=r, token=lambda: next(tokens), transport=MemoryTransport(hub), backoff=FAST).sync_once(timeout=10)
    )
    assert [h["token"] for h in hub.hellos] == ["old", "new"] and summary.cursor == "c:1"


class HangingTransport:
    """A transport whose connect never completes (a dead network that drops packets)."""

    name = "hanging"

    async def connect(self) -> Any:
        await asyncio.Event().wait()


def test_stop_interrupts_a_hanging_connect_and_writes_do_not_cut_backoff(open_replica: Open) -> None:
    """stop() ends a client stuck connecting; local writes during a backoff do not trigger reconnects."""
    r = open_replica()
    hub = TinyHub([error("FS-9003", "overloaded", True)])
    transport = MemoryTransport(hub)

    async def scenario() -> None:
        slow = Backoff(base=30, cap=30, jitter=lambda: 1.0)
        client = AsyncSyncClient("ws://t", replica=r, token="t", transport=transport, backoff=slow)
        task = asyncio.create_task(client.run())
        while len(hub.hellos) < 1 or client.status.last_error is None:
            await asyncio.sleep(0.01)
        for i in range(5):
            r.insert("accounts", {"name": f"n{i}"})
            await asyncio.sleep(0.01)
        assert transport.connections == 1  # still backing off
        client.stop()
        await asyncio.wait_for(task, 5)
        hanging = AsyncSyncClient("ws://t", replica=r, token="t", transport=HangingTransport(), backoff=FAST)
        task = asyncio.create_task(hanging.run())
        await asyncio.sleep(0.05)
        hanging.stop()
        await asyncio.wait_for(task, 5)

    asyncio.run(scenario())
