"""The feed for a device on an older schema: fields it does not know are never sent (log records and snapshot rows)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldsync.server.feed import next_page_set, visibility_for
from fieldsync.server.store import SqlChangeStore, open_store
from fieldsync.server.store.base import Principal
from fieldsync.sync.change import Change
from fieldsync.sync.hlc import pack
from fieldsync.sync.schema import Field, FieldType, Schema, Table, scope_fields

V2 = Schema(2, (Table("notes", (Field("title"), Field("pinned", FieldType.BOOLEAN, since=2), *scope_fields())),))
ME = Principal(str(uuid.uuid4()), None, "dev-new")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlChangeStore]:
    s = open_store(f"sqlite:///{tmp_path}/feed.db", V2, migrate=False)  # the revisions create the CRM tables: these come from V2
    s.metadata.create_all(s.engine)
    yield s
    s.close()


def items(frames: list[str]) -> tuple[list[Any], list[Any], int]:
    """Rows, changes and the checkpoint's count of a page set."""
    rows, changes, count = [], [], -1
    for frame in frames:
        msg = json.loads(frame)
        if msg["type"] == "changes":
            rows += msg["rows"]
            changes += msg["changes"]
        elif msg["type"] == "checkpoint":
            count = msg["count"]
    return rows, changes, count


def test_an_older_device_gets_only_the_fields_it_knows_from_a_log_record(store: SqlChangeStore) -> None:
    """A record holding a known and a newer field reaches an older device with the known change alone, counted as one."""
    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [Change("notes", row, "title", "hi", pack(1000, 0), "dev-new"),
                                       Change("notes", row, "pinned", True, pack(1000, 1), "dev-new")], [], 2)
    store.apply_batch(ME, "b2", "d2", [Change("notes", row, "pinned", False, pack(2000, 0), "dev-new")], [], 1)
    old = visibility_for(V2, "dev-old", 1)
    _, changes, count = items(next_page_set(store, V2, _catch_up(0), old, page_rows=100).frames)
    assert [(c["f"], c["v"]) for c in changes if c["f"] != "owner_id"] == [("title", "hi")] and count == len(changes) == 2
    new = visibility_for(V2, "dev-other", 2)
    _, changes, count = items(next_page_set(store, V2, _catch_up(0), new, page_rows=100).frames)
    assert [(c["f"], c["v"]) for c in changes if c["f"] != "owner_id"] == [("title", "hi"), ("pinned", True), ("pinned", False)]
    assert count == len(changes) == 4


def test_an_older_device_gets_snapshot_rows_without_newer_fields(store: SqlChangeStore) -> None:
    """Snapshot rows sent to an older device hold no cell of a field its schema lacks."""
    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [Change("notes", row, "title", "hi", pack(1000, 0), "dev-new"),
                                       Change("notes", row, "pinned", True, pack(1000, 1), "dev-new")], [], 2)
    rows, _, _ = items(next_page_set(store, V2, None, visibility_for(V2, "dev-old", 1), page_rows=100).frames)
    assert [sorted(r["c"]) for r in rows] == [["owner_id", "title"]]
    rows, _, _ = items(next_page_set(store, V2, None, visibility_for(V2, "dev-other", 2), page_rows=100).frames)
    assert [sorted(r["c"]) for r in rows] == [["owner_id", "pinned", "title"]]


def test_http_pull_takes_the_clients_schema(live_server: Any) -> None:
    """The HTTP fallback's pull honours the client's schema version: newer than the server's is FS-1003."""
    server = live_server()
    token = server.token(site="dev-http")
    headers = {"Authorization": f"Bearer {token}"}
    ok = httpx.post(f"{server.http_url}/v1/sync/pull", json={"type": "pull", "cursor": None, "schema": 1}, headers=headers)
    assert ok.status_code == 200 and ok.json()["messages"][-1]["type"] == "checkpoint"
    newer = httpx.post(f"{server.http_url}/v1/sync/pull", json={"type": "pull", "cursor": None, "schema": 99}, headers=headers)
    assert newer.status_code == 409 and newer.json()["error"]["code"] == "FS-1003"


def _catch_up(seq: int) -> Any:
    from fieldsync.server.feed import Cursor

    return Cursor(seq)


def test_a_new_rows_stamp_rides_in_its_creators_record(store: SqlChangeStore) -> None:
    """Creating a row writes one log record, the device's, led by the server's owner stamp: ``stamp_body`` is exactly
    the stamp's changes."""
    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [Change("notes", row, "title", "hi", pack(1000, 0), "dev-new"),
                                       Change("notes", row, "pinned", True, pack(1000, 1), "dev-new")], [], 2)
    [entry] = store.changes_after(0, 10)
    assert entry.site == "dev-new" and entry.count == 3
    stamp, count = entry.stamp_body()
    assert count == 1 and [(c["f"], c["v"], c["s"]) for c in json.loads("[" + stamp + "]")] == [("owner_id", ME.user_id, "server")]
    assert [c["f"] for c in entry.changes()] == ["owner_id", "title", "pinned"]
    store.apply_batch(ME, "b2", "d2", [Change("notes", row, "title", "ho", pack(2000, 0), "dev-new")], [], 1)
    assert store.changes_after(1, 10)[0].stamp_body() == ("", 0)  # an existing row: no stamp


def test_the_creator_is_sent_only_the_stamp_of_its_own_record(store: SqlChangeStore) -> None:
    """From its own record the creating device gets the server's stamp alone (counted as one change); another device
    gets the whole record; an older-schema creator still gets the stamp."""
    row = str(uuid.uuid4())
    store.apply_batch(ME, "b1", "d1", [Change("notes", row, "title", "hi", pack(1000, 0), "dev-new"),
                                       Change("notes", row, "pinned", True, pack(1000, 1), "dev-new")], [], 2)
    for client_schema in (2, 1):
        own = visibility_for(V2, "dev-new", client_schema)
        _, changes, count = items(next_page_set(store, V2, _catch_up(0), own, page_rows=100).frames)
        assert [(c["f"], c["v"], c["s"]) for c in changes] == [("owner_id", ME.user_id, "server")] and count == 1
    other = visibility_for(V2, "dev-other", 2)
    _, changes, count = items(next_page_set(store, V2, _catch_up(0), other, page_rows=100).frames)
    assert [c["f"] for c in changes] == ["owner_id", "title", "pinned"] and count == 3
