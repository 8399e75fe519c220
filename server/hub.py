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

Scopes (``docs/security.md``): once the organisation has users, a token is
accepted only for a known, enabled user on a device registered to that user
and not revoked; the connection's ``ScopeView`` filters every page and live
frame (``feed.py``), pushes are checked against the write scope on the writer
thread (so the check and the write see the same row owners), and the hub
watches the organisation's version: when it moves, every connection is
re-authorised (revoked devices get ``purge`` and are closed at once) and
re-scoped (rows lost are evicted, rows gained are sent whole).

Timers (hello timeout, rate limits, the organisation watch) live here; the
protocol rules live in ``fieldsync.sync`` and the paging in ``feed.py``.
"""

from __future__ import annotations

import asyncio
import bisect
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from fieldsync.server.auth.tokens import verify_token
from fieldsync.server.eager import start_eagerly
from fieldsync.server.feed import (
    Cursor,
    Visibility,
    gained_states,
    next_page_set,
    page_from_entries,
    parse_cursor,
    scope_entries,
    visibility_for,
)
from fieldsync.server.org.audit import AuditLog
from fieldsync.server.org.devices import DeviceRegistry
from fieldsync.server.org.scopes import ScopeView, compute_view
from fieldsync.server.org.store import OrgStore
from fieldsync.server import logs
from fieldsync.server.push import push_request
from fieldsync.server.settings import Settings
from fieldsync.server.wsproto import DIRECT_SEND, OutFrame
from fieldsync.server.writer import Writer
from fieldsync.server.store.base import BatchOutcome, ChangeStore, LogEntry, Principal
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.schema import Schema

log = logging.getLogger("fieldsync.hub")


def window_after(recent: deque[LogEntry], head: int, seq: int, limit: int) -> list[LogEntry] | None:
    """Up to ``limit`` entries after ``seq`` from ``recent`` (the window, in sequence order, ending at ``head``),
    or None if the window no longer reaches back to ``seq``.

    Sequences in the window are consecutive but for holes an erasure can leave
    (it deletes the erased row's records): the position is computed, checked,
    and searched for when a hole makes the computation miss.
    """
    if seq >= head:
        return []
    if not recent or recent[0].seq > seq + 1:
        return None
    start = seq + 1 - recent[0].seq
    if start >= len(recent) or recent[start].seq != seq + 1:
        start = bisect.bisect_right(recent, seq, key=_seq_of)
    return [recent[i] for i in range(start, min(len(recent), start + limit))]


def _seq_of(entry: LogEntry) -> int:
    return entry.seq


HELLO_TIMEOUT_S = 15.0
RECENT_WINDOW = 100_000
MAX_STRIKES = 10


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
    ws: Any = None
    pending_scope: ScopeView | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # held while a frame is being written
    looping: bool = False  # its live loop is at work (not parked on ``wake``)
    stalled: asyncio.Task[Any] | None = None  # a fast-path write waiting for the socket to drain
    direct: Callable[[OutFrame], bool] | None = None  # the server protocol's synchronous write (server/wsproto.py), if any


class Hub:
    """Fan-out and push handling for one server process."""

    def __init__(self, store: ChangeStore, settings: Settings, schema: Schema, *, org: OrgStore | None = None) -> None:
        self.store = store
        self.settings = settings
        self.schema = schema
        self.org = org or OrgStore(store.engine)  # type: ignore[attr-defined]
        self.devices = DeviceRegistry(self.org)
        self.audit = AuditLog(self.org)
        self._org_version = -1
        self._views: dict[tuple[int, str], ScopeView] = {}
        self._watcher: asyncio.Task[None] | None = None
        self.connections: set[Connection] = set()
        self.recent: deque[LogEntry] = deque(maxlen=RECENT_WINDOW)
        self.head = 0
        self.log_floor = 0  # newest sequence compacted away (set by the ops module)
        self.push_listeners: list[Callable[[BatchOutcome], None]] = []  # after each push (metrics)
        # fan-out lag (metrics): per commit on the fast path (commit to its last frame written), per frame for a device catching up
        self.lag_listeners: list[Callable[[float], None]] = []
        self.published_at: deque[tuple[int, float]] = deque(maxlen=4096)  # (head, monotonic time) of recent publishes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._gap: asyncio.Task[None] | None = None  # a catch-up from the store after a gap in published entries
        self._gap_again = False
        self.writer = Writer(store, self._publish_from_writer)
        self.listeners: list[Callable[[list[LogEntry]], None]] = []

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.head = await asyncio.to_thread(self.store.head)
        self._org_version = await asyncio.to_thread(self.org.version)
        self._watcher = asyncio.create_task(self._watch_org())

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            try:
                await self._watcher
            except (asyncio.CancelledError, Exception):
                pass
        for conn in list(self.connections):
            conn.closed = True
            conn.wake.set()
        await asyncio.to_thread(self.writer.stop)

    # --- pushes ------------------------------------------------------------------

    def authenticate(self, token: str) -> Principal:
        """The principal of a device token (blocking: reads the organisation and device registry)."""
        claims = verify_token(self.settings.secret_key, token)
        org = self.org.load()
        if not org.enforced:
            device = self.devices.get(claims.site)
            if device is not None and device.revoked:
                raise E.AuthError(E.DEVICE_REVOKED)
            return Principal(claims.user_id, claims.department_id, claims.site)
        user = org.users.get(claims.user_id)
        if user is None:
            raise E.AuthError(E.UNAUTHENTICATED, "unknown user")
        if user.disabled:
            raise E.AuthError(E.DEVICE_REVOKED, "the user is disabled")
        self.devices.bind(claims.site, user.id)
        return Principal(user.id, user.department_id, claims.site)

    def scope_for(self, principal: Principal) -> ScopeView | None:
        """The principal's scope view, or None while the organisation is empty (open development server)."""
        org = self.org.load()
        if not org.enforced:
            return None
        key = (org.version, principal.user_id)
        view = self._views.get(key)
        if view is None:
            if len(self._views) > 10_000:
                self._views.clear()
            view = self._views[key] = compute_view(org, principal.user_id, [t.name for t in self.schema.tables])
        return view

    async def push(self, principal: Principal, msg: P.Push) -> dict[str, Any]:
        """Validate and durably apply one batch; returns the ack."""
        request = push_request(
            self.schema, principal, msg, now_ms=int(time.time() * 1000), scope=lambda: self.scope_for(principal)
        )
        self._bind_loop()
        try:
            outcome = await asyncio.wrap_future(self.writer.push(request))
        except E.FieldSyncError:
            raise
        except Exception as exc:  # the group's transaction failed as a whole (a database fault): typed, retryable
            log.exception("push %s from %s failed in the store", msg.batch, principal.site)
            raise E.ServerError(E.INTERNAL) from exc
        for listener in self.push_listeners:
            listener(outcome)
        return outcome.ack

    async def server_write(self, table: str, row_id: str, values: dict[str, Any]) -> BatchOutcome:
        """Write ``values`` into a row as the server (reassignments, verdicts) and fan it out."""
        return await self.write(lambda: self.store.server_write(table, row_id, values))  # type: ignore[attr-defined]

    async def write(self, fn: Callable[[], BatchOutcome]) -> BatchOutcome:
        """Run a store write on the writer thread and publish what it committed, in commit order."""
        self._bind_loop()
        return await asyncio.wrap_future(self.writer.run(fn))

    def _bind_loop(self) -> None:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()

    def _publish_from_writer(self, entries: list[LogEntry]) -> None:
        """Called on the writer thread after each commit: hand the entries to the event loop."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.publish, entries)

    def publish(self, entries: list[LogEntry]) -> None:
        """Make committed entries visible to every connection (event-loop thread), in sequence order.

        Entries must follow the head without a gap. With several hub processes
        on one store they may not: another process committed between this
        one's head and its own new entries, and its wake-up has not arrived
        yet. Publishing across the gap would move every device's cursor past
        entries it never got; so the hub reads everything after its head from
        the store instead (``_fill_gap``), the new entries included -- they
        are committed -- and publishes in order from there.
        """
        if not entries or entries[-1].seq <= self.head:
            return
        fresh = [e for e in entries if e.seq > self.head]
        if self._gap is not None or fresh[0].seq != self.head + 1:
            self._fill_gap()
            return
        self._publish_run(fresh)

    def _fill_gap(self) -> None:
        """Catch up from the store, once at a time; a request while one runs makes it read again."""
        self._gap_again = True
        if self._gap is None:
            self._gap = asyncio.get_running_loop().create_task(self._read_gap())

    async def _read_gap(self) -> None:
        try:
            while self._gap_again:
                self._gap_again = False
                while True:
                    entries = await asyncio.to_thread(self.store.changes_after, self.head, self.settings.page_rows)
                    fresh = [e for e in entries if e.seq > self.head]
                    if fresh:
                        self._publish_run(fresh)
                    if len(entries) < self.settings.page_rows:
                        break
        except Exception:  # the store is unreachable: the next commit or the log poll asks again
            log.warning("catching up the log after a gap failed", exc_info=True)
        finally:
            self._gap = None

    def _publish_run(self, fresh: list[LogEntry]) -> None:
        """Publish entries that follow the head (or, after a store read, whatever the store holds after it)."""
        previous = self.head
        self.recent.extend(fresh)
        self.head = fresh[-1].seq
        started = time.monotonic()
        self.published_at.append((self.head, started))
        self._fan_out(fresh, previous, started)
        for listener in self.listeners:
            listener(fresh)

    def _fan_out(self, fresh: list[LogEntry], previous: int, started: float) -> None:
        """Write ``fresh`` to every live device now, or wake its loop when it needs more than one shared frame.

        The fast path serves devices that are caught up (at ``previous``) and
        idle: the frame is built once per view class (``Visibility.class_key``)
        -- once per device only for the devices whose own changes are in it --
        and written without waking the device's task (``start_eagerly``). The
        rest (behind, busy, being re-scoped, custom filters, and every device
        when an entry moves or erases a row) are woken and catch up in their
        live loop as before. A connection's lock keeps its frames in order
        either way.
        """
        simple = not any(e.moved_from is not None or e.erased for e in fresh)
        sites = {e.site for e in fresh}
        seq = f"c:{self.head}"
        shared: dict[tuple[int, int, bool], OutFrame | None] = {}
        written = 0
        for conn in self.connections:
            if not conn.live or conn.closed:
                continue
            key = conn.view.class_key
            if not simple or key is None or conn.position != previous or conn.looping or conn.lock.locked() or conn.pending_scope:
                conn.wake.set()
                continue
            if conn.principal.site in sites:
                frame = _live_frame(fresh, conn.view, seq)
            elif key in shared:
                frame = shared[key]
            else:
                frame = shared[key] = _live_frame(fresh, conn.view, seq)
            conn.position = self.head
            if frame is not None:
                self._write_now(conn, frame)
                written += 1
        if written:
            lag = time.monotonic() - started
            for listener in self.lag_listeners:
                listener(lag)

    def _write_now(self, conn: Connection, frame: OutFrame) -> None:
        """Write a frame without waking the connection's task; a socket that must drain gets a task of its own.

        The caller made sure no other write of this connection is under way (its lock is free), so writing
        through the protocol directly keeps the frames in order.
        """
        try:
            if conn.direct is not None and conn.direct(frame):
                return
            conn.stalled = start_eagerly(conn.send(frame.text))
        except Exception:  # the socket is gone: its receive side ends the connection
            conn.closed = True
            conn.wake.set()
            return
        if conn.stalled is not None:
            conn.stalled.add_done_callback(lambda task, c=conn: _write_done(c, task))

    def _report_lag(self, position: int) -> None:
        """Seconds from publishing ``position`` to sending it to a device (fan-out lag), to the lag listeners."""
        if not self.lag_listeners:
            return
        for seq, at in reversed(self.published_at):
            if seq <= position:
                lag = time.monotonic() - at
                for listener in self.lag_listeners:
                    listener(lag)
                return

    async def catch_up_from_store(self) -> None:
        """Pull entries committed by other hub processes into the window (notifier wake-up)."""
        self._fill_gap()
        gap = self._gap
        if gap is not None:
            await asyncio.shield(gap)

    def entries_after(self, seq: int, limit: int) -> list[LogEntry] | None:
        """Entries after ``seq`` from the recent window, or None if the window no longer reaches back."""
        return window_after(self.recent, self.head, seq, limit)

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
            conn.looping = False
            await conn.wake.wait()
            conn.looping = True
            conn.wake.clear()
            if conn.pending_scope is not None and not conn.closed:
                new, conn.pending_scope = conn.pending_scope, None
                await self.rescope(conn, new)
            while not conn.closed and conn.position < self.head:
                entries = self.entries_after(conn.position, limit)
                if entries is None:
                    entries = await asyncio.to_thread(self.store.changes_after, conn.position, limit)
                if not entries:
                    break
                scoped = scope_entries(entries, conn.view)
                rows: list[str] = []
                if scoped.gained:
                    rows = await asyncio.to_thread(gained_states, self.store, conn.view, scoped.gained)
                if scoped.evicted:  # first: the cursor in the frame below must not pass an eviction not yet sent
                    await conn.send(json.dumps(P.evict(scoped.evicted)))
                conn.position = entries[-1].seq
                if scoped.bodies or rows:
                    await conn.send(P.changes_frame(rows=rows, changes=scoped.bodies, seq=f"c:{conn.position}", text_rows=conn.view.text_rows))
                    self._report_lag(conn.position)

    # --- scopes that change under a device ---------------------------------------------

    async def rescope(self, conn: Connection, new: ScopeView, old: ScopeView | None = None) -> None:
        """Move a device from its current scope to ``new``: evict the rows it lost, send the rows it gained."""
        old = old or conn.view.scope
        if old is None or old.same_reads(new):
            conn.view.scope = new
            return
        lost, gained = await asyncio.to_thread(self._scope_diff, old, new)
        conn.view.scope = new
        if lost:
            await conn.send(json.dumps(P.evict(lost)))
        if gained:
            rows = await asyncio.to_thread(gained_states, self.store, conn.view, gained)
            if rows:
                await conn.send(P.changes_frame(rows=rows, seq=f"c:{conn.position}", text_rows=conn.view.text_rows))
        await asyncio.to_thread(self.devices.seen, conn.principal.site, scope=new.to_json())

    def _scope_diff(self, old: ScopeView, new: ScopeView) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        lost: list[tuple[str, str]] = []
        gained: list[tuple[str, str]] = []
        for t in self.schema.tables:
            reshaped = old.hidden.get(t.name, frozenset()) != new.hidden.get(t.name, frozenset())
            for row_id, (owner, dept) in sorted(self.store.row_scopes(t.name).items()):  # type: ignore[attr-defined]
                before = old.reads(t.name, row_id, owner, dept)
                after = new.reads(t.name, row_id, owner, dept)
                if before and (not after or reshaped):
                    lost.append((t.name, row_id))
                if after and (not before or reshaped):
                    gained.append((t.name, row_id))
        return lost, gained

    async def _watch_org(self) -> None:
        """Poll the organisation's version; on a move, re-authorise and re-scope every connection."""
        while True:
            await asyncio.sleep(self.settings.org_poll_s)
            try:
                version = await asyncio.to_thread(self.org.version)
                if version != self._org_version:
                    self._org_version = version
                    # An erasure may have rewritten the log: forget the in-memory copy, re-read the store.
                    self.recent.clear()
                    await self.catch_up_from_store()
                    await self.org_changed()
            except E.FieldSyncError:
                log.warning("organisation watch: store unavailable")
            except Exception:  # keep watching; the next poll retries
                log.exception("organisation watch failed")

    async def org_changed(self) -> None:
        """Re-authorise and re-scope every live connection after an organisation or device change."""
        for conn in list(self.connections):
            if conn.closed:
                continue
            try:
                await asyncio.to_thread(self._reauthorise, conn.principal)
            except E.AuthError as err:
                await self.kick(conn, err)
                continue
            scope = await asyncio.to_thread(self.scope_for, conn.principal)
            if scope is not None and (conn.view.scope is None or not conn.view.scope.same_reads(scope)):
                conn.pending_scope = scope
                conn.wake.set()

    def _reauthorise(self, principal: Principal) -> None:
        org = self.org.load()
        device = self.devices.get(principal.site)
        if device is not None and device.revoked:
            raise E.AuthError(E.DEVICE_REVOKED)
        if org.enforced:
            user = org.users.get(principal.user_id)
            if user is None or user.disabled:
                raise E.AuthError(E.DEVICE_REVOKED, "the user is disabled")

    async def kick(self, conn: Connection, err: E.FieldSyncError) -> None:
        """Wipe (``purge``) and disconnect one device at once."""
        conn.closed = True
        conn.wake.set()
        self.connections.discard(conn)
        try:
            await conn.send(json.dumps(P.purge(str(err.detail.get("reason", "device_revoked")))))
        except Exception:  # the socket is already gone
            pass
        if conn.ws is not None:
            await self._fail(conn.ws, err, conn.send)

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
            try:
                principal = await asyncio.to_thread(self.authenticate, hello.token)
            except E.AuthError as err:
                if err.code is E.DEVICE_REVOKED:
                    await send(json.dumps(P.purge("device_revoked")))
                raise
            if principal.site != hello.site:
                raise E.AuthError(E.SITE_MISMATCH, "the hello site is not the token's site")
            logs.device.set(principal.site)
            logs.user.set(principal.user_id)
            if hello.schema > self.schema.version:
                raise E.ProtocolError(E.SCHEMA_TOO_NEW, f"server schema is {self.schema.version}")
            cursor = parse_cursor(hello.cursor, head=self.head, n_tables=len(self.schema.tables))
            reset = cursor is not None and cursor.seq < self.log_floor
            if reset:  # offline longer than the compaction horizon: a fresh snapshot, the device drops what it lacks
                cursor = None
            scope = await asyncio.to_thread(self.scope_for, principal)
            stale: ScopeView | None = None
            if scope is not None:
                device = await asyncio.to_thread(self.devices.get, principal.site)
                if device is not None and device.scope and device.scope != scope.to_json() and cursor is not None:
                    if cursor.snapshot:
                        cursor = None  # a half-done snapshot under another scope: start it again
                    stale = ScopeView.from_json(device.scope)
                await asyncio.to_thread(self.devices.seen, principal.site, scope=scope.to_json())
            text_rows = "row-text" in hello.features
            view = visibility_for(self.schema, principal.site, hello.schema, stale or scope, text_rows=text_rows)
            conn = Connection(principal, view, send, ws=ws, lock=lock, direct=ws.scope.get("extensions", {}).get(DIRECT_SEND))
            if stale is not None and scope is not None:
                conn.pending_scope = scope
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
                            features=hello.features,
                        ),
                        "user": principal.user_id,
                        "department": principal.department_id,
                    }
                )
            )
            if reset:
                await send(json.dumps(P.reset("cursor_too_old")))
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
            if conn.pending_scope is not None and cursor is not None:
                # The scope changed while the device was away: correct what it holds first.
                new, conn.pending_scope = conn.pending_scope, None
                conn.position = cursor.seq
                await self.rescope(conn, new)
            final = await self.initial_sync(conn, cursor)
            conn.position = final.seq
            if not live:
                return  # the device asked for no live frames; it closes when done pushing
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


def _live_frame(entries: list[LogEntry], view: Visibility, seq: str) -> OutFrame | None:
    """The live ``changes`` frame of ``entries`` for a view (None when it sees none of them)."""
    scoped = scope_entries(entries, view)
    return OutFrame(P.changes_frame(changes=scoped.bodies, seq=seq)) if scoped.bodies else None


def _write_done(conn: Connection, task: asyncio.Task[Any]) -> None:
    if conn.stalled is task:
        conn.stalled = None
    if not task.cancelled() and task.exception() is not None:  # the socket died while draining
        conn.closed = True
        conn.wake.set()


def page_for_http(hub: Hub, principal: Principal, cursor_text: str | None, client_schema: int) -> list[dict[str, Any]]:
    """The frames of one page set for the HTTP fallback (run in a worker thread)."""
    cursor = parse_cursor(cursor_text, head=hub.head, n_tables=len(hub.schema.tables))
    reset = cursor is not None and cursor.seq < hub.log_floor
    if reset:  # offline longer than the compaction horizon: a fresh snapshot, announced by a reset message
        cursor = None
    scope = hub.scope_for(principal)
    view = visibility_for(hub.schema, principal.site, client_schema, scope)
    if scope is not None:
        device = hub.devices.get(principal.site)
        stale = device is not None and device.scope and device.scope != scope.to_json()
        hub.devices.seen(principal.site, scope=scope.to_json())
        if stale and device is not None and device.scope and cursor is not None:
            if cursor.snapshot:
                cursor = None
            else:
                # The scope changed since this device's last pull: correct what it holds, same cursor.
                lost, gained = hub._scope_diff(ScopeView.from_json(device.scope), scope)
                rows = gained_states(hub.store, view, gained)
                return [
                    *([P.evict(lost)] if lost else []),
                    *([json.loads(P.changes_frame(rows=rows))] if rows else []),
                    json.loads(_checkpoint_for(cursor, rows)),
                ]
    page = next_page_set(hub.store, hub.schema, cursor, view, page_rows=hub.settings.page_rows)
    frames = [json.loads(f) for f in page.frames]
    return [P.reset("cursor_too_old"), *frames] if reset else frames


def _checkpoint_for(cursor: Cursor, rows: list[str]) -> str:
    checksum = P.PageChecksum()
    if rows:
        checksum.add(P.page_payload(rows=rows), len(rows))
    return json.dumps(P.checkpoint(cursor=cursor.encode(), checksum=checksum.hexdigest(), count=checksum.count, done=False))


__all__ = ["Hub", "page_for_http", "page_from_entries", "window_after"]
