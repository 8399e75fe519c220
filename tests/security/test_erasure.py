"""Erasure of a person (GDPR/PIPL): no trace on the server, evicted or purged on devices, audited by pseudonym."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from fieldsync.server.org.erasure import pseudonymous_id

from .conftest import DemoOrg, WireClient, dump_db

pytestmark = pytest.mark.timeout(120)

NAME = "王小明 Wang Xiaoming"
PHONE = "+8613712345678"


def admin_post(org: DemoOrg, body: dict[str, object]) -> httpx.Response:
    token = org.server.token(user_id=org.user["boss"], site="admin-console")
    return httpx.post(org.server.http_url + "/v1/admin/erase", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def test_erasing_a_contact_leaves_no_trace_and_evicts_it_everywhere(demo_org: DemoOrg) -> None:
    """An erased contact, its card photo and its conflicts vanish from the server and from live and offline devices; re-uploads are refused."""

    async def scenario() -> None:
        e1, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e1"])
        await e1.sync_to_done()
        mgr_site = "dev-mgr-" + uuid.uuid4().hex[:6]
        mgr, _ = await WireClient.connect(demo_org.server, user=demo_org.user["mgr_east"], site=mgr_site)
        await mgr.sync_to_done()
        boss_site = "dev-boss-" + uuid.uuid4().hex[:6]
        boss, _ = await WireClient.connect(demo_org.server, user=demo_org.user["boss"], site=boss_site)
        _, boss_cursor = await boss.sync_to_done()
        await boss.close()  # offline during the erasure
        contact, card = str(uuid.uuid4()), str(uuid.uuid4())
        ack = await e1.push([
            e1.change(contact, "name", NAME, table="contacts"),
            e1.change(contact, "phones", [{"number": PHONE, "kind": "mobile"}], table="contacts"),
            e1.change(contact, "card_attachment_id", card, table="contacts"),
            e1.change(card, "sha256", "ab" * 32, table="attachments"),
            e1.change(card, "filename", "wang-card.jpg", table="attachments"),
            e1.change(card, "record_table", "contacts", table="attachments"),
            e1.change(card, "record_id", contact, table="attachments"),
        ])
        assert ack["rejects"] == []
        await mgr.until("changes")
        # concurrent edits of the title from two sites: one loses and lands in the conflict history
        await asyncio.gather(e1.push([e1.change(contact, "title", "经理 Manager", table="contacts")]),
                             mgr.push([mgr.change(contact, "title", "总监 Director", table="contacts")]))
        store = demo_org.server.app.state.store
        assert store.conflicts("contacts", contact)
        assert NAME in dump_db(demo_org.server)
        resp = await asyncio.to_thread(admin_post, demo_org, {"table": "contacts", "row_id": contact})
        assert resp.status_code == 200, resp.text
        for client in (e1, mgr):
            evict = await client.until("evict")
            rows = set(map(tuple, evict["rows"]))
            while ("contacts", contact) not in rows or ("attachments", card) not in rows:
                rows |= set(map(tuple, (await client.until("evict"))["rows"]))
        dump = dump_db(demo_org.server)
        for secret in (NAME, PHONE, "wang-card.jpg", "经理", "总监"):
            assert secret not in dump
        again, _ = await WireClient.connect(demo_org.server, user=demo_org.user["boss"], site=boss_site, cursor=boss_cursor)
        items, _ = await again.sync_to_done()
        assert all(i.get("r") not in (contact, card) for i in items)
        assert ["contacts", contact] in (await again.until("evict"))["rows"]
        late = await e1.push([e1.change(contact, "name", NAME, table="contacts")])
        assert late["rejects"][0]["code"] == "FS-2009"
        assert NAME not in dump_db(demo_org.server)
        for client in (e1, mgr, again):
            await client.close()

    asyncio.run(scenario())


def test_erasing_a_user_purges_devices_reassigns_records_and_pseudonymises(demo_org: DemoOrg) -> None:
    """An erased employee's devices are purged, their accounts pass to their manager, and their id and login are gone from every table."""

    async def scenario() -> None:
        uid = demo_org.user["rep_w1"]
        rep, _ = await WireClient.connect(demo_org.server, user=uid)
        await rep.sync_to_done()
        visit = str(uuid.uuid4())
        await rep.push([rep.change(visit, "rep_id", uid, table="visits"), rep.change(visit, "outcome", "signed", table="visits")])
        lead, _ = await WireClient.connect(demo_org.server, user=demo_org.user["lead_west"])
        await lead.sync_to_done()
        resp = await asyncio.to_thread(admin_post, demo_org, {"user_id": uid})
        assert resp.status_code == 200, resp.text
        assert resp.json()["rows_reassigned"] == 2
        assert (await rep.until("purge"))["type"] == "purge"
        frame = await lead.until("changes")
        assert frame["changes"] or frame["rows"]
        dump = dump_db(demo_org.server)
        assert uid not in dump and "rep_w1" not in dump
        assert pseudonymous_id(uid) in dump
        state = demo_org.server.app.state.store.row_states("accounts", [demo_org.rows["w1-acct"]])[demo_org.rows["w1-acct"]]
        assert demo_org.user["lead_west"] in state  # the manager inherits the account
        actions = [(e["action"], e["detail"].get("kind")) for e in demo_org.hub.audit.entries()]
        assert ("erasure", "user") in actions
        await rep.close()
        await lead.close()

    asyncio.run(scenario())


def test_only_administrators_may_erase(demo_org: DemoOrg) -> None:
    """A manager's erasure request is refused with FS-3003 and changes nothing."""
    token = demo_org.server.token(user_id=demo_org.user["mgr_east"], site="mgr-console")
    before = dump_db(demo_org.server)
    resp = httpx.post(demo_org.server.http_url + "/v1/admin/erase", json={"user_id": demo_org.user["rep_e1"]},
                      headers={"Authorization": f"Bearer {token}"}, timeout=30)
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "FS-3003"
    after = dump_db(demo_org.server)
    assert before.split("org_devices")[0] == after.split("org_devices")[0]
