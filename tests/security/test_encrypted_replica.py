"""SQLCipher-encrypted replicas: nothing readable at rest, the right key opens and syncs, a wrong key is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from fieldsync.sdk import Backoff, Replica, SyncClient

from .conftest import DemoOrg

pytest.importorskip("sqlcipher3")
pytestmark = pytest.mark.timeout(120)
SECRET_NAME = "绝密客户 Top Secret Customer"


def file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_encrypted_replica_hides_data_at_rest(tmp_path: Path) -> None:
    """With a key, no field value is readable in the replica's files; the key reopens it and a wrong key or no key is refused."""
    path = tmp_path / "rep.db"
    with Replica.open(path, key="correct horse") as replica:
        row = replica.insert("accounts", {"name": SECRET_NAME, "phone": "+8613912345678"})
    data = file_bytes(path)
    assert SECRET_NAME.encode() not in data and b"+8613912345678" not in data and b"SQLite format 3" not in data
    with Replica.open(path, key="correct horse") as again:
        got = again.get("accounts", row.id)
        assert got is not None and got["name"] == SECRET_NAME
    with pytest.raises(ValueError):
        Replica.open(path, key="wrong horse")
    with pytest.raises(sqlite3.DatabaseError):
        Replica.open(path)


def test_raw_key_bytes_are_accepted_and_checked(tmp_path: Path) -> None:
    """A 32-byte raw key opens a replica; a key of another length is refused."""
    key = bytes(range(32))
    with Replica.open(tmp_path / "raw.db", key=key) as replica:
        replica.insert("accounts", {"name": "x"})
    with Replica.open(tmp_path / "raw.db", key=key) as again:
        assert len(again.query("accounts")) == 1
    with pytest.raises(ValueError):
        Replica.open(tmp_path / "short.db", key=b"short")


def test_encrypted_replica_syncs(demo_org: DemoOrg, tmp_path: Path) -> None:
    """An encrypted replica pulls its scope from the server and pushes its writes like any other."""
    replica = Replica.open(tmp_path / "enc.db", key="device-key-from-keystore")
    token = demo_org.server.token(user_id=demo_org.user["rep_e1"], site=replica.site)
    client = SyncClient(demo_org.server.ws_url, replica=replica, token=token, backoff=Backoff(base=0.01, cap=0.2))
    client.sync_once(timeout=20)
    assert replica.get("accounts", demo_org.rows["e1-acct"]) is not None
    mine = replica.insert("accounts", {"name": SECRET_NAME})
    assert client.sync_once(timeout=20).pushed >= 1
    assert SECRET_NAME in demo_org.server.app.state.store.row_states("accounts", [mine.id])[mine.id]
    replica.close()
    assert SECRET_NAME.encode() not in file_bytes(tmp_path / "enc.db")
