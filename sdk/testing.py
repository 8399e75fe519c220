"""Fakes for testing apps that embed the SDK: a manual clock and in-memory transports.

Only the seams are faked (``clock=`` and ``transport=``); the replica, the
session and the client under test are the real ones::

    clock = FakeClock(1_764_000_000_000)
    replica = Replica.open(tmp_path / "rep.db", clock=clock)
    transport = MemoryTransport(my_fake_hub)            # an ``async def my_fake_hub(conn)``
    client = AsyncSyncClient("ws://test/v1/sync", replica=replica, token="t",
                             transport=FlakyTransport(transport, lose_acks=1))

``MemoryTransport`` connects to an async handler (or queues the server ends
for ``accept()``); ``FlakyTransport`` wraps any transport and drops the
connection after a number of frames in either direction, or right after
losing an ``ack``, for its first ``faults`` connections.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from typing import Final

from fieldsync.sdk.transport import Connection, ConnectFailed, ConnectionLost, Transport

_CLOSED: Final = object()


class FakeClock:
    """A manual milliseconds clock: ``clock()`` reads it, ``advance(ms)`` moves it. Thread-safe."""

    def __init__(self, start_ms: int = 1_764_000_000_000) -> None:
        self._now = start_ms
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            return self._now

    def advance(self, ms: int) -> int:
        """Move the clock forward (or back, with a negative ``ms``: phones do that)."""
        with self._lock:
            self._now += ms
            return self._now

    def set(self, now_ms: int) -> None:
        with self._lock:
            self._now = now_ms


class MemoryConnection:
    """One end of an in-memory connection (both ends live on the same event loop)."""

    def __init__(self, inbox: asyncio.Queue[object], outbox: asyncio.Queue[object]) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self.closed = False

    async def send(self, text: str) -> None:
        if self.closed:
            raise ConnectionLost("connection closed")
        self._outbox.put_nowait(text)

    async def recv(self) -> str:
        if self.closed and self._inbox.empty():
            raise ConnectionLost("connection closed")
        item = await self._inbox.get()
        if item is _CLOSED:
            self.closed = True
            raise ConnectionLost("connection closed by peer")
        assert isinstance(item, str)
        return item

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._outbox.put_nowait(_CLOSED)
            self._inbox.put_nowait(_CLOSED)


def memory_pair() -> tuple[MemoryConnection, MemoryConnection]:
    """Two connected ends: (client, server)."""
    a: asyncio.Queue[object] = asyncio.Queue()
    b: asyncio.Queue[object] = asyncio.Queue()
    return MemoryConnection(a, b), MemoryConnection(b, a)


Handler = Callable[[MemoryConnection], Awaitable[None]]


class MemoryTransport:
    """Connects in memory to ``handler`` (run as a task per connection) or to ``accept()``.

    ``refuse``: the number of connection attempts to refuse first
    (``ConnectFailed``), e.g. to exercise the HTTP fallback.
    """

    name = "memory"

    def __init__(self, handler: Handler | None = None, *, refuse: int = 0) -> None:
        self._handler = handler
        self.refuse = refuse
        self.connections = 0
        self._accepted: asyncio.Queue[MemoryConnection] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def connect(self) -> Connection:
        if self.refuse > 0:
            self.refuse -= 1
            raise ConnectFailed("refused (MemoryTransport.refuse)")
        self.connections += 1
        client, server = memory_pair()
        if self._handler is not None:
            task = asyncio.get_running_loop().create_task(self._serve(server))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._queue().put_nowait(server)
        return client

    async def _serve(self, server: MemoryConnection) -> None:
        assert self._handler is not None
        try:
            await self._handler(server)
        except ConnectionLost:
            pass
        finally:
            await server.close()

    def _queue(self) -> asyncio.Queue[MemoryConnection]:
        if self._accepted is None:
            self._accepted = asyncio.Queue()
        return self._accepted

    async def accept(self) -> MemoryConnection:
        """The server end of the next connection (when no handler was given)."""
        return await self._queue().get()


class FlakyConnection:
    """Wraps a connection and breaks it as its ``FlakyTransport`` says."""

    def __init__(self, inner: Connection, owner: FlakyTransport, *, faulty: bool) -> None:
        self._inner = inner
        self._owner = owner
        self._faulty = faulty
        self.sent = 0
        self.received = 0

    async def _drop(self, why: str) -> ConnectionLost:
        self._owner.drops += 1
        await self._inner.close()
        return ConnectionLost(f"dropped by FlakyTransport ({why})")

    async def send(self, text: str) -> None:
        limit = self._owner.drop_after_sent
        if self._faulty and limit is not None and self.sent >= limit:
            raise await self._drop(f"after {limit} sent frames")
        self.sent += 1
        await self._inner.send(text)

    async def recv(self) -> str:
        limit = self._owner.drop_after_received
        if self._faulty and limit is not None and self.received >= limit:
            raise await self._drop(f"after {limit} received frames")
        text = await self._inner.recv()
        if self._faulty and self._owner.lose_acks > 0 and _is_ack(text):
            self._owner.lose_acks -= 1
            self._owner.lost_acks.append(text)
            raise await self._drop("lost an ack")
        self.received += 1
        return text

    async def close(self) -> None:
        await self._inner.close()


class FlakyTransport:
    """A transport wrapper that drops connections: after N frames either way, or by losing acks.

    Faults apply to the first ``faults`` connections; later ones are clean,
    so a client under test can recover. ``lose_acks``: how many ``ack``
    frames to swallow (each one drops its connection, as a cut right before
    the ack arrives would). ``drops`` counts the connections broken.
    """

    def __init__(
        self,
        inner: Transport,
        *,
        drop_after_sent: int | None = None,
        drop_after_received: int | None = None,
        lose_acks: int = 0,
        faults: int = 1,
    ) -> None:
        self.inner = inner
        self.name = f"flaky-{inner.name}"
        self.drop_after_sent = drop_after_sent
        self.drop_after_received = drop_after_received
        self.lose_acks = lose_acks
        self.faults = faults
        self.drops = 0
        self.lost_acks: list[str] = []

    async def connect(self) -> Connection:
        conn = await self.inner.connect()
        faulty = self.faults > 0
        self.faults -= 1
        return FlakyConnection(conn, self, faulty=faulty)


def _is_ack(text: str) -> bool:
    if '"ack"' not in text:
        return False
    try:
        return bool(json.loads(text).get("type") == "ack")
    except (ValueError, AttributeError):
        return False


__all__ = ["FakeClock", "FlakyTransport", "MemoryConnection", "MemoryTransport", "memory_pair"]
