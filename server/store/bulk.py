"""Multi-row inserts and upserts at driver speed.

SQLAlchemy's per-row parameter processing costs more than the database's
own work for the change log and row upserts, the two statements that carry
every pushed change (``bench/hub.py`` measured it). These helpers compile one
statement per (table, columns, dialect) once, then hand the caller's tuples
to the DB-API ``executemany``. Callers build the tuples in column order with
JSON columns already encoded (``json_text``); on PostgreSQL those parameters
are cast to ``json`` in the statement.
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


__all__ = ["insert_rows", "json_columns", "json_text"]
