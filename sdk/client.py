"""``SyncClient``: the sync client for apps without asyncio (a background thread with its own loop).

``start()`` runs ``AsyncSyncClient.run()`` on a daemon thread; ``stop()``
ends it. ``sync_once()`` syncs in the calling thread instead (for scripts
and plain worker threads). ``await client.wait_synced()`` works from any
event loop; ``client.wait_synced_blocking()`` from any thread.

Callbacks run on the thread that caused them: pulled changes, conflicts and
status changes on the sync thread; local changes on the thread that wrote.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future

from fieldsync.sdk.async_client import AsyncSyncClient, StatusCallback
from fieldsync.sdk.records import ChangeEvent, SyncStatus, SyncSummary
from fieldsync.sdk.replica import Replica
from fieldsync.sdk.transport import Backoff, Transport
from fieldsync.sync.rules import Conflict


class SyncClient:
    """Keeps a ``Replica`` in sync with the hub at ``url`` from a background thread.

    ``transport=`` replaces the WebSocket transport (``fieldsync.sdk.testing``
    has in-memory and flaky ones); ``http_url=`` names the HTTP fallback
    endpoint (default: ``url`` with ``ws`` → ``http``); ``clock=`` is a
    milliseconds clock. ``token`` may be a function returning a fresh
    device token; it is called at every connection (expired tokens, FS-3002,
    are retried with a new one).
    """

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
        self._client = AsyncSyncClient(
            url,
            replica=replica,
            token=token,
            transport=transport,
            http_transport=http_transport,
            clock=clock,
            http_url=http_url,
            batch_changes=batch_changes,
            batch_bytes=batch_bytes,
            backoff=backoff,
            fallback_after=fallback_after,
            websocket_retry=websocket_retry,
        )
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    @property
    def replica(self) -> Replica:
        return self._client.replica

    @property
    def status(self) -> SyncStatus:
        """Online state, pending changes, last sync, last error, rejected records."""
        return self._client.status

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def on_change(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` for every local and pulled change; returns an unsubscribe function."""
        return self._client.on_change(callback)

    def on_conflict(self, callback: Callable[[Conflict], None]) -> Callable[[], None]:
        """Call ``callback`` when a value written here lost to a concurrent edit (it is restorable)."""
        return self._client.on_conflict(callback)

    def on_status(self, callback: StatusCallback) -> Callable[[], None]:
        """Call ``callback(SyncStatus)`` on every status change (on the sync thread)."""
        return self._client.on_status(callback)

    def start(self) -> None:
        """Start syncing in the background; reconnects by itself until ``stop()``."""
        with self._lock:
            if self.running:
                return
            ready = threading.Event()
            self._thread = threading.Thread(target=self._main, args=(ready,), name="fieldsync-sync", daemon=True)
            self._thread.start()
            ready.wait()

    def _main(self, ready: threading.Event) -> None:
        async def body() -> None:
            self._loop = asyncio.get_running_loop()
            self._client._bind()
            ready.set()
            await self._client.run()

        try:
            asyncio.run(body())
        finally:
            self._loop = None
            ready.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the background thread (unsent changes stay in the outbox)."""
        with self._lock:
            thread, loop = self._thread, self._loop
            if thread is None:
                return
            if loop is not None:
                try:
                    loop.call_soon_threadsafe(self._client.stop)
                except RuntimeError:
                    pass
            thread.join(timeout)
            self._thread = None

    def sync_once(self, *, timeout: float = 30.0) -> SyncSummary:
        """Push everything, pull until up to date, and return; in the calling thread."""
        if self.running:
            raise RuntimeError("sync_once() while start()ed: use wait_synced() instead")
        return asyncio.run(self._client.sync_once(timeout=timeout))

    def _submit_wait(self, timeout: float | None) -> Future[bool]:
        loop = self._loop
        if loop is None or not self.running:
            raise RuntimeError("the client is not running: call start() first")
        return asyncio.run_coroutine_threadsafe(self._client.wait_synced(timeout), loop)

    async def wait_synced(self, timeout: float | None = None) -> bool:
        """Wait (from any event loop) until caught up with nothing to push; False on timeout."""
        return await asyncio.wrap_future(self._submit_wait(timeout))

    def wait_synced_blocking(self, timeout: float | None = None) -> bool:
        """``wait_synced`` for plain threads."""
        return self._submit_wait(timeout).result()


__all__ = ["SyncClient"]
