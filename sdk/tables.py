"""The replica's SQL, derived from the table declarations.

Each synced table is stored as ``_fs_rows_<table>``: ``id`` (TEXT PRIMARY
KEY), ``_cl`` (causal length; odd while the row exists) and ``_state`` (the
merged row state, JSON from ``fieldsync.sync.merge.dumps_state``). The row
state is the only thing stored, and a write stores three values however wide
the table is: the first sync writes every row, and materialised columns made
that twice as slow (``bench/sdk.py``: 39 against 18 µs per row for a
22-field table; SQLite evaluates even *virtual* generated columns on insert,
31 µs).

For applications the replica offers a view per table, under the table's own
name, with ``id`` and one column per declared field, read out of the state
when queried (booleans as 0/1, JSON fields including sets as JSON text), and
only the rows that exist. ``Replica.query`` filters and sorts with the same
expressions (``field_sql``); records themselves are read from ``_state``
(``record_values``), so values come back exactly as merged.

Internal tables start with ``_fs_`` (outbox, meta, per-record errors, the
local conflict log, the row stores). Identifiers in SQL come only from the
declaration, whose names ``fieldsync.sync.schema`` restricts to
``[a-z][a-z0-9_]*``; user values always travel as parameters.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from fieldsync.sync.chunks import chunks
from fieldsync.sync.merge import RowState, dumps_state
from fieldsync.sync.schema import Field, FieldType, Schema, Table

_SQL_TYPES = {
    FieldType.TEXT: "TEXT",
    FieldType.INTEGER: "INTEGER",
    FieldType.REAL: "REAL",
    FieldType.BOOLEAN: "INTEGER",
    FieldType.TIMESTAMP: "TEXT",
    FieldType.DATE: "TEXT",
    FieldType.UUID: "TEXT",
    FieldType.JSON: "TEXT",
}

INTERNAL_DDL = (
    """CREATE TABLE IF NOT EXISTS _fs_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS _fs_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        change TEXT NOT NULL,
        size INTEGER NOT NULL,
        batch TEXT
    )""",
    """CREATE INDEX IF NOT EXISTS _fs_outbox_batch ON _fs_outbox (batch)""",
    # attachment bytes still to upload (sdk/attachments.py)
    """CREATE TABLE IF NOT EXISTS _uploads (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0)""",
    # rows a fresh snapshot brought back after a reset (Replica.begin_reset)
    """CREATE TABLE IF NOT EXISTS _fs_reset (tbl TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tbl, id))""",
    """CREATE TABLE IF NOT EXISTS _fs_errors (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tbl TEXT NOT NULL, row_id TEXT NOT NULL, field TEXT,
        code TEXT NOT NULL, name TEXT NOT NULL, message TEXT NOT NULL, at INTEGER NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS _fs_conflicts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tbl TEXT NOT NULL, row_id TEXT NOT NULL, field TEXT NOT NULL,
        conflict TEXT NOT NULL, at INTEGER NOT NULL
    )""",
    # One entry per lost write, however often merging meets it (a snapshot and its catch-up may both carry the winner).
    """DELETE FROM _fs_conflicts WHERE id NOT IN (SELECT MIN(id) FROM _fs_conflicts GROUP BY tbl, row_id, field,
        json_extract(conflict, '$.loser.hlc'), json_extract(conflict, '$.loser.site'))""",
    """CREATE UNIQUE INDEX IF NOT EXISTS _fs_conflicts_loser ON _fs_conflicts (tbl, row_id, field,
        json_extract(conflict, '$.loser.hlc'), json_extract(conflict, '$.loser.site'))""",
)


def quote(name: str) -> str:
    """A quoted SQL identifier (names come from the declaration only)."""
    return '"' + name.replace('"', '""') + '"'


def column_type(fld: Field) -> str:
    """The SQLite column type of a declared field."""
    return _SQL_TYPES[fld.type]


def store(table: Table) -> str:
    """The quoted name of the table that stores ``table``'s rows."""
    return quote("_fs_rows_" + table.name)


def field_sql(fld: Field) -> str:
    """An SQL expression reading a field's value out of ``_state`` (as the view's column shows it)."""
    path = f"'$.c.{fld.name}[0]'"
    if fld.type is FieldType.JSON:  # JSON text whatever the value's kind (``->`` would need SQLite 3.38)
        return (
            f"CASE json_type(_state, {path}) WHEN 'object' THEN json_extract(_state, {path}) "
            f"WHEN 'array' THEN json_extract(_state, {path}) WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' "
            f"WHEN 'null' THEN NULL ELSE json_quote(json_extract(_state, {path})) END"
        )
    return f"json_extract(_state, {path})"


def migrate(conn: sqlite3.Connection, schema: Schema) -> list[str]:
    """Create missing row stores, (re)create the views; returns the fields added since the last open.

    Adding a nullable field to the declaration only changes the view:
    existing rows keep their state and nothing is downloaded again. A
    replica from an earlier layout (a table per synced table, with a column
    per field) has its rows moved into the row store once, ids, causal
    lengths and states intact.
    """
    added: list[str] = []
    for stmt in INTERNAL_DDL:
        conn.execute(stmt)
    for table in schema.tables:
        name = quote(table.name)
        kind = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (table.name,)).fetchone()
        before = {row[1] for row in conn.execute(f"PRAGMA table_info({name})")} if kind else None
        conn.execute(f"CREATE TABLE IF NOT EXISTS {store(table)} (id TEXT PRIMARY KEY, _cl INTEGER NOT NULL, _state TEXT NOT NULL)")
        if kind is not None and kind[0] == "table":
            conn.execute(f"INSERT INTO {store(table)} (id, _cl, _state) SELECT id, _cl, _state FROM {name}")
            conn.execute(f"DROP TABLE {name}")
        elif kind is not None:
            conn.execute(f"DROP VIEW {name}")
        columns = "".join(f", {field_sql(f)} AS {quote(f.name)}" for f in table.fields)
        conn.execute(f"CREATE VIEW {name} AS SELECT id{columns} FROM {store(table)} WHERE _cl % 2 = 1")
        if before is not None:
            added.extend(f"{table.name}.{f.name}" for f in table.fields if f.name not in before)
    return added


def encode(fld: Field, value: Any) -> Any:
    """A field value as its column reads (to compare with it in a query)."""
    if value is None:
        return None
    if fld.type is FieldType.JSON:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if fld.type is FieldType.BOOLEAN:
        return int(bool(value))
    return value


#: What an upsert of row states does on a row already stored (``upsert_head`` + rows + this).
UPSERT_TAIL = " ON CONFLICT(id) DO UPDATE SET _cl = excluded._cl, _state = excluded._state"


def upsert_head(table: Table) -> str:
    """The start of an upsert of rows' id, causal length and state (``execute_rows``)."""
    return f"INSERT INTO {store(table)} (id, _cl, _state)"


def upsert_sql(table: Table) -> str:
    """``INSERT .. ON CONFLICT DO UPDATE`` of one row's id, causal length and state."""
    return _multi_row(upsert_head(table), 3, 1, UPSERT_TAIL)


def execute_rows(conn: sqlite3.Connection, head: str, rows: Sequence[tuple[Any, ...]], tail: str = "") -> None:
    """Run ``head VALUES (?, ..), (?, ..) tail`` over all ``rows``, one multi-row statement per chunk
    (``fieldsync.sync.chunks``: never ``executemany``, which would hand the GIL over once per row)."""
    if not rows:
        return
    width = len(rows[0])
    for start, size in chunks(len(rows), width):
        conn.execute(_multi_row(head, width, size, tail), [v for row in rows[start : start + size] for v in row])


@lru_cache(maxsize=256)
def _multi_row(head: str, width: int, rows: int, tail: str) -> str:
    row = "(" + ", ".join("?" * width) + ")"
    return f"{head} VALUES {', '.join([row] * rows)}{tail}"


def row_params(state: RowState) -> tuple[str, int, str]:
    """Parameters for ``upsert_sql``."""
    return (state.row_id, state.cl, dumps_state(state))


def record_values(table: Table, state_text: str) -> dict[str, Any]:
    """A record's field values, read from its stored state (fields never written are None)."""
    cells = json.loads(state_text)["c"]
    return {fld.name: cell[0] if (cell := cells.get(fld.name)) is not None else None for fld in table.fields}


def meta_get(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM _fs_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def meta_set(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO _fs_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def meta_items(conn: sqlite3.Connection) -> Mapping[str, str]:
    return {str(k): str(v) for k, v in conn.execute("SELECT key, value FROM _fs_meta")}


__all__ = [
    "UPSERT_TAIL",
    "encode",
    "execute_rows",
    "field_sql",
    "meta_get",
    "meta_set",
    "migrate",
    "quote",
    "record_values",
    "row_params",
    "store",
    "upsert_head",
    "upsert_sql",
]
