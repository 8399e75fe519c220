"""Live fan-out: shared frames written eagerly, and a device that stops reading never holds up the others."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
import websockets

from fieldsync.server.eager import start_eagerly

pytestmark = pytest.mark.timeout(180)


def test_a_stalled_device_holds_up_nobody_and_later_gets_everything_in_order(live_server: Any, raw_client: Any) -> None:
    """A device whose socket is full stalls alone: others keep receiving live; once it reads again it gets every change, in order."""
    server = live_server()

    async def scenario() -> None:
        pusher, _ = await raw_client.connect(server)
        fast, _ = await raw_client.connect(server)
        await pusher.sync_to_done()
        await fast.sync_to_done()
        # A device that stops reading: a tiny client-side queue, so the server's socket fills up quickly.
        site = "dev-slow-" + uuid.uuid4().hex[:6]
        slow = await websockets.connect(server.ws_url, max_size=64 * 1024 * 1024, max_queue=1, compression=None)
        await slow.send(json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": server.token(site=site), "site": site, "live": True}))
        while True:
            msg = json.loads(await slow.recv())
            if msg["type"] == "checkpoint" and msg["done"]:
                break
        hub = server.app.state.hub
        rows = []
        for batch in range(12):  # ~24 MB of live frames: far more than socket buffers hold
            changes = []
            for _ in range(500):
                row = str(uuid.uuid4())
                rows.append(row)
                changes.append(pusher.change(row, "address", f"{batch}:" + "x" * 4000))
            ack = await pusher.push(changes)
            assert ack["accepted"] == 500
            seen: set[str] = set()
            while not set(rows[-500:]) <= seen:  # the reading device has this batch before the next is pushed
                frame = await fast.until("changes", timeout=20)
                seen.update(c["r"] for c in frame["changes"] if c["f"] == "address")
        stalled = [c for c in hub.connections if c.principal.site == site]
        assert stalled
        # Its writes are waiting for the socket. (Read from another thread than the hub's loop: sampled until seen,
        # since between one write finishing and the next starting neither mark is set.)
        deadline = time.monotonic() + 5
        while not (stalled[0].stalled is not None or stalled[0].lock.locked()):
            assert time.monotonic() < deadline, "the device that stopped reading never had a write waiting"
            await asyncio.sleep(0.001)
        got: list[str] = []
        last = 0
        while len(got) < len(rows):  # now it reads: everything arrives, cursors only move forward
            msg = json.loads(await asyncio.wait_for(slow.recv(), 60))
            if msg["type"] != "changes":
                continue
            seq = int(msg["seq"].split(":")[1])
            assert seq > last
            last = seq
            got.extend(c["r"] for c in msg["changes"] if c["f"] == "address")
        assert got == rows
        await slow.close()
        await pusher.close()
        await fast.close()

    asyncio.run(scenario())


def test_idle_devices_get_live_frames_through_the_protocols_direct_write(live_server: Any, raw_client: Any) -> None:
    """A caught-up, idle device's live frames are written by the server protocol's synchronous ``send_now`` (no ASGI
    send), the short ones as shared uncompressed bytes and the long ones through the connection's compressor, and all
    arrive whole and in order."""
    server = live_server()

    async def scenario() -> None:
        pusher, _ = await raw_client.connect(server)
        reader, _ = await raw_client.connect(server)
        await pusher.sync_to_done()
        await reader.sync_to_done()
        hub = server.app.state.hub
        [conn] = [c for c in hub.connections if c.principal.site == reader.site]
        assert conn.direct is not None
        used: list[bool] = []
        direct = conn.direct
        conn.direct = lambda frame: used.append(direct(frame)) or used[-1]
        rows = [str(uuid.uuid4()) for _ in range(6)]
        for i, row in enumerate(rows):
            name = ("华东 " + row[:8]) * (200 if i % 2 else 1)  # every other frame above the 1 KiB deflate threshold
            assert (await pusher.push([pusher.change(row, "name", name)]))["accepted"] == 1
        got: list[str] = []
        while len(got) < len(rows):
            frame = await reader.until("changes", timeout=20)
            got.extend(c["r"] for c in frame["changes"] if c["f"] == "name")
        assert got == rows
        assert used and all(used)  # every live frame went out through the direct write
        await reader.close()
        await pusher.close()

    asyncio.run(scenario())


def test_start_eagerly_finishes_in_place_when_nothing_waits() -> None:
    """A coroutine that never waits completes inside the call: no task is made."""

    async def scenario() -> None:
        done: list[int] = []

        async def work() -> None:
            done.append(1)

        assert start_eagerly(work()) is None
        assert done == [1]

    asyncio.run(scenario())


def test_start_eagerly_hands_a_waiting_coroutine_to_a_task() -> None:
    """A coroutine that waits runs up to its first wait at once; a task finishes it, results and all."""

    async def scenario() -> None:
        steps: list[str] = []
        gate = asyncio.get_running_loop().create_future()

        async def work() -> None:
            steps.append("before")
            steps.append(await gate)
            await asyncio.sleep(0)
            steps.append("after")

        task = start_eagerly(work())
        assert task is not None and steps == ["before"]
        gate.set_result("value")
        await task
        assert steps == ["before", "value", "after"]

    asyncio.run(scenario())


def test_start_eagerly_reports_failures_where_they_happen() -> None:
    """An error before the first wait is raised to the caller; one after it ends the task with that error; cancelling reaches the coroutine."""

    async def scenario() -> None:
        async def fails_now() -> None:
            raise ConnectionError("gone")

        with pytest.raises(ConnectionError):
            start_eagerly(fails_now())

        gate = asyncio.get_running_loop().create_future()

        async def fails_later() -> None:
            await gate
            raise ConnectionError("gone later")

        task = start_eagerly(fails_later())
        assert task is not None
        gate.set_result(None)
        with pytest.raises(ConnectionError):
            await task

        cleaned: list[bool] = []

        async def cancelled() -> None:
            try:
                await asyncio.get_running_loop().create_future()
            finally:
                cleaned.append(True)

        task = start_eagerly(cancelled())
        assert task is not None
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cleaned == [True]

    asyncio.run(scenario())
