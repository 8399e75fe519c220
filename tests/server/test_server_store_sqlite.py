"""SQLite specifics of the store: durability setting and background WAL checkpoints."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from fieldsync.server.store import open_store
from fieldsync.server.store.base import Principal
from fieldsync.sync.change import Change
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import pack

ME = Principal(str(uuid.uuid4()), None, "dev-a")


@pytest.mark.parametrize(("setting", "pragma"), [("full", 2), ("normal", 1)])
def test_synchronous_setting_reaches_every_connection(tmp_path: Path, setting: str, pragma: int) -> None:
    """``synchronous`` is applied to the store's connections (full by default: an ack survives a power cut)."""
    store = open_store(f"sqlite:///{tmp_path}/s.db", CRM_SCHEMA, synchronous=setting)
    try:
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == pragma
    finally:
        store.close()


def test_unknown_synchronous_setting_refuses_to_start(tmp_path: Path) -> None:
    """A misspelt durability setting stops the server at start instead of silently weakening it."""
    with pytest.raises(ValueError):
        open_store(f"sqlite:///{tmp_path}/s.db", CRM_SCHEMA, synchronous="off")


def test_commits_are_checkpointed_in_the_background(tmp_path: Path) -> None:
    """After pushes commit, a background thread copies the write-ahead log into the database file (the store still open)."""
    store = open_store(f"sqlite:///{tmp_path}/c.db", CRM_SCHEMA)
    db = tmp_path / "c.db"
    try:
        empty = db.stat().st_size
        for i in range(5):
            changes = [Change("accounts", str(uuid.uuid4()), "name", f"n{j}", pack(1_764_000_000_000 + j, 0), "dev-a") for j in range(200)]
            store.apply_batch(ME, f"b{i}", f"d{i}", changes, [], len(changes))
        deadline = time.monotonic() + 10
        while db.stat().st_size < empty + 200_000 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert db.stat().st_size >= empty + 200_000  # the rows reached the database file, not only the log
        assert store._checkpointer is not None and store._checkpointer.checkpoints > 0
    finally:
        store.close()
