"""The push path's bulk inserts: multi-row statements, on SQLite and the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, text

from fieldsync.server.store import SqlChangeStore, open_store
from fieldsync.server.store.bulk import MAX_PARAMETERS, MAX_ROWS_PER_STATEMENT, chunks, insert_rows
from fieldsync.server.store.writeset import BATCH_COLUMNS
from fieldsync.sync.crm import CRM_SCHEMA


@pytest.fixture
def store(store_url: str) -> Iterator[SqlChangeStore]:
    s = open_store(store_url, CRM_SCHEMA)
    yield s
    s.close()


def batch_rows(count: int, ack: str = "a") -> list[tuple[Any, ...]]:
    return [("dev-a", f"b{i:05d}", "d", i, ack, None, 1) for i in range(count)]


@given(count=st.integers(0, 5000), width=st.integers(1, 2000))
def test_chunks_cover_every_row_once_within_the_parameter_bound(count: int, width: int) -> None:
    """The statements of an insert cover rows 0..count-1 exactly once, in order, each within SQLite's parameter bound,
    and sizes are the full chunk or powers of two (few statement texts)."""
    spans = chunks(count, width)
    covered = [i for start, size in spans for i in range(start, start + size)]
    assert covered == list(range(count))
    most = max(1, min(MAX_ROWS_PER_STATEMENT, MAX_PARAMETERS // width))
    for _, size in spans:
        assert size * width <= max(MAX_PARAMETERS, width)
        assert size == most or size & (size - 1) == 0


@pytest.mark.parametrize("count", [1, 511, 512, 513, 1300])
def test_insert_rows_stores_every_row_across_chunk_boundaries(store: SqlChangeStore, count: int) -> None:
    """Every row handed to insert_rows is stored once with its values, whatever the chunking."""
    rows = batch_rows(count)
    with store.engine.begin() as conn:
        insert_rows(conn, store.t_batches, BATCH_COLUMNS, rows)
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT batch_id, seq FROM sync_batches ORDER BY batch_id")).fetchall()
    assert [tuple(r) for r in stored] == [(r[1], r[3]) for r in rows]


def test_insert_rows_runs_one_statement_per_chunk(store: SqlChangeStore) -> None:
    """1,000 rows go as a few multi-row statements, never as one execution per row (the GIL convoy fix)."""
    seen: list[tuple[bool, int]] = []

    def count(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if statement.startswith('INSERT INTO "sync_batches"'):
            seen.append((executemany, len(params)))

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.engine.begin() as conn:
            insert_rows(conn, store.t_batches, BATCH_COLUMNS, batch_rows(1000))
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert seen == [(False, size * len(BATCH_COLUMNS)) for _, size in chunks(1000, len(BATCH_COLUMNS))]
    assert len(seen) < 10


def test_upsert_chunks_update_existing_rows(store: SqlChangeStore) -> None:
    """A multi-row upsert updates the rows that exist and inserts the rest."""
    table = store.rows["accounts"]
    columns = ("id", "_cl", "_state", "_seq", "name")
    ids = [f"00000000-0000-7000-8000-{i:012d}" for i in range(600)]
    with store.engine.begin() as conn:
        insert_rows(conn, table, columns, [(i, 1, "{}", 1, "old") for i in ids[:300]], upsert_key="id")
    with store.engine.begin() as conn:
        insert_rows(conn, table, columns, [(i, 1, "{}", 2, "new") for i in ids], upsert_key="id")
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT name, _seq, count(*) FROM accounts GROUP BY name, _seq")).fetchall()
    assert [tuple(r) for r in stored] == [("new", 2, 600)]
