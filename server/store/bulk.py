"""Multi-row inserts and upserts at driver speed.

SQLAlchemy's per-row parameter processing costs more than the database's
own work for the change log and row upserts, the two statements that carry
every pushed change (``bench/hub.py`` measured it). These helpers compile one
statement per (table, columns, dialect) once, then hand plain tuples to the
DB-API ``executemany``. JSON columns are encoded here (and cast on
PostgreSQL), exactly as SQLAlchemy's JSON type would store them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import JSON, Table


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json(value: Any) -> str | None:
    return None if value is None else _ENCODE(value)


@lru_cache(maxsize=256)
def _statement(table: Table, columns: tuple[str, ...], dialect: str, upsert_key: str | None) -> tuple[str, tuple[bool, ...]]:
    is_json = tuple(isinstance(table.c[name].type, JSON) for name in columns)
    if dialect == "postgresql":
        marks = ", ".join("%s::json" if j else "%s" for j in is_json)
    else:
        marks = ", ".join("?" for _ in columns)
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})'
    if upsert_key is not None:
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != upsert_key)
        sql += f' ON CONFLICT ("{upsert_key}") DO UPDATE SET {updates}'
    return sql, is_json


def _rows(records: Sequence[dict[str, Any]], columns: tuple[str, ...], is_json: tuple[bool, ...]) -> list[tuple[Any, ...]]:
    if not any(is_json):
        return [tuple(r.get(c) for c in columns) for r in records]
    return [tuple(_json(r.get(c)) if j else r.get(c) for c, j in zip(columns, is_json)) for r in records]


def bulk_insert(conn: Any, table: Table, records: Sequence[dict[str, Any]], *, upsert_key: str | None = None) -> None:
    """Insert ``records`` (dicts with the same keys) into ``table``; upsert on ``upsert_key`` if given."""
    if not records:
        return
    columns = tuple(c.name for c in table.columns if c.name in records[0])
    sql, is_json = _statement(table, columns, conn.dialect.name, upsert_key)
    conn.exec_driver_sql(sql, _rows(records, columns, is_json))


__all__ = ["bulk_insert"]
