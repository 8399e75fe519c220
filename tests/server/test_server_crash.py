"""The server killed with SIGKILL mid-session loses no acknowledged change and applies none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from fieldsync.sdk import Increment, Replica, SyncClient
from fieldsync.server.auth.tokens import issue_token

SECRET = "crash-secret-" + "z" * 32
pytestmark = pytest.mark.timeout(240)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """``fieldsync serve`` as a real child process that can be killed and restarted on the same port."""

    def __init__(self, db: Path, port: int) -> None:
        self.db, self.port = db, port
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "FIELDSYNC_SECRET_KEY": SECRET, "FIELDSYNC_DATABASE_URL": f"sqlite:///{self.db}", "FIELDSYNC_ATTACHMENTS_DIR": str(self.db.parent / "att")}
        self.proc = subprocess.Popen([sys.executable, "-m", "fieldsync.cli", "serve", "--port", str(self.port), "--log-level", "warning"], env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and self.proc.poll() is None, "server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def test_sigkill_mid_session_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """Edits made while the server is killed and restarted all arrive, each exactly once."""
    server = ServerProcess(tmp_path / "server.db", free_port())
    server.start()
    replica = Replica.open(tmp_path / "phone.db")
    token = issue_token(SECRET, user_id=str(uuid.uuid4()), site=replica.site)
    client = SyncClient(f"ws://127.0.0.1:{server.port}/v1/sync", replica=replica, token=token, batch_changes=20)
    counter = replica.insert("accounts", {"name": "counter", "visit_count": 0})
    client.start()
    rows: list[str] = []
    try:
        for i in range(300):
            rows.append(replica.insert("leads", {"name": f"lead {i}"}).id)
            replica.update("accounts", counter.id, {"visit_count": Increment(1)})
            if i == 120:
                server.kill()  # mid-session, with batches in flight
            if i == 200:
                server.start()
            time.sleep(0.005)
        deadline = time.monotonic() + 120
        while replica.pending_count and time.monotonic() < deadline:
            time.sleep(0.1)
        assert replica.pending_count == 0
    finally:
        client.stop()
        server.stop()
    local_leads = {r.id for r in replica.query("leads")}
    counter_row = replica.get("accounts", counter.id)
    local_visits = counter_row.values["visit_count"] if counter_row else None
    engine = create_engine(f"sqlite:///{tmp_path / 'server.db'}")
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT id FROM leads"))}
        visits = conn.execute(text("SELECT visit_count FROM accounts WHERE id = :i"), {"i": counter.id}).scalar()
        dupes = conn.execute(text("SELECT count(*) FROM (SELECT site, hlc, field, row_id FROM sync_changes GROUP BY site, hlc, field, row_id HAVING count(*) > 1)")).scalar()
    engine.dispose()
    replica.close()
    assert stored == set(rows)
    assert visits == 300
    assert local_leads == stored and local_visits == 300  # the device and the server identical
    assert dupes == 0
