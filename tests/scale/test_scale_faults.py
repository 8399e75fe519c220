"""Faults between devices and the hub: a flaky network and wrong clocks, then everything identical, nothing twice."""

from __future__ import annotations

import random
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from fieldsync.sdk import Backoff, Increment, Replica, SyncClient
from fieldsync.server.chaos import ChaosProxy, Faults
from fieldsync.sync.merge import loads_state

pytestmark = pytest.mark.timeout(300)
DAY_MS = 24 * 3600 * 1000
TABLES = ("accounts", "leads", "tasks")


def view(replica: Replica) -> dict[str, Any]:
    return {f"{t}/{r.id}": dict(sorted((k, v) for k, v in r.values.items() if v is not None)) for t in TABLES for r in replica.query(t)}


def server_view(store: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for t in TABLES:
        after = ""
        while page := store.snapshot_page(t, after, 1000):
            for row_id, state_text in page:
                state = loads_state(state_text)
                if state.exists:
                    out[f"{t}/{row_id}"] = dict(sorted((k, v) for k, v in state.values().items() if v is not None))
            after = page[-1][0]
    return out


def test_flaky_network_and_skewed_clocks_converge_exactly_once(live_server: Any, tmp_path: Path) -> None:
    """Three devices (clocks a day fast, a day slow, right) editing through a cutting, lagging proxy end identical."""
    server = live_server()
    proxy = ChaosProxy(server.port, faults=Faults(cut_probability=0.6, refuse_probability=0.15), seed=7)
    user = str(uuid.uuid4())
    phones = []
    for i, skew in enumerate((DAY_MS, -DAY_MS, 0)):
        replica = Replica.open(tmp_path / f"p{i}.db", clock=lambda s=skew: int(time.time() * 1000) + s)
        token = server.token(user_id=user, site=replica.site)
        client = SyncClient(f"ws://127.0.0.1:{proxy.port}/v1/sync", replica=replica, token=token, batch_changes=15, backoff=Backoff(base=0.02, cap=0.3))
        phones.append((replica, client))
    shared = phones[0][0].insert("accounts", {"name": "shared", "visit_count": 0, "notes": ""})
    phones[0][1].sync_once(timeout=60)
    for replica, client in phones[1:]:
        client.sync_once(timeout=60)
    for _, client in phones:
        client.start()
    rng = random.Random(3)
    made = {i: 0 for i in range(3)}
    increments = 0
    try:
        for step in range(240):
            i = rng.randrange(3)
            replica = phones[i][0]
            action = rng.random()
            if action < 0.4:
                replica.insert("leads", {"name": f"lead {i}-{step}", "score": rng.randrange(100)})
                made[i] += 1
            elif action < 0.7:
                replica.update("accounts", shared.id, {"visit_count": Increment(1)})
                increments += 1
            elif action < 0.85:
                replica.update("accounts", shared.id, {"tier": rng.choice("ABC")})
            else:
                current = replica.get("accounts", shared.id)
                note = (current.values.get("notes") or "") if current else ""
                replica.update("accounts", shared.id, {"notes": note + f"[{i}]"})
            time.sleep(0.005)
        proxy.calm()
        deadline = time.monotonic() + 120
        while any(r.pending_count for r, _ in phones) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(r.pending_count == 0 for r, _ in phones)
    finally:
        for _, client in phones:
            client.stop()
    try:
        for _ in range(2):
            for _, client in phones:
                client.sync_once(timeout=60)
    finally:
        proxy.close()
    expected = server_view(server.app.state.store)
    for replica, _ in phones:
        assert view(replica) == expected
    leads = [k for k in expected if k.startswith("leads/")]
    assert len(leads) == sum(made.values())
    assert expected[f"accounts/{shared.id}"]["visit_count"] == increments  # every increment counted exactly once
    engine = create_engine(server.settings.database_url)
    with engine.connect() as conn:
        dupes = conn.execute(text("SELECT count(*) FROM (SELECT site, hlc, field, row_id FROM sync_changes GROUP BY site, hlc, field, row_id HAVING count(*) > 1) d")).scalar()
    engine.dispose()
    assert dupes == 0
    assert proxy.cuts + proxy.refused > 0
    for replica, _ in phones:
        replica.close()
