"""The replica touches SQLite a bounded number of times per page and per batch, not once per row.

Python's sqlite3 driver releases the GIL at every step of a statement; in an app whose other threads run
Python, each release can cost a switch interval (5 ms) before the sync thread runs again. These tests count
the statements SQLite runs (its trace callback fires once per execution, so ``executemany`` counts once per
row) rather than timing anything.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from fieldsync.sdk import Replica
from fieldsync.sync.change import Change
from fieldsync.sync.merge import dumps_state, merge_row
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import pack


@contextmanager
def counted(replica: Replica) -> Iterator[Callable[[], int]]:
    """Count the statements SQLite runs on the replica's connection inside the block."""
    seen: list[str] = []
    conn = replica._conn
    conn.set_trace_callback(seen.append)
    try:
        yield lambda: len(seen)
    finally:
        conn.set_trace_callback(None)


def snapshot_rows(n: int) -> list[str]:
    table = CRM_SCHEMA.table("accounts")
    texts = []
    for i in range(n):
        row = str(uuid.UUID(int=i + 1, version=4))
        changes = [Change("accounts", row, f, f"{f} {i}", pack(1_764_000_000_000 + i, k), "dev-x") for k, f in enumerate(("name", "tier"))]
        texts.append(dumps_state(merge_row(table, None, changes).state))
    return sorted(texts, key=lambda t: json.loads(t)["r"])


def test_a_page_of_rows_is_stored_with_a_few_statements(open_replica: Callable[..., Replica]) -> None:
    """Applying a 500-row snapshot page runs a few dozen statements at most, not one per row; every row is stored."""
    replica = open_replica()
    texts = snapshot_rows(500)
    with counted(replica) as statements:
        replica.apply_pages([json.loads(t) for t in texts], [], cursor="s:1", raw_rows=texts)
        assert statements() < 25
    assert replica.count("accounts") == 500


def test_a_batch_is_taken_and_acknowledged_with_a_few_statements(open_replica: Callable[..., Replica]) -> None:
    """Taking a 500-change batch from the outbox and completing it after its ack run a handful of statements each,
    and the outbox is empty afterwards."""
    replica = open_replica()
    for i in range(500):
        replica.insert("accounts", {"name": f"a{i}"})  # one change each
    with counted(replica) as statements:
        batch = replica.take_batch(max_changes=500, max_bytes=10_000_000)
        assert batch is not None and len(batch.changes) == 500
        assert statements() < 10
    with counted(replica) as statements:
        assert replica.complete_batch(batch.batch_id, []) == []
        assert statements() < 10
    assert replica.pending_count == 0


def test_clearing_record_errors_is_one_statement_per_500_rows(open_replica: Callable[..., Replica]) -> None:
    """When some records have errors, an accepted batch clears those of its rows with a statement per 500 rows, and
    keeps the errors of rows it did not touch."""
    replica = open_replica()
    first = [replica.insert("accounts", {"name": f"a{i}"}).id for i in range(300)]
    batch = replica.take_batch(max_changes=10_000, max_bytes=10_000_000)
    assert batch is not None
    rejects = [{"i": i, "code": "FS-2003", "name": "wrong_type", "message": "no"} for i in range(len(batch.changes))]
    replica.complete_batch(batch.batch_id, rejects)  # every record of the batch now has errors
    assert {e.record_id for e in replica.errors} == set(first)
    for row_id in first[:200]:
        replica.update("accounts", row_id, {"name": "fixed"})
    batch = replica.take_batch(max_changes=10_000, max_bytes=10_000_000)
    assert batch is not None
    with counted(replica) as statements:
        replica.complete_batch(batch.batch_id, [])
        assert statements() < 10
    assert {e.record_id for e in replica.errors} == set(first[200:])
