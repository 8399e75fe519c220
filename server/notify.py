"""Waking other hub processes when this one commits: PostgreSQL LISTEN/NOTIFY, local sockets, Redis or NATS.

Theory of operation
-------------------
Several ``fieldsync serve`` processes share one store (PostgreSQL, or an
SQLite file on one machine). A process that commits a batch publishes the new
head sequence on a channel; every process receives it and reads the change log after its own
head (``Hub.catch_up_from_store``), then fans the entries out to its devices.

The change log is the truth: a notification carries no data, only "look".
A lost or duplicated notification can only delay or repeat a read, never
lose or duplicate a change, and each process also polls the log every
``poll_s`` seconds as a safety net.

Backends: ``postgres`` (LISTEN/NOTIFY on the store itself: no extra
infrastructure), ``local`` (Unix datagram sockets between the processes of
one machine: the default for an SQLite file, which several processes may
share), ``redis`` (pub/sub) and ``nats`` (core subjects). ``memory`` (an
in-memory database: one process) does nothing.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import hashlib
import logging
import os
import socket
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from fieldsync.server.settings import Settings
from fieldsync.server.store.filelock import database_file

log = logging.getLogger("fieldsync.notify")
CHANNEL = "fieldsync_changes"
Wake = Callable[[int], Awaitable[None]]


class Notifier(Protocol):
    """Publishes commit heads and delivers other processes' heads to ``wake``."""

    name: str

    async def start(self, wake: Wake) -> None: ...

    async def publish(self, head: int) -> None: ...

    async def stop(self) -> None: ...


class MemoryNotifier:
    """One process: nothing to wake."""

    name = "memory"

    async def start(self, wake: Wake) -> None:
        return None

    async def publish(self, head: int) -> None:
        return None

    async def stop(self) -> None:
        return None


class _Listening(abc.ABC):
    """Shared plumbing: a listener task that reconnects with backoff; backends define ``_listen``."""

    name = "base"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None
        self._wake: Wake | None = None
        self.received = 0

    async def start(self, wake: Wake) -> None:
        self._wake = wake
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._forever(ready))
        await asyncio.wait_for(ready.wait(), 15)

    async def _forever(self, ready: asyncio.Event) -> None:
        delay = 0.2
        while True:
            try:
                await self._listen(ready)
                delay = 0.2
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the broker went away: keep the hub serving, retry
                log.warning("%s notifier lost its connection (%s); retrying in %.1fs", self.name, exc, delay)
                ready.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def _deliver(self, payload: bytes | str) -> None:
        self.received += 1
        try:
            head = int(payload)
        except (TypeError, ValueError):
            return
        if self._wake is not None:
            await self._wake(head)

    @abc.abstractmethod
    async def _listen(self, ready: asyncio.Event) -> None:
        """Subscribe, set ``ready``, then deliver every message until the connection ends."""

    @abc.abstractmethod
    async def publish(self, head: int) -> None:
        """Announce that the log now reaches ``head``."""

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._close()

    async def _close(self) -> None:
        return None


def _libpq_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


class PostgresNotifier(_Listening):
    """LISTEN/NOTIFY on the store's own database."""

    name = "postgres"

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.url = _libpq_url(url)
        self.channel = channel
        self._pub: object | None = None
        self._pub_lock = asyncio.Lock()

    async def _listen(self, ready: asyncio.Event) -> None:
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(f'LISTEN "{self.channel}"')
            ready.set()
            async for note in conn.notifies():
                await self._deliver(note.payload)

    async def publish(self, head: int) -> None:
        import psycopg

        async with self._pub_lock:
            for attempt in range(2):
                try:
                    if self._pub is None:
                        self._pub = await psycopg.AsyncConnection.connect(self.url, autocommit=True)
                    await self._pub.execute("SELECT pg_notify(%s, %s)", (self.channel, str(head)))  # type: ignore[attr-defined]
                    return
                except psycopg.Error as exc:
                    self._pub = None
                    if attempt:
                        log.warning("NOTIFY failed (%s); other hubs catch up by polling", exc)

    async def _close(self) -> None:
        if self._pub is not None:
            with contextlib.suppress(Exception):
                await self._pub.close()  # type: ignore[attr-defined]


class RedisNotifier(_Listening):
    """Redis pub/sub."""

    name = "redis"

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        import redis.asyncio as redis

        self.channel = channel
        self._client = redis.from_url(url)

    async def _listen(self, ready: asyncio.Event) -> None:
        pubsub = self._client.pubsub()
        await pubsub.subscribe(self.channel)
        ready.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    await self._deliver(message["data"])
        finally:
            await pubsub.aclose()

    async def publish(self, head: int) -> None:
        try:
            await self._client.publish(self.channel, str(head))
        except Exception as exc:  # redis errors: polling covers the gap
            log.warning("redis publish failed (%s); other hubs catch up by polling", exc)

    async def _close(self) -> None:
        await self._client.aclose()


class NatsNotifier(_Listening):
    """NATS core subject."""

    name = "nats"

    def __init__(self, url: str, subject: str = "fieldsync.changes") -> None:
        super().__init__()
        self.url = url
        self.subject = subject
        self._nc: object | None = None

    async def _listen(self, ready: asyncio.Event) -> None:
        import nats

        nc = await nats.connect(self.url, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        self._nc = nc
        done = asyncio.Event()

        async def handler(msg: object) -> None:
            await self._deliver(msg.data)  # type: ignore[attr-defined]

        await nc.subscribe(self.subject, cb=handler)
        await nc.flush()
        ready.set()
        await done.wait()  # runs until cancelled

    async def publish(self, head: int) -> None:
        if self._nc is None:
            return
        try:
            await self._nc.publish(self.subject, str(head).encode())  # type: ignore[attr-defined]
        except Exception as exc:  # nats errors: polling covers the gap
            log.warning("nats publish failed (%s); other hubs catch up by polling", exc)

    async def _close(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await self._nc.close()  # type: ignore[attr-defined]


class LocalNotifier(_Listening):
    """Hub processes on one machine (several ``fieldsync serve`` on one SQLite file): Unix datagram sockets.

    Each process binds a socket in ``directory`` (one directory per database
    file) and announces a commit by sending its head to every other socket
    there. A socket left by a process that died refuses the datagram and is
    removed; a receiver too busy to take one (its queue full) catches up at
    the next wake-up, the next commit's gap check or the log poll.
    """

    name = "local"

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.path: Path | None = None
        self._out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._out.setblocking(False)
        self._peers: list[str] = []
        self._listed = -1  # the directory's mtime when ``_peers`` was read

    async def _listen(self, ready: asyncio.Event) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = self.directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        sock.setblocking(False)
        self.path = path
        inbox: asyncio.Queue[bytes] = asyncio.Queue()
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(lambda: _Inbox(inbox), sock=sock)
        ready.set()
        try:
            while True:
                await self._deliver(await inbox.get())
        finally:
            transport.close()
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # the last process out removes the directory (a newcomer recreates it)
                self.directory.rmdir()

    def peers(self) -> list[str]:
        """The other processes' sockets (re-listed only when the directory changed)."""
        try:
            mtime = self.directory.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        if mtime != self._listed:
            own = str(self.path)
            self._peers = [str(p) for p in self.directory.glob("*.sock") if str(p) != own]
            self._listed = mtime
        return self._peers

    async def publish(self, head: int) -> None:
        payload = str(head).encode()
        for peer in self.peers():
            try:
                self._out.sendto(payload, peer)
            except (ConnectionRefusedError, FileNotFoundError):  # its process is gone
                with contextlib.suppress(OSError):
                    Path(peer).unlink()
                self._listed = -1
            except BlockingIOError:  # its queue is full: it catches up later (see the class docstring)
                log.warning("hub socket %s is not keeping up; it will catch up from the log", peer)

    async def _close(self) -> None:
        self._out.close()


class _Inbox(asyncio.DatagramProtocol):
    def __init__(self, inbox: asyncio.Queue[bytes]) -> None:
        self.inbox = inbox

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.inbox.put_nowait(data)


def local_directory(database_url: str) -> Path:
    """Where the hub processes of one SQLite file meet: a short path (socket paths are limited to 107 bytes)."""
    key = hashlib.sha256(str(database_file(database_url)).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"fieldsync-{os.getuid()}-{key}"


def make_notifier(settings: Settings) -> Notifier:
    """The notifier the settings ask for (``auto``: PostgreSQL's own for a PostgreSQL store, ``local`` for an
    SQLite file, none for an in-memory database)."""
    kind = settings.notifier
    if kind == "auto":
        if not settings.is_sqlite:
            kind = "postgres"
        else:
            kind = "local" if database_file(settings.database_url) is not None else "memory"
    if kind == "memory":
        return MemoryNotifier()
    if kind == "local":
        return LocalNotifier(local_directory(settings.database_url))
    if kind == "postgres":
        return PostgresNotifier(settings.database_url)
    if kind == "redis":
        return RedisNotifier(settings.redis_url)
    if kind == "nats":
        return NatsNotifier(settings.nats_url)
    raise ValueError(f"unknown notifier {kind!r}: memory, local, postgres, redis or nats")


__all__ = ["LocalNotifier", "MemoryNotifier", "NatsNotifier", "Notifier", "PostgresNotifier", "RedisNotifier", "make_notifier"]
