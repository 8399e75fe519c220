"""The security model on PostgreSQL: scoped snapshot, reassignment and erasure behave as on SQLite."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fieldsync.server.org.routes import eraser_for

from .conftest import WireClient, build_demo_org, dump_db, row_ids

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


def test_scopes_reassignment_and_erasure_on_postgres(live_server: Any, pg_url: str) -> None:
    """On PostgreSQL a rep's snapshot is scoped, a reassignment evicts live, and an erased row leaves no trace."""
    server = live_server(database_url=pg_url, org_poll_s=0.05)
    org = build_demo_org(server)

    async def scenario() -> None:
        e1, _ = await WireClient.connect(server, user=org.user["rep_e1"])
        items, _ = await e1.sync_to_done()
        assert row_ids(items) == {org.rows["e1-acct"]}
        secret = org.seed("秘密 secret row", "rep_e1")
        await e1.until("changes")
        await asyncio.to_thread(org.call, org.hub.server_write("accounts", org.rows["e1-acct"], {"owner_id": org.user["rep_e2"]}))
        assert (await e1.until("evict"))["rows"] == [["accounts", org.rows["e1-acct"]]]
        await asyncio.to_thread(eraser_for(org.hub).erase_rows, [("accounts", secret)], write=lambda job: org.call(org.hub.write(job)))
        assert (await e1.until("evict"))["rows"] == [["accounts", secret]]
        assert "秘密 secret row" not in dump_db(server)
        await e1.close()

    asyncio.run(scenario())
