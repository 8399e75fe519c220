"""Fixtures for security tests: a real organisation tree on a real server, and a recording wire client."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets

from fieldsync.server.org.model import Scope
from fieldsync.sync.hlc import pack

READ, WRITE = "read", "write"


class WireClient:
    """The sync protocol by hand over a real WebSocket; keeps every raw frame it received."""

    def __init__(self, ws: Any, site: str) -> None:
        self.ws = ws
        self.site = site
        self.raw: list[str] = []
        self.skipped: list[dict[str, Any]] = []
        self.ms = int(time.time() * 1000)

    @classmethod
    async def connect(cls, server: Any, *, user: str, site: str | None = None, token: str | None = None,
                      cursor: str | None = None, live: bool = True) -> tuple[WireClient, dict[str, Any]]:
        site = site or "dev-" + uuid.uuid4().hex[:8]
        ws = await websockets.connect(server.ws_url, max_size=16 * 1024 * 1024)
        token = token or server.token(user_id=user, site=site)
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": token, "site": site, "cursor": cursor, "live": live}))
        client = cls(ws, site)
        return client, await client.recv()

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        if self.skipped:
            return self.skipped.pop(0)
        return await self._read(timeout)

    async def _read(self, timeout: float) -> dict[str, Any]:
        text = await asyncio.wait_for(self.ws.recv(), timeout)
        self.raw.append(text)
        return dict(json.loads(text))

    async def until(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        for i, msg in enumerate(self.skipped):
            if msg["type"] == kind and all(msg.get(k) == v for k, v in match.items()):
                return self.skipped.pop(i)
        while True:
            msg = await self._read(timeout)
            if msg["type"] == kind and all(msg.get(k) == v for k, v in match.items()):
                return msg
            self.skipped.append(msg)

    async def sync_to_done(self) -> tuple[list[dict[str, Any]], str]:
        """Read page sets until the final checkpoint; other frames (evict, purge) stay readable by ``until``."""
        items: list[dict[str, Any]] = []
        others: list[dict[str, Any]] = []
        while True:
            msg = await self.recv()
            if msg["type"] == "changes":
                items.extend(msg["rows"])
                items.extend(msg["changes"])
            elif msg["type"] == "checkpoint" and msg["done"]:
                self.skipped[:0] = others
                return items, msg["cursor"]
            elif msg["type"] != "checkpoint":
                others.append(msg)

    def change(self, row: str, fname: str, value: Any, *, table: str = "accounts") -> dict[str, Any]:
        self.ms += 1
        return {"t": table, "r": row, "f": fname, "v": value, "h": str(pack(self.ms, 0)), "s": self.site, "c": 1, "b": "0"}

    async def push(self, changes: list[Any], batch: str | None = None) -> dict[str, Any]:
        batch = batch or str(uuid.uuid4())
        await self.ws.send(json.dumps({"type": "push", "batch": batch, "changes": changes}))
        return await self.until("ack", batch=batch)

    def received_bytes(self) -> str:
        return "\n".join(self.raw)

    async def close(self) -> None:
        await self.ws.close()


def row_ids(items: list[dict[str, Any]], table: str = "accounts") -> set[str]:
    return {i["r"] for i in items if i.get("t") == table}


@dataclass
class DemoOrg:
    """A small real organisation: HQ > Sales East > East-1, HQ > Sales West; ids by short name."""

    server: Any
    dept: dict[str, str] = field(default_factory=dict)
    user: dict[str, str] = field(default_factory=dict)
    role: dict[str, str] = field(default_factory=dict)
    rows: dict[str, str] = field(default_factory=dict)

    @property
    def hub(self) -> Any:
        return self.server.app.state.hub

    def call(self, coro: Any) -> Any:
        """Run a hub coroutine on the server's event loop from the test thread."""
        return asyncio.run_coroutine_threadsafe(coro, self.hub._loop).result(30)

    def seed(self, name: str, owner: str, *, table: str = "accounts", **values: Any) -> str:
        """Create a row owned by user ``owner`` (short name) in their department, as a server write."""
        row = str(uuid.uuid4())
        uid = self.user[owner]
        dept = self.hub.org.load().users[uid].department_id
        self.call(self.hub.server_write(table, row, {"name": name, "owner_id": uid, "department_id": dept, **values}))
        self.rows[name] = row
        return row


def build_demo_org(server: Any) -> DemoOrg:
    org = DemoOrg(server)
    store = server.app.state.hub.org
    d = org.dept
    d["hq"] = store.create_department("HQ")
    d["east"] = store.create_department("Sales East", d["hq"])
    d["east1"] = store.create_department("East-1", d["east"])
    d["west"] = store.create_department("Sales West", d["hq"])
    r = org.role
    r["boss"] = store.create_role("boss", {("*", READ): Scope.ALL, ("*", WRITE): Scope.ALL}, admin=True)
    r["manager"] = store.create_role("manager", {("*", READ): Scope.DEPARTMENT_TREE, ("*", WRITE): Scope.SUBORDINATES})
    r["lead"] = store.create_role("team lead", {("*", READ): Scope.SUBORDINATES, ("*", WRITE): Scope.SUBORDINATES})
    r["clerk"] = store.create_role("clerk", {("*", READ): Scope.DEPARTMENT, ("*", WRITE): Scope.SELF}, hidden={"accounts": ["phone"]})
    r["rep"] = store.create_role("rep", {("*", READ): Scope.SELF, ("*", WRITE): Scope.SELF}, hidden={"opportunities": ["amount"]})
    u = org.user
    u["boss"] = store.create_user("boss", department_id=d["hq"], role_id=r["boss"])
    u["mgr_east"] = store.create_user("mgr_east", department_id=d["east"], manager_id=u["boss"], role_id=r["manager"])
    u["clerk_east"] = store.create_user("clerk_east", department_id=d["east"], manager_id=u["mgr_east"], role_id=r["clerk"])
    u["rep_e1"] = store.create_user("rep_e1", department_id=d["east1"], manager_id=u["mgr_east"], role_id=r["rep"])
    u["rep_e2"] = store.create_user("rep_e2", department_id=d["east1"], manager_id=u["mgr_east"], role_id=r["rep"])
    u["lead_west"] = store.create_user("lead_west", department_id=d["west"], manager_id=u["boss"], role_id=r["lead"])
    u["rep_w1"] = store.create_user("rep_w1", department_id=d["west"], manager_id=u["lead_west"], role_id=r["rep"])
    org.seed("boss-acct", "boss")
    org.seed("east-mgr-acct", "mgr_east")
    org.seed("clerk-acct", "clerk_east", phone="+8613800000001")
    org.seed("e1-acct", "rep_e1", phone="+8613800000002")
    org.seed("e2-acct", "rep_e2")
    org.seed("west-lead-acct", "lead_west")
    org.seed("w1-acct", "rep_w1")
    return org


def dump_db(server: Any) -> str:
    """Every row of every table of the server's database, as text (for "no trace" and "unchanged" checks)."""
    from sqlalchemy import MetaData, select

    engine = server.app.state.store.engine
    md = MetaData()
    md.reflect(engine)
    parts: list[str] = []
    with engine.connect() as conn:
        for name in sorted(md.tables):
            t = md.tables[name]
            rows = conn.execute(select(t).order_by(*t.primary_key.columns)).all()
            parts.append(name + ":" + json.dumps([list(map(str, r)) for r in rows], ensure_ascii=False))
    return "\n".join(parts)


@pytest.fixture
def demo_org(live_server: Callable[..., Any]) -> DemoOrg:
    """A running server holding the demo organisation and one account per user."""
    server = live_server(org_poll_s=0.05)
    return build_demo_org(server)


@pytest.fixture
def wire() -> type[WireClient]:
    return WireClient
