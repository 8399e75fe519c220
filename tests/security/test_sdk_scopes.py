"""The real SDK (Replica + SyncClient) against a scoped server: evictions, rejected local edits, purge on revocation."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldsync.sdk import Backoff, Replica, SyncClient, SyncError

from .conftest import DemoOrg

pytestmark = pytest.mark.timeout(120)
FAST = Backoff(base=0.01, cap=0.2)


def device(org: DemoOrg, tmp_path: Path, user: str) -> tuple[Replica, SyncClient]:
    replica = Replica.open(tmp_path / f"{user}.db")
    token = org.server.token(user_id=org.user[user], site=replica.site)
    return replica, SyncClient(org.server.ws_url, replica=replica, token=token, backoff=FAST)


def test_reassigned_row_leaves_the_old_replica_and_its_offline_edit_is_rejected(demo_org: DemoOrg, tmp_path: Path) -> None:
    """After a reassignment the old rep's replica drops the row, its unsynced edit comes back as FS-3004, and the new rep's replica holds the row."""
    old, old_client = device(demo_org, tmp_path, "rep_e1")
    new, new_client = device(demo_org, tmp_path, "rep_e2")
    old_client.sync_once(timeout=20)
    new_client.sync_once(timeout=20)
    row = demo_org.rows["e1-acct"]
    assert old.get("accounts", row) is not None and new.get("accounts", row) is None
    old.update("accounts", row, {"tier": "edited offline"})
    demo_org.call(demo_org.hub.server_write("accounts", row, {"owner_id": demo_org.user["rep_e2"]}))
    summary = old_client.sync_once(timeout=20)
    assert summary.rejected == 1
    assert [(e.record_id, e.code) for e in old.errors] == [(row, "FS-3004")]
    assert old.get("accounts", row) is None
    new_client.sync_once(timeout=20)
    got = new.get("accounts", row)
    assert got is not None and got.values["name"] == "e1-acct"
    old.close()
    new.close()


def test_revoked_device_replica_is_wiped(demo_org: DemoOrg, tmp_path: Path) -> None:
    """A revoked device's replica is purged at its next contact and stops syncing."""
    replica, client = device(demo_org, tmp_path, "rep_w1")
    client.sync_once(timeout=20)
    assert replica.get("accounts", demo_org.rows["w1-acct"]) is not None
    demo_org.server.app.state.auth.revoke_device(replica.site)
    with pytest.raises(SyncError):
        client.sync_once(timeout=20)
    assert replica.purged == "device_revoked"
    assert replica.get("accounts", demo_org.rows["w1-acct"]) is None
    replica.close()


def test_erased_contact_leaves_the_replica(demo_org: DemoOrg, tmp_path: Path) -> None:
    """After a contact is erased on the server, a replica that held it no longer has the row after its next sync."""
    import uuid

    replica, client = device(demo_org, tmp_path, "mgr_east")
    contact = str(uuid.uuid4())
    demo_org.call(demo_org.hub.server_write("contacts", contact, {"name": "李秘密 Li Secret", "owner_id": demo_org.user["rep_e1"],
                                                                   "department_id": demo_org.dept["east1"]}))
    client.sync_once(timeout=20)
    assert replica.get("contacts", contact) is not None
    from fieldsync.server.org.routes import eraser_for

    eraser_for(demo_org.hub).erase_rows([("contacts", contact)], write=lambda job: demo_org.call(demo_org.hub.write(job)))
    client.sync_once(timeout=20)
    assert replica.get("contacts", contact) is None
    replica.close()
