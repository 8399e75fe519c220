"""Fixtures for the dashboard: a two-team organisation with a day of visits, sign-in helpers, headless Chromium."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from fieldsync.server.auth.passwords import hash_password
from fieldsync.server.org.model import Scope

DAY = "2026-11-24"  # visits are planned on this day, Shanghai time; the browser runs in Asia/Shanghai
TZ = "+08:00"
PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# (rep, account name, lat, lon, hour) -- real places in Shanghai
PLAN = {
    "rep_e1": [("上海华东电气有限公司", 31.2304, 121.4737, 9), ("Shanghai Hongda Machinery", 31.2286, 121.4480, 11),
               ("浦江物流集团", 31.1886, 121.4365, 14)],
    "rep_e2": [("东方医药股份有限公司", 31.2397, 121.4998, 9), ("Jinqiao Foods Group", 31.2600, 121.6050, 13)],
    "rep_w1": [("West Secret Account", 31.2497, 121.3955, 10)],
}


@dataclass
class Team:
    """A running server with two teams: East (mgr_east, rep_e1, rep_e2) and West (mgr_west, rep_w1)."""

    server: Any
    user: dict[str, str] = field(default_factory=dict)
    dept: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    visits: dict[str, list[str]] = field(default_factory=dict)

    @property
    def hub(self) -> Any:
        return self.server.app.state.hub

    @property
    def url(self) -> str:
        return self.server.http_url

    def call(self, coro: Any) -> Any:
        """Run a hub coroutine on the server's event loop."""
        return asyncio.run_coroutine_threadsafe(coro, self.hub._loop).result(30)

    def write(self, table: str, row_id: str, values: dict[str, Any]) -> None:
        self.call(self.hub.server_write(table, row_id, values))

    def login(self, name: str, *, code: str | None = None, site: str | None = None) -> dict[str, Any]:
        body = {"login": name, "password": PASSWORD, "site": site or f"test-{uuid.uuid4().hex[:8]}"}
        if code:
            body["code"] = code
        resp = httpx.post(f"{self.url}/v1/auth/login", json=body, timeout=30)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def enrol_totp(self, name: str) -> pyotp.TOTP:
        """Enrol a manager's TOTP through the API (confirmed with the previous step's code, so the current one is still fresh)."""
        enrol = self.login(name)["enrol_token"]
        headers = {"Authorization": f"Bearer {enrol}"}
        secret = httpx.post(f"{self.url}/v1/auth/totp/enroll", headers=headers, timeout=30).json()["secret"]
        totp = pyotp.TOTP(secret)
        confirm = httpx.post(f"{self.url}/v1/auth/totp/confirm", headers=headers, json={"code": totp.at(time.time() - 30)}, timeout=30)
        assert confirm.status_code == 200, confirm.text
        return totp

    def token(self, name: str) -> str:
        """An access token for ``name`` through the real login (managers enrol TOTP first)."""
        if name.startswith("mgr"):
            totp = self.enrol_totp(name)
            return str(self.login(name, code=totp.now())["access_token"])
        return str(self.login(name)["access_token"])

    def get(self, token: str, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def build_team(server: Any) -> Team:
    team = Team(server)
    org = server.app.state.hub.org
    d = team.dept
    d["hq"] = org.create_department("HQ")
    d["east"] = org.create_department("Sales East", d["hq"])
    d["west"] = org.create_department("Sales West", d["hq"])
    manager = org.create_role("manager", {("*", "read"): Scope.DEPARTMENT_TREE, ("*", "write"): Scope.SUBORDINATES})
    rep = org.create_role("rep", {("*", "read"): Scope.SELF, ("*", "write"): Scope.SELF})
    u = team.user
    u["mgr_east"] = org.create_user("mgr_east", display_name="李静 Li Jing", department_id=d["east"], role_id=manager)
    u["rep_e1"] = org.create_user("rep_e1", display_name="张伟 Zhang Wei", department_id=d["east"], manager_id=u["mgr_east"], role_id=rep)
    u["rep_e2"] = org.create_user("rep_e2", display_name="刘洋 Liu Yang", department_id=d["east"], manager_id=u["mgr_east"], role_id=rep)
    u["mgr_west"] = org.create_user("mgr_west", display_name="王强 Wang Qiang", department_id=d["west"], role_id=manager)
    u["rep_w1"] = org.create_user("rep_w1", display_name="赵敏 Zhao Min", department_id=d["west"], manager_id=u["mgr_west"], role_id=rep)
    hashed = hash_password(PASSWORD)
    for uid in u.values():
        org.set_credentials(uid, password_hash=hashed)
    users = org.load().users
    for rep_name, stops in PLAN.items():
        uid = u[rep_name]
        dept = users[uid].department_id
        team.visits[rep_name] = []
        for seq, (name, lat, lon, hour) in enumerate(stops, start=1):
            acct = str(uuid.uuid4())
            team.write("accounts", acct, {"name": name, "lat": lat, "lon": lon, "datum": "wgs84", "owner_id": uid, "department_id": dept})
            team.accounts[name] = acct
            visit = str(uuid.uuid4())
            team.write("visits", visit, {
                "account_id": acct, "rep_id": uid, "sequence": seq, "status": "planned", "plan_id": f"{DAY}:{rep_name}",
                "planned_start": f"{DAY}T{hour:02d}:00:00{TZ}", "planned_end": f"{DAY}T{hour:02d}:45:00{TZ}",
                "owner_id": uid, "department_id": dept,
            })
            team.visits[rep_name].append(visit)
    # rep_e2 has been out: one verified visit with check-in and check-out, one far away (out of range)
    first, second = team.visits["rep_e2"]
    team.write("visits", first, {
        "checkin_at": f"{DAY}T09:05:00{TZ}", "checkin_device_time": f"{DAY}T09:05:00{TZ}", "checkin_lat": 31.2399, "checkin_lon": 121.4999,
        "checkin_datum": "wgs84", "checkin_accuracy_m": 8.0, "checkout_at": f"{DAY}T09:50:00{TZ}", "status": "done", "outcome": "quote sent",
        "verdict": "verified", "verdict_reasons": [], "distance_m": 24.5,
    })
    team.write("visits", second, {
        "checkin_at": f"{DAY}T13:10:00{TZ}", "checkin_device_time": f"{DAY}T13:10:00{TZ}", "checkin_lat": 31.2900, "checkin_lon": 121.6050,
        "checkin_datum": "wgs84", "checkin_accuracy_m": 10.0, "status": "checked_in", "verdict": "out_of_range",
        "verdict_reasons": [{"code": "too_far", "message": "the fix is farther from the account than the radius allows (m)",
                             "observed": 3335.8, "limit": 200.0}], "distance_m": 3335.8,
    })
    return team


@pytest.fixture
def team(live_server: Any) -> Team:
    """A running server holding the two-team organisation and a planned day."""
    return build_team(live_server(org_poll_s=0.05))


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """The folder screenshots are written to (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (own localStorage) at desktop size, in Shanghai time."""
    context = browser.new_context(viewport={"width": 1366, "height": 900}, timezone_id="Asia/Shanghai", locale="en-US")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, errors
