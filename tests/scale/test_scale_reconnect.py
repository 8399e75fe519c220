"""1,000 devices reconnecting at once all catch up and all their changes land exactly once."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
import websockets
from sqlalchemy import create_engine, text

from fieldsync.sync.hlc import pack

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
DEVICES = 1000


def test_thousand_devices_reconnect_at_once(live_server: Any, raw_client: Any) -> None:
    """Every device gets the changes made while it was away, and the change each pushes on return is stored once."""
    server = live_server()

    async def scenario() -> None:
        writer, _ = await raw_client.connect(server)
        await writer.sync_to_done()
        head = server.app.state.hub.head
        missed = [str(uuid.uuid4()) for _ in range(20)]
        await writer.push([writer.change(r, "name", f"while away {i}") for i, r in enumerate(missed)])
        await writer.close()
        start_ms = int(time.time() * 1000)

        async def device(n: int) -> set[str]:
            site = f"fleet-{n:04d}"
            token = server.token(site=site)
            async with websockets.connect(server.ws_url, compression=None, open_timeout=120, ping_interval=None) as ws:
                await ws.send(json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": token, "site": site, "cursor": f"c:{head}", "live": False}))
                seen: set[str] = set()
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 120))
                    if msg["type"] == "changes":
                        seen.update(c["r"] for c in msg["changes"])
                    elif msg["type"] == "checkpoint" and msg["done"]:
                        break
                row = str(uuid.UUID(int=n))
                change = {"t": "leads", "r": row, "f": "name", "v": site, "h": str(pack(start_ms + n, 0)), "s": site, "c": 1, "b": "0"}
                await ws.send(json.dumps({"type": "push", "batch": f"b-{n}", "changes": [change]}))
                while (msg := json.loads(await asyncio.wait_for(ws.recv(), 120)))["type"] != "ack":
                    pass
                assert msg["accepted"] == 1
                return seen

        results = await asyncio.gather(*(device(n) for n in range(DEVICES)))
        assert all(set(missed) <= seen for seen in results)

    asyncio.run(scenario())
    engine = create_engine(server.settings.database_url)
    with engine.connect() as conn:
        leads = conn.execute(text("SELECT count(*) FROM leads")).scalar()
        records = conn.execute(text("SELECT count(*) FROM sync_changes WHERE tbl = 'leads'")).scalar()
        named = conn.execute(text("""SELECT count(*) FROM sync_changes WHERE tbl = 'leads' AND body LIKE '%"f":"name"%'""")).scalar()
    engine.dispose()
    assert leads == DEVICES and records == named == DEVICES  # one record per new lead (its owner stamp rides in it)
