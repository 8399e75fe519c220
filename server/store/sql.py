"""``ChangeStore`` on SQLAlchemy Core, for SQLite (default) and PostgreSQL.

Theory of operation
-------------------
Pushes are applied in groups: the hub's writer thread hands over every batch
waiting for it (``apply_batches``), and the group becomes one transaction
under the store's write lock (a process lock, plus ``pg_advisory_xact_lock``
on PostgreSQL or an ``flock`` beside an SQLite file, ``filelock.py``, so that
several hub processes serialise too). Inside it:

1. the states of every row the group touches are read (one ``IN`` query per
   table), and so are the group's batch ids in ``sync_batches`` and, if any
   row was ever erased, the erased rows among them;
2. each batch in turn: a known batch id with the same content returns the
   stored ack (exactly-once), with other content it is refused; writes to
   erased rows and, when the pusher has a scope, writes outside it are
   rejected per change (the owners checked are those of this transaction, so
   a reassignment cannot slip between check and write); the rest is merged
   in memory by the pure engine (``writeset.py``);
3. one upsert per table writes the rows' final states, one insert appends
   the changed fields to ``sync_changes`` with consecutive sequence numbers,
   one records the batches and their acks, one the losing writes;
4. commit; only then are the acks sent.

One commit for many batches is the classic group commit: its cost (and its
fsync, where there is one) is shared. Because sequence numbers are assigned
under the write lock, sequence order is commit order, and a reader that has
seen ``seq = n`` has seen every change below ``n``: the feed can never skip a
change that commits late.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from fieldsync.server.store.base import BatchOutcome, LogEntry, Principal, PushRequest
from fieldsync.server.store.bulk import mark, scalar, select_in
from fieldsync.server.store.checkpoint import BACKSTOP_PAGES, WalCheckpointer
from fieldsync.server.store.filelock import writer_lock
from fieldsync.server.store.writeset import RowColumns, WriteSet
from fieldsync.server.store.tables import build_metadata
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.change import Change
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.protocol import Reject
from fieldsync.sync.rules import SERVER_SITE, Conflict
from fieldsync.sync.schema import Schema

_CHUNK = 500
_UNREACHABLE = (OperationalError, InterfaceError)  # the database went away (restart, network): retryable
_PG_LOCK_KEY = 0x46535943  # "FSYC"
log = logging.getLogger("fieldsync.store")


# One encoder for every body and state: json.dumps() with non-default options builds a new one per call.
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class SqlChangeStore:
    """The change log and row states in a SQL database (see module docstring)."""

    def __init__(self, engine: Engine, schema: Schema, *, clock: Callable[[], int] = now_ms) -> None:
        self.engine = engine
        self.schema = schema
        self.metadata, self.rows = build_metadata(schema)
        self.t_changes: Table = self.metadata.tables["sync_changes"]
        self.t_batches: Table = self.metadata.tables["sync_batches"]
        self.t_conflicts: Table = self.metadata.tables["sync_conflicts"]
        self._lock = threading.Lock()
        self._closed = False
        self._pg = engine.dialect.name == "postgresql"
        self._file_lock = writer_lock(engine)  # SQLite file: shared with other processes on it (filelock.py)
        self._checkpointer = WalCheckpointer(engine) if self._file_lock is not None else None
        self._insert = pg_insert if self._pg else sqlite_insert
        self._now = clock
        self._server_clock = HlcClock(SERVER_SITE, now_ms=clock)
        self.row_columns = {t.name: RowColumns(self.rows[t.name], [f.name for f in t.fields]) for t in schema.tables}

    def now_ms(self) -> int:
        """The store's clock (milliseconds), injectable for tests."""
        return self._now()

    # --- reads -------------------------------------------------------------------

    def head(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(self.t_changes.c.seq), 0))).scalar_one())

    def changes_after(self, seq: int, limit: int) -> list[LogEntry]:
        c = self.t_changes.c
        query = (
            select(c.seq, c.site, c.tbl, c.row_id, c.owner_id, c.department_id, c.body, c.moved_from, c.n_changes, c.stamp_chars)
            .where(c.seq > seq)
            .order_by(c.seq)
            .limit(limit)
        )
        with self._read() as conn:
            return [
                LogEntry(*row[:7], moved_from=_moved(row[7]), erased=row[7] == ERASED_MARK, count=row[8], stamp=row[9])
                for row in conn.execute(query)
            ]

    def snapshot_page(self, table: str, after_id: str, limit: int) -> list[tuple[str, str]]:
        self.rows[table]  # a declared table (KeyError otherwise): its name is safe in the statement below
        m = mark(self.engine.dialect.name)
        sql = f'SELECT id, _state FROM "{table}" WHERE id > {m} ORDER BY id LIMIT {m}'  # a driver query: 100k rows a sync
        with self._read() as conn:
            return [(r[0], r[1]) for r in conn.exec_driver_sql(sql, (after_id, limit)).fetchall()]

    def snapshot_rows(self, table: str, after_id: str, limit: int) -> list[tuple[str, str, str | None, str | None]]:
        """``(id, state JSON, owner, department)`` of rows after ``after_id``, by id (for scoped snapshots)."""
        t = self.rows[table]
        query = select(t.c.id, t.c._state, t.c.owner_id, t.c.department_id).where(t.c.id > after_id).order_by(t.c.id).limit(limit)
        with self._read() as conn:
            return [(r[0], r[1], r[2], r[3]) for r in conn.execute(query)]

    def row_scopes(self, table: str, ids: Sequence[str] | None = None) -> dict[str, tuple[str | None, str | None]]:
        """``{id: (owner, department)}`` of the given rows (all rows of ``table`` if ``ids`` is None)."""
        t = self.rows[table]
        out: dict[str, tuple[str | None, str | None]] = {}
        with self._read() as conn:
            if ids is None:
                out.update((r[0], (r[1], r[2])) for r in conn.execute(select(t.c.id, t.c.owner_id, t.c.department_id)))
                return out
            for i in range(0, len(ids), _CHUNK):
                chunk = list(ids[i : i + _CHUNK])
                query = select(t.c.id, t.c.owner_id, t.c.department_id).where(t.c.id.in_(chunk))
                out.update((r[0], (r[1], r[2])) for r in conn.execute(query))
        return out

    def has_erasures(self) -> bool:
        """True once any row was erased (pushes then check their rows against ``sync_erased``)."""
        er = self.metadata.tables["sync_erased"]
        with self._read() as conn:
            return conn.execute(select(er.c.row_id).limit(1)).first() is not None

    def erased_among(self, table: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` were erased (writes to them are refused)."""
        er = self.metadata.tables["sync_erased"]
        out: set[str] = set()
        with self._read() as conn:
            for i in range(0, len(ids), _CHUNK):
                chunk = list(ids[i : i + _CHUNK])
                out.update(r[0] for r in conn.execute(select(er.c.row_id).where(er.c.tbl == table, er.c.row_id.in_(chunk))))
        return out

    def row_states(self, table: str, ids: Sequence[str]) -> dict[str, str]:
        t = self.rows[table]
        out: dict[str, str] = {}
        with self._read() as conn:
            for i in range(0, len(ids), _CHUNK):
                chunk = list(ids[i : i + _CHUNK])
                out.update((r[0], r[1]) for r in conn.execute(select(t.c.id, t.c._state).where(t.c.id.in_(chunk))))
        return out

    def conflicts(self, table: str, row_id: str) -> list[dict[str, Any]]:
        c = self.t_conflicts.c
        query = select(c.id, c.body, c.seq, c.resolved, c.committed_ms).where(c.tbl == table, c.row_id == row_id).order_by(c.id)
        with self._read() as conn:
            return [
                {"id": r[0], **json.loads(r[1]), "seq": r[2], "resolved": bool(r[3]), "at_ms": r[4]} for r in conn.execute(query)
            ]

    def count_rows(self, table: str) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(self.rows[table])).scalar_one())

    # --- writes ------------------------------------------------------------------

    def apply_batch(
        self, principal: Principal, batch_id: str, digest: str, changes: Sequence[Change], pre_rejects: Sequence[Reject], total: int
    ) -> BatchOutcome:
        """Apply one batch on its own (``apply_batches`` of one); raises its error."""
        request = PushRequest(principal, batch_id, digest, list(enumerate(changes)), pre_rejects, total)
        result = self.apply_batches([request])[0]
        if isinstance(result, E.FieldSyncError):
            raise result
        return result

    def apply_batches(self, requests: Sequence[PushRequest]) -> list[BatchOutcome | E.FieldSyncError]:
        with self._write() as conn:
            ws = WriteSet(self, conn, self._head(conn))
            latest = max((ch.hlc for req in requests for _, ch in req.changes), default=0)
            if latest > self._server_clock.last:
                self._server_clock.observe(latest)
            keys = [(ch.table, ch.row_id) for req in requests for _, ch in req.changes]
            ws.load(keys)
            erased = self._erased_keys(conn, keys)
            known = self._known_batches(conn, requests)
            results: list[BatchOutcome | E.FieldSyncError] = []
            for req in requests:
                try:
                    results.append(self._apply_one(ws, req, known, erased))
                except E.FieldSyncError as err:
                    results.append(err)
                except Exception as exc:  # a bug must not take the rest of the group down with it
                    log.exception("push batch %s from %s failed", req.batch_id, req.principal.site)
                    err = E.ServerError(E.INTERNAL)
                    err.__cause__ = exc
                    results.append(err)
            ws.flush()
        return results

    def _apply_one(
        self, ws: WriteSet, req: PushRequest, known: dict[tuple[str, str], tuple[str, str]], erased: set[tuple[str, str]]
    ) -> BatchOutcome:
        key = (req.principal.site, req.batch_id)
        found = known.get(key)
        if found is not None:
            if not req.matches(found[0]):
                raise E.ProtocolError(E.BATCH_ID_REUSED, "this batch id was used for different changes")
            ack = json.loads(found[1])
            ack["duplicate"] = True
            return BatchOutcome(ack, duplicate=True)
        indexed = req.changes
        rejects = list(req.rejects)
        if erased:
            gone = [(i, ch) for i, ch in indexed if (ch.table, ch.row_id) in erased]
            if gone:
                rejects += [P.reject_from_error(i, E.ValidationError(E.ROW_DELETED, "the record was erased"), _raw(req, i)) for i, _ in gone]
                indexed = [(i, ch) for i, ch in indexed if (ch.table, ch.row_id) not in erased]
        if req.check is not None and indexed:
            changes, denied = req.check(indexed, ws.owners(list(dict.fromkeys([(ch.table, ch.row_id) for _, ch in indexed]))))
            rejects += denied
        else:
            changes = [ch for _, ch in indexed]
        rejects.sort(key=lambda r: r.index)
        merged = ws.merge(changes, req.principal)
        ack = P.ack(req.batch_id, seq=merged.seq, accepted=req.total - len(rejects), rejects=rejects)
        ack_text = _dumps(ack)
        ws.add_batch(req.principal.site, req.batch_id, req.digest, ack_text, req.principal.user_id)
        known[key] = (req.digest, ack_text)
        return BatchOutcome(ack, merged.entries, merged.conflicts)

    def _known_batches(self, conn: Any, requests: Sequence[PushRequest]) -> dict[tuple[str, str], tuple[str, str]]:
        """``{(site, batch id): (digest, ack)}`` of the requests' batches already applied."""
        pairs = {(r.principal.site, r.batch_id) for r in requests}
        found = select_in(conn, "sync_batches", ("site", "batch_id", "digest", "ack"), "batch_id", sorted({b for _, b in pairs}))
        return {(r[0], r[1]): (r[2], r[3]) for r in found if (r[0], r[1]) in pairs}

    def _erased_keys(self, conn: Any, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of ``keys`` were erased (writes to them are refused); one cheap probe when nothing ever was."""
        er = self.metadata.tables["sync_erased"]
        if not keys or scalar(conn, "SELECT 1 FROM sync_erased LIMIT 1") is None:
            return set()
        by_table: dict[str, list[str]] = defaultdict(list)
        for table, row_id in set(keys):
            by_table[table].append(row_id)
        out: set[tuple[str, str]] = set()
        for table, ids in by_table.items():
            for i in range(0, len(ids), _CHUNK):
                query = select(er.c.row_id).where(er.c.tbl == table, er.c.row_id.in_(ids[i : i + _CHUNK]))
                out.update((table, r[0]) for r in conn.execute(query))
        return out

    def apply_server_changes(self, changes: Sequence[Change]) -> BatchOutcome:
        with self._write() as conn:
            ws = WriteSet(self, conn, self._head(conn))
            merged = ws.merge(changes, None)
            ws.flush()
        return BatchOutcome({"seq": str(merged.seq)}, merged.entries, merged.conflicts)

    def server_write(
        self, table: str, row_id: str, values: dict[str, Any], *, restore: bool = False, resolves: int | None = None
    ) -> BatchOutcome:
        """Write ``values`` into a row as the server (OCR results, verdicts, restores).

        ``restore=True`` first brings a deleted row back (an existence change to
        the next odd causal length, as ``Replica.restore`` does) and writes the
        values at that length, all in one write; on a row that exists it is a
        plain write. ``resolves``: the conflict-history entry this write settles,
        marked resolved in the same transaction (a crash cannot leave it open).
        """
        from fieldsync.sync.merge import merge_row
        from fieldsync.sync.writes import restore_changes, update_changes

        declared = self.schema.table(table)
        with self._write() as conn:
            ws = WriteSet(self, conn, self._head(conn))
            ws.load([(table, row_id)])
            state = ws.states[(table, row_id)]
            if state is not None:
                self._server_clock.observe(state.max_hlc)
            revive: list[Change] = []
            if restore and state is not None and state.cl and not state.exists:
                revive = restore_changes(declared, state, clock=self._server_clock)
                state = merge_row(declared, state, revive).state
            changes = revive + update_changes(declared, state, row_id, values, clock=self._server_clock, allow_server_only=True)
            merged = ws.merge(changes, None)
            ws.flush()
            if resolves is not None:
                conn.execute(update(self.t_conflicts).where(self.t_conflicts.c.id == resolves).values(resolved=True))
        return BatchOutcome({"seq": str(merged.seq)}, merged.entries, merged.conflicts)

    def record_conflicts(
        self, conn: Any, conflicts: Iterable[tuple[Conflict, str | None, str | None, int]], committed: int
    ) -> None:
        """Add losing writes to the conflict history (once each: keyed by the loser)."""
        rows = [
            {
                "tbl": c.table,
                "row_id": c.row_id,
                "field": c.field,
                "kind": c.kind,
                "loser_hlc": c.loser_hlc,
                "loser_site": c.loser_site,
                "body": _dumps(c.to_json()),
                "owner_id": owner,
                "department_id": dept,
                "seq": seq,
                "resolved": False,
                "committed_ms": committed,
            }
            for c, owner, dept, seq in conflicts
        ]
        stmt = self._insert(self.t_conflicts).on_conflict_do_nothing()
        conn.execute(stmt, rows)

    def _head(self, conn: Any) -> int:
        return int(scalar(conn, "SELECT COALESCE(MAX(seq), 0) FROM sync_changes"))

    # --- plumbing ------------------------------------------------------------------

    def _read(self) -> Any:
        if self._closed:
            raise E.ServerError(E.UNAVAILABLE, "the store is closed")
        return _translated(self.engine.connect())

    def _write(self) -> Any:
        store = self

        class _Tx:
            def __enter__(self) -> Any:
                store._lock.acquire()
                if store._closed:  # (checked under the lock: close() waits for the write in progress)
                    store._lock.release()
                    raise E.ServerError(E.UNAVAILABLE, "the store is closed")
                if store._file_lock is not None:
                    store._file_lock.acquire()
                try:
                    self.cm = store.engine.begin()
                    conn = self.cm.__enter__()
                    if store._pg:
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                    return conn
                except _UNREACHABLE as err:
                    store._unlock()
                    raise E.ServerError(E.UNAVAILABLE, "the store is unavailable") from err
                except BaseException:
                    store._unlock()
                    raise

            def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
                try:
                    self.cm.__exit__(exc_type, exc, tb)
                except _UNREACHABLE as err:
                    raise E.ServerError(E.UNAVAILABLE, "the store is unavailable") from err
                finally:
                    store._unlock()
                if store._checkpointer is not None:
                    store._checkpointer.committed()
                if isinstance(exc, _UNREACHABLE):  # the connection died mid-transaction: rolled back, retryable
                    raise E.ServerError(E.UNAVAILABLE, "the store is unavailable") from exc

        return _Tx()

    def _unlock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
        self._lock.release()

    def close(self, *, wait_s: float = 5.0) -> None:
        """Stop the checkpointer and close the pool's connections.

        Waits up to ``wait_s`` for connections still checked out -- a worker
        thread finishing a read that its cancelled caller no longer awaits --
        because ``dispose`` leaves those open, to be closed only when their
        pool is garbage-collected, at some random later moment.
        """
        with self._lock:  # a write in progress finishes first; later ones are refused (FS unavailable)
            self._closed = True
        if self._checkpointer is not None:
            self._checkpointer.stop()
        checked_out = getattr(self.engine.pool, "checkedout", None)
        deadline = time.monotonic() + wait_s
        while checked_out is not None and checked_out() > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.engine.dispose()
        if self._file_lock is not None:
            self._file_lock.close()


class _translated:
    """A connection context that turns driver failures into typed errors."""

    def __init__(self, cm: Any) -> None:
        self.cm = cm

    def __enter__(self) -> Any:
        try:
            return self.cm.__enter__()
        except _UNREACHABLE as err:
            raise E.ServerError(E.UNAVAILABLE, "the store is unavailable") from err

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.cm.__exit__(exc_type, exc, tb)
        if isinstance(exc, _UNREACHABLE):
            raise E.ServerError(E.UNAVAILABLE, "the store is unavailable") from exc


ERASED_MARK = '"erased"'  # sync_changes.moved_from of an erasure entry


def _moved(text_value: str | None) -> tuple[str | None, str | None] | None:
    if not text_value or text_value == ERASED_MARK:
        return None
    owner, dept = json.loads(text_value)
    return (owner, dept)


def _raw(req: PushRequest, index: int) -> Any:
    return req.raw[index] if index < len(req.raw) else None


SYNCHRONOUS = ("full", "normal")


def make_engine(url: str, *, synchronous: str = "full") -> Engine:
    """A SQLAlchemy engine with the pragmas FieldSync relies on (WAL for SQLite).

    ``synchronous`` (SQLite only): ``full`` syncs the log at every commit, so
    an acknowledged push survives a power cut; ``normal`` survives a crash of
    the process but may lose the last commits to a power cut (faster where
    fsync is slow). See ``docs/operations.md``.
    """
    if url.startswith("sqlite"):
        if synchronous not in SYNCHRONOUS:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS}")
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={synchronous.upper()}")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")  # WalCheckpointer does the usual ones
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def migrate_locked(engine: Engine) -> None:
    """Migrate to head under the store's write lock: hub processes starting together on one SQLite file
    migrate one after the other (the second finds nothing to do)."""
    from fieldsync.server.migrations import upgrade

    lock = writer_lock(engine)
    if lock is None:
        upgrade(engine)
        return
    try:
        with lock:
            upgrade(engine)
    finally:
        lock.close()


def open_store(url: str, schema: Schema, *, migrate: bool = True, synchronous: str = "full") -> SqlChangeStore:
    """Open (and by default migrate to head) the store at ``url``."""
    engine = make_engine(url, synchronous=synchronous)
    if migrate:
        try:
            migrate_locked(engine)
        except SQLAlchemyError as err:
            raise E.ServerError(E.UNAVAILABLE, "cannot migrate the store") from err
    return SqlChangeStore(engine, schema)


__all__ = ["ERASED_MARK", "SYNCHRONOUS", "SqlChangeStore", "make_engine", "migrate_locked", "open_store"]
