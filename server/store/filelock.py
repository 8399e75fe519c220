"""The write lock that several hub processes on one SQLite file share.

SQLite lets one connection write at a time, but a second writer that finds
the database locked waits in SQLite's busy handler, which sleeps and polls
(up to 100 ms a time), and a transaction that read before it wrote can be
refused outright when another process committed in between. The store's
writes (pushes, server writes, erasures, compaction, migrations) therefore
take this lock first: an exclusive ``flock`` on a file beside the database.
The kernel queues the waiters and wakes the next one the moment the lock is
released, and inside the lock the transaction's reads see every earlier
commit, so sequence numbers stay consecutive and in commit order across
processes.

``flock`` locks belong to an open file: two stores in one process (tests, an
embedding app) exclude each other just as two processes do. The lock is
released by the kernel if its process dies, so a crash cannot leave it held.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.engine import URL, make_url


class FileLock:
    """An exclusive inter-process lock on ``path`` (created if missing); not re-entrant."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocks without the GIL

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def database_file(url: str | URL) -> Path | None:
    """The SQLite database file of a database URL; None for PostgreSQL and in-memory SQLite."""
    url = make_url(url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(str(url.database)).resolve()


def writer_lock(engine: Engine) -> FileLock | None:
    """The shared write lock of ``engine``'s SQLite file (``<file>-writer.lock``), or None where none is needed."""
    path = database_file(engine.url)
    return None if path is None else FileLock(path.with_name(path.name + "-writer.lock"))


__all__ = ["FileLock", "database_file", "writer_lock"]
