"""PostgreSQL restarted under load: the hub answers retryable errors, devices retry, nothing is lost or doubled."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from fieldsync.sdk import Backoff, Increment, Replica, SyncClient

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(300)]


def restart_postgres() -> None:
    version = next(p.name for p in Path("/etc/postgresql").iterdir())
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart", "-m", "fast"], check=True, capture_output=True)


@pytest.mark.skipif(shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").exists(), reason="needs the local PostgreSQL cluster")
def test_postgres_restart_under_load_loses_nothing(live_server: Any, pg_url: str, tmp_path: Path) -> None:
    """Two devices keep writing while PostgreSQL restarts; afterwards every change is stored exactly once."""
    server = live_server(database_url=pg_url)
    phones = []
    for i in range(2):
        replica = Replica.open(tmp_path / f"p{i}.db")
        client = SyncClient(server.ws_url, replica=replica, token=server.token(site=replica.site), batch_changes=10, backoff=Backoff(base=0.05, cap=0.5))
        phones.append((replica, client))
    counter = phones[0][0].insert("accounts", {"name": "counter", "visit_count": 0})
    phones[0][1].sync_once(timeout=60)
    phones[1][1].sync_once(timeout=60)
    for _, client in phones:
        client.start()
    restarter = threading.Thread(target=lambda: (time.sleep(0.6), restart_postgres()))
    restarter.start()
    leads: list[str] = []
    try:
        for step in range(200):
            replica = phones[step % 2][0]
            leads.append(replica.insert("leads", {"name": f"lead {step}"}).id)
            replica.update("accounts", counter.id, {"visit_count": Increment(1)})
            time.sleep(0.01)
        restarter.join()
        deadline = time.monotonic() + 120
        while any(r.pending_count for r, _ in phones) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert all(r.pending_count == 0 for r, _ in phones)
    finally:
        for _, client in phones:
            client.stop()
    for _ in range(2):
        for _, client in phones:
            client.sync_once(timeout=60)
    views = [{(t, r.id): dict(r.values) for t in ("accounts", "leads") for r in replica.query(t)} for replica, _ in phones]
    assert views[0] == views[1]  # both devices identical to each other (and, below, to the server's rows)
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT id FROM leads"))}
        total = conn.execute(text("SELECT visit_count FROM accounts WHERE id = :i"), {"i": counter.id}).scalar()
        dupes = conn.execute(text("SELECT count(*) FROM (SELECT site, hlc, field, row_id FROM sync_changes GROUP BY site, hlc, field, row_id HAVING count(*) > 1) d")).scalar()
    engine.dispose()
    for replica, _ in phones:
        replica.close()
    assert stored == set(leads) == {r for t, r in views[0] if t == "leads"}
    assert total == 200
    assert dupes == 0
