"""Compaction past the horizon, and devices offline longer than it."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from fieldsync.server.compaction import DAY_MS, compact, log_floor
from fieldsync.server.store import open_store
from fieldsync.server.store.base import Principal
from fieldsync.sync.change import Change
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import pack

ME = Principal(str(uuid.uuid4()), None, "dev-a")


def change(row: str, field: str, value: Any, ms: int, cl: int = 1) -> Change:
    return Change("accounts", row, field, value, pack(ms, 0), "dev-a", cl)


def test_compaction_keeps_the_head_and_drops_old_entries_and_tombstones(store_url: str) -> None:
    """Entries and tombstones past the horizon go; the newest entry stays so sequence numbers never restart."""
    store = open_store(store_url, CRM_SCHEMA)
    try:
        live, dead = str(uuid.uuid4()), str(uuid.uuid4())
        store.apply_batch(ME, "b1", "d1", [change(live, "name", "kept", 1000), change(dead, "name", "gone", 1000)], [], 2)
        store.apply_batch(ME, "b2", "d2", [Change("accounts", dead, "_cl", str(pack(1000, 0)), pack(2000, 0), "dev-a", 2)], [], 1)
        store.apply_batch(ME, "b2b", "d2b", [change(live, "industry", "energy", 2500)], [], 1)
        head = store.head()
        report = compact(store, horizon_days=1, conflict_retention_days=1, now_ms=10 * DAY_MS + 2_000_000_000_000)
        assert report.floor == head - 1 and report.changes == head - 1
        assert report.tombstones == 1 and report.batches == 3
        assert store.head() == head and log_floor(store) == head - 1
        assert store.row_states("accounts", [live, dead]).keys() == {live}
        store.apply_batch(ME, "b3", "d3", [change(live, "tier", "A", 3000)], [], 1)
        assert store.head() == head + 1
    finally:
        store.close()


def test_nothing_is_compacted_inside_the_horizon(tmp_path: Path) -> None:
    """Entries younger than the horizon all stay."""
    store = open_store(f"sqlite:///{tmp_path}/c.db", CRM_SCHEMA)
    try:
        store.apply_batch(ME, "b1", "d1", [change(str(uuid.uuid4()), "name", "x", 1000)], [], 1)
        report = compact(store, horizon_days=30, conflict_retention_days=365)
        assert report.changes == 0 and log_floor(store) == 0
    finally:
        store.close()


def test_compact_command_reports_what_it_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`fieldsync compact` trims a store and says what it removed."""
    from fieldsync.cli import main

    url = f"sqlite:///{tmp_path}/cli.db"
    store = open_store(url, CRM_SCHEMA)
    store.apply_batch(ME, "b1", "d1", [change(str(uuid.uuid4()), "name", "x", 1000)], [], 1)
    store.close()
    assert main(["compact", "--database-url", url, "--horizon-days", "0"]) == 0
    assert "log floor" in capsys.readouterr().out


def test_device_offline_past_the_horizon_resnapshots_and_keeps_its_unsent_edits(live_server: Any, tmp_path: Path) -> None:
    """After compaction, an old device gets a fresh snapshot, drops rows deleted meanwhile, and still pushes its edits."""
    import asyncio

    from fieldsync.sdk import Replica, SyncClient

    server = live_server(compaction_horizon_days=0.0)
    user = str(uuid.uuid4())
    old = Replica.open(tmp_path / "old.db")
    other = Replica.open(tmp_path / "other.db")
    old_client = SyncClient(server.ws_url, replica=old, token=server.token(user_id=user, site=old.site))
    other_client = SyncClient(server.ws_url, replica=other, token=server.token(user_id=user, site=other.site))
    try:
        keep = other.insert("accounts", {"name": "kept"})
        doomed = other.insert("accounts", {"name": "deleted while away"})
        other_client.sync_once(timeout=30)
        old_client.sync_once(timeout=30)
        assert old.get("accounts", doomed.id) is not None
        # The old device goes away with unsent work; meanwhile the other deletes a row and edits another.
        old.update("accounts", keep.id, {"tier": "A"})
        mine = old.insert("leads", {"name": "made offline"})
        other.delete("accounts", doomed.id)
        other.update("accounts", keep.id, {"industry": "energy"})
        other_client.sync_once(timeout=30)
        other.update("accounts", keep.id, {"phone": "+862155550100"})
        other_client.sync_once(timeout=30)
        hub = server.app.state.hub
        report = asyncio.run_coroutine_threadsafe(server.app.state.ops.compact_now(), hub._loop).result(30)
        assert report.changes > 0 and hub.log_floor > 0
        old_client.sync_once(timeout=30)
        other_client.sync_once(timeout=30)
        assert old.get("accounts", doomed.id) is None
        got = old.get("accounts", keep.id)
        assert got is not None and got.values["tier"] == "A" and got.values["industry"] == "energy"
        assert old.get("leads", mine.id) is not None and old.pending_count == 0
        there = other.get("accounts", keep.id)
        assert there is not None and there.values["tier"] == "A"
        assert other.get("leads", mine.id) is not None
    finally:
        old_client.stop()
        other_client.stop()
        old.close()
        other.close()
