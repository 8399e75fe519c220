"""SQLite WAL checkpoints on a thread of their own, off the commit path.

In WAL mode a commit appends to the write-ahead log; a *checkpoint* copies
logged pages back into the database file (and syncs it) so the log can be
reused. By default SQLite runs one inside whichever commit pushes the log
past 1,000 pages, and that commit pays for it: ``bench/hub.py`` measured
checkpoints at about two thirds of the push path's commit time.

``WalCheckpointer`` runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own
connection whenever the writer has committed (and every ``interval_s``
anyway). A passive checkpoint never blocks writers or readers, and SQLite
releases the GIL while it works, so the copy runs beside the hub instead of
inside a push. The connections keep an automatic checkpoint at a much larger
size as a backstop, should this thread ever fall behind.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger("fieldsync.store")

#: Pages the log may reach before a commit checkpoints by itself (the backstop; 4 KiB pages).
BACKSTOP_PAGES = 16_384


class WalCheckpointer:
    """Checkpoints an SQLite database's WAL in the background (see module docstring)."""

    def __init__(self, engine: Engine, *, interval_s: float = 1.0) -> None:
        self._engine = engine
        self._interval = interval_s
        self._wake = threading.Event()
        self._stopping = False
        self.checkpoints = 0
        self._thread = threading.Thread(target=self._run, name="fieldsync-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """The writer committed: the log grew (cheap; call after every commit)."""
        self._wake.set()

    def stop(self) -> None:
        """Run a last checkpoint and end the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        conn: Any = None
        try:
            conn = self._engine.raw_connection()
            while True:
                self._wake.wait(self._interval)
                self._wake.clear()
                try:
                    conn.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except Exception:  # the database is busy or gone: the backstop still checkpoints
                    log.warning("background WAL checkpoint failed", exc_info=True)
                if self._stopping:
                    return
        finally:
            if conn is not None:
                conn.close()


__all__ = ["BACKSTOP_PAGES", "WalCheckpointer"]
