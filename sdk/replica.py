"""The local replica: a SQLite file holding the rows a device may see, and its outbox.

Every write (insert, update, delete, restore, increment, set operations)
becomes field changes (``fieldsync.sync.writes``), is merged into the row's
state (``fieldsync.sync.merge.merge_row``) and is queued in the outbox, all
in ONE SQLite transaction: a write is either fully recorded and will be
uploaded, or not recorded at all. The file runs in WAL mode with
``synchronous=FULL`` so an acknowledged local write survives the app being
killed.

Thread safety: one connection per replica, guarded by a re-entrant lock, so
the app thread and the sync thread may use the same ``Replica`` at once.
Callbacks run after the transaction commits, outside the lock, on the thread
that made the change (the app thread for local writes, the sync thread for
pulled ones).

The methods under "sync side" are what the sync session drives: taking
outbox batches, completing them on ack, applying page sets atomically with
their cursor, evicting and purging. Applications normally do not call them.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from fieldsync.sdk import outbox
from fieldsync.sdk import tables as T
from fieldsync.sdk.ids import new_site_id, uuid7
from fieldsync.sdk.outbox import OutboxBatch
from fieldsync.sdk.records import ChangeEvent, Record, RecordError
from fieldsync.sync import errors as E
from fieldsync.sync.change import EXISTS, Change
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import HlcClock, system_ms
from fieldsync.sync.merge import RowState, loads_state, merge_row
from fieldsync.sync.rules import Conflict
from fieldsync.sync.schema import FieldType, Schema, Table, coerce, is_uuid
from fieldsync.sync.writes import Increment, SetOps, delete_changes, restore_changes, update_changes

log = logging.getLogger("fieldsync.sdk")

ChangeCallback = Callable[[ChangeEvent], None]
ConflictCallback = Callable[[Conflict], None]


class RecordNotFound(LookupError):
    """The record does not exist in the replica (never existed, deleted or evicted)."""


def _open_encrypted(path: str, key: str | bytes) -> sqlite3.Connection:
    """A SQLCipher connection to ``path`` unlocked with ``key`` (same API as ``sqlite3``)."""
    try:
        import sqlcipher3  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise RuntimeError("encrypted replicas need the sqlcipher3-binary package") from exc
    if isinstance(key, bytes):
        if len(key) != 32:
            raise ValueError("a raw SQLCipher key is 32 bytes")
        pragma = f"PRAGMA key = \"x'{key.hex()}'\""
    else:
        if not key:
            raise ValueError("the replica passphrase is empty")
        pragma = "PRAGMA key = '" + key.replace("'", "''") + "'"
    conn = sqlcipher3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    try:
        conn.execute(pragma)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError as exc:
        conn.close()
        raise ValueError("wrong key, or the file is not an encrypted replica") from exc
    return conn  # type: ignore[no-any-return]


class Replica:
    """A local replica of synced tables on one SQLite file. Open it with ``Replica.open(path)``."""

    def __init__(
        self, conn: sqlite3.Connection, *, schema: Schema, now_ms: Callable[[], int], path: str, site: str | None = None
    ) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self._now_ms = now_ms
        self.schema = schema
        self.path = path
        self._change_callbacks: list[ChangeCallback] = []
        self._conflict_callbacks: list[ConflictCallback] = []
        self._sql_cache: dict[str, str] = {}
        self._tx_owner: int | None = None
        self._deferred: tuple[list[ChangeEvent], list[Conflict]] = ([], [])
        with self._tx():
            #: Columns added by this open because the declaration grew (``table.field``).
            self.added_columns = T.migrate(conn, schema)
            stored = T.meta_get(conn, "site")
            if stored is None:
                stored = site or new_site_id()
                T.meta_set(conn, "site", stored)
            elif site is not None and site != stored:
                raise ValueError(f"replica {path} belongs to site {stored!r}, not {site!r}")
            self.site = stored
            self.hlc = HlcClock(stored, now_ms=now_ms, last=int(T.meta_get(conn, "hlc") or 0))
            self.hlc.offset_ms = int(T.meta_get(conn, "offset_ms") or 0)
            T.meta_set(conn, "schema_version", str(schema.version))

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        schema: Schema = CRM_SCHEMA,
        site: str | None = None,
        clock: Callable[[], int] | None = None,
        key: str | bytes | None = None,
    ) -> Replica:
        """Open (or create) the replica at ``path``; works with no network.

        ``site``: the device's site id on first open (default: a generated one);
        later opens keep the stored id and refuse a different one. ``clock``:
        a milliseconds clock for the HLC (tests pass ``FakeClock``). ``key``:
        keep the file encrypted at rest with SQLCipher (``sqlcipher3-binary``):
        a passphrase, or 32 raw key bytes; a wrong key raises ``ValueError``.
        """
        text = os.fspath(path)
        if key is None:
            conn = sqlite3.connect(text, isolation_level=None, check_same_thread=False, timeout=30)
        else:
            conn = _open_encrypted(text, key)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            # Checkpoint the log every 32 MB rather than every 4 MB: a first sync writes tens of megabytes,
            # and each checkpoint inside a commit costs a copy and a disk sync (bench/sdk.py: ~4 µs a row).
            conn.execute("PRAGMA wal_autocheckpoint=8192")
            return cls(conn, schema=schema, now_ms=clock or system_ms, path=text, site=site)
        except BaseException:
            conn.close()
            raise

    def now_ms(self) -> int:
        """The replica's physical clock (milliseconds, uncorrected)."""
        return self._now_ms()

    def close(self) -> None:
        """Close the file. Unsent changes stay in the outbox for the next open."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions -----------------------------------------------------------

    @contextmanager
    def _tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction; nested use (``transaction()``) becomes a savepoint.

        ``durable=False`` commits without waiting for the disk: for pulled
        pages, whose cursor is in the same transaction, so a power cut that
        loses the commit loses the cursor with it and the pages are pulled
        again. Local writes are always durable (they exist nowhere else).
        """
        with self._lock:
            if self._tx_owner == threading.get_ident():
                self._conn.execute("SAVEPOINT fs_nested")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK TO fs_nested")
                    self._conn.execute("RELEASE fs_nested")
                    raise
                self._conn.execute("RELEASE fs_nested")
                return
            if not durable:
                self._conn.execute("PRAGMA synchronous=NORMAL")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                self._tx_owner = threading.get_ident()
                try:
                    yield self._conn
                except BaseException:
                    self._tx_owner = None
                    self._conn.execute("ROLLBACK")
                    self._deferred = ([], [])
                    raise
                self._tx_owner = None
                self._conn.execute("COMMIT")
            finally:
                if not durable:
                    self._conn.execute("PRAGMA synchronous=FULL")
            events, conflicts = self._deferred
            self._deferred = ([], [])
        self._emit(events, conflicts)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one transaction: all of them are recorded, or none.

        Callbacks for the writes inside run after the commit. Also much faster
        for bulk imports (one disk sync instead of one per write).
        """
        with self._tx():
            yield

    def _load_state(self, table: Table, row_id: str) -> RowState | None:
        row = self._conn.execute(f"SELECT _state FROM {T.store(table)} WHERE id = ?", (row_id,)).fetchone()
        return None if row is None else loads_state(row[0])

    def _load_states(self, table: Table, row_ids: Sequence[str]) -> dict[str, RowState]:
        if len(row_ids) > 32:
            # Pulled pages hold rows close together in id order (a snapshot's are sorted): one range scan
            # of the primary key finds which are here, usually none, instead of a probe per id. A span
            # holding many other rows falls back to the probes.
            limit = 4 * len(row_ids)
            here = self._conn.execute(
                f"SELECT id FROM {T.store(table)} WHERE id BETWEEN ? AND ? LIMIT ?", (min(row_ids), max(row_ids), limit + 1)
            ).fetchall()
            if len(here) <= limit:
                wanted = set(row_ids)
                row_ids = [r for (r,) in here if r in wanted]
                if not row_ids:
                    return {}
        marks = ", ".join("?" for _ in row_ids)
        sql = f"SELECT id, _state FROM {T.store(table)} WHERE id IN ({marks})"
        return {row_id: loads_state(text) for row_id, text in self._conn.execute(sql, list(row_ids))}

    def _upsert_sql(self, table_name: str) -> str:
        sql = self._sql_cache.get(table_name)
        if sql is None:
            sql = self._sql_cache[table_name] = T.upsert_sql(self.schema.table(table_name))
        return sql

    def _store_state(self, table: Table, state: RowState) -> None:
        self._conn.execute(self._upsert_sql(table.name), T.row_params(state))

    def _save_clock(self) -> None:
        T.meta_set(self._conn, "hlc", str(self.hlc.last))

    # --- writes -----------------------------------------------------------------

    def _write(
        self, table_name: str, row_id: str, make: Callable[[Table, RowState | None], list[Change]]
    ) -> Record | None:
        table = self.schema.table(table_name)
        with self._tx() as conn:
            state = self._load_state(table, row_id)
            changes = make(table, state)
            if changes:
                result = merge_row(table, state, changes)
                self._store_state(table, result.state)
                outbox.enqueue(conn, changes)
                self._save_clock()
            record = self._read(table, row_id)
        if changes:
            fields = frozenset(c.field for c in changes if c.field != EXISTS)
            self._emit([ChangeEvent(table.name, row_id, "local", fields, record is None)])
        return record

    def insert(self, table: str, values: Mapping[str, Any] | None = None, *, id: str | None = None) -> Record:
        """Create a record (a UUIDv7 id unless ``id`` is given) and return it."""
        row_id = id or uuid7(now_ms=self._now_ms())
        if not is_uuid(row_id):
            raise E.ValidationError(E.BAD_ROW_ID, "a record id is a canonical lower-case UUID")

        def make(tbl: Table, state: RowState | None) -> list[Change]:
            if state is not None:
                raise ValueError(f"{tbl.name} {row_id} already exists")
            return update_changes(tbl, None, row_id, dict(values or {}), clock=self.hlc)

        record = self._write(table, row_id, make)
        assert record is not None
        return record

    def update(self, table: str, id: str, values: Mapping[str, Any]) -> Record:
        """Write ``values`` (plain values, ``Increment`` or ``SetOps``) into an existing record."""

        def make(tbl: Table, state: RowState | None) -> list[Change]:
            if state is None:
                raise RecordNotFound(f"{tbl.name} {id}")
            return update_changes(tbl, state, id, dict(values), clock=self.hlc)

        record = self._write(table, id, make)
        assert record is not None
        return record

    def increment(self, table: str, id: str, field: str, delta: int | float = 1) -> Record:
        """Add ``delta`` to a counter field (concurrent increments all count)."""
        return self.update(table, id, {field: Increment(delta)})

    def add_to_set(self, table: str, id: str, field: str, *elements: str) -> Record:
        """Add elements to a set field (an add concurrent with a removal wins)."""
        return self.update(table, id, {field: SetOps(add=tuple(elements))})

    def remove_from_set(self, table: str, id: str, field: str, *elements: str) -> Record:
        """Remove elements (as this device has seen them) from a set field."""
        return self.update(table, id, {field: SetOps(remove=tuple(elements))})

    def delete(self, table: str, id: str) -> None:
        """Delete a record; its values are kept for ``restore`` and the conflict history."""

        def make(tbl: Table, state: RowState | None) -> list[Change]:
            if state is None:
                raise RecordNotFound(f"{tbl.name} {id}")
            return delete_changes(tbl, state, clock=self.hlc)

        self._write(table, id, make)

    def restore(self, table: str, id: str) -> Record:
        """Bring a deleted record back with its values."""

        def make(tbl: Table, state: RowState | None) -> list[Change]:
            if state is None:
                raise RecordNotFound(f"{tbl.name} {id}")
            return restore_changes(tbl, state, clock=self.hlc)

        record = self._write(table, id, make)
        assert record is not None
        return record

    # --- reads ------------------------------------------------------------------

    def _read(self, table: Table, row_id: str) -> Record | None:
        row = self._conn.execute(f"SELECT id, _state FROM {T.store(table)} WHERE id = ? AND _cl % 2 = 1", (row_id,)).fetchone()
        return None if row is None else Record(table.name, row[0], T.record_values(table, row[1]))

    def get(self, table: str, id: str) -> Record | None:
        """The record, or ``None`` if it does not exist (or is deleted)."""
        tbl = self.schema.table(table)
        with self._lock:
            return self._read(tbl, id)

    def query(
        self,
        table: str,
        *,
        where: Mapping[str, Any] | None = None,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Record]:
        """Existing records matching every ``where`` item, ordered and paged.

        ``where`` maps a field (or ``id``) to a value (``None``: IS NULL; a
        list or tuple: IN). ``order_by``: a field name, ``-name`` for
        descending, or a sequence of them. JSON fields cannot be filtered or
        ordered on.
        """
        tbl = self.schema.table(table)
        clauses, params = ["_cl % 2 = 1"], []
        for name, value in (where or {}).items():
            column = _column(tbl, name)
            if value is None:
                clauses.append(f"{column} IS NULL")
            elif isinstance(value, (list, tuple, set, frozenset)):
                items = [_param(tbl, name, v) for v in value]
                clauses.append(f"{column} IN ({', '.join('?' for _ in items)})" if items else "0")
                params.extend(items)
            else:
                clauses.append(f"{column} = ?")
                params.append(_param(tbl, name, value))
        orders = []
        for key in [order_by] if isinstance(order_by, str) else list(order_by or ()):
            desc = key.startswith("-")
            orders.append(f"{_column(tbl, key.lstrip('-'))} {'DESC' if desc else 'ASC'}")
        orders.append("id ASC")
        sql = f"SELECT id, _state FROM {T.store(tbl)} WHERE {' AND '.join(clauses)}"
        sql += f" ORDER BY {', '.join(orders)} LIMIT ? OFFSET ?"
        params.extend([-1 if limit is None else int(limit), int(offset)])
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [Record(tbl.name, row[0], T.record_values(tbl, row[1])) for row in rows]

    def count(self, table: str) -> int:
        """How many records ``table`` holds."""
        tbl = self.schema.table(table)
        with self._lock:
            row = self._conn.execute(f"SELECT COUNT(*) FROM {T.store(tbl)} WHERE _cl % 2 = 1").fetchone()
        return int(row[0])

    def row_state(self, table: str, id: str) -> RowState | None:
        """The merged state of a row (deleted rows included), for inspection and tests."""
        tbl = self.schema.table(table)
        with self._lock:
            return self._load_state(tbl, id)

    # --- callbacks, errors, conflicts ------------------------------------------------

    def subscribe(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call ``callback(ChangeEvent)`` after every committed change; returns an unsubscribe function."""
        self._change_callbacks.append(callback)
        return lambda: _discard(self._change_callbacks, callback)

    def on_conflict(self, callback: ConflictCallback) -> Callable[[], None]:
        """Call ``callback(Conflict)`` when a pulled change beats a concurrent write of this device."""
        self._conflict_callbacks.append(callback)
        return lambda: _discard(self._conflict_callbacks, callback)

    def _emit(self, events: Sequence[ChangeEvent], conflicts: Sequence[Conflict] = ()) -> None:
        # Inside an open transaction of this thread: wait for its commit.
        if self._tx_owner == threading.get_ident():
            self._deferred[0].extend(events)
            self._deferred[1].extend(conflicts)
            return
        # An app callback must never break a write or a sync: failures are logged.
        for event in events:
            for on_change in list(self._change_callbacks):
                try:
                    on_change(event)
                except Exception:
                    log.exception("change callback failed")
        for conflict in conflicts:
            for on_conflict in list(self._conflict_callbacks):
                try:
                    on_conflict(conflict)
                except Exception:
                    log.exception("conflict callback failed")

    @property
    def pending_count(self) -> int:
        """Local changes not yet acknowledged by the server."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM _fs_outbox").fetchone()[0])

    @property
    def errors(self) -> list[RecordError]:
        """Changes the server rejected, oldest first (cleared per record by ``clear_errors``)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT tbl, row_id, field, code, name, message, at FROM _fs_errors ORDER BY id"
            ).fetchall()
        return [RecordError(*row) for row in rows]

    def clear_errors(self, record_id: str | None = None) -> None:
        """Forget rejected-change errors (of one record, or all)."""
        with self._tx() as conn:
            if record_id is None:
                conn.execute("DELETE FROM _fs_errors")
            else:
                conn.execute("DELETE FROM _fs_errors WHERE row_id = ?", (record_id,))

    @property
    def conflicts(self) -> list[Conflict]:
        """Writes of this device that lost to concurrent ones, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT conflict FROM _fs_conflicts ORDER BY id").fetchall()
        return [_conflict_from_json(json.loads(row[0])) for row in rows]

    # --- sync side ----------------------------------------------------------------

    @property
    def cursor(self) -> str | None:
        """The cursor of the last checkpoint applied (``None``: never synced)."""
        with self._lock:
            return T.meta_get(self._conn, "cursor")

    @property
    def purged(self) -> str | None:
        """The reason the server wiped this replica, if it did."""
        with self._lock:
            return T.meta_get(self._conn, "purged")

    def set_server_offset(self, offset_ms: int) -> None:
        """Correct the HLC's physical clock by the server's time offset (learned at ``welcome``).

        Also remembers the latest server time seen, which bounds what a server
        may have accepted (``repair_clock``), should a server's clock ever step back.
        """
        with self._tx() as conn:
            self.hlc.offset_ms = offset_ms
            T.meta_set(conn, "offset_ms", str(offset_ms))
            seen = max(int(T.meta_get(conn, "server_time_max") or 0), self.hlc.physical_ms())
            T.meta_set(conn, "server_time_max", str(seen))

    def repair_clock(self) -> int:
        """Re-stamp writes a fast clock put beyond the hub's reach (after ``set_server_offset``; see ``clockfix``).

        Returns how many stamps were relabeled (0: the clock was within reach).
        """
        from fieldsync.sdk.clockfix import repair_clock

        with self._tx() as conn:
            count = repair_clock(conn, self.schema, self.hlc, server_time_max=int(T.meta_get(conn, "server_time_max") or 0))
            self._save_clock()
        if count:
            log.warning("clock repair: %d stamps beyond the hub's reach were relabeled", count)
        return count

    def take_batch(self, *, max_changes: int, max_bytes: int, exclude: Collection[str] = ()) -> OutboxBatch | None:
        """The next batch to push (see ``outbox.take_batch``)."""
        with self._tx() as conn:
            return outbox.take_batch(
                conn, max_changes=max_changes, max_bytes=max_bytes, exclude=exclude, new_id=lambda: uuid7(now_ms=self._now_ms())
            )

    def complete_batch(self, batch_id: str, rejects: Sequence[Mapping[str, Any]]) -> list[RecordError]:
        """The server acknowledged ``batch_id`` (see ``outbox.complete_batch``)."""
        with self._tx() as conn:
            return outbox.complete_batch(conn, batch_id, rejects, at_ms=self._now_ms())

    def apply_pages(
        self,
        rows: Sequence[Mapping[str, Any]],
        changes: Sequence[Mapping[str, Any]],
        *,
        cursor: str | None,
        raw_rows: Sequence[str] = (),
        states: Sequence[str] = (),
    ) -> tuple[list[ChangeEvent], list[Conflict]]:
        """Merge snapshot rows and changes and store ``cursor``, in one transaction.

        ``raw_rows``: the rows' JSON texts as received, stored as-is for
        rows new to this replica; ``states``: more rows, as texts only (feature
        ``row-text``). Every remote HLC advances the local clock. Returns the change events
        and this device's lost writes (also logged and passed to the
        ``on_conflict`` callbacks after commit).
        """
        from fieldsync.sdk.applying import PageApplier  # keeps this module about the local API

        with self._tx(durable=False) as conn:
            applier = PageApplier(self.schema, self.site, self.hlc, self._load_states)
            applier.merge_rows(rows, raw_rows)
            applier.merge_texts(states)
            applier.merge_changes(changes)
            dirty: dict[str, list[tuple[str, int, str]]] = {}
            for name, row in applier.rows_to_store():
                dirty.setdefault(name, []).append(row)
            for name, upserts in dirty.items():
                T.execute_rows(conn, T.upsert_head(self.schema.table(name)), upserts, T.UPSERT_TAIL)
            at = self._now_ms()
            lost = [  # each lost write once: callbacks hear of it the first time it is recorded
                c for c in applier.conflicts
                if conn.execute(
                    "INSERT OR IGNORE INTO _fs_conflicts (tbl, row_id, field, conflict, at) VALUES (?, ?, ?, ?, ?)",
                    (c.table, c.row_id, c.field, json.dumps(c.to_json(), ensure_ascii=False), at),
                ).rowcount
            ]
            if cursor is not None:
                T.meta_set(conn, "cursor", cursor)
            dropped = self._track_reset(conn, applier.snapshot_rows, cursor)
            self._save_clock()
        events = applier.events() + dropped
        self._emit(events, lost)
        return events, lost

    def begin_reset(self) -> None:
        """The server's log no longer reaches this replica's cursor: a fresh snapshot follows.

        Rows the snapshot does not bring back are dropped when it completes,
        except rows with unsent local changes, which are kept and pushed.
        """
        with self._tx() as conn:
            conn.execute("DELETE FROM _fs_reset")
            T.meta_set(conn, "reset", "1")

    def _track_reset(self, conn: sqlite3.Connection, rows: Sequence[tuple[str, str]], cursor: str | None) -> list[ChangeEvent]:
        if T.meta_get(conn, "reset") != "1":
            return []
        conn.executemany("INSERT OR IGNORE INTO _fs_reset (tbl, id) VALUES (?, ?)", rows)
        if cursor is None or not cursor.startswith("c:"):  # the snapshot is still streaming
            return []
        pending = {(t, r) for t, r in conn.execute("SELECT DISTINCT json_extract(change, '$.t'), json_extract(change, '$.r') FROM _fs_outbox")}
        dropped: list[ChangeEvent] = []
        for table in self.schema.tables:
            name = T.store(table)
            stale = [
                row_id
                for (row_id,) in conn.execute(f"SELECT id FROM {name} WHERE id NOT IN (SELECT id FROM _fs_reset WHERE tbl = ?)", (table.name,))
                if (table.name, row_id) not in pending
            ]
            conn.executemany(f"DELETE FROM {name} WHERE id = ?", [(r,) for r in stale])
            dropped.extend(ChangeEvent(table.name, r, "remote", frozenset(), True) for r in stale)
        conn.execute("DELETE FROM _fs_reset")
        T.meta_set(conn, "reset", "0")
        return dropped

    def apply_evict(self, rows: Sequence[Sequence[str]]) -> list[ChangeEvent]:
        """Drop rows that left the device's scope, creating no changes."""
        events = []
        with self._tx() as conn:
            for table_name, row_id in rows:
                table = self.schema.by_name.get(table_name)
                if table is None:
                    continue
                cur = conn.execute(f"DELETE FROM {T.store(table)} WHERE id = ?", (row_id,))
                if cur.rowcount:
                    events.append(ChangeEvent(table.name, row_id, "remote", frozenset(), True))
        self._emit(events)
        return events

    def apply_purge(self, reason: str) -> None:
        """Wipe every row, the outbox, errors, conflicts and the cursor (device revoked)."""
        with self._tx() as conn:
            for table in self.schema.tables:
                conn.execute(f"DELETE FROM {T.store(table)}")
            for internal in ("_fs_outbox", "_fs_errors", "_fs_conflicts"):
                conn.execute(f"DELETE FROM {internal}")
            conn.execute("DELETE FROM _fs_meta WHERE key = 'cursor'")
            T.meta_set(conn, "purged", reason or "purged")


def _column(table: Table, name: str) -> str:
    if name == "id":
        return "id"
    fld = table.field(name)  # unknown names raise ValidationError (FS-2002)
    if fld.type is FieldType.JSON:
        raise ValueError(f"{table.name}.{name} is a JSON field; filter in Python instead")
    return T.field_sql(fld)


def _param(table: Table, name: str, value: Any) -> Any:
    if name == "id":
        return str(value)
    fld = table.field(name)
    return T.encode(fld, coerce(fld, value))


def _conflict_from_json(obj: Mapping[str, Any]) -> Conflict:
    win, lose = obj["winner"], obj["loser"]
    return Conflict(
        obj["table"], obj["row_id"], obj["field"], obj["kind"],
        win["value"], None if win["hlc"] is None else int(win["hlc"]), win["site"],
        lose["value"], int(lose["hlc"]), lose["site"],
    )


def _discard(items: list[Any], item: Any) -> None:
    if item in items:
        items.remove(item)


__all__ = ["Replica", "RecordNotFound"]
