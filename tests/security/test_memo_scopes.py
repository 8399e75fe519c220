"""POST /v1/memos resolves customers against the caller's read scope, from the store, over a real server."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
import pytest

from .conftest import DemoOrg

pytestmark = pytest.mark.timeout(120)

AT = "2026-11-22T17:05:00+08:00"


def memo(org: DemoOrg, user: str, text: str, **body: Any) -> list[dict[str, Any]]:
    """The tasks the server suggests for ``text`` dictated by ``user`` (short name)."""
    token = org.server.token(user_id=org.user[user], site="dev-" + uuid.uuid4().hex[:8])
    with httpx.Client(base_url=org.server.http_url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
        r = client.post("/v1/memos", json={"text": text, "recorded_at": AT, "lang": "en", **body})
    assert r.status_code == 200, r.text
    tasks: list[dict[str, Any]] = r.json()["tasks"]
    return tasks


def customers(tasks: list[dict[str, Any]]) -> list[str | None]:
    return [t["account_id"] for t in tasks]


def reassign(org: DemoOrg, row: str, user: str) -> None:
    uid = org.user[user]
    dept = org.hub.org.load().users[uid].department_id
    org.call(org.hub.server_write("accounts", row, {"owner_id": uid, "department_id": dept}))


def test_a_reps_memo_resolves_a_customer_they_own(demo_org: DemoOrg) -> None:
    """A rep's memo naming one of their own accounts resolves to that account, with no account book in the request."""
    northwind = demo_org.seed("Northwind Traders", "rep_e1")
    assert customers(memo(demo_org, "rep_e1", "Call Northwind tomorrow about the quote")) == [northwind]


def test_a_peers_customer_does_not_resolve_even_when_the_request_claims_it(demo_org: DemoOrg) -> None:
    """A customer owned by a peer rep stays unresolved, even when the request's (ignored) account book names it."""
    globex = demo_org.seed("Globex Industries Ltd.", "rep_e2")
    claimed = [{"id": globex, "name": "Globex Industries Ltd.", "contacts": []}]
    tasks = memo(demo_org, "rep_e1", "Call Globex tomorrow about the quote", accounts=claimed)
    assert tasks and customers(tasks) == [None]
    assert customers(memo(demo_org, "rep_e2", "Call Globex tomorrow about the quote")) == [globex]


def test_after_a_reassignment_the_cached_directory_is_not_served(demo_org: DemoOrg) -> None:
    """Once an account moves to a peer, the old owner's memos stop resolving it and the new owner's start."""
    northwind = demo_org.seed("Northwind Traders", "rep_e1")
    text = "Call Northwind tomorrow about the quote"
    assert customers(memo(demo_org, "rep_e1", text)) == [northwind]  # builds and caches rep_e1's directory
    assert customers(memo(demo_org, "rep_e2", text)) == [None]
    reassign(demo_org, northwind, "rep_e2")
    assert customers(memo(demo_org, "rep_e1", text)) == [None]
    assert customers(memo(demo_org, "rep_e2", text)) == [northwind]
    reassign(demo_org, northwind, "rep_e1")
    assert customers(memo(demo_org, "rep_e1", text)) == [northwind]
    assert customers(memo(demo_org, "rep_e2", text)) == [None]


def test_a_manager_resolves_the_accounts_of_their_team(demo_org: DemoOrg) -> None:
    """A manager whose scope is their department tree resolves their reps' accounts, not another department's."""
    northwind = demo_org.seed("Northwind Traders", "rep_e1")
    globex = demo_org.seed("Globex Industries Ltd.", "rep_e2")
    demo_org.seed("Initech Corporation", "rep_w1")
    text = "Call Northwind tomorrow. Email Globex on Friday. Visit Initech next Monday."
    assert customers(memo(demo_org, "mgr_east", text)) == [northwind, globex, None]
    assert customers(memo(demo_org, "rep_e1", text))[:1] == [northwind]
    assert globex not in customers(memo(demo_org, "rep_e1", text))


def test_contacts_come_from_the_store_and_follow_the_scope(demo_org: DemoOrg) -> None:
    """A contact of a rep's own account resolves by name; a peer's contact of the same surname does not."""
    northwind = demo_org.seed("Northwind Traders", "rep_e1")
    globex = demo_org.seed("Globex Industries Ltd.", "rep_e2")
    uid1, uid2 = demo_org.user["rep_e1"], demo_org.user["rep_e2"]
    dept = demo_org.dept["east1"]
    miller, clarke = str(uuid.uuid4()), str(uuid.uuid4())
    demo_org.call(demo_org.hub.server_write("contacts", miller, {"name": "David Miller", "account_id": northwind,
                                                              "owner_id": uid1, "department_id": dept}))
    demo_org.call(demo_org.hub.server_write("contacts", clarke, {"name": "Susan Clarke", "account_id": globex,
                                                               "owner_id": uid2, "department_id": dept}))
    (task,) = memo(demo_org, "rep_e1", "Call David Miller tomorrow")
    assert (task["account_id"], task["contact_id"]) == (northwind, miller)
    (task,) = memo(demo_org, "rep_e1", "Call Susan Clarke tomorrow")
    assert (task["account_id"], task["contact_id"]) == (None, None)


def test_an_open_server_resolves_against_every_account_and_ignores_the_request_book(live_server: Any) -> None:
    """With no organisation every stored account resolves, and an account only the request names does not."""
    server = live_server()
    row = str(uuid.uuid4())
    asyncio.run_coroutine_threadsafe(server.app.state.hub.server_write("accounts", row, {"name": "Northwind Traders"}),
                                     server.app.state.hub._loop).result(30)
    headers = {"Authorization": f"Bearer {server.token()}"}
    claimed = [{"id": str(uuid.uuid4()), "name": "Globex Industries Ltd."}]
    with httpx.Client(base_url=server.http_url, timeout=60, headers=headers) as client:
        body = {"text": "Call Northwind tomorrow. Email Globex on Friday.", "recorded_at": AT, "accounts": claimed}
        r = client.post("/v1/memos", json=body)
        schema = client.get("/openapi.json").json()["components"]["schemas"]["MemoIn"]["properties"]["accounts"]
    assert r.status_code == 200, r.text
    assert [t["account_id"] for t in r.json()["tasks"]] == [row, None]
    assert schema.get("deprecated") is True


def test_a_memo_attachment_resolves_customers_in_its_authors_scope(demo_org: DemoOrg) -> None:
    """A synced voice memo is read against its author's read scope too: a manager's resolves a team member's account,
    a rep's never a peer's."""
    globex = demo_org.seed("Globex Industries Ltd.", "rep_e2")
    processor = demo_org.server.app.state.processor
    org = demo_org.hub.org.load()

    def tasks_of(user: str) -> list[str | None]:
        uid = demo_org.user[user]
        att = {"id": str(uuid.uuid4()), "owner_id": uid, "department_id": org.users[uid].department_id,
               "transcript": "Call Globex tomorrow about the quote", "recorded_at": AT, "lang": "en"}
        ids = processor._memo(att, None)["task_ids"]
        states = demo_org.hub.store.row_states("tasks", ids)
        return [json.loads(states[i])["c"].get("account_id", [None])[0] for i in ids]

    assert tasks_of("mgr_east") == [globex]
    assert tasks_of("rep_e1") == [None]
