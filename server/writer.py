"""The hub's one writer thread, with group commit for pushes.

Every store write of a hub process runs on this thread, so the store sees
one transaction at a time and the hub can publish committed entries in
commit order. Pushes that queue up while a transaction runs are taken
together and applied as one group (``ChangeStore.apply_batches``): one
transaction, one commit, one publish, however many devices pushed. Under
light load a group is a single push and nothing waits for company; under
heavy load the commit's cost is shared by every batch in it.

Other writes (server writes, erasures, restores) run alone, in queue order.
After each commit, ``publish`` is called with the committed entries (still
on this thread; the hub hands them to its event loop), and only then are
the callers' futures resolved.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from fieldsync.server.store.base import BatchOutcome, ChangeStore, LogEntry, PushRequest
from fieldsync.sync import errors as E

log = logging.getLogger("fieldsync.writer")

#: At most this many changes go into one group transaction (bounds its memory and latency).
MAX_GROUP_CHANGES = 20_000


@dataclass(slots=True)
class _Job:
    future: Future[Any]
    push: PushRequest | None = None
    fn: Callable[[], BatchOutcome] | None = None


class Writer:
    """Runs store writes one transaction at a time; groups queued pushes (see module docstring)."""

    def __init__(self, store: ChangeStore, publish: Callable[[list[LogEntry]], None], *, max_group_changes: int = MAX_GROUP_CHANGES) -> None:
        self._store = store
        self._publish = publish
        self._max = max_group_changes
        self._queue: deque[_Job] = deque()
        self._ready = threading.Condition()
        self._stopping = False
        self.groups = 0  # transactions that applied pushes (for metrics and tests)
        self.grouped = 0  # pushes applied in them
        self._thread = threading.Thread(target=self._run, name="fieldsync-writer", daemon=True)
        self._thread.start()

    def push(self, request: PushRequest) -> Future[BatchOutcome]:
        """Queue a push; the future resolves once it is committed (or failed on its own)."""
        return self._submit(_Job(Future(), push=request))

    def run(self, fn: Callable[[], BatchOutcome]) -> Future[BatchOutcome]:
        """Queue any other write (it opens its own transaction)."""
        return self._submit(_Job(Future(), fn=fn))

    def _submit(self, job: _Job) -> Future[Any]:
        with self._ready:
            if self._stopping:
                raise E.ServerError(E.UNAVAILABLE, "the server is shutting down")
            self._queue.append(job)
            self._ready.notify()
        return job.future

    def stop(self) -> None:
        """Finish what is queued, then end the thread."""
        with self._ready:
            self._stopping = True
            self._ready.notify()
        self._thread.join()

    # --- the thread --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._queue and not self._stopping:
                    self._ready.wait()
                if not self._queue:
                    return
                jobs = self._take()
            if jobs[0].push is not None:
                self._apply_pushes(jobs)
            else:
                self._apply_one(jobs[0])

    def _take(self) -> list[_Job]:
        """The next job, and with a push every push queued right behind it, up to the group limit."""
        first = self._queue.popleft()
        jobs = [first]
        if first.push is None:
            return jobs
        size = len(first.push.changes)
        while self._queue and self._queue[0].push is not None:
            size += len(self._queue[0].push.changes)  # type: ignore[union-attr]
            if size > self._max:
                break
            jobs.append(self._queue.popleft())
        return jobs

    def _apply_pushes(self, jobs: list[_Job]) -> None:
        try:
            results = self._store.apply_batches([job.push for job in jobs])  # type: ignore[misc]
        except BaseException as exc:  # the transaction failed as a whole: every push in it gets the error
            for job in jobs:
                job.future.set_exception(exc)
            return
        self.groups += 1
        self.grouped += len(jobs)
        entries = [e for r in results if isinstance(r, BatchOutcome) for e in r.entries]
        self._announce(entries)
        for job, result in zip(jobs, results):
            if isinstance(result, BaseException):
                job.future.set_exception(result)
            else:
                job.future.set_result(result)

    def _apply_one(self, job: _Job) -> None:
        assert job.fn is not None
        try:
            outcome = job.fn()
        except BaseException as exc:
            job.future.set_exception(exc)
            return
        self._announce(outcome.entries if isinstance(outcome, BatchOutcome) else [])
        job.future.set_result(outcome)

    def _announce(self, entries: list[LogEntry]) -> None:
        if not entries:
            return
        try:
            self._publish(entries)
        except Exception:  # the event loop is gone (shutdown): what committed stays committed
            log.exception("publishing committed entries failed")


__all__ = ["MAX_GROUP_CHANGES", "Writer"]
