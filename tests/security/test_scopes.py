"""Data scopes over real WebSocket connections against a real organisation tree."""

from __future__ import annotations

import asyncio
import uuid
import pytest

from fieldsync.server.org.model import Org, Scope
from fieldsync.server.org.scopes import compute_view

from .conftest import DemoOrg, WireClient, row_ids

pytestmark = pytest.mark.timeout(120)

EXPECTED = {
    # user -> accounts visible (by seed name)
    "rep_e1": {"e1-acct"},  # self
    "lead_west": {"west-lead-acct", "w1-acct"},  # self + subordinates
    "clerk_east": {"east-mgr-acct", "clerk-acct"},  # own department (Sales East only)
    "mgr_east": {"east-mgr-acct", "clerk-acct", "e1-acct", "e2-acct"},  # department + sub-departments
    "boss": {"boss-acct", "east-mgr-acct", "clerk-acct", "e1-acct", "e2-acct", "west-lead-acct", "w1-acct"},  # everyone
}


async def snapshot_of(org: DemoOrg, user: str) -> tuple[set[str], WireClient]:
    client, welcome = await WireClient.connect(org.server, user=org.user[user])
    assert welcome["type"] == "welcome"
    items, _ = await client.sync_to_done()
    return row_ids(items), client


@pytest.mark.parametrize("user", sorted(EXPECTED))
def test_each_scope_snapshot_holds_exactly_the_rows_in_scope(demo_org: DemoOrg, user: str) -> None:
    """A fresh device's snapshot holds exactly the rows its role's scope reaches (self, subordinates, department, tree, all)."""

    async def scenario() -> None:
        seen, client = await snapshot_of(demo_org, user)
        assert seen == {demo_org.rows[n] for n in EXPECTED[user]}
        await client.close()

    asyncio.run(scenario())


def test_peers_are_isolated_live(demo_org: DemoOrg) -> None:
    """A rep's live edits reach their managers but never a peer rep of the same department."""

    async def scenario() -> None:
        e1, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e1"])
        e2, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e2"])
        mgr, _ = await WireClient.connect(demo_org.server, user=demo_org.user["mgr_east"])
        for c in (e1, e2, mgr):
            await c.sync_to_done()
        row = str(uuid.uuid4())
        ack = await e1.push([e1.change(row, "name", "Secret Prospect 秘密客户")])
        assert ack["rejects"] == []
        frame = await mgr.until("changes")
        assert any(c["r"] == row for c in frame["changes"])
        # e2 gets nothing about it: the manager's later write to e2's own row arrives, the secret row never did
        await mgr.push([mgr.change(demo_org.rows["e2-acct"], "tier", "marker")])
        frame = await e2.until("changes")
        assert [c["v"] for c in frame["changes"]] == ["marker"]
        assert row not in e2.received_bytes()
        assert "Secret Prospect" not in e2.received_bytes()
        for c in (e1, e2, mgr):
            await c.close()

    asyncio.run(scenario())


def test_catch_up_is_scoped(demo_org: DemoOrg) -> None:
    """A device catching up from a cursor receives only the changes of rows in its scope."""

    async def scenario() -> None:
        site = "dev-e2-" + uuid.uuid4().hex[:6]
        e2, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e2"], site=site)
        _, cursor = await e2.sync_to_done()
        await e2.close()
        demo_org.seed("late-e1", "rep_e1")
        demo_org.seed("late-e2", "rep_e2")
        again, welcome = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e2"], site=site, cursor=cursor)
        assert welcome["mode"] == "catchup"
        items, _ = await again.sync_to_done()
        assert row_ids(items) == {demo_org.rows["late-e2"]}
        await again.close()

    asyncio.run(scenario())


def test_out_of_scope_writes_are_rejected_per_change(demo_org: DemoOrg) -> None:
    """Writes to a peer's row, to owner/department and to hidden fields are rejected per change; the rest applies."""

    async def scenario() -> None:
        e1, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e1"])
        await e1.sync_to_done()
        mine, peer = demo_org.rows["e1-acct"], demo_org.rows["e2-acct"]
        new = str(uuid.uuid4())
        ack = await e1.push([
            e1.change(mine, "tier", "A"),
            e1.change(peer, "tier", "hijacked"),
            e1.change(mine, "owner_id", demo_org.user["rep_e2"]),
            e1.change(new, "name", "my new account"),
            e1.change(new, "amount", 1.0, table="opportunities"),
        ])
        codes = {r["i"]: r["code"] for r in ack["rejects"]}
        assert codes == {1: "FS-3004", 2: "FS-3004", 4: "FS-3010"}
        assert ack["accepted"] == 2
        store = demo_org.server.app.state.store
        states = store.row_states("accounts", [mine, peer, new])
        assert '"hijacked"' not in states[peer]
        assert demo_org.user["rep_e1"] in states[new]  # the writer owns what it created
        await e1.close()

    asyncio.run(scenario())


def test_manager_may_write_subordinate_rows(demo_org: DemoOrg) -> None:
    """A manager with write scope "self + subordinates" may edit a report's row but not another department's."""

    async def scenario() -> None:
        mgr, _ = await WireClient.connect(demo_org.server, user=demo_org.user["mgr_east"])
        await mgr.sync_to_done()
        ack = await mgr.push([mgr.change(demo_org.rows["e2-acct"], "tier", "B"), mgr.change(demo_org.rows["w1-acct"], "tier", "B")])
        assert [(r["i"], r["code"]) for r in ack["rejects"]] == [(1, "FS-3004")]
        await mgr.close()

    asyncio.run(scenario())


def test_hidden_fields_never_reach_the_device(demo_org: DemoOrg) -> None:
    """A field hidden from a role is absent from the snapshot, catch-up and live bytes its devices receive."""

    async def scenario() -> None:
        site = "dev-clerk-" + uuid.uuid4().hex[:6]
        clerk, _ = await WireClient.connect(demo_org.server, user=demo_org.user["clerk_east"], site=site)
        items, cursor = await clerk.sync_to_done()
        assert demo_org.rows["clerk-acct"] in row_ids(items)
        mgr, _ = await WireClient.connect(demo_org.server, user=demo_org.user["mgr_east"])
        await mgr.sync_to_done()
        await mgr.push([mgr.change(demo_org.rows["east-mgr-acct"], "phone", "+8613999999999"),
                        mgr.change(demo_org.rows["east-mgr-acct"], "tier", "VIP")])
        live = await clerk.until("changes")
        assert all(c["f"] != "phone" for c in live["changes"])
        await clerk.close()
        again, _ = await WireClient.connect(demo_org.server, user=demo_org.user["clerk_east"], site=site, cursor=cursor)
        await again.sync_to_done()
        for raw in clerk.raw + again.raw:
            assert '"phone"' not in raw
            assert "+86139" not in raw and "+86138" not in raw
        assert any("VIP" in raw for raw in clerk.raw)
        await again.close()
        await mgr.close()

    asyncio.run(scenario())


def test_reassignment_evicts_from_the_old_owner_and_delivers_to_the_new(demo_org: DemoOrg) -> None:
    """Moving an account from one rep to another evicts it from the first rep's device and sends it whole to the second's."""

    async def scenario() -> None:
        e1, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e1"])
        w1, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_w1"])
        for c in (e1, w1):
            await c.sync_to_done()
        row = demo_org.rows["e1-acct"]
        uid = demo_org.user["rep_w1"]
        await asyncio.to_thread(demo_org.call, demo_org.hub.server_write("accounts", row, {"owner_id": uid, "department_id": demo_org.dept["west"]}))
        evict = await e1.until("evict")
        assert evict["rows"] == [["accounts", row]]
        gained = await w1.until("changes")
        assert [r["r"] for r in gained["rows"]] == [row]
        assert gained["rows"][0]["c"]["name"][0] == "e1-acct"
        # the old owner's later write to it is refused
        ack = await e1.push([e1.change(row, "tier", "C")])
        assert ack["rejects"][0]["code"] == "FS-3004"
        await e1.close()
        await w1.close()

    asyncio.run(scenario())


def test_reassignment_while_offline_is_applied_at_catch_up(demo_org: DemoOrg) -> None:
    """A device that was offline during a reassignment gets the evict (old owner) or the whole row (new owner) when it catches up."""

    async def scenario() -> None:
        s1, s2 = "dev-a-" + uuid.uuid4().hex[:6], "dev-b-" + uuid.uuid4().hex[:6]
        e1, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e1"], site=s1)
        _, c1 = await e1.sync_to_done()
        e2, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e2"], site=s2)
        _, c2 = await e2.sync_to_done()
        await e1.close()
        await e2.close()
        row = demo_org.rows["e1-acct"]
        await asyncio.to_thread(demo_org.call, demo_org.hub.server_write("accounts", row, {"owner_id": demo_org.user["rep_e2"]}))
        e1, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e1"], site=s1, cursor=c1)
        assert (await e1.until("evict"))["rows"] == [["accounts", row]]
        e2, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e2"], site=s2, cursor=c2)
        items, _ = await e2.sync_to_done()
        assert any(i["r"] == row and "cl" in i for i in items)
        await e1.close()
        await e2.close()

    asyncio.run(scenario())


def test_department_move_rescopes_live_devices(demo_org: DemoOrg) -> None:
    """Moving a clerk to another department evicts the old department's rows and delivers the new one's, live."""

    async def scenario() -> None:
        clerk, _ = await WireClient.connect(demo_org.server, user=demo_org.user["clerk_east"])
        await clerk.sync_to_done()
        store = demo_org.hub.org
        await asyncio.to_thread(store.update_user, demo_org.user["clerk_east"], department_id=demo_org.dept["west"])
        evict = await clerk.until("evict")
        # their own row stays (self is always in scope); the manager's East row goes
        assert {r for _, r in evict["rows"]} == {demo_org.rows["east-mgr-acct"]}
        gained = await clerk.until("changes")
        assert {r["r"] for r in gained["rows"]} == {demo_org.rows["west-lead-acct"], demo_org.rows["w1-acct"]}
        await clerk.close()

    asyncio.run(scenario())


def test_role_change_while_offline_is_corrected_at_next_hello(demo_org: DemoOrg) -> None:
    """A rep promoted to "everyone" while offline receives the newly visible rows when it reconnects with its cursor."""

    async def scenario() -> None:
        site = "dev-" + uuid.uuid4().hex[:6]
        rep, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_w1"], site=site)
        _, cursor = await rep.sync_to_done()
        await rep.close()
        await asyncio.to_thread(demo_org.hub.org.update_user, demo_org.user["rep_w1"], role_id=demo_org.role["boss"])
        again, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_w1"], site=site, cursor=cursor)
        frame = await again.until("changes")
        assert {r["r"] for r in frame["rows"]} == {demo_org.rows[n] for n in EXPECTED["boss"]} - {demo_org.rows["w1-acct"]}
        await again.close()

    asyncio.run(scenario())


def test_team_membership_grants_one_record(demo_org: DemoOrg) -> None:
    """A rep added to a peer's record team receives that record, and may write it only with write access."""

    async def scenario() -> None:
        e2, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e2"])
        await e2.sync_to_done()
        row = demo_org.rows["e1-acct"]
        await asyncio.to_thread(demo_org.hub.org.set_team, "accounts", row, demo_org.user["rep_e2"], "read")
        frame = await e2.until("changes")
        assert [r["r"] for r in frame["rows"]] == [row]
        ack = await e2.push([e2.change(row, "tier", "Z")])
        assert ack["rejects"][0]["code"] == "FS-3004"
        await asyncio.to_thread(demo_org.hub.org.set_team, "accounts", row, demo_org.user["rep_e2"], "write")
        ack = await e2.push([e2.change(row, "tier", "Z")])
        assert ack["rejects"] == []
        await e2.close()

    asyncio.run(scenario())


def test_scope_view_is_pure_and_decides_rows_by_sets() -> None:
    """compute_view turns a role's scope into owner/department sets; unknown users see nothing."""
    from fieldsync.server.org.model import Department, Role, User

    org = Org.build(
        [Department("d1", "root"), Department("d2", "child", "d1")],
        [User("boss", "boss", department_id="d1", role_id="r"), User("rep", "rep", department_id="d2", manager_id="boss")],
        [Role("r", "tree", {("*", "read"): Scope.DEPARTMENT_TREE, ("*", "write"): Scope.SELF})],
    )
    view = compute_view(org, "boss", ["accounts"])
    assert view.reads("accounts", "x", "someone", "d2") and not view.writes("accounts", "x", "someone", "d2")
    assert compute_view(org, "rep", ["accounts"]).reads("accounts", "x", "rep", None)  # no role: self
    assert not compute_view(org, "ghost", ["accounts"]).reads("accounts", "x", "ghost", "d1")



def test_http_fallback_is_scoped_and_rescoped(demo_org: DemoOrg) -> None:
    """Over the HTTP fallback a rep pulls only their rows, out-of-scope pushes are rejected, and a department move is corrected at the next pull."""
    import httpx

    site = "http-" + uuid.uuid4().hex[:6]
    token = demo_org.server.token(user_id=demo_org.user["clerk_east"], site=site)
    headers = {"Authorization": f"Bearer {token}"}
    base = demo_org.server.http_url

    def pull(cursor: str | None) -> list[dict[str, object]]:
        resp = httpx.post(base + "/v1/sync/pull", json={"type": "pull", "cursor": cursor, "schema": 1}, headers=headers, timeout=30)
        return list(resp.json()["messages"])

    seen: set[str] = set()
    cursor = None
    while True:
        messages = pull(cursor)
        for m in messages:
            if m["type"] == "changes":
                seen |= {r["r"] for r in m["rows"]} | {c["r"] for c in m["changes"]}
        cursor = messages[-1]["cursor"]
        if messages[-1]["done"]:
            break
    assert seen == {demo_org.rows["east-mgr-acct"], demo_org.rows["clerk-acct"]}
    assert "+86138" not in str(seen)
    push = {"type": "push", "batch": str(uuid.uuid4()), "changes": [
        {"t": "accounts", "r": demo_org.rows["w1-acct"], "f": "tier", "v": "X", "h": str((1_764_000_000_000 << 16)), "s": site, "c": 1, "b": "0"}]}
    ack = httpx.post(base + "/v1/sync/push", json=push, headers=headers, timeout=30).json()
    assert ack["rejects"][0]["code"] == "FS-3004"
    demo_org.hub.org.update_user(demo_org.user["clerk_east"], department_id=demo_org.dept["west"])
    messages = pull(cursor)
    kinds = [m["type"] for m in messages]
    assert kinds == ["evict", "changes", "checkpoint"]
    assert messages[0]["rows"] == [["accounts", demo_org.rows["east-mgr-acct"]]]
    assert {r["r"] for r in messages[1]["rows"]} == {demo_org.rows["west-lead-acct"], demo_org.rows["w1-acct"]}
    assert [m["type"] for m in pull(cursor)] == ["checkpoint"]


def test_unhiding_a_field_resends_the_rows_with_it(demo_org: DemoOrg) -> None:
    """When a role stops hiding a field, its live devices have the affected rows evicted and re-sent with the field."""
    from fieldsync.server.org.model import Scope

    async def scenario() -> None:
        clerk, _ = await WireClient.connect(demo_org.server, user=demo_org.user["clerk_east"])
        await clerk.sync_to_done()
        assert "+86138" not in clerk.received_bytes()
        grants = {("*", "read"): Scope.DEPARTMENT, ("*", "write"): Scope.SELF}
        await asyncio.to_thread(demo_org.hub.org.update_role, demo_org.role["clerk"], grants, hidden={})
        evict = await clerk.until("evict")
        assert {r for _, r in evict["rows"]} == {demo_org.rows["east-mgr-acct"], demo_org.rows["clerk-acct"]}
        frame = await clerk.until("changes")
        phones = {r["r"]: r["c"].get("phone", [None])[0] for r in frame["rows"]}
        assert phones[demo_org.rows["clerk-acct"]] == "+8613800000001"
        await clerk.close()

    asyncio.run(scenario())
