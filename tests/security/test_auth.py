"""Accounts and devices: argon2 logins, refresh, TOTP, lockout, revocation, token and site binding."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest
import websockets

from fieldsync.server.auth import totp
from fieldsync.server.auth.passwords import hash_password
from fieldsync.server.auth.service import AuthService
from fieldsync.server.auth.tokens import issue_token

from .conftest import DemoOrg, WireClient

pytestmark = pytest.mark.timeout(120)

PASSWORD = "correct horse battery staple"


class Clock:
    """A settable clock near real time (tokens it stamps stay valid for the real hub)."""

    def __init__(self) -> None:
        self.t = time.time()

    def __call__(self) -> float:
        return self.t


def with_passwords(org: DemoOrg, *users: str) -> Clock:
    store = org.hub.org
    for u in users:
        store.set_credentials(org.user[u], password_hash=hash_password(PASSWORD))
    clock = Clock()
    app = org.server.app
    app.state.auth = AuthService(org.hub.org, org.hub.devices, org.hub.audit, org.server.settings, now=clock)
    return clock


def post(org: DemoOrg, path: str, body: Any, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(org.server.http_url + path, json=body, headers=headers, timeout=30)


def login(org: DemoOrg, user: str, site: str, password: str = PASSWORD, code: str | None = None) -> httpx.Response:
    return post(org, "/v1/auth/login", {"login": user, "password": password, "site": site, "code": code})


def code_of(resp: httpx.Response) -> str:
    return str(resp.json()["error"]["code"])


def test_login_returns_access_and_refresh_tokens_that_sync(demo_org: DemoOrg) -> None:
    """A rep signs in with an argon2-checked password and the access token opens a sync session on that site."""
    with_passwords(demo_org, "rep_e1")
    site = "dev-" + uuid.uuid4().hex[:8]
    resp = login(demo_org, "rep_e1", site)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["user"] == demo_org.user["rep_e1"] and body["refresh_token"] and body["expires_in"] <= 15 * 60
    creds = demo_org.hub.org.credentials(login="rep_e1")
    assert creds is not None and creds.password_hash and creds.password_hash.startswith("$argon2id$")

    async def scenario() -> None:
        client, welcome = await WireClient.connect(demo_org.server, user="", site=site, token=body["access_token"])
        assert welcome["type"] == "welcome" and welcome["user"] == demo_org.user["rep_e1"]
        await client.close()

    asyncio.run(scenario())
    assert login(demo_org, "rep_e1", site, password="wrong").status_code == 401
    assert code_of(login(demo_org, "nobody", site)) == "FS-3007"


def test_refresh_rotates_and_is_bound_to_its_device(demo_org: DemoOrg) -> None:
    """A refresh token works once, only on the site it was issued to."""
    with_passwords(demo_org, "rep_e1")
    site = "dev-" + uuid.uuid4().hex[:8]
    first = login(demo_org, "rep_e1", site).json()
    assert code_of(post(demo_org, "/v1/auth/refresh", {"refresh_token": first["refresh_token"], "site": "dev-other"})) == "FS-3001"
    second = post(demo_org, "/v1/auth/refresh", {"refresh_token": first["refresh_token"], "site": site})
    assert second.status_code == 200 and second.json()["refresh_token"] != first["refresh_token"]
    replay = post(demo_org, "/v1/auth/refresh", {"refresh_token": first["refresh_token"], "site": site})
    assert code_of(replay) == "FS-3001"


def test_failed_logins_lock_the_account(demo_org: DemoOrg) -> None:
    """Five wrong passwords lock the account (FS-3008, even for the right password) until the lockout ends."""
    clock = with_passwords(demo_org, "rep_e2")
    site = "dev-" + uuid.uuid4().hex[:8]
    codes = [code_of(login(demo_org, "rep_e2", site, password=f"guess{i}")) for i in range(5)]
    assert codes == ["FS-3007"] * 4 + ["FS-3008"]
    locked = login(demo_org, "rep_e2", site)
    assert locked.status_code == 423 and code_of(locked) == "FS-3008"
    clock.t += demo_org.server.settings.login_lockout_s + 1
    assert login(demo_org, "rep_e2", site).status_code == 200


def test_totp_is_required_for_managers_and_replayed_codes_are_refused(demo_org: DemoOrg) -> None:
    """A manager without TOTP gets only an enrolment token; after enrolment a code is required, works once, and recovery codes work once."""
    clock = with_passwords(demo_org, "mgr_east")
    site = "dev-" + uuid.uuid4().hex[:8]
    first = login(demo_org, "mgr_east", site).json()
    assert first["totp_enrolment_required"] is True and "access_token" not in first
    enrol_token = first["enrol_token"]

    async def hello_with(token: str) -> dict[str, Any]:
        client, frame = await WireClient.connect(demo_org.server, user="", site=site, token=token)
        await client.close()
        return frame

    assert asyncio.run(hello_with(enrol_token))["code"] == "FS-3001"  # an enrolment token cannot sync
    started = post(demo_org, "/v1/auth/totp/enroll", None, enrol_token).json()
    assert started["provisioning_uri"].startswith("otpauth://totp/")
    import base64

    assert base64.b64decode(started["qr_png"])[:8] == b"\x89PNG\r\n\x1a\n"
    secret = started["secret"]
    recovery = post(demo_org, "/v1/auth/totp/confirm", {"code": totp.code_at(secret, clock.t)}, enrol_token).json()["recovery_codes"]
    assert len(recovery) == 10
    assert code_of(login(demo_org, "mgr_east", site)) == "FS-3009"
    clock.t += 30
    code = totp.code_at(secret, clock.t)
    ok = login(demo_org, "mgr_east", site, code=code)
    assert ok.status_code == 200 and ok.json()["access_token"]
    assert code_of(login(demo_org, "mgr_east", site, code=code)) == "FS-3007"  # the same code again
    assert login(demo_org, "mgr_east", site, code=recovery[0]).status_code == 200
    assert code_of(login(demo_org, "mgr_east", site, code=recovery[0])) == "FS-3007"
    actions = [e["action"] for e in demo_org.hub.audit.entries(subject=demo_org.user["mgr_east"])]
    assert {"login", "login_failed", "totp_enrolled", "recovery_code_used"} <= set(actions)


def test_totp_is_optional_for_reps(demo_org: DemoOrg) -> None:
    """A rep (no reports, role without the TOTP flag) signs in with a password alone."""
    with_passwords(demo_org, "rep_w1")
    assert "access_token" in login(demo_org, "rep_w1", "dev-" + uuid.uuid4().hex[:8]).json()


def test_a_site_belongs_to_one_user(demo_org: DemoOrg) -> None:
    """A site id registered to one user cannot be used by another, by login or by token."""
    with_passwords(demo_org, "rep_e1", "rep_e2")
    site = "dev-" + uuid.uuid4().hex[:8]
    assert login(demo_org, "rep_e1", site).status_code == 200
    assert code_of(login(demo_org, "rep_e2", site)) == "FS-3006"

    async def scenario() -> None:
        client, frame = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e2"], site=site)
        await client.close()
        assert frame["code"] == "FS-3006"

    asyncio.run(scenario())


def test_expired_tampered_and_foreign_tokens_are_refused(demo_org: DemoOrg) -> None:
    """Expired tokens get FS-3002, tampered or foreign-key tokens FS-3001, unknown users FS-3001."""
    key = demo_org.server.settings.secret_key
    uid = demo_org.user["rep_e1"]
    site = "dev-" + uuid.uuid4().hex[:8]
    expired = issue_token(key, user_id=uid, site=site, ttl_s=10, now=time.time() - 100)
    good = issue_token(key, user_id=uid, site=site)
    body, sig = good.split(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig
    foreign = issue_token("another-secret" * 3, user_id=uid, site=site)
    ghost = issue_token(key, user_id=str(uuid.uuid4()), site=site)

    async def hello(token: str) -> str:
        client, frame = await WireClient.connect(demo_org.server, user="", site=site, token=token)
        await client.close()
        return str(frame["code"])

    async def scenario() -> list[str]:
        return [await hello(t) for t in (expired, tampered, foreign, ghost)]

    assert asyncio.run(scenario()) == ["FS-3002", "FS-3001", "FS-3001", "FS-3001"]


def test_replayed_batch_applies_once(demo_org: DemoOrg) -> None:
    """A batch resent with the same id is acknowledged as a duplicate and not applied again."""

    async def scenario() -> None:
        client, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_e1"])
        await client.sync_to_done()
        row = str(uuid.uuid4())
        batch = str(uuid.uuid4())
        changes = [client.change(row, "visit_count", 1)]
        first = await client.push(changes, batch)
        head = demo_org.server.app.state.store.head()
        again = await client.push(changes, batch)
        assert again["duplicate"] is True and first["duplicate"] is False
        assert demo_org.server.app.state.store.head() == head
        forged = await client.push(changes, batch[:-4] + "ffff" if not batch.endswith("ffff") else batch[:-4] + "eeee")
        assert forged["rejects"] == [] or forged["rejects"][0]["code"] != "FS-2007"
        await client.close()

    asyncio.run(scenario())


def test_revoked_device_is_purged_and_disconnected_at_once(demo_org: DemoOrg) -> None:
    """Revoking a device sends its live connection `purge` and closes it (4305); its next hello and pull get `purge` too."""
    with_passwords(demo_org, "rep_e1")
    site = "dev-" + uuid.uuid4().hex[:8]
    tokens = login(demo_org, "rep_e1", site).json()

    async def scenario() -> None:
        client, _ = await WireClient.connect(demo_org.server, user="", site=site, token=tokens["access_token"])
        await client.sync_to_done()
        resp = await asyncio.to_thread(post, demo_org, f"/v1/auth/devices/{site}/revoke", None, tokens["access_token"])
        assert resp.json() == {"revoked": True}
        purge = await client.until("purge")
        assert purge["reason"] == "device_revoked"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await client.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4305
        await client.close()
        again, frame = await WireClient.connect(demo_org.server, user="", site=site, token=tokens["access_token"])
        assert frame["type"] == "purge"
        await again.close()

    asyncio.run(scenario())
    pulled = post(demo_org, "/v1/sync/pull", {"type": "pull", "cursor": None, "schema": 1}, tokens["access_token"])
    assert pulled.json()["messages"] == [{"type": "purge", "reason": "device_revoked"}]
    assert code_of(post(demo_org, "/v1/auth/refresh", {"refresh_token": tokens["refresh_token"], "site": site})) == "FS-3005"


def test_disabling_a_user_purges_their_live_devices(demo_org: DemoOrg) -> None:
    """Disabling a user wipes and disconnects every live device of theirs, whatever the revocation path (admin tool in another process)."""

    async def scenario() -> None:
        client, _ = await WireClient.connect(demo_org.server, user=demo_org.user["rep_w1"])
        await client.sync_to_done()
        auth = demo_org.server.app.state.auth
        await asyncio.to_thread(auth.disable_user, demo_org.user["rep_w1"], actor=demo_org.user["boss"])
        assert (await client.until("purge"))["type"] == "purge"
        await client.close()
        again, frame = await WireClient.connect(demo_org.server, user=demo_org.user["rep_w1"])
        assert frame == {"type": "purge", "reason": "device_revoked"}  # any device of theirs, at its next contact
        await again.close()
        entries = demo_org.hub.audit.entries(subject=demo_org.user["rep_w1"])
        assert entries[0]["action"] == "user_disabled" and entries[0]["actor"] == demo_org.user["boss"]

    asyncio.run(scenario())


def test_audit_log_never_holds_secrets(demo_org: DemoOrg) -> None:
    """Audit entries of logins and failures name users by id and never contain passwords or codes."""
    with_passwords(demo_org, "rep_e1")
    login(demo_org, "rep_e1", "dev-x1", password="hunter2-wrong")
    login(demo_org, "rep_e1", "dev-x1")
    dump = json.dumps(demo_org.hub.audit.entries())
    assert "hunter2" not in dump and PASSWORD not in dump and "rep_e1" not in dump


def test_sign_in_attempts_are_throttled_per_address(live_server: Any) -> None:
    """Past the per-address budget, sign-in attempts get FS-1009 (429) before any password is checked."""
    from .conftest import build_demo_org

    server = live_server(login_per_minute=3)
    org = build_demo_org(server)
    codes = [code_of(login(org, "nobody", "dev-x")) for _ in range(5)]
    assert codes[:3] == ["FS-3007"] * 3 and codes[3:] == ["FS-1009"] * 2
