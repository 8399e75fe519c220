"""The push path's statements at driver speed.

SQLAlchemy's per-row parameter processing costs more than the database's
own work for the change log and row upserts, the two statements that carry
every pushed change, and building a Core ``select`` costs about half a
millisecond on the reference machine, several times the query itself
(``bench/hub.py`` measured both). These helpers build each statement's text
once per (table, columns, dialect) and hand plain tuples to the DB-API.
Callers build insert tuples in column order with JSON columns already
encoded (``json_text``); on PostgreSQL those parameters are cast to ``json``
in the statement.

Inserts go as multi-row ``INSERT ... VALUES (...), (...)`` statements of up
to ``MAX_ROWS_PER_STATEMENT`` rows (``fieldsync.sync.chunks``), not as ``executemany``: Python's sqlite3
driver releases the GIL around every step it takes, and ``executemany``
steps once per row. On a hub whose event loop is busy (validating the next
push), each of those releases cost the writer thread up to a switch
interval (5 ms) to win the GIL back -- a convoy that made a group's flush
tens of times slower (``docs/performance.md``). One statement per chunk
steps once. Chunks are the largest power of two that fits, so a table has
a handful of statement texts for the drivers' statement caches.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from itertools import chain
from typing import Any

from sqlalchemy import JSON, Table

from fieldsync.sync.chunks import MAX_PARAMETERS, MAX_ROWS_PER_STATEMENT, chunks

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_text(value: Any) -> str | None:
    """A JSON column's parameter, as SQLAlchemy's ``JSON(none_as_null=True)`` would store it."""
    return None if value is None else _ENCODE(value)


def json_columns(table: Table, columns: Sequence[str]) -> tuple[bool, ...]:
    """Which of ``columns`` are JSON (their parameters must go through ``json_text``)."""
    return tuple(isinstance(table.c[name].type, JSON) for name in columns)


@lru_cache(maxsize=1024)
def _statement(table: Table, columns: tuple[str, ...], dialect: str, upsert_key: str | None, rows: int) -> str:
    is_json = json_columns(table, columns)
    if dialect == "postgresql":
        marks = ", ".join("%s::json" if j else "%s" for j in is_json)
    else:
        marks = ", ".join("?" for _ in columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ' + ", ".join([f"({marks})"] * rows)
    if upsert_key is not None:
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != upsert_key)
        sql += f' ON CONFLICT ("{upsert_key}") DO UPDATE SET {updates}'
    return sql


def insert_rows(
    conn: Any, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]], *, upsert_key: str | None = None
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, JSON pre-encoded) into ``table``; upsert on ``upsert_key``.

    The rows of one call must have distinct ``upsert_key`` values (an upsert
    statement may not touch a row twice).
    """
    dialect = conn.dialect.name
    for start, size in chunks(len(rows), len(columns)):
        params = tuple(chain.from_iterable(rows[start : start + size]))
        conn.exec_driver_sql(_statement(table, columns, dialect, upsert_key, size), params)


def mark(dialect: str) -> str:
    """The DB-API parameter mark of ``dialect`` (``?`` for SQLite, ``%s`` for psycopg)."""
    return "%s" if dialect == "postgresql" else "?"


def select_in(conn: Any, table: str, columns: tuple[str, ...], key: str, values: Sequence[Any]) -> list[Any]:
    """Rows (``columns``) of ``table`` whose ``key`` is one of ``values``; at most 500 values per query."""
    m = mark(conn.dialect.name)
    quoted = ", ".join(f'"{c}"' for c in columns)
    out: list[Any] = []
    for i in range(0, len(values), 500):
        chunk = tuple(values[i : i + 500])
        sql = f'SELECT {quoted} FROM "{table}" WHERE "{key}" IN ({", ".join([m] * len(chunk))})'
        out.extend(conn.exec_driver_sql(sql, chunk).fetchall())
    return out


def scalar(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of the first row of ``sql`` (written with ``?`` marks), or None."""
    if params and conn.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    row = conn.exec_driver_sql(sql, params).first()
    return None if row is None else row[0]


__all__ = ["MAX_PARAMETERS", "MAX_ROWS_PER_STATEMENT", "chunks", "insert_rows", "json_columns", "json_text", "mark", "scalar", "select_in"]
