"""Operations: readiness, Prometheus metrics, and waking other hub processes.

* ``GET /ready`` — 200 when the store answers and the notifier is connected, else 503 (``FS-9002``);
  ``/health`` (liveness) is in the app itself.
* ``GET /metrics`` — Prometheus text format: connected devices, initial syncs in progress, pushes, changes
  committed, rejects by code, conflicts, fan-out lag (histogram) and the deepest per-device queue,
  notifications received.

At start this module connects the configured notifier (``fieldsync.server.notify``): every commit of this
process is announced, every announcement from another process makes this hub read the change log after its
head, and a poll every ``POLL_S`` seconds covers lost announcements.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from fieldsync.server.compaction import CompactionReport, compact, log_floor
from fieldsync.server.notify import make_notifier
from fieldsync.server.settings import Settings
from fieldsync.sync import errors as E

POLL_S = 2.0
COMPACT_EVERY_S = 3600.0


class Ops:
    """Per-app metrics and the notifier wiring."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.hub = app.state.hub
        self.notifier = make_notifier(app.state.settings)
        self.registry = CollectorRegistry()
        self.changes = Counter("fieldsync_changes_committed", "Changes committed to the log and fanned out", registry=self.registry)
        self.notes = Counter("fieldsync_notifications_received", "Wake-ups received from other hub processes", registry=self.registry)
        self.pushes = Counter("fieldsync_pushes", "Push batches answered (duplicates included)", ["duplicate"], registry=self.registry)
        self.rejects = Counter("fieldsync_rejects", "Changes rejected, by error code", ["code"], registry=self.registry)
        self.conflicts = Counter("fieldsync_conflicts", "Writes that lost to a concurrent write", registry=self.registry)
        self.lag = Histogram(
            "fieldsync_fanout_lag_seconds",
            "From commit to live frames leaving: per commit, until its last caught-up device's frame is written; per frame for devices catching up",
            registry=self.registry,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
        )
        Gauge("fieldsync_connected_devices", "Open device connections", registry=self.registry).set_function(lambda: len(self.hub.connections))
        Gauge("fieldsync_initial_syncs_in_progress", "Connections still in their initial sync", registry=self.registry).set_function(
            lambda: sum(1 for c in self.hub.connections if not c.live)
        )
        Gauge("fieldsync_log_head", "Highest committed sequence this process has seen", registry=self.registry).set_function(lambda: self.hub.head)
        Gauge("fieldsync_fanout_queue_depth_max", "Largest number of log entries a live device is behind", registry=self.registry).set_function(self._max_depth)
        self._last_remote = 0
        self._poller: asyncio.Task[None] | None = None
        self._compactor: asyncio.Task[None] | None = None

    def _max_depth(self) -> float:
        return float(max((self.hub.head - c.position for c in self.hub.connections if c.live), default=0))

    async def start(self) -> None:
        self.hub.listeners.append(self._on_commit)
        self.hub.push_listeners.append(self._on_push)
        self.hub.lag_listeners.append(self.lag.observe)
        await self.notifier.start(self._wake)
        if self.notifier.name != "memory":  # a shared store may have other writers: poll as a safety net
            self._poller = asyncio.create_task(self._poll())
        self.hub.log_floor = await asyncio.to_thread(log_floor, self.hub.store)
        self._compactor = asyncio.create_task(self._compact_forever())

    async def compact_now(self) -> CompactionReport:
        """Compact with the configured horizon (serialised with pushes by the store's write lock)."""
        settings = self.app.state.settings
        report = await asyncio.to_thread(
            compact, self.hub.store, horizon_days=settings.compaction_horizon_days, conflict_retention_days=settings.conflict_retention_days
        )
        self.hub.log_floor = max(getattr(self.hub, "log_floor", 0), report.floor)
        return report

    async def _compact_forever(self) -> None:
        while True:
            await asyncio.sleep(COMPACT_EVERY_S)
            with contextlib.suppress(E.FieldSyncError):
                await self.compact_now()

    async def stop(self) -> None:
        for task in (self._poller, self._compactor):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.notifier.stop()

    def _on_push(self, outcome: Any) -> None:
        self.pushes.labels(duplicate=str(outcome.duplicate).lower()).inc()
        if not outcome.duplicate:
            for reject in outcome.ack.get("rejects", ()):
                self.rejects.labels(code=reject["code"]).inc()
        self.conflicts.inc(len(outcome.conflicts))

    def _on_commit(self, entries: list[Any]) -> None:
        self.changes.inc(sum(e.count for e in entries))
        head = entries[-1].seq
        if head > self._last_remote:  # announce our own commits, not what we just read from others
            asyncio.get_running_loop().create_task(self.notifier.publish(head))

    async def _wake(self, head: int) -> None:
        self.notes.inc()
        self._last_remote = max(self._last_remote, head)
        if head > self.hub.head:
            await self.hub.catch_up_from_store()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            with contextlib.suppress(E.FieldSyncError):
                await self.hub.catch_up_from_store()


async def on_startup(app: FastAPI) -> None:
    ops = Ops(app)
    await ops.start()
    app.state.ops = ops


async def on_shutdown(app: FastAPI) -> None:
    await app.state.ops.stop()


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["ops"])

    @router.get("/ready")
    async def ready(request: Request) -> dict[str, Any]:
        """Readiness: the store answers (and the cross-hub notifier is connected)."""
        hub = request.app.state.hub
        started = time.perf_counter()
        head = await asyncio.to_thread(hub.store.head)
        return {"status": "ready", "head": str(head), "store_ms": round((time.perf_counter() - started) * 1000, 1), "notifier": request.app.state.ops.notifier.name}

    @router.get("/metrics")
    async def metrics(request: Request) -> Response:
        """Prometheus metrics of this process."""
        return Response(generate_latest(request.app.state.ops.registry), media_type=CONTENT_TYPE_LATEST)

    return router
