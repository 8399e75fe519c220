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
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table

_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def json_text(value: Any) -> str | None:
    """A JSON column's parameter, as SQLAlchemy's ``JSON(none_as_null=True)`` would store it."""
    return None if value is None else _ENCODE(value)


def json_columns(table: Table, columns: Sequence[str]) -> tuple[bool, ...]:
    """Which of ``columns`` are JSON (their parameters must go through ``json_text``)."""
    return tuple(isinstance(table.c[name].type, JSON) for name in columns)


@lru_cache(maxsize=256)
def _statement(table: Table, columns: tuple[str, ...], dialect: str, upsert_key: str | None) -> str:
    is_json = json_columns(table, columns)
    if dialect == "postgresql":
        marks = ", ".join("%s::json" if j else "%s" for j in is_json)
    else:
        marks = ", ".join("?" for _ in columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})'
    if upsert_key is not None:
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != upsert_key)
        sql += f' ON CONFLICT ("{upsert_key}") DO UPDATE SET {updates}'
    return sql


def insert_rows(
    conn: Any, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]], *, upsert_key: str | None = None
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order, JSON pre-encoded) into ``table``; upsert on ``upsert_key``."""
    if rows:
        conn.exec_driver_sql(_statement(table, columns, conn.dialect.name, upsert_key), rows)


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


__all__ = ["insert_rows", "json_columns", "json_text", "mark", "scalar", "select_in"]
