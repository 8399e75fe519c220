"""Attachments end to end: real server, real SDK, real OCR and speech engines."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from fieldsync.sdk import Replica, SyncClient
from fieldsync.sdk.attachments import Uploader, attach

pytestmark = pytest.mark.timeout(240)


_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _close_devices() -> Any:
    yield
    while _OPEN:
        replica, client, uploader = _OPEN.pop()
        client.stop()
        uploader.stop()
        replica.close()


def device(server: Any, tmp_path: Path, name: str, user: str) -> tuple[Replica, SyncClient, Uploader]:
    """A rep's phone: replica, sync client and uploader (closed after the test)."""
    replica = Replica.open(tmp_path / f"{name}.db")
    token = server.token(user_id=user, site=replica.site)
    made = (replica, SyncClient(server.ws_url, replica=replica, token=token), Uploader(server.http_url, replica=replica, token=token))
    _OPEN.append(made)
    return made


def sync_until(client: SyncClient, predicate: Any, *, rounds: int = 60) -> Any:
    """Sync repeatedly (the server processes in the background) until ``predicate()`` holds."""
    import time

    for _ in range(rounds):
        client.sync_once(timeout=30)
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError("the server's suggestion never reached the device")


def card_photo(index: int = 1) -> tuple[bytes, dict[str, Any]]:
    from bench.cardgen import make_sample

    sample = make_sample(index, seed=7, difficulty=0.2)
    return sample.front, sample.truth


def test_card_photographed_offline_becomes_a_suggested_contact(live_server: Any, tmp_path: Path) -> None:
    """A card photo taken offline syncs, is recognised by the server and comes back as a suggested contact."""
    server = live_server()
    replica, client, uploader = device(server, tmp_path, "rep", str(uuid.uuid4()))
    image, truth = card_photo()
    att = attach(replica, image, kind="card_photo", mime="image/jpeg")  # offline: nothing runs yet
    assert replica.pending_count > 0 and uploader.pending()
    client.sync_once(timeout=30)
    report = uploader.upload_pending()
    assert report.uploaded == 1 and report.remaining == 0

    def suggested() -> Any:
        rows = [c for c in replica.query("contacts") if c.values.get("card_attachment_id") == att.id]
        done = replica.get("attachments", att.id)
        return rows[0] if rows and done is not None and done.values.get("status") else None

    contact = sync_until(client, suggested)
    assert contact.values["status"] == "suggested" and contact.values["source"] == "card"
    assert any(e.lower() in [x.lower() for x in contact.values["emails"] or []] for e in truth.get("emails", [])) or contact.values["name"]
    processed = replica.get("attachments", att.id)
    assert processed is not None and processed.values["status"] == "processed"


def test_second_photo_of_a_known_card_proposes_a_merge_not_a_new_contact(live_server: Any, tmp_path: Path) -> None:
    """A card for a person already in the rep's contacts is proposed as a duplicate of that contact."""
    server = live_server()
    replica, client, uploader = device(server, tmp_path, "rep", str(uuid.uuid4()))
    image, truth = card_photo(1)
    known = replica.insert("contacts", {"name": truth.get("name"), "emails": truth.get("emails"), "phones": [{"number": p["number"], "kind": p["kind"]} for p in truth.get("phones", [])]})
    client.sync_once(timeout=30)
    att = attach(replica, image, kind="card_photo")
    client.sync_once(timeout=30)
    uploader.upload_pending()

    def suggestion() -> Any:
        rows = [c for c in replica.query("contacts") if c.values.get("card_attachment_id") == att.id]
        return rows[0] if rows and rows[0].values.get("duplicates") is not None else None

    contact = sync_until(client, suggestion)
    assert [d["contact_id"] for d in contact.values["duplicates"]][:1] == [known.id]


def test_memo_transcript_becomes_tasks_due_relative_to_recording(live_server: Any, tmp_path: Path) -> None:
    """A memo recorded yesterday and synced today resolves "tomorrow" from the recording time."""
    server = live_server()
    replica, client, _ = device(server, tmp_path, "rep", str(uuid.uuid4()))
    acme = replica.insert("accounts", {"name": "Acme Trading", "short_name": "Acme"})
    shanghai = ZoneInfo("Asia/Shanghai")
    recorded = datetime(2026, 11, 21, 17, 5, tzinfo=shanghai)
    att = attach(
        replica,
        b"",
        kind="voice_memo",
        recorded_at=recorded,
        time_zone="Asia/Shanghai",
        lang="en",
        transcript="Call Mr. Wang at Acme tomorrow at 3 about the revised quote, 200 thousand.",
    )
    tasks = sync_until(client, lambda: [t for t in replica.query("tasks") if t.values.get("memo_attachment_id") == att.id])
    task = tasks[0]
    due = datetime.fromisoformat(task.values["due_at"].replace("Z", "+00:00")).astimezone(shanghai)
    assert due.date() == (recorded + timedelta(days=1)).date() and due.hour == 15
    assert task.values["account_id"] == acme.id
    assert task.values["amount"] == 200000 and task.values["status"] == "suggested"


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is installed by scripts/system-deps.sh")
def test_spoken_memo_is_transcribed_on_the_server_into_a_task(live_server: Any, tmp_path: Path) -> None:
    """Audio uploaded in chunks is transcribed by the default engine and yields a suggested task."""
    server = live_server()
    replica, client, uploader = device(server, tmp_path, "rep", str(uuid.uuid4()))
    wav = tmp_path / "memo.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(wav), "Call the customer tomorrow morning."], check=True)
    att = attach(replica, wav.read_bytes(), kind="voice_memo", mime="audio/wav", recorded_at=datetime.now(ZoneInfo("Asia/Shanghai")), time_zone="Asia/Shanghai", lang="en")
    uploader.chunk_bytes = 16 * 1024
    client.sync_once(timeout=30)
    assert uploader.upload_pending().uploaded == 1

    def done() -> Any:
        row = replica.get("attachments", att.id)
        return row if row is not None and row.values.get("status") in ("processed", "failed") else None

    row = sync_until(client, done)
    assert row.values["status"] == "processed", row.values.get("result")
    assert row.values["result"]["transcript"].strip()


def test_interrupted_upload_resumes_from_the_server_offset(live_server: Any, tmp_path: Path) -> None:
    """An upload cut after its first chunk resumes from the offset the server holds, not from zero."""
    import hashlib

    import httpx

    server = live_server()
    replica, client, uploader = device(server, tmp_path, "rep", str(uuid.uuid4()))
    data = bytes(range(256)) * 1024  # 256 KiB
    sha = hashlib.sha256(data).hexdigest()
    attach(replica, data, kind="visit_photo")
    headers = {"Authorization": f"Bearer {server.token(site=replica.site)}"}
    first = httpx.put(f"{server.http_url}/v1/attachments/{sha}", params={"offset": 0, "total": len(data)}, content=data[:65536], headers=headers)
    assert first.json()["received"] == 65536
    report = uploader.upload_pending()
    assert report.uploaded == 1 and report.bytes_sent == len(data) - 65536
    status = httpx.get(f"{server.http_url}/v1/attachments/{sha}/status", headers=headers).json()
    assert status["complete"] is True


def test_corrupted_upload_is_refused_and_nothing_stored(live_server: Any) -> None:
    """Bytes that do not hash to the declared sha256 get FS-7003 and are discarded."""
    import httpx

    server = live_server()
    headers = {"Authorization": f"Bearer {server.token()}"}
    sha = "0" * 64
    reply = httpx.put(f"{server.http_url}/v1/attachments/{sha}", params={"offset": 0, "total": 4}, content=b"abcd", headers=headers)
    assert reply.status_code == 422 and reply.json()["error"]["code"] == "FS-7003"
    status = httpx.get(f"{server.http_url}/v1/attachments/{sha}/status", headers=headers).json()
    assert status == {"sha256": sha, "received": 0, "complete": False}
    wrong_offset = httpx.put(f"{server.http_url}/v1/attachments/{'1' * 64}", params={"offset": 5, "total": 10}, content=b"x", headers=headers)
    assert wrong_offset.status_code == 409 and wrong_offset.json()["error"]["detail"]["offset"] == 0


def test_attachments_work_on_an_encrypted_replica(live_server: Any, tmp_path: Path) -> None:
    """A photo attached on an encrypted replica is queued and uploaded like on a plain one."""
    server = live_server()
    replica = Replica.open(tmp_path / "secret.db", key="correct horse battery")
    token = server.token(site=replica.site)
    client = SyncClient(server.ws_url, replica=replica, token=token)
    uploader = Uploader(server.http_url, replica=replica, token=token)
    _OPEN.append((replica, client, uploader))
    attach(replica, b"\x89PNG fake visit photo bytes", kind="visit_photo", mime="image/png")
    assert len(uploader.pending()) == 1
    client.sync_once(timeout=30)
    assert uploader.upload_pending().uploaded == 1 and uploader.pending() == []
    assert b"fake visit photo" not in (tmp_path / "secret.db").read_bytes()
