"""The local replica: writes, queries, outbox, persistence, schema growth, threads."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

import fieldsync.sdk as sdk
from fieldsync.sdk import ChangeEvent, Increment, RecordNotFound, Replica, SetOps
from fieldsync.sdk.ids import uuid7
from fieldsync.sdk.testing import FakeClock
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.errors import ValidationError
from fieldsync.sync.schema import Field, FieldType, Schema, Table

Open = Callable[..., Replica]


def test_public_api_is_small_and_pinned() -> None:
    """The SDK's public names are exactly the documented ones."""
    assert sorted(sdk.__all__) == [
        "AsyncSyncClient", "Backoff", "ChangeEvent", "Conflict", "Increment", "Record", "RecordError",
        "RecordNotFound", "Replica", "SetOps", "SyncClient", "SyncError", "SyncStatus", "SyncSummary",
    ]


def test_uuid7_ids_are_version_7_and_time_ordered() -> None:
    """Generated ids are canonical UUIDv7 strings that sort by their millisecond."""
    ids = [uuid7(now_ms=1_764_000_000_000 + i) for i in range(50)]
    assert all(uuid.UUID(i).version == 7 and str(uuid.UUID(i)) == i for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 50


def test_insert_returns_the_record_with_decoded_values(open_replica: Open) -> None:
    """Insert gives a UUIDv7 id and returns JSON, set, boolean and numeric fields decoded."""
    r = open_replica()
    acct = r.insert("accounts", {"name": "华东电气", "lat": 31.23, "tags": ["b", "a"], "opening_hours": {"mon": [9, 17]}})
    assert uuid.UUID(acct.id).version == 7
    assert acct["name"] == "华东电气" and acct["lat"] == 31.23
    assert acct["tags"] == ["a", "b"] and acct["opening_hours"] == {"mon": [9, 17]}
    assert acct["phone"] is None and acct.get("nope", 1) == 1 and acct.to_dict()["id"] == acct.id
    visit = r.insert("visits", {"checkin_mock": False, "checkin_at": "2026-11-22T09:00:00+08:00"})
    assert visit["checkin_mock"] is False and visit["checkin_at"] == "2026-11-22T01:00:00Z"
    assert r.get("accounts", acct.id) == acct


def test_every_write_lands_in_table_and_outbox_together(open_replica: Open) -> None:
    """A successful write adds outbox changes; a failing one changes neither the row nor the outbox."""
    r = open_replica()
    acct = r.insert("accounts", {"name": "Acme", "tier": "A"})
    before = r.pending_count
    assert before == 2
    with pytest.raises(ValidationError):
        r.update("accounts", acct.id, {"phone": "1", "no_such_field": 2})
    with pytest.raises(ValidationError):
        r.update("accounts", acct.id, {"phone": "1", "lat": "north"})
    assert r.pending_count == before and r.get("accounts", acct.id) == acct
    r.update("accounts", acct.id, {"phone": "1", "tier": "A"})  # unchanged tier makes no change
    assert r.pending_count == before + 1


def test_update_delete_and_restore(open_replica: Open) -> None:
    """Delete hides a record, edits to it are refused, and restore brings back its values."""
    r = open_replica()
    acct = r.insert("accounts", {"name": "Acme"})
    with pytest.raises(RecordNotFound):
        r.update("accounts", str(uuid.uuid4()), {"name": "x"})
    r.delete("accounts", acct.id)
    assert r.get("accounts", acct.id) is None and r.query("accounts") == [] and r.count("accounts") == 0
    with pytest.raises(ValidationError) as err:
        r.update("accounts", acct.id, {"name": "Zombie"})
    assert err.value.code.code == "FS-2009"
    restored = r.restore("accounts", acct.id)
    assert restored["name"] == "Acme"
    with pytest.raises(ValueError):
        r.insert("accounts", {"name": "dup"}, id=acct.id)
    with pytest.raises(ValidationError):
        r.insert("accounts", {"name": "odd id"}, id="not-a-uuid")


def test_counters_and_sets(open_replica: Open) -> None:
    """Increments add up and set operations add and remove elements."""
    r = open_replica()
    acct = r.insert("accounts", {"name": "Acme"})
    r.increment("accounts", acct.id, "visit_count")
    r.increment("accounts", acct.id, "visit_count", 2)
    r.update("accounts", acct.id, {"visit_count": Increment(3)})
    r.add_to_set("accounts", acct.id, "tags", "vip", "north")
    r.remove_from_set("accounts", acct.id, "tags", "north")
    got = r.update("accounts", acct.id, {"tags": SetOps(add=("key",))})
    assert got["visit_count"] == 6 and got["tags"] == ["key", "vip"]


def test_query_filters_orders_and_pages_with_parameters(open_replica: Open) -> None:
    """query() matches, orders and pages on materialised columns; hostile values are only values."""
    r = open_replica()
    for name, tier in [("Beta", "A"), ("Alpha", "A"), ("Gamma", "B"), ("Delta", None)]:
        r.insert("accounts", {"name": name, "tier": tier})
    names = lambda recs: [x["name"] for x in recs]  # noqa: E731
    assert names(r.query("accounts", where={"tier": "A"}, order_by="name")) == ["Alpha", "Beta"]
    assert names(r.query("accounts", order_by="-name", limit=2)) == ["Gamma", "Delta"]
    assert names(r.query("accounts", order_by="name", limit=2, offset=1)) == ["Beta", "Delta"]
    assert names(r.query("accounts", where={"tier": None})) == ["Delta"]
    assert names(r.query("accounts", where={"tier": ["B", "C"]})) == ["Gamma"]
    assert r.query("accounts", where={"name": "x' OR 1=1 --"}) == []
    with pytest.raises(ValidationError):
        r.query("accounts", order_by="name; DROP TABLE accounts")
    with pytest.raises(ValidationError):
        r.query("accounts", where={"1=1 OR name": "x"})
    with pytest.raises(ValueError):
        r.query("accounts", where={"tags": ["vip"]})
    assert r.count("accounts") == 4


def test_timestamps_are_matched_in_canonical_form(open_replica: Open) -> None:
    """A where value with an offset matches the UTC-normalised stored timestamp."""
    r = open_replica()
    r.insert("tasks", {"title": "call", "due_at": "2026-11-23T10:00:00+08:00"})
    assert [t["title"] for t in r.query("tasks", where={"due_at": "2026-11-23T02:00:00Z"})] == ["call"]


def test_offline_writes_and_identity_survive_reopening(tmp_path: Path) -> None:
    """The outbox, rows, site id and HLC survive a restart, even if the phone clock went back."""
    clock = FakeClock()
    r = Replica.open(tmp_path / "rep.db", clock=clock)
    acct = r.insert("accounts", {"name": "Acme"})
    site, last, pending = r.site, r.hlc.last, r.pending_count
    r.close()
    clock.advance(-3_600_000)
    again = Replica.open(tmp_path / "rep.db", clock=clock)
    assert (again.site, again.pending_count) == (site, pending)
    assert again.get("accounts", acct.id) == acct
    assert again.hlc.tick() > last
    again.close()
    with pytest.raises(ValueError):
        Replica.open(tmp_path / "rep.db", site="someone-else")


def test_adding_a_nullable_field_adds_a_column_without_redownload(tmp_path: Path) -> None:
    """Opening with a newer declaration adds the column and keeps rows, cursor and outbox."""
    old = Schema(1, (Table("notes", (Field("title"),)),))
    new = Schema(2, (Table("notes", (Field("title"), Field("pinned", FieldType.BOOLEAN, since=2))),))
    r = Replica.open(tmp_path / "rep.db", schema=old)
    note = r.insert("notes", {"title": "hi"})
    r.apply_pages([], [], cursor="c:7")
    r.close()
    r2 = Replica.open(tmp_path / "rep.db", schema=new)
    assert r2.added_columns == ["notes.pinned"]
    assert r2.cursor == "c:7" and r2.pending_count == 1
    assert r2.get("notes", note.id) is not None and r2.get("notes", note.id)["pinned"] is None  # type: ignore[index]
    assert r2.update("notes", note.id, {"pinned": True})["pinned"] is True
    r2.close()
    with sqlite3.connect(tmp_path / "rep.db") as conn:
        assert conn.execute("SELECT value FROM _fs_meta WHERE key='schema_version'").fetchone()[0] == "2"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_subscribers_see_local_changes_and_bad_callbacks_do_not_break_writes(open_replica: Open) -> None:
    """Change callbacks get local events after commit; a raising callback is contained; unsubscribe works."""
    r = open_replica()
    seen: list[ChangeEvent] = []

    def boom(event: ChangeEvent) -> None:
        raise RuntimeError("app bug")

    r.subscribe(boom)
    stop = r.subscribe(seen.append)
    acct = r.insert("accounts", {"name": "Acme"})
    r.delete("accounts", acct.id)
    stop()
    r.restore("accounts", acct.id)
    assert seen == [
        ChangeEvent("accounts", acct.id, "local", frozenset({"name"}), False),
        ChangeEvent("accounts", acct.id, "local", frozenset(), True),
    ]


def test_outbox_batches_are_bounded_and_keep_their_id(open_replica: Open) -> None:
    """Batches respect the change and byte limits, and an unacknowledged batch is offered again unchanged."""
    r = open_replica()
    for i in range(10):
        r.insert("accounts", {"name": f"n{i}", "address": "x" * 300})
    first = r.take_batch(max_changes=4, max_bytes=1_000_000)
    assert first is not None and len(first.changes) == 4
    assert r.take_batch(max_changes=4, max_bytes=1_000_000) == first
    small = r.take_batch(max_changes=100, max_bytes=1500, exclude={first.batch_id})
    assert small is not None and 1 < len(small.changes) < 16 and len(small.frame().encode()) <= 1500
    assert json.loads(small.frame())["batch"] == small.batch_id
    tiny = r.take_batch(max_changes=100, max_bytes=10, exclude={first.batch_id, small.batch_id})
    assert tiny is not None and len(tiny.changes) == 1  # an oversized change still travels, alone
    errors = r.complete_batch(first.batch_id, [{"i": 1, "code": "FS-2003", "name": "wrong_type", "message": "m"}])
    assert [(e.code, e.field) for e in errors] == [("FS-2003", "address")]
    assert r.pending_count == 16 and [e.record_id for e in r.errors] == [errors[0].record_id]
    assert r.complete_batch(first.batch_id, []) == []  # a second ack of the same batch is harmless
    r.clear_errors()
    assert r.errors == []


def test_replica_is_usable_from_several_threads_at_once(open_replica: Open) -> None:
    """Concurrent writers and readers on one replica lose nothing and raise nothing."""
    r = open_replica()
    failures: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            for i in range(100):
                acct = r.insert("accounts", {"name": f"{tag}{i}"})
                r.increment("accounts", acct.id, "visit_count")
                r.query("accounts", where={"name": f"{tag}{i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in "abc"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert r.count("accounts") == 300 and r.pending_count == 600


def test_crm_schema_tables_are_all_created(open_replica: Open) -> None:
    """Every declared CRM table has a row store (id, _cl, _state) and a view under its own name with id and one column per field."""
    r = open_replica()
    with sqlite3.connect(r.path) as conn:
        for table in CRM_SCHEMA.tables:
            stored = [row[1] for row in conn.execute(f'PRAGMA table_info("_fs_rows_{table.name}")')]
            assert stored == ["id", "_cl", "_state"]
            kind = conn.execute("SELECT type FROM sqlite_master WHERE name = ?", (table.name,)).fetchone()[0]
            shown = [row[1] for row in conn.execute(f'PRAGMA table_info("{table.name}")')]
            assert (kind, shown) == ("view", ["id", *(f.name for f in table.fields)])


def test_transaction_groups_writes_all_or_nothing(open_replica: Open) -> None:
    """Writes inside transaction() commit together, roll back together, and notify only after commit."""
    r = open_replica()
    seen: list[ChangeEvent] = []
    r.subscribe(seen.append)
    with r.transaction():
        a = r.insert("accounts", {"name": "A"})
        r.insert("accounts", {"name": "B"})
        with pytest.raises(ValidationError):
            r.update("accounts", a.id, {"tier": 5})  # a failing write inside does not spoil the rest
        assert seen == []
    assert r.count("accounts") == 2 and len(seen) == 2
    with pytest.raises(RuntimeError):
        with r.transaction():
            r.insert("accounts", {"name": "C"})
            raise RuntimeError("app crashed mid-import")
    assert r.count("accounts") == 2 and r.pending_count == 2 and len(seen) == 2


KINDS = Schema(
    1,
    (
        Table(
            "kinds",
            (
                Field("t"),
                Field("i", FieldType.INTEGER),
                Field("r", FieldType.REAL),
                Field("b", FieldType.BOOLEAN),
                Field("ts", FieldType.TIMESTAMP),
                Field("d", FieldType.DATE),
                Field("u", FieldType.UUID),
                Field("j", FieldType.JSON),
                Field("s", FieldType.JSON, rule="add_wins_set"),
            ),
        ),
    ),
)


@pytest.mark.parametrize(
    "json_value", [{"mon": "9-18", "n": [1, 2.5]}, "plain text", 42, 0.1, True, False, None, ["a", {"b": None}]]
)
def test_columns_read_the_merged_values_for_app_sql(tmp_path: Path, json_value: object) -> None:
    """The table's view shows each field's value (booleans 0/1, JSON fields as JSON text) and queries filter on the same values."""
    r = Replica.open(tmp_path / "rep.db", schema=KINDS)
    ref = str(uuid.uuid4())
    rec = r.insert(
        "kinds",
        {"t": "华东", "i": 7, "r": 2.5, "b": True, "ts": "2025-11-24T10:00:00+08:00", "d": "2025-11-24", "u": ref, "j": json_value, "s": ["x", "y"]},
    )
    other = r.insert("kinds", {"t": "other", "b": False})
    with sqlite3.connect(r.path) as conn:
        row = conn.execute("SELECT t, i, r, b, ts, d, u, j, s FROM kinds WHERE id = ?", (rec.id,)).fetchone()
    assert row[:7] == ("华东", 7, 2.5, 1, "2025-11-24T02:00:00Z", "2025-11-24", ref)
    assert (None if row[7] is None else json.loads(row[7])) == json_value
    assert json.loads(row[8]) == ["x", "y"]
    assert [x.id for x in r.query("kinds", where={"b": True})] == [rec.id]
    assert [x.id for x in r.query("kinds", where={"i": 7, "t": "华东"})] == [rec.id]
    assert [x.id for x in r.query("kinds", order_by="-t")] == [rec.id, other.id]
    assert r.get("kinds", rec.id)["j"] == json_value  # type: ignore[index]
    r.delete("kinds", other.id)
    with sqlite3.connect(r.path) as conn:  # the view shows the rows that exist
        assert [x[0] for x in conn.execute("SELECT id FROM kinds")] == [rec.id]
    r.close()


def test_a_replica_with_stored_columns_is_rebuilt_once_keeping_everything(tmp_path: Path) -> None:
    """A replica file from the earlier layout (a table with a stored column per field) opens with its rows moved to the row store; outbox and cursor survive."""
    path = tmp_path / "rep.db"
    r = Replica.open(path)
    acct = r.insert("accounts", {"name": "Acme", "tier": "A"})
    r.apply_pages([], [], cursor="c:9")
    pending = r.pending_count
    r.close()
    table = CRM_SCHEMA.table("accounts")
    names = ", ".join(f'"{f.name}"' for f in table.fields)
    with sqlite3.connect(path) as conn:  # rewrite the table the way earlier SDK versions stored it
        conn.execute("DROP VIEW accounts")
        conn.execute(f"CREATE TABLE accounts (id TEXT PRIMARY KEY, _cl INTEGER NOT NULL, _state TEXT NOT NULL, {', '.join(f'{chr(34)}{f.name}{chr(34)} TEXT' for f in table.fields)})")
        conn.execute(f"INSERT INTO accounts (id, _cl, _state, {names}) SELECT id, _cl, _state, {names} FROM _fs_rows_accounts")
        conn.execute("DROP TABLE _fs_rows_accounts")
    again = Replica.open(path)
    assert again.get("accounts", acct.id) == acct
    assert [x.id for x in again.query("accounts", where={"tier": "A"})] == [acct.id]
    assert again.cursor == "c:9" and again.pending_count == pending and again.added_columns == []
    again.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT type FROM sqlite_master WHERE name = 'accounts'").fetchone()[0] == "view"
        assert conn.execute("SELECT count(*) FROM _fs_rows_accounts").fetchone()[0] == 1
