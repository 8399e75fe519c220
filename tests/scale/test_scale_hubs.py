"""Several hub processes on one PostgreSQL store: changes reach devices on every hub."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


@pytest.mark.parametrize("notifier", ["postgres", "redis", "nats"])
def test_change_through_one_hub_reaches_devices_on_another(notifier: str, live_server: Any, pg_url: str, raw_client: Any) -> None:
    """A push committed through hub 1 arrives live on a device connected to hub 2, woken by the notifier."""
    hub1 = live_server(database_url=pg_url, notifier=notifier)
    hub2 = live_server(database_url=pg_url, notifier=notifier)
    assert httpx.get(hub2.http_url + "/ready").json()["notifier"] == notifier

    asyncio.run(raw_client.crosses(hub1, hub2, timeout=5))


def test_lost_notifications_only_delay(live_server: Any, pg_url: str, raw_client: Any) -> None:
    """With the broker unreachable, devices on the other hub still get the change from the log poll."""
    hub1 = live_server(database_url=pg_url, notifier="redis", redis_url="redis://127.0.0.1:1/0")
    hub2 = live_server(database_url=pg_url, notifier="redis", redis_url="redis://127.0.0.1:1/0")

    asyncio.run(raw_client.crosses(hub1, hub2, timeout=15))


def test_other_hubs_commit_before_own_is_not_skipped(live_server: Any, pg_url: str, raw_client: Any) -> None:
    """A hub that commits right after another hub's commit, before that hub's wake-up arrives, sends its devices
    both changes, in sequence order: publishing its own entry first would have moved their cursors past the other's.

    The notifier is unreachable here, so no wake-up ever arrives and the log poll would come only after the
    frames are checked: the gap itself must make the hub read the log.
    """
    hub1 = live_server(database_url=pg_url, notifier="redis", redis_url="redis://127.0.0.1:1/0")
    hub2 = live_server(database_url=pg_url, notifier="redis", redis_url="redis://127.0.0.1:1/0")

    async def scenario() -> None:
        watcher, _ = await raw_client.connect(hub1)
        await watcher.sync_to_done()
        other, _ = await raw_client.connect(hub2)
        await other.sync_to_done()
        own, _ = await raw_client.connect(hub1)
        await own.sync_to_done()
        first, second = str(uuid.uuid4()), str(uuid.uuid4())
        ack1 = await other.push([other.change(first, "name", "via hub 2")])
        ack2 = await own.push([own.change(second, "name", "via hub 1")])
        assert int(ack2["seq"]) == int(ack1["seq"]) + 1
        seen: list[str] = []
        cursor = ""
        while second not in seen:
            frame = await watcher.until("changes", timeout=1.5)  # well inside the 2 s log poll
            seen += [c["r"] for c in frame["changes"]]
            cursor = frame["seq"]
        assert list(dict.fromkeys(seen)) == [first, second]  # each row's changes (with its owner stamp) in log order
        assert cursor == f"c:{ack2['seq']}"
        for c in (watcher, other, own):
            await c.close()

    asyncio.run(scenario())


def test_metrics_and_readiness(live_server: Any, raw_client: Any) -> None:
    """/ready answers with the store's head and /metrics exposes the hub's gauges and counters."""
    server = live_server()

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        await a.sync_to_done()
        b, _ = await raw_client.connect(server)
        await b.sync_to_done()
        await a.push([a.change(str(uuid.uuid4()), "name", "m"), a.change(str(uuid.uuid4()), "nope", 1)])
        await b.until("changes")
        text = httpx.get(server.http_url + "/metrics").text
        assert "fieldsync_connected_devices 2.0" in text
        assert 'fieldsync_pushes_total{duplicate="false"} 1.0' in text
        assert 'fieldsync_rejects_total{code="FS-2002"} 1.0' in text
        assert "fieldsync_fanout_lag_seconds_count" in text and "fieldsync_changes_committed_total" in text
        await b.close()
        await a.close()

    asyncio.run(scenario())
    assert httpx.get(server.http_url + "/ready").json()["status"] == "ready"
