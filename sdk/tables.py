"""The replica's SQL, derived from the table declarations.

Per synced table: ``id`` (TEXT PRIMARY KEY), ``_cl`` (causal length; odd
while the row exists), ``_state`` (the merged row state, JSON from
``fieldsync.sync.merge.dumps_state``) and one column per declared field
holding the materialised value, so applications query plain columns.
JSON-typed fields (including sets) are stored as JSON text; booleans as 0/1.

Internal tables start with ``_fs_`` (outbox, meta, per-record errors, the
local conflict log). Identifiers in SQL come only from the declaration, whose
names ``fieldsync.sync.schema`` restricts to ``[a-z][a-z0-9_]*``; user values
always travel as parameters.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

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
)


def quote(name: str) -> str:
    """A quoted SQL identifier (names come from the declaration only)."""
    return '"' + name.replace('"', '""') + '"'


def column_type(fld: Field) -> str:
    """The SQLite column type of a declared field."""
    return _SQL_TYPES[fld.type]


def create_table_sql(table: Table) -> str:
    """``CREATE TABLE`` for a synced table at the current declaration."""
    cols = ", ".join(f"{quote(f.name)} {column_type(f)}" for f in table.fields)
    return (
        f"CREATE TABLE IF NOT EXISTS {quote(table.name)} "
        f"(id TEXT PRIMARY KEY, _cl INTEGER NOT NULL, _state TEXT NOT NULL, {cols})"
    )


def migrate(conn: sqlite3.Connection, schema: Schema) -> list[str]:
    """Create missing tables and add missing columns; returns the columns added.

    Adding a nullable field to the declaration only adds a column: existing
    rows keep their state and nothing is downloaded again.
    """
    added: list[str] = []
    for stmt in INTERNAL_DDL:
        conn.execute(stmt)
    for table in schema.tables:
        conn.execute(create_table_sql(table))
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({quote(table.name)})")}
        for fld in table.fields:
            if fld.name not in have:
                conn.execute(f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(fld.name)} {column_type(fld)}")
                added.append(f"{table.name}.{fld.name}")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {quote('_fs_' + table.name + '_cl')} ON {quote(table.name)} (_cl)")
    return added


def encode(fld: Field, value: Any) -> Any:
    """A field value as stored in its column."""
    if value is None:
        return None
    if fld.type is FieldType.JSON:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if fld.type is FieldType.BOOLEAN:
        return int(bool(value))
    return value


def decode(fld: Field, stored: Any) -> Any:
    """Inverse of ``encode``."""
    if stored is None:
        return None
    if fld.type is FieldType.JSON:
        return json.loads(stored)
    if fld.type is FieldType.BOOLEAN:
        return bool(stored)
    return stored


def upsert_sql(table: Table) -> str:
    """``INSERT .. ON CONFLICT DO UPDATE`` writing every materialised column of a row."""
    names = ["id", "_cl", "_state", *(f.name for f in table.fields)]
    cols = ", ".join(quote(n) for n in names)
    marks = ", ".join("?" for _ in names)
    updates = ", ".join(f"{quote(n)} = excluded.{quote(n)}" for n in names[1:])
    return f"INSERT INTO {quote(table.name)} ({cols}) VALUES ({marks}) ON CONFLICT(id) DO UPDATE SET {updates}"


def row_params(table: Table, state: RowState) -> list[Any]:
    """Parameters for ``upsert_sql``: the row's id, causal length, state and column values."""
    cells = state.cells
    params: list[Any] = [state.row_id, state.cl, dumps_state(state)]
    for fld in table.fields:
        cell = cells.get(fld.name)
        params.append(encode(fld, cell.value if cell is not None else None))
    return params


def select_columns(table: Table) -> str:
    """The column list ``read_record`` expects."""
    return ", ".join(["id", *(quote(f.name) for f in table.fields)])


def read_values(table: Table, row: tuple[Any, ...]) -> dict[str, Any]:
    """Decoded field values from a row selected with ``select_columns``."""
    return {fld.name: decode(fld, stored) for fld, stored in zip(table.fields, row[1:], strict=True)}


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
    "create_table_sql",
    "decode",
    "encode",
    "meta_get",
    "meta_set",
    "migrate",
    "quote",
    "read_values",
    "row_params",
    "select_columns",
    "upsert_sql",
]
