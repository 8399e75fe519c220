"""The asyncio sync client: connects, drives a ``ClientSession``, reconnects, falls back to HTTP.

``AsyncSyncClient`` runs inside an existing event loop (``await client.run()``
or ``await client.sync_once()``); ``SyncClient`` (``client.py``) runs it on a
background thread for apps without asyncio.

Reconnecting: retryable failures (lost connections, retryable ``FS-`` codes,
checksum mismatches) wait ``Backoff.delay(attempt)`` (exponential, full
jitter, capped) and try again; the attempt count resets once a session is
welcomed. Non-retryable failures (bad token, revoked device, unsupported
version) stop ``run()`` and show in ``status.last_error``.

Falling back: after ``fallback_after`` consecutive WebSocket connection
failures, the client syncs over HTTP, and tries the WebSocket again after
``websocket_retry`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, TypeVar

from fieldsync.sdk.fallback import HttpTransport, http_url_for
from fieldsync.sdk.records import ChangeEvent, SyncStatus, SyncSummary
from fieldsync.sdk.replica import Replica
from fieldsync.sdk.session import Acked, Applied, ClientSession, Event, Failed, Purged
from fieldsync.sdk.transport import Backoff, Connection, ConnectFailed, Transport, TransportError, WebSocketTransport
from fieldsync.sync import errors as E
from fieldsync.sync.rules import Conflict

log = logging.getLogger("fieldsync.sdk")
_T = TypeVar("_T")
#: Seconds a session gets to wind down after ``stop()`` before it is cancelled.
STOP_GRACE_S = 2.0

StatusCallback = Callable[[SyncStatus], None]


class SyncError(Exception):
    """Syncing stopped on an error the app must handle (``code``: an ``FS-`` code)."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


class AsyncSyncClient:
    """Sync one ``Replica`` with the hub at ``url``, from asyncio code."""

    def __init__(
        self,
        url: str,
        *,
        replica: Replica,
        token: str | Callable[[], str],
        transport: Transport | None = None,
        http_transport: Transport | None = None,
        clock: Callable[[], int] | None = None,
        http_url: str | None = None,
        batch_changes: int = 500,
        batch_bytes: int = 512 * 1024,
        backoff: Backoff = Backoff(),
        fallback_after: int = 2,
        websocket_retry: float = 60.0,
    ) -> None:
        self.url = url
        self.replica = replica
        #: The device token, or a function returning a fresh one (called at every connection).
        self.token = token
        self._transport: Transport = transport or WebSocketTransport(url)
        if http_transport is None and (http_url is not None or transport is None):
            http_transport = HttpTransport(http_url or http_url_for(url))
        self._http = http_transport
        self._clock = clock or replica.now_ms
        self.batch_changes = batch_changes
        self.batch_bytes = batch_bytes
        self.backoff = backoff
        self.fallback_after = fallback_after
        self.websocket_retry = websocket_retry
        self._ws_failures = 0
        self._status = SyncStatus()
        self._status_callbacks: list[StatusCallback] = []
        self._stopping = False
        self._wake: asyncio.Event | None = None  # local writes and stop(): push now
        self._stop_event: asyncio.Event | None = None  # stop() only: cuts a backoff short
        self._synced: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        replica.subscribe(self._on_replica_change)

    # --- app API ---------------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        """Online state, pending changes, last sync, last error, rejected records."""
        errors = {e.record_id: e.code for e in self.replica.errors}
        return replace(self._status, pending=self.replica.pending_count, errors=errors)

    def on_change(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` for every local and pulled change; returns an unsubscribe function."""
        return self.replica.subscribe(callback)

    def on_conflict(self, callback: Callable[[Conflict], None]) -> Callable[[], None]:
        """Call ``callback`` when a value written here lost to a concurrent edit."""
        return self.replica.on_conflict(callback)

    def on_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Call ``callback(SyncStatus)`` whenever the status changes."""
        self._status_callbacks.append(callback)
        return lambda: self._status_callbacks.remove(callback) if callback in self._status_callbacks else None

    def stop(self) -> None:
        """Ask ``run()`` to finish (from the loop's thread; ``SyncClient.stop`` handles other threads)."""
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if self._stop_event is not None:
            self._stop_event.set()

    async def run(self) -> None:
        """Sync until ``stop()``: live updates, pushes as the app writes, reconnects by itself.

        Returns after ``stop()``, a purge, or a non-retryable error (then in
        ``status.last_error``).
        """
        self._bind()
        self._stopping = False
        assert self._stop_event is not None
        self._stop_event.clear()
        attempt = 0
        while not self._stopping:
            outcome = await self._until_stopped(self._attempt(live=True, until_synced=False))
            if outcome is None:
                return
            session, err = outcome
            if session is not None and session.welcomed:
                attempt = 0
            if err is not None and not err.retryable:
                return
            if session is not None and session.purged is not None:
                return
            await self._sleep(self.backoff.delay(attempt))
            attempt += 1

    async def _until_stopped(self, work: Coroutine[Any, Any, _T]) -> _T | None:
        """Run ``work``; on ``stop()`` give it a moment to finish cleanly (a session notices by
        itself), then cancel it (a connect attempt hanging on a dead network). None if stopped."""
        assert self._stop_event is not None
        task = asyncio.ensure_future(work)
        stopped = asyncio.ensure_future(self._stop_event.wait())
        try:
            await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not task.done():
                await asyncio.wait({task}, timeout=STOP_GRACE_S)
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return None
            return task.result()
        finally:
            stopped.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopped

    async def sync_once(self, *, timeout: float = 30.0) -> SyncSummary:
        """Connect, push the whole outbox, pull until the final checkpoint, disconnect.

        Retries retryable failures with backoff within ``timeout`` seconds;
        raises ``SyncError`` for a non-retryable one and ``TimeoutError``
        when time runs out.
        """
        self._bind()
        self._stopping = False
        tally = _Tally()
        attempt = 0

        async def loop() -> SyncSummary:
            nonlocal attempt
            while True:
                session, err = await self._attempt(live=True, until_synced=True, tally=tally)
                if session is not None and session.synced:
                    return SyncSummary(tally.pushed, tally.rejected, tally.pulled, self.replica.cursor)
                if session is not None and session.purged is not None:
                    raise SyncError(E.DEVICE_REVOKED.code, f"replica purged: {session.purged}")
                if err is not None and not err.retryable:
                    raise err
                if session is not None and session.welcomed:
                    attempt = 0
                await asyncio.sleep(self.backoff.delay(attempt))
                attempt += 1

        return await asyncio.wait_for(loop(), timeout)

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait until caught up with nothing left to push (``run()`` must be running); False on timeout."""
        self._bind()
        assert self._synced is not None
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # --- internals -----------------------------------------------------------------------------

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop = loop
            self._wake = asyncio.Event()
            self._stop_event = asyncio.Event()
            self._synced = asyncio.Event()

    def _on_replica_change(self, event: ChangeEvent) -> None:
        if event.origin != "local" or self._loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            self._loop.call_soon_threadsafe(self._local_write)

    def _local_write(self) -> None:
        if self._synced is not None:
            self._synced.clear()
        if self._wake is not None:
            self._wake.set()
        self._set_status()

    def _set_status(self, **changes: Any) -> None:
        self._status = replace(self._status, **changes)
        status = self.status
        for callback in list(self._status_callbacks):
            try:
                callback(status)
            except Exception:
                log.exception("status callback failed")

    async def _sleep(self, seconds: float) -> None:
        # Local writes do not cut a backoff short: a rep typing offline must not hammer the hub.
        assert self._stop_event is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_event.wait(), seconds)

    def _pick(self) -> tuple[Transport, float | None]:
        """The transport for the next attempt and, for the fallback, how long to stay on it."""
        if self._http is not None and self._ws_failures >= self.fallback_after:
            return self._http, self.websocket_retry
        return self._transport, None

    async def _attempt(
        self, *, live: bool, until_synced: bool, tally: _Tally | None = None
    ) -> tuple[ClientSession | None, SyncError | None]:
        transport, limit = self._pick()
        try:
            token = self.token() if callable(self.token) else self.token
        except Exception as exc:  # the app's token refresh failed: try again later
            log.warning("token function failed: %s", exc)
            self._set_status(online=False, last_error="token_unavailable")
            return None, SyncError("token_unavailable", f"{type(exc).__name__}: {exc}"[:300], retryable=True)
        try:
            conn = await transport.connect()
        except ConnectFailed as exc:
            if transport is self._transport:
                self._ws_failures += 1
            else:  # the fallback is down too: alternate, so the WebSocket gets its chance again
                self._ws_failures = self.fallback_after - 1
            self._set_status(online=False, last_error=exc.code or "connect_failed")
            return None, SyncError(exc.code or "connect_failed", str(exc), retryable=True)
        if transport is self._transport:
            self._ws_failures = 0
        elif limit is not None:
            self._ws_failures = self.fallback_after - 1  # one WebSocket failure brings us back here
        session = ClientSession(
            self.replica,
            token=token,
            live=live,
            batch_changes=self.batch_changes,
            batch_bytes=self.batch_bytes,
            now_ms=self._clock,
        )
        try:
            if limit is None:
                await self._drive(session, conn, until_synced, tally or _Tally(), transport.name)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._drive(session, conn, until_synced, tally or _Tally(), transport.name), limit)
        except TransportError as exc:
            session.connection_lost()
            self._set_status(online=False, last_error=exc.code or "connection_lost")
            code = exc.code or "connection_lost"
            retryable = E.CATALOGUE[code].retryable if code in E.CATALOGUE else True
            return session, SyncError(code, str(exc), retryable=retryable)
        except Exception as exc:  # a bug or a local failure (disk full): keep the sync thread alive
            log.exception("sync session crashed")
            session.connection_lost()
            self._set_status(online=False, last_error="client_error")
            return session, SyncError("client_error", f"{type(exc).__name__}: {exc}"[:300], retryable=True)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()
            if self._synced is not None:
                self._synced.clear()
        self._set_status(online=False)
        if session.failure is not None:
            fail = session.failure
            return session, SyncError(fail.code, fail.message, retryable=fail.retryable)
        return session, None

    async def _drive(
        self, session: ClientSession, conn: Connection, until_synced: bool, tally: _Tally, name: str
    ) -> None:
        assert self._wake is not None and self._synced is not None
        session.start()
        await _flush(session, conn)
        receiving: asyncio.Task[str] = asyncio.ensure_future(conn.recv())
        waking: asyncio.Task[bool] | None = None
        try:
            while not session.closed and not self._stopping:
                if session.synced and not self._synced.is_set():
                    self._synced.set()
                    self._set_status(last_synced_at=self._now(), last_error=None)
                if session.synced and until_synced:
                    return
                if waking is None:
                    self._wake.clear()
                    waking = asyncio.ensure_future(self._wake.wait())
                await asyncio.wait({receiving, waking}, return_when=asyncio.FIRST_COMPLETED)
                if receiving.done():
                    text = receiving.result()  # raises ConnectionLost
                    self._handle(session.receive(text), tally, name)
                    if not session.closed:
                        receiving = asyncio.ensure_future(conn.recv())
                if waking.done():
                    waking = None
                    session.local_changed()
                await _flush(session, conn)
        finally:
            for task in (receiving, waking):
                if task is not None and not task.done():
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task

    def _handle(self, events: list[Event], tally: _Tally, name: str) -> None:
        for event in events:
            if isinstance(event, Acked):
                tally.pushed += event.size - len(event.rejects)
                tally.rejected += len(event.rejects)
                self._set_status()
            elif isinstance(event, Applied):
                tally.pulled += event.count
                if event.live and self._synced is not None and self._synced.is_set():
                    self._set_status(last_synced_at=self._now())
            elif isinstance(event, Failed):
                log.warning("sync session failed: %s %s", event.code, event.message)
                self._set_status(online=False, last_error=event.code)
            elif isinstance(event, Purged):
                self._set_status(online=False, last_error=f"purged: {event.reason}")
            else:  # Welcomed, Evicted
                self._set_status(online=True, transport=name)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock() / 1000, tz=timezone.utc)


class _Tally:
    __slots__ = ("pulled", "pushed", "rejected")

    def __init__(self) -> None:
        self.pushed = 0
        self.rejected = 0
        self.pulled = 0


async def _flush(session: ClientSession, conn: Connection) -> None:
    for frame in session.data_to_send():
        await conn.send(frame)


__all__ = ["AsyncSyncClient", "SyncError"]
