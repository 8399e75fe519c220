"""``ChangeStore`` on SQLAlchemy Core, for SQLite (default) and PostgreSQL.

Theory of operation
-------------------
A push batch is applied in one transaction under the store's write lock
(a process lock, plus ``pg_advisory_xact_lock`` on PostgreSQL so that several
hub processes serialise too). Inside it:

1. the batch id is looked up in ``sync_batches``: a known id with the same
   digest returns the stored ack (exactly-once); a different digest is refused;
2. the states of every row the batch touches are read in one ``IN`` query per
   table, merged in memory by the pure engine (``merge_row``), and written back
   with one multi-row upsert per table;
3. the changes that altered state get consecutive sequence numbers after the
   current head and are appended to ``sync_changes`` in one multi-row insert;
   losing writes go to ``sync_conflicts`` (insert-or-ignore on the loser's key);
4. the batch and its ack are recorded; commit; only then is the ack sent.

Because sequence numbers are assigned under the write lock, sequence order is
commit order, and a reader that has seen ``seq = n`` has seen every change
below ``n``: the feed can never skip a change that commits late.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, create_engine, event, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from fieldsync.server.store.bulk import bulk_insert
from fieldsync.server.store.base import BatchOutcome, LogEntry, Principal
from fieldsync.server.store.tables import build_metadata
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.change import Change
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.merge import RowState, dumps_state, loads_state, merge_row
from fieldsync.sync.protocol import Reject
from fieldsync.sync.rules import SERVER_SITE, Conflict
from fieldsync.sync.schema import Schema

_CHUNK = 500
_UNREACHABLE = (OperationalError, InterfaceError)  # the database went away (restart, network): retryable
_PG_LOCK_KEY = 0x46535943  # "FSYC"


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
        self._pg = engine.dialect.name == "postgresql"
        self._insert = pg_insert if self._pg else sqlite_insert
        self._now = clock
        self._server_clock = HlcClock(SERVER_SITE, now_ms=clock)
        self._field_names = {t.name: [f.name for f in t.fields] for t in schema.tables}

    # --- reads -------------------------------------------------------------------

    def head(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.coalesce(func.max(self.t_changes.c.seq), 0))).scalar_one())

    def changes_after(self, seq: int, limit: int) -> list[LogEntry]:
        c = self.t_changes.c
        query = (
            select(c.seq, c.site, c.tbl, c.row_id, c.owner_id, c.department_id, c.body, c.moved_from)
            .where(c.seq > seq)
            .order_by(c.seq)
            .limit(limit)
        )
        with self._read() as conn:
            return [LogEntry(*row[:7], moved_from=_moved(row[7]), erased=row[7] == ERASED_MARK) for row in conn.execute(query)]

    def snapshot_page(self, table: str, after_id: str, limit: int) -> list[tuple[str, str]]:
        t = self.rows[table]
        query = select(t.c.id, t.c._state).where(t.c.id > after_id).order_by(t.c.id).limit(limit)
        with self._read() as conn:
            return [(r[0], r[1]) for r in conn.execute(query)]

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
        b = self.t_batches.c
        with self._write() as conn:
            known = conn.execute(
                select(b.digest, b.ack).where(b.site == principal.site, b.batch_id == batch_id)
            ).first()
            if known is not None:
                if known[0] != digest:
                    raise E.ProtocolError(E.BATCH_ID_REUSED, "this batch id was used for different changes")
                ack = json.loads(known[1])
                ack["duplicate"] = True
                return BatchOutcome(ack, duplicate=True)
            entries, conflicts, seq = self._merge(conn, changes, principal)
            ack = P.ack(batch_id, seq=seq, accepted=total - len(pre_rejects), rejects=pre_rejects)
            conn.execute(
                self.t_batches.insert(),
                {
                    "site": principal.site,
                    "batch_id": batch_id,
                    "digest": digest,
                    "seq": seq,
                    "ack": _dumps(ack),
                    "user_id": principal.user_id,
                    "committed_ms": self._now(),
                },
            )
        return BatchOutcome(ack, entries, conflicts)

    def apply_server_changes(self, changes: Sequence[Change]) -> BatchOutcome:
        with self._write() as conn:
            entries, conflicts, seq = self._merge(conn, changes, None)
        return BatchOutcome({"seq": str(seq)}, entries, conflicts)

    def server_write(self, table: str, row_id: str, values: dict[str, Any]) -> BatchOutcome:
        """Write ``values`` into a row as the server (OCR results, verdicts, restores)."""
        from fieldsync.sync.writes import update_changes

        declared = self.schema.table(table)
        with self._write() as conn:
            current = self._load(conn, table, [row_id]).get(row_id)
            state = loads_state(current) if current else None
            if state is not None:
                self._server_clock.observe(state.max_hlc)
            changes = update_changes(declared, state, row_id, values, clock=self._server_clock, allow_server_only=True)
            entries, conflicts, seq = self._merge(conn, changes, None)
        return BatchOutcome({"seq": str(seq)}, entries, conflicts)

    def _merge(
        self, conn: Any, changes: Sequence[Change], principal: Principal | None
    ) -> tuple[list[LogEntry], list[Conflict], int]:
        by_row: dict[tuple[str, str], list[Change]] = defaultdict(list)
        for ch in changes:
            by_row[(ch.table, ch.row_id)].append(ch)
        latest = max((ch.hlc for ch in changes), default=0)
        if latest > self._server_clock.last:
            self._server_clock.observe(latest)
        head = self._head(conn)
        seq = head
        entries: list[LogEntry] = []
        log_rows: list[dict[str, Any]] = []
        committed = self._now()
        all_conflicts: list[tuple[Conflict, str | None, str | None]] = []
        upserts: dict[str, list[dict[str, Any]]] = defaultdict(list)
        ids_by_table: dict[str, list[str]] = defaultdict(list)
        for table, row_id in by_row:
            ids_by_table[table].append(row_id)
        for table_name, ids in ids_by_table.items():
            declared = self.schema.table(table_name)
            stored = self._load(conn, table_name, ids)
            for row_id in ids:
                raw = stored.get(row_id)
                state: RowState | None = loads_state(raw) if raw else None
                before = None if state is None else (_cell_value(state, "owner_id"), _cell_value(state, "department_id"))
                row_changes = by_row[(table_name, row_id)]
                if principal is not None and state is None:
                    row_changes = row_changes + self._stamp_owner(row_changes, principal)
                result = merge_row(declared, state, row_changes)
                applied = list(result.applied)
                new_state = result.state
                owner = _cell_value(new_state, "owner_id")
                dept = _cell_value(new_state, "department_id")
                moved = before if before is not None and before != (owner, dept) else None
                for conflict in result.conflicts:
                    all_conflicts.append((conflict, owner, dept))
                if not applied:
                    continue
                for ch in applied:
                    seq += 1
                    body = _dumps(ch.to_wire())
                    entries.append(LogEntry(seq, ch.site, table_name, row_id, owner, dept, body, moved))
                    log_rows.append(
                        {
                            "seq": seq,
                            "tbl": table_name,
                            "row_id": row_id,
                            "field": ch.field,
                            "site": ch.site,
                            "hlc": ch.hlc,
                            "owner_id": owner,
                            "department_id": dept,
                            "body": body,
                            "committed_ms": committed,
                            "moved_from": None if moved is None else _dumps(list(moved)),
                        }
                    )
                upserts[table_name].append(self._row_record(table_name, new_state, seq))
        for table_name, records in upserts.items():
            self._upsert(conn, table_name, records)
        if log_rows:
            bulk_insert(conn, self.t_changes, log_rows)
        if all_conflicts:
            self._record_conflicts(conn, all_conflicts, seq)
        return entries, [c for c, _, _ in all_conflicts], seq

    def _stamp_owner(self, row_changes: Sequence[Change], principal: Principal) -> list[Change]:
        """Owner and department for a row new to the server, unless the device set them.

        The stamp carries the row's earliest HLC in the batch (site ``server``,
        so ``server_wins`` still ranks it above device writes): a delete that
        saw the insert has then seen the stamp too, so on update-wins tables
        the stamp can never look like an update racing that delete. Built as
        plain changes, it is valid even when the batch also deletes the row.
        """
        written = {ch.field for ch in row_changes}
        first = min(row_changes, key=lambda ch: ch.hlc)
        level = first.cl if first.cl % 2 else first.cl - 1
        values = {"owner_id": principal.user_id, "department_id": principal.department_id}
        return [
            Change(first.table, first.row_id, name, value, first.hlc, SERVER_SITE, level, 0)
            for name, value in values.items()
            if value is not None and name not in written
        ]

    def _row_record(self, table: str, state: RowState, seq: int) -> dict[str, Any]:
        record: dict[str, Any] = {"id": state.row_id, "_cl": state.cl, "_state": dumps_state(state), "_seq": seq}
        cells = state.cells
        for name in self._field_names[table]:
            cell = cells.get(name)
            record[name] = None if cell is None else cell.value
        return record

    def _upsert(self, conn: Any, table: str, records: list[dict[str, Any]]) -> None:
        bulk_insert(conn, self.rows[table], records, upsert_key="id")

    def _record_conflicts(self, conn: Any, conflicts: Iterable[tuple[Conflict, str | None, str | None]], seq: int) -> None:
        committed = self._now()
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
            for c, owner, dept in conflicts
        ]
        stmt = self._insert(self.t_conflicts).on_conflict_do_nothing()
        conn.execute(stmt, rows)

    def _load(self, conn: Any, table: str, ids: Sequence[str]) -> dict[str, str]:
        t = self.rows[table]
        out: dict[str, str] = {}
        for i in range(0, len(ids), _CHUNK):
            chunk = list(ids[i : i + _CHUNK])
            out.update((r[0], r[1]) for r in conn.execute(select(t.c.id, t.c._state).where(t.c.id.in_(chunk))))
        return out

    def _head(self, conn: Any) -> int:
        return int(conn.execute(select(func.coalesce(func.max(self.t_changes.c.seq), 0))).scalar_one())

    # --- plumbing ------------------------------------------------------------------

    def _read(self) -> Any:
        return _translated(self.engine.connect())

    def _write(self) -> Any:
        store = self

        class _Tx:
            def __enter__(self) -> Any:
                store._lock.acquire()
                try:
                    self.cm = store.engine.begin()
                    conn = self.cm.__enter__()
                    if store._pg:
                        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
                    return conn
                except _UNREACHABLE as err:
                    store._lock.release()
                    raise E.ServerError(E.UNAVAILABLE, "the store is unavailable") from err
                except BaseException:
                    store._lock.release()
                    raise

            def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
                try:
                    self.cm.__exit__(exc_type, exc, tb)
                except _UNREACHABLE as err:
                    raise E.ServerError(E.UNAVAILABLE, "the store is unavailable") from err
                finally:
                    store._lock.release()
                if isinstance(exc, _UNREACHABLE):  # the connection died mid-transaction: rolled back, retryable
                    raise E.ServerError(E.UNAVAILABLE, "the store is unavailable") from exc

        return _Tx()

    def close(self) -> None:
        self.engine.dispose()


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


def _cell_value(state: RowState, name: str) -> Any:
    cell = state.cells.get(name)
    return None if cell is None else cell.value


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine with the pragmas FieldSync relies on (WAL for SQLite)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def open_store(url: str, schema: Schema, *, migrate: bool = True) -> SqlChangeStore:
    """Open (and by default migrate to head) the store at ``url``."""
    engine = make_engine(url)
    if migrate:
        from fieldsync.server.migrations import upgrade

        try:
            upgrade(engine)
        except SQLAlchemyError as err:
            raise E.ServerError(E.UNAVAILABLE, "cannot migrate the store") from err
    return SqlChangeStore(engine, schema)


__all__ = ["ERASED_MARK", "SqlChangeStore", "make_engine", "open_store"]
