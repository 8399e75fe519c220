"""Fixtures shared by the whole suite: real servers, real databases, a raw protocol client.

* ``live_server``: a factory that starts the real app under uvicorn on
  127.0.0.1:0 in a background thread and returns its base URLs.
* ``pg_url``: a PostgreSQL URL (localhost:5432, database ``test``) whose
  ``search_path`` is a fresh schema, dropped after the test.
* ``store_url``: parametrised over SQLite and PostgreSQL, for contract tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websockets

from fieldsync.server.settings import Settings
from fieldsync.sync.hlc import pack
from fieldsync.server.testing import LiveServer, start_server

PG_BASE = os.environ.get("FIELDSYNC_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "test-secret-" + "x" * 32


@pytest.fixture
def live_server(tmp_path: Any) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``live_server(database_url=None, **settings)`` -> a running ``LiveServer``."""
    started: list[LiveServer] = []

    def factory(database_url: str | None = None, port: int = 0, **overrides: Any) -> LiveServer:
        url = database_url or f"sqlite:///{tmp_path}/server.db"
        settings = Settings(database_url=url, secret_key=SECRET, attachments_dir=tmp_path / "attachments", **overrides)
        srv = start_server(settings, port)
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        srv.stop()


def _pg_admin_execute(sql: str, *, wait_s: float = 60.0) -> None:
    """Run one admin statement on a fresh connection, waiting out a PostgreSQL restart."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    deadline = time.monotonic() + wait_s
    while True:
        admin = create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(sql))
            return
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        finally:
            admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema of database ``test``."""
    name = "fs_" + uuid.uuid4().hex[:12]
    _pg_admin_execute(f'CREATE SCHEMA "{name}"')
    yield f"{PG_BASE}?options=-csearch_path%3D{name}"
    _pg_admin_execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: Any, tmp_path: Any) -> str:
    """A fresh store URL: SQLite file or PostgreSQL schema (contract tests run on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return str(request.getfixturevalue("pg_url"))


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Poll until ``predicate()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


class RawClient:
    """Speaks the protocol by hand over a real WebSocket."""

    def __init__(self, ws: Any, site: str) -> None:
        self.ws = ws
        self.site = site
        self.skipped: list[dict[str, Any]] = []
        self.ms = int(time.time() * 1000)

    @classmethod
    async def connect(cls, server: Any, *, site: str | None = None, token: str | None = None, cursor: str | None = None, live: bool = True, user: str | None = None) -> tuple[RawClient, dict[str, Any]]:
        site = site or "dev-" + uuid.uuid4().hex[:6]
        ws = await websockets.connect(server.ws_url, max_size=16 * 1024 * 1024)
        token = token or server.token(user_id=user, site=site)
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": token, "site": site, "cursor": cursor, "live": live}))
        client = cls(ws, site)
        return client, await client.recv()

    async def recv(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next frame: first any frame ``until`` skipped, then from the socket."""
        if self.skipped:
            return self.skipped.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def send(self, obj: Any) -> None:
        await self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    async def until(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """Receive until a frame of ``kind`` (matching ``match``) arrives; other frames stay readable."""
        for i, msg in enumerate(self.skipped):
            if msg["type"] == kind and all(msg.get(k) == v for k, v in match.items()):
                return self.skipped.pop(i)
        while True:
            msg = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if msg["type"] == kind and all(msg.get(k) == v for k, v in match.items()):
                return msg
            self.skipped.append(msg)

    async def sync_to_done(self) -> tuple[list[dict[str, Any]], str]:
        """Read page sets until the final checkpoint; return rows+changes and the cursor."""
        items: list[dict[str, Any]] = []
        while True:
            msg = await self.recv()
            if msg["type"] == "changes":
                items.extend(msg["rows"])
                items.extend(msg["changes"])
            elif msg["type"] == "checkpoint" and msg["done"]:
                return items, msg["cursor"]

    def change(self, row: str, field: str, value: Any, *, table: str = "accounts", base: int = 0, cl: int = 1) -> dict[str, Any]:
        self.ms += 1
        return {"t": table, "r": row, "f": field, "v": value, "h": str(pack(self.ms, 0)), "s": self.site, "c": cl, "b": str(base)}

    async def push(self, changes: list[Any], batch: str | None = None) -> dict[str, Any]:
        batch = batch or str(uuid.uuid4())
        await self.send({"type": "push", "batch": batch, "changes": changes})
        return await self.until("ack", batch=batch)

    async def close(self) -> None:
        await self.ws.close()

    @classmethod
    async def crosses(cls, sender: Any, receiver: Any, *, timeout: float) -> None:
        """A push through hub ``sender`` arrives live, within ``timeout`` seconds, on a device of hub ``receiver``."""
        b, _ = await cls.connect(receiver)
        await b.sync_to_done()
        a, _ = await cls.connect(sender)
        await a.sync_to_done()
        row = str(uuid.uuid4())
        await a.push([a.change(row, "name", "from another hub")])
        frame = await b.until("changes", timeout=timeout)
        assert any(c["r"] == row for c in frame["changes"])
        await a.close()
        await b.close()


@pytest.fixture
def raw_client() -> type[RawClient]:
    return RawClient
