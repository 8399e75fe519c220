"""The sync hub: drives the protocol over WebSocket (and HTTP), owns fan-out.

Theory of operation
-------------------
One ``Hub`` per process. Pushes from every connection (and the HTTP
fallback) are validated on the event loop, then applied by a single writer
thread, so the store sees one batch at a time and sequence numbers follow
commit order. Right after a commit, still on the writer thread, the new log
entries are handed to the event loop (``call_soon_threadsafe``), appended to
an in-memory window of recent entries, and every connection is woken.

Each connection has a sender task: it first streams the device's initial
sync (snapshot and/or catch-up page sets read from the store), then loops:
wait to be woken, take the entries after its own position -- from the
recent window, or from the store if it fell behind the window -- drop what
the device must not see (its own changes, other scopes), and send one live
``changes`` frame with the new cursor. A slow device therefore gets fewer,
larger frames instead of an unbounded queue.

Timers (hello timeout, rate limits) live here; the protocol rules live in
``fieldsync.sync`` and the paging in ``feed.py``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from fieldsync.server.auth.tokens import verify_token
from fieldsync.server.feed import Cursor, Visibility, next_page_set, page_from_entries, parse_cursor, visibility_for
from fieldsync.server.settings import Settings
from fieldsync.server.store.base import BatchOutcome, ChangeStore, LogEntry, Principal
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.change import Change, change_from_wire
from fieldsync.sync.hlc import MAX_DRIFT_MS, wall_ms
from fieldsync.sync.schema import Schema

log = logging.getLogger("fieldsync.hub")

HELLO_TIMEOUT_S = 15.0
RECENT_WINDOW = 100_000
MAX_STRIKES = 10


def batch_digest(raw_changes: Sequence[Any]) -> str:
    """Content digest of a push batch (same changes, same digest)."""
    return hashlib.sha256(json.dumps(raw_changes, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def validate_changes(schema: Schema, principal: Principal, raw: Sequence[Any], *, now_ms: int) -> tuple[list[Change], list[P.Reject]]:
    """Split a push's changes into valid ``Change`` values and typed per-change rejects."""
    changes: list[Change] = []
    rejects: list[P.Reject] = []
    for i, item in enumerate(raw):
        try:
            ch = change_from_wire(item, schema, site=principal.site)
            if ch.field != "_cl" and schema.table(ch.table).field(ch.field).server_only:
                raise E.ValidationError(E.READ_ONLY_FIELD, f"{ch.table}.{ch.field} is written by the server only")
            if wall_ms(ch.hlc) - now_ms > MAX_DRIFT_MS:
                raise E.ValidationError(E.BAD_HLC, "hlc is too far in the future")
            changes.append(ch)
        except E.ValidationError as err:
            rejects.append(P.reject_from_error(i, err, item))
    return changes, rejects


class TokenBucket:
    """Frames per second allowed per connection (floods get FS-1009 and then a close)."""

    def __init__(self, rate: float, burst: float, now: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._now = rate, burst, now
        self.tokens, self.stamp = burst, now()

    def take(self) -> bool:
        t = self._now()
        self.tokens = min(self.burst, self.tokens + (t - self.stamp) * self.rate)
        self.stamp = t
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass(eq=False)
class Connection:
    """One live device connection."""

    principal: Principal
    view: Visibility
    send: Callable[[str], Any]
    position: int = 0
    live: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    closed: bool = False
    close_reason: dict[str, Any] | None = None


class Hub:
    """Fan-out and push handling for one server process."""

    def __init__(self, store: ChangeStore, settings: Settings, schema: Schema) -> None:
        self.store = store
        self.settings = settings
        self.schema = schema
        self.connections: set[Connection] = set()
        self.recent: deque[LogEntry] = deque(maxlen=RECENT_WINDOW)
        self.head = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fieldsync-writer")
        self._loop: asyncio.AbstractEventLoop | None = None
        self.listeners: list[Callable[[list[LogEntry]], None]] = []

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.head = await asyncio.to_thread(self.store.head)

    async def stop(self) -> None:
        for conn in list(self.connections):
            conn.closed = True
            conn.wake.set()
        self._writer.shutdown(wait=True)

    # --- pushes ------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal:
        claims = verify_token(self.settings.secret_key, token)
        return Principal(claims.user_id, claims.department_id, claims.site)

    async def push(self, principal: Principal, msg: P.Push) -> dict[str, Any]:
        """Validate and durably apply one batch; returns the ack."""
        now = int(time.time() * 1000)
        changes, rejects = validate_changes(self.schema, principal, msg.changes, now_ms=now)
        digest = batch_digest(msg.changes)
        outcome = await self.write(
            lambda: self.store.apply_batch(principal, msg.batch, digest, changes, rejects, len(msg.changes))
        )
        return outcome.ack

    async def write(self, fn: Callable[[], BatchOutcome]) -> BatchOutcome:
        """Run a store write on the writer thread and publish what it committed, in commit order."""
        loop = self._loop or asyncio.get_running_loop()

        def job() -> BatchOutcome:
            outcome = fn()
            if outcome.entries:
                loop.call_soon_threadsafe(self.publish, outcome.entries)
            return outcome

        return await loop.run_in_executor(self._writer, job)

    def publish(self, entries: list[LogEntry]) -> None:
        """Make committed entries visible to every connection (event-loop thread)."""
        if not entries or entries[-1].seq <= self.head:
            return
        fresh = [e for e in entries if e.seq > self.head]
        self.recent.extend(fresh)
        self.head = fresh[-1].seq
        for conn in self.connections:
            if conn.live:
                conn.wake.set()
        for listener in self.listeners:
            listener(fresh)

    async def catch_up_from_store(self) -> None:
        """Pull entries committed by other hub processes into the window (notifier wake-up)."""
        while True:
            entries = await asyncio.to_thread(self.store.changes_after, self.head, self.settings.page_rows)
            if not entries:
                return
            self.publish(entries)

    def entries_after(self, seq: int, limit: int) -> list[LogEntry] | None:
        """Entries after ``seq`` from the recent window, or None if the window no longer reaches back."""
        if seq >= self.head:
            return []
        if not self.recent or self.recent[0].seq > seq + 1:
            return None
        start = seq + 1 - self.recent[0].seq
        if start < 0:
            return None
        out = []
        for i in range(start, min(len(self.recent), start + limit)):
            out.append(self.recent[i])
        return out

    # --- feeding a connection ------------------------------------------------------

    async def initial_sync(self, conn: Connection, cursor: Cursor | None) -> Cursor:
        """Stream page sets until the device is caught up; returns the final cursor."""
        page_rows = self.settings.page_rows
        while True:
            page = await asyncio.to_thread(next_page_set, self.store, self.schema, cursor, conn.view, page_rows=page_rows)
            for frame in page.frames:
                await conn.send(frame)
            cursor = page.cursor
            if page.done:
                return cursor

    async def live_loop(self, conn: Connection) -> None:
        """Send live frames whenever the hub is woken, until the connection closes."""
        conn.live = True
        limit = self.settings.page_rows
        while not conn.closed:
            await conn.wake.wait()
            conn.wake.clear()
            while not conn.closed and conn.position < self.head:
                entries = self.entries_after(conn.position, limit)
                if entries is None:
                    entries = await asyncio.to_thread(self.store.changes_after, conn.position, limit)
                if not entries:
                    break
                visible = [e.body for e in entries if conn.view.sees_entry(e)]
                conn.position = entries[-1].seq
                if visible:
                    await conn.send(P.changes_frame(changes=visible, seq=f"c:{conn.position}"))

    # --- the WebSocket endpoint ----------------------------------------------------------

    async def serve_websocket(self, ws: WebSocket) -> None:
        """Run one device connection from accept to close."""
        await ws.accept()
        lock = asyncio.Lock()

        async def send(frame: str) -> None:
            async with lock:
                await ws.send_text(frame)

        conn: Connection | None = None
        sender: asyncio.Task[None] | None = None
        try:
            hello = await self._receive_hello(ws)
            principal = self.authenticate(hello.token)
            if principal.site != hello.site:
                raise E.AuthError(E.SITE_MISMATCH, "the hello site is not the token's site")
            if hello.schema > self.schema.version:
                raise E.ProtocolError(E.SCHEMA_TOO_NEW, f"server schema is {self.schema.version}")
            cursor = parse_cursor(hello.cursor, head=self.head, n_tables=len(self.schema.tables))
            conn = Connection(principal, visibility_for(self.schema, principal.site, hello.schema), send)
            await send(
                json.dumps(
                    {
                        **P.welcome(
                            site=principal.site,
                            session=str(uuid.uuid4()),
                            server_seq=self.head,
                            server_time_ms=int(time.time() * 1000),
                            schema=self.schema.version,
                            mode="catchup" if cursor is not None and not cursor.snapshot else "snapshot",
                        ),
                        "user": principal.user_id,
                        "department": principal.department_id,
                    }
                )
            )
            self.connections.add(conn)
            sender = asyncio.create_task(self._feed(conn, cursor, hello.live, ws))
            await self._receive_loop(ws, conn, send)
        except E.FieldSyncError as err:
            await self._fail(ws, err, send)
        except WebSocketDisconnect:
            pass
        finally:
            if conn is not None:
                conn.closed = True
                conn.wake.set()
                self.connections.discard(conn)
            if sender is not None:
                sender.cancel()
                try:
                    await sender
                except (asyncio.CancelledError, Exception):  # the socket is gone; nothing to report
                    pass

    async def _receive_hello(self, ws: WebSocket) -> P.Hello:
        try:
            raw = await asyncio.wait_for(ws.receive_text(), HELLO_TIMEOUT_S)
        except asyncio.TimeoutError:
            raise E.ProtocolError(E.NOT_HELLO, "no hello within the time limit") from None
        except KeyError:  # a binary frame
            raise E.ProtocolError(E.MALFORMED_MESSAGE, "frames are JSON text") from None
        msg = P.parse_client_message(raw, max_changes=self.settings.max_batch_changes)
        if not isinstance(msg, P.Hello):
            raise E.ProtocolError(E.NOT_HELLO)
        return msg

    async def _feed(self, conn: Connection, cursor: Cursor | None, live: bool, ws: WebSocket) -> None:
        try:
            final = await self.initial_sync(conn, cursor)
            conn.position = final.seq
            if not live:
                await ws.close(1000)
                return
            conn.wake.set()
            await self.live_loop(conn)
        except (WebSocketDisconnect, RuntimeError, ConnectionError):
            conn.closed = True
        except E.FieldSyncError as err:
            await self._fail(ws, err, conn.send)

    async def _receive_loop(self, ws: WebSocket, conn: Connection, send: Callable[[str], Any]) -> None:
        bucket = TokenBucket(rate=50.0, burst=200.0)
        strikes = 0
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            raw = message.get("text")
            try:
                if raw is None:
                    raise E.ProtocolError(E.MALFORMED_MESSAGE, "frames are JSON text")
                if len(raw) > self.settings.max_frame_bytes:
                    raise E.ProtocolError(E.FRAME_TOO_LARGE)
                if not bucket.take():
                    raise E.ProtocolError(E.RATE_LIMITED)
                msg = P.parse_client_message(raw, max_changes=self.settings.max_batch_changes)
                if isinstance(msg, P.Push):
                    ack = await self.push(conn.principal, msg)
                    await send(json.dumps(ack, ensure_ascii=False))
                else:
                    raise E.ProtocolError(E.MALFORMED_MESSAGE, f"{type(msg).__name__.lower()} is not expected now")
            except E.ServerError:
                raise
            except E.FieldSyncError as err:
                strikes += 1
                await send(json.dumps(P.error(err)))
                if strikes >= MAX_STRIKES:
                    raise

    async def _fail(self, ws: WebSocket, err: E.FieldSyncError, send: Callable[[str], Any]) -> None:
        log.info("closing connection: %s", err.code.code)
        if ws.application_state != WebSocketState.CONNECTED:
            return
        try:
            await send(json.dumps(P.error(err)))
            await ws.close(E.ws_close_code(err.code))
        except (RuntimeError, WebSocketDisconnect, ConnectionError):
            pass


def page_for_http(hub: Hub, principal: Principal, cursor_text: str | None, client_schema: int) -> list[dict[str, Any]]:
    """The frames of one page set for the HTTP fallback (run in a worker thread)."""
    cursor = parse_cursor(cursor_text, head=hub.head, n_tables=len(hub.schema.tables))
    view = visibility_for(hub.schema, principal.site, client_schema)
    page = next_page_set(hub.store, hub.schema, cursor, view, page_rows=hub.settings.page_rows)
    return [json.loads(f) for f in page.frames]


__all__ = ["Hub", "batch_digest", "page_for_http", "page_from_entries", "validate_changes"]
