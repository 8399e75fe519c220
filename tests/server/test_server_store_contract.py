"""One contract suite for every ChangeStore backend (SQLite and the real PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from fieldsync.server.store import SqlChangeStore, open_store
from fieldsync.server.store.base import Principal
from fieldsync.sync import errors as E
from fieldsync.sync.change import Change
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import pack
from fieldsync.sync.merge import loads_state

USER = str(uuid.uuid4())
DEPT = str(uuid.uuid4())
ME = Principal(USER, DEPT, "dev-a")
OTHER = Principal(str(uuid.uuid4()), DEPT, "dev-b")


@pytest.fixture
def store(store_url: str) -> Iterator[SqlChangeStore]:
    s = open_store(store_url, CRM_SCHEMA)
    yield s
    s.close()


def change(row: str, field: str, value: object, ms: int, site: str = "dev-a", base: int = 0, cl: int = 1) -> Change:
    return Change("accounts", row, field, value, pack(ms, 0), site, cl, base)


def test_empty_store_has_head_zero(store: SqlChangeStore) -> None:
    """A freshly migrated store has an empty log."""
    assert store.head() == 0
    assert store.changes_after(0, 10) == []


def test_batch_appends_log_with_consecutive_sequences(store: SqlChangeStore) -> None:
    """Applied changes get consecutive sequence numbers in the order applied."""
    row = str(uuid.uuid4())
    out = store.apply_batch(ME, "b1", "d1", [change(row, "name", "Acme", 1000), change(row, "tier", "A", 1001)], [], 2)
    seqs = [e.seq for e in out.entries]
    assert seqs == list(range(1, len(seqs) + 1))
    assert store.head() == seqs[-1]
    assert [e.seq for e in store.changes_after(0, 100)] == seqs
    assert out.ack["accepted"] == 2 and out.ack["rejects"] == []


def test_new_row_is_stamped_with_owner_and_department(store: SqlChangeStore) -> None:
    """A row created without an owner is owned by the pushing user and department."""
    row = str(uuid.uuid4())
    out = store.apply_batch(ME, "b1", "d1", [change(row, "name", "Acme", 1000)], [], 1)
    state = loads_state(store.row_states("accounts", [row])[row])
    assert state.values()["owner_id"] == USER
    assert state.values()["department_id"] == DEPT
    assert {e.owner_id for e in out.entries} == {USER}


def test_resent_batch_applies_once_and_repeats_ack(store: SqlChangeStore) -> None:
    """A batch id seen before with the same digest is not applied again."""
    row = str(uuid.uuid4())
    changes = [change(row, "visit_count", 1, 1000)]
    first = store.apply_batch(ME, "b1", "d1", changes, [], 1)
    head = store.head()
    again = store.apply_batch(ME, "b1", "d1", changes, [], 1)
    assert again.duplicate and again.ack["duplicate"] is True
    assert again.ack["seq"] == first.ack["seq"]
    assert store.head() == head


def test_batch_id_reused_with_other_content_is_refused(store: SqlChangeStore) -> None:
    """Reusing a batch id for different changes is a typed error and changes nothing."""
    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [change(row, "name", "A", 1000)], [], 1)
    head = store.head()
    with pytest.raises(E.ProtocolError) as err:
        store.apply_batch(ME, "b1", "other", [change(row, "name", "B", 2000)], [], 1)
    assert err.value.code is E.BATCH_ID_REUSED
    assert store.head() == head


def test_same_batch_id_from_another_site_is_independent(store: SqlChangeStore) -> None:
    """Batch ids are scoped per site."""
    r1, r2 = str(uuid.uuid4()), str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [change(r1, "name", "A", 1000)], [], 1)
    out = store.apply_batch(OTHER, "b1", "d2", [change(r2, "name", "B", 1000, site="dev-b")], [], 1)
    assert not out.duplicate and out.entries


def conflicting_names(store: SqlChangeStore) -> str:
    """A row whose name two devices set concurrently: "Acme A" wins, "Acme B" loses. Returns the row id."""
    row = str(uuid.uuid4())
    base = pack(1000, 0)
    store.apply_batch(ME, "b0", "d0", [change(row, "name", "Acme", 1000)], [], 1)
    store.apply_batch(ME, "b1", "d1", [change(row, "name", "Acme A", 2000, base=base)], [], 1)
    store.apply_batch(OTHER, "b2", "d2", [change(row, "name", "Acme B", 1500, site="dev-b", base=base)], [], 1)
    return row


def test_losing_concurrent_write_is_kept_in_conflict_history(store: SqlChangeStore) -> None:
    """A same-field concurrent write that loses is recorded with both values."""
    row = conflicting_names(store)
    history = store.conflicts("accounts", row)
    assert len(history) == 1
    assert history[0]["winner"]["value"] == "Acme A" and history[0]["loser"]["value"] == "Acme B"


def test_losing_change_is_not_logged(store: SqlChangeStore) -> None:
    """A write that changes nothing (older than the current value) adds nothing to the log."""
    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [change(row, "name", "New", 2000)], [], 1)
    head = store.head()
    store.apply_batch(ME, "b2", "d2", [change(row, "name", "New", 2000)], [], 1)
    assert store.head() == head


def test_materialised_columns_follow_merged_state(store: SqlChangeStore) -> None:
    """Real columns hold the merged values, so the server can query them."""
    from sqlalchemy import select

    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [change(row, "name", "Acme", 1000), change(row, "lat", 31.2, 1000)], [], 2)
    t = store.rows["accounts"]
    with store.engine.connect() as conn:
        got = conn.execute(select(t.c.name, t.c.lat, t.c._cl).where(t.c.id == row)).one()
    assert tuple(got) == ("Acme", 31.2, 1)


def test_snapshot_pages_cover_every_row_once(store: SqlChangeStore) -> None:
    """Keyset pages of a table return every row exactly once, in id order."""
    rows = sorted(str(uuid.uuid4()) for _ in range(25))
    store.apply_batch(ME, "b1", "d1", [change(r, "name", f"n{i}", 1000 + i) for i, r in enumerate(rows)], [], 25)
    seen: list[str] = []
    after = ""
    while page := store.snapshot_page("accounts", after, 7):
        seen.extend(r for r, _ in page)
        after = page[-1][0]
        assert all(json.loads(s)["r"] == r for r, s in page)
    assert seen == rows


def test_server_write_reaches_server_only_fields(store: SqlChangeStore) -> None:
    """The server may write fields devices may not (verdicts), and it is logged."""
    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [Change("visits", row, "outcome", "ok", pack(1000, 0), "dev-a")], [], 1)
    out = store.server_write("visits", row, {"verdict": "verified"})
    assert any(c["f"] == "verdict" for e in out.entries for c in e.changes())
    assert loads_state(store.row_states("visits", [row])[row]).values()["verdict"] == "verified"


def test_server_restore_write_brings_a_deleted_row_back_with_the_value(store: SqlChangeStore) -> None:
    """``server_write(restore=True)`` on a deleted row logs one record: the next odd causal length, then the value at it."""
    row = str(uuid.uuid4())
    created = Change("tasks", row, "title", "Call", pack(1000, 0), "dev-a", 1)
    deleted = Change("tasks", row, "_cl", str(pack(1000, 0)), pack(2000, 0), "dev-a", 2)
    store.apply_batch(ME, "b1", "d1", [created], [], 1)
    store.apply_batch(ME, "b2", "d2", [deleted], [], 1)
    assert not loads_state(store.row_states("tasks", [row])[row]).exists
    with pytest.raises(E.ValidationError):
        store.server_write("tasks", row, {"title": "Call back"})
    out = store.server_write("tasks", row, {"title": "Call back"}, restore=True)
    [entry] = out.entries
    assert [(c["f"], c["c"]) for c in entry.changes()] == [("_cl", 3), ("title", 3)]
    state = loads_state(store.row_states("tasks", [row])[row])
    assert state.exists and state.cl == 3 and state.values()["title"] == "Call back"
    again = store.server_write("tasks", row, {"title": "Call back today"}, restore=True)  # a live row: a plain write
    assert [c["f"] for e in again.entries for c in e.changes()] == ["title"]


def test_a_restoring_write_resolves_its_conflict_entry_in_the_same_transaction(store: SqlChangeStore) -> None:
    """``server_write(resolves=id)`` marks that conflict-history entry resolved only if, and when, the write commits."""
    row = conflicting_names(store)
    [entry] = store.conflicts("accounts", row)
    with pytest.raises(E.ValidationError):  # a write that fails (an unknown field) leaves the entry open
        store.server_write("accounts", row, {"no_such_field": 1}, resolves=entry["id"])
    assert [c["resolved"] for c in store.conflicts("accounts", row)] == [False]
    store.server_write("accounts", row, {"name": "Acme B"}, resolves=entry["id"])
    assert [c["resolved"] for c in store.conflicts("accounts", row)] == [True]


def test_store_survives_reopen(store_url: str) -> None:
    """Committed batches are durable across closing and reopening the store."""
    row = str(uuid.uuid4())
    s = open_store(store_url, CRM_SCHEMA)
    s.apply_batch(ME, "b1", "d1", [change(row, "name", "Acme", 1000)], [], 1)
    head = s.head()
    s.close()
    s2 = open_store(store_url, CRM_SCHEMA)
    try:
        assert s2.head() == head
        assert s2.apply_batch(ME, "b1", "d1", [change(row, "name", "Acme", 1000)], [], 1).duplicate
    finally:
        s2.close()


def test_row_created_and_deleted_offline_in_one_batch_applies(store: SqlChangeStore) -> None:
    """An insert and a delete of the same row in one batch are both applied; the tombstone is owned."""
    row = str(uuid.uuid4())
    out = store.apply_batch(ME, "b1", "d1", [change(row, "name", "draft", 1000), Change("accounts", row, "_cl", str(pack(1000, 0)), pack(1001, 0), "dev-a", 2)], [], 2)
    assert out.ack["accepted"] == 2
    state = loads_state(store.row_states("accounts", [row])[row])
    assert not state.exists and state.values()["owner_id"] == USER


def test_owner_stamp_never_resurrects_a_row_deleted_by_its_creator(store: SqlChangeStore) -> None:
    """On an update-wins table, a delete by a device that had not yet received the owner stamp still deletes."""
    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [change(row, "name", "draft", 1000)], [], 1)
    store.apply_batch(ME, "b2", "d2", [Change("accounts", row, "_cl", str(pack(1000, 0)), pack(2000, 0), "dev-a", 2)], [], 1)
    assert not loads_state(store.row_states("accounts", [row])[row]).exists


def test_a_closed_store_refuses_reads_and_writes(store_url: str) -> None:
    """After ``close()`` the store answers reads and writes with the typed "unavailable" error instead of quietly
    opening new connections (a late background task cannot write behind a shutdown)."""
    from fieldsync.server.store import open_store
    from fieldsync.sync import errors as E
    from fieldsync.sync.crm import CRM_SCHEMA

    s = open_store(store_url, CRM_SCHEMA)
    s.close()
    with pytest.raises(E.ServerError) as read:
        s.head()
    with pytest.raises(E.ServerError) as write:
        s.server_write("accounts", "0192f4c8-0000-7000-8000-0000000000aa", {"name": "late"})
    assert read.value.code is E.UNAVAILABLE and write.value.code is E.UNAVAILABLE
