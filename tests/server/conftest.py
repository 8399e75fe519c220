"""A raw protocol client for hub tests: the wire, no SDK."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import websockets

from fieldsync.sync.hlc import pack


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
        import asyncio

        if self.skipped:
            return self.skipped.pop(0)
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))

    async def send(self, obj: Any) -> None:
        await self.ws.send(obj if isinstance(obj, str) else json.dumps(obj))

    async def until(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        """Receive until a frame of ``kind`` (matching ``match``) arrives; other frames stay readable."""
        import asyncio

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


@pytest.fixture
def raw_client() -> type[RawClient]:
    return RawClient
