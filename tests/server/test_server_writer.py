"""The hub's writer thread: pushes queued behind a running write commit together, in order, and are published once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldsync.server.push import push_request
from fieldsync.server.store import SqlChangeStore, open_store
from fieldsync.server.store.base import BatchOutcome, LogEntry, Principal
from fieldsync.server.writer import Writer
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import pack

NOW = 1_764_000_000_000


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlChangeStore]:
    s = open_store(f"sqlite:///{tmp_path}/w.db", CRM_SCHEMA)
    yield s
    s.close()


def push_of(site: str, n: int) -> P.Push:
    row = str(uuid.uuid4())
    changes = [{"t": "accounts", "r": row, "f": "name", "v": f"v{i}", "h": str(pack(NOW + i, 0)), "s": site} for i in range(n)]
    return P.Push(str(uuid.uuid4()), changes)


def test_pushes_queued_behind_a_write_commit_as_one_group(store: SqlChangeStore) -> None:
    """Three pushes that queue while the writer is busy are applied in one transaction, acked in order, published once."""
    published: list[list[LogEntry]] = []
    writer = Writer(store, published.append)
    gate = threading.Event()
    blocker = writer.run(lambda: (gate.wait(10), BatchOutcome({}))[1])
    sites = ["dev-a", "dev-b", "dev-c"]
    futures = [writer.push(push_request(CRM_SCHEMA, Principal(str(uuid.uuid4()), None, s), push_of(s, 2), now_ms=NOW)) for s in sites]
    gate.set()
    blocker.result(10)
    outcomes = [f.result(10) for f in futures]
    writer.stop()
    assert (writer.groups, writer.grouped) == (1, 3)
    seqs = [int(o.ack["seq"]) for o in outcomes]
    assert seqs == sorted(seqs) and seqs[-1] == store.head()
    assert len(published) == 1  # one commit, one publish
    assert [c["s"] for e in published[0] for c in e.changes() if c["s"] != "server"] == ["dev-a"] * 2 + ["dev-b"] * 2 + ["dev-c"] * 2


def test_a_group_stops_at_the_size_limit(store: SqlChangeStore) -> None:
    """A group takes queued pushes only up to its change limit; the rest form the next group."""
    writer = Writer(store, lambda entries: None, max_group_changes=5)
    gate = threading.Event()
    blocker = writer.run(lambda: (gate.wait(10), BatchOutcome({}))[1])
    me = Principal(str(uuid.uuid4()), None, "dev-a")
    futures = [writer.push(push_request(CRM_SCHEMA, me, push_of("dev-a", 2), now_ms=NOW)) for _ in range(4)]
    gate.set()
    blocker.result(10)
    for f in futures:
        f.result(10)
    writer.stop()
    assert (writer.groups, writer.grouped) == (2, 4)


def test_a_failed_transaction_fails_every_push_in_it(store: SqlChangeStore) -> None:
    """When the store itself fails, every push of the group gets that error (retryable), and none is half-applied."""
    writer = Writer(store, lambda entries: None)
    gate = threading.Event()
    blocker = writer.run(lambda: (gate.wait(10), BatchOutcome({}))[1])
    me = Principal(str(uuid.uuid4()), None, "dev-a")
    futures = [writer.push(push_request(CRM_SCHEMA, me, push_of("dev-a", 1), now_ms=NOW)) for _ in range(2)]
    with store.engine.begin() as conn:  # a real database failure: the log table is gone when the group writes
        conn.exec_driver_sql("ALTER TABLE sync_changes RENAME TO sync_changes_away")
    gate.set()
    blocker.result(10)
    errors = [f.exception(10) for f in futures]
    writer.stop()
    assert all(isinstance(err, E.ServerError) and err.code is E.UNAVAILABLE and err.retryable for err in errors)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE sync_changes_away RENAME TO sync_changes")
    assert store.count_rows("accounts") == 0 and store.head() == 0


def test_a_stopped_writer_refuses_new_work(store: SqlChangeStore) -> None:
    """After shutdown a write is refused with a retryable error instead of hanging."""
    writer = Writer(store, lambda entries: None)
    writer.stop()
    with pytest.raises(E.ServerError) as info:
        writer.run(lambda: BatchOutcome({}))
    assert info.value.code is E.UNAVAILABLE and info.value.retryable
