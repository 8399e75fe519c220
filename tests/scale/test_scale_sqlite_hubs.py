"""Several hub processes on one SQLite file: one write lock, consecutive sequences, live changes across hubs."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from fieldsync.server.notify import LocalNotifier, local_directory
from fieldsync.server.store import open_store
from fieldsync.server.store.base import BatchOutcome, Principal, PushRequest
from fieldsync.server.store.filelock import FileLock, writer_lock
from fieldsync.server.store.sql import make_engine
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import pack

pytestmark = pytest.mark.timeout(120)
NOW = 1_764_000_000_000


def test_file_lock_excludes_a_second_holder_until_released(tmp_path: Path) -> None:
    """A second holder of the lock file (another open file, as in another process) waits until the first releases it."""
    first, second = FileLock(tmp_path / "w.lock"), FileLock(tmp_path / "w.lock")
    order: list[str] = []
    first.acquire()

    def contender() -> None:
        with second:
            order.append("second")

    thread = threading.Thread(target=contender)
    thread.start()
    time.sleep(0.2)
    order.append("first")
    first.release()
    thread.join(5)
    assert order == ["first", "second"]
    first.close()
    second.close()


def test_only_sqlite_files_get_a_writer_lock(tmp_path: Path) -> None:
    """The lock sits beside an SQLite file; an in-memory database needs none."""
    lock = writer_lock(make_engine(f"sqlite:///{tmp_path}/s.db"))
    assert lock is not None and lock.path == (tmp_path / "s.db-writer.lock").resolve()
    lock.close()
    assert writer_lock(make_engine("sqlite://")) is None


def _push(site: str, n: int) -> PushRequest:
    from fieldsync.server.push import push_request
    from fieldsync.sync import protocol as P

    who = Principal(str(uuid.uuid4()), None, site)
    changes = [
        {"t": "accounts", "r": str(uuid.uuid4()), "f": "name", "v": f"{site} {i}", "h": str(pack(NOW + i, 0)), "s": site, "c": 1, "b": "0"}
        for i in range(n)
    ]
    return push_request(CRM_SCHEMA, who, P.Push(str(uuid.uuid4()), changes), now_ms=NOW)


def test_two_stores_on_one_file_write_consecutive_sequences(tmp_path: Path) -> None:
    """Two stores on one SQLite file (two hubs), pushing at once from their own threads, each commit every batch and
    the log's sequences are consecutive and unique: the file lock serialises their transactions."""
    url = f"sqlite:///{tmp_path}/shared.db"
    stores = [open_store(url, CRM_SCHEMA), open_store(url, CRM_SCHEMA)]
    errors: list[BaseException] = []

    def pusher(store: Any, site: str) -> None:
        try:
            for _ in range(25):
                [out] = store.apply_batches([_push(site, 20)])
                assert isinstance(out, BatchOutcome), out
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=pusher, args=(s, f"dev-{i}")) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    seqs = [e.seq for e in stores[0].changes_after(0, 10_000)]
    assert seqs == list(range(1, 2 * 25 * 20 + 1))
    for s in stores:
        s.close()


def test_hubs_starting_together_on_a_new_file_both_migrate(tmp_path: Path) -> None:
    """Stores opened at the same moment on a file that does not exist yet both come up (they migrate in turn)."""
    url = f"sqlite:///{tmp_path}/fresh.db"
    opened: list[Any] = []
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            opened.append(open_store(url, CRM_SCHEMA))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and len(opened) == 3
    for s in opened:
        assert s.head() == 0
        s.close()


def test_local_notifier_wakes_the_other_processes_and_drops_dead_ones(tmp_path: Path) -> None:
    """A head published by one hub reaches the others' wake-up; a socket left by a dead process is removed."""

    async def scenario() -> None:
        heard: list[int] = []
        got = asyncio.Event()

        async def wake(head: int) -> None:
            heard.append(head)
            got.set()

        async def ignore(head: int) -> None:
            return None

        a, b = LocalNotifier(tmp_path / "hubs"), LocalNotifier(tmp_path / "hubs")
        await a.start(ignore)
        await b.start(wake)
        dead = tmp_path / "hubs" / "999999-dead.sock"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(str(dead))
        s.close()  # bound then gone, as after a crash
        await a.publish(42)
        await asyncio.wait_for(got.wait(), 5)
        assert heard == [42]
        assert not dead.exists()
        await a.stop()
        await b.stop()

    asyncio.run(scenario())


def test_change_through_one_hub_reaches_a_device_on_another_at_once(live_server: Any, raw_client: Any, tmp_path: Path) -> None:
    """Two hubs on one SQLite file: a push through hub 1 arrives live on a device of hub 2, woken through the local
    sockets well before the 2 s log poll."""
    url = f"sqlite:///{tmp_path}/shared.db"
    hub1, hub2 = live_server(database_url=url), live_server(database_url=url)
    assert httpx.get(hub2.http_url + "/ready").json()["notifier"] == "local"

    asyncio.run(raw_client.crosses(hub1, hub2, timeout=1.5))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_processes_share_one_port_and_one_file(tmp_path: Path) -> None:
    """``fieldsync serve --reuse-port`` twice on one port and one SQLite file: pushes through the shared port from
    many connections are each committed once, with consecutive sequences, whichever process took them."""
    from fieldsync.server.auth.tokens import issue_token

    port = _free_port()
    secret = "test-secret-key-which-is-long-enough-0123456789"
    env = {**os.environ, "FIELDSYNC_SECRET_KEY": secret, "FIELDSYNC_ATTACHMENTS_DIR": str(tmp_path / "att")}
    cmd = [sys.executable, "-m", "fieldsync.cli", "serve", "--port", str(port), "--reuse-port", "--log-level", "warning",
           "--database-url", f"sqlite:///{tmp_path}/one.db"]
    procs = [subprocess.Popen(cmd, env=env) for _ in range(2)]
    try:
        hubs = local_directory(f"sqlite:///{tmp_path}/one.db")
        deadline = time.monotonic() + 60
        while len(list(hubs.glob("*.sock"))) < 2 or not _ready(port):  # both processes up, each with its socket
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), "the processes did not both start"
            time.sleep(0.2)

        async def device(i: int) -> list[int]:
            site = f"dev-{i}"
            async with websockets.connect(f"ws://127.0.0.1:{port}/v1/sync") as ws:
                token = issue_token(secret, user_id=str(uuid.uuid4()), site=site)
                await ws.send(_json({"type": "hello", "protocol": 1, "schema": 1, "token": token, "site": site, "cursor": None, "live": False}))
                while True:
                    msg = _loads(await ws.recv())
                    if msg["type"] == "checkpoint" and msg["done"]:
                        break
                seqs = []
                for b in range(5):
                    changes = [{"t": "accounts", "r": str(uuid.uuid4()), "f": "name", "v": f"{site}/{b}/{k}", "h": str(pack(NOW + b * 10 + k, 0)),
                                "s": site, "c": 1, "b": "0"} for k in range(10)]
                    await ws.send(_json({"type": "push", "batch": f"{site}-{b}", "changes": changes}))
                    while True:
                        msg = _loads(await ws.recv())
                        if msg["type"] == "ack":
                            assert msg["accepted"] == 10
                            seqs.append(int(msg["seq"]))
                            break
            return seqs

        async def everyone() -> list[list[int]]:
            return await asyncio.gather(*(device(i) for i in range(12)))

        asyncio.run(everyone())
        store = open_store(f"sqlite:///{tmp_path}/one.db", CRM_SCHEMA, migrate=False)
        try:
            entries = store.changes_after(0, 10_000)
            assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
            assert sum(e.count for e in entries) == 12 * 5 * 10 * 2  # each new row: its name and its owner stamp
            assert store.count_rows("accounts") == 12 * 5 * 10
        finally:
            store.close()
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _json(obj: Any) -> str:
    return json.dumps(obj)


def _loads(text: Any) -> Any:
    return json.loads(text)

