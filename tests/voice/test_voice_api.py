"""POST /v1/memos through the real app: transcripts, synthesised audio, and typed answers for bad input."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import stored_id

AT = "2026-11-22T17:05:00+08:00"


def _post(api: Any, **body: Any) -> httpx.Response:
    body.setdefault("recorded_at", AT)
    response: httpx.Response = api.post("/v1/memos", json=body)
    return response


def test_transcript_to_tasks(api: Any, stored_book: None) -> None:
    """A phone transcript comes back with its tasks, resolved against the accounts in the server's store."""
    r = _post(api, text="下周二下午三点给华东电气的王总回电话，报价改成二十万", lang="zh", time_zone="Asia/Shanghai")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["transcript"] == {"text": "下周二下午三点给华东电气的王总回电话，报价改成二十万", "lang": "zh",
                                  "engine": "phone", "audio_seconds": None}
    (task,) = body["tasks"]
    assert task["kind"] == "call"
    assert task["due_at"] == "2026-11-24T15:00:00+08:00"
    assert (task["account_id"], task["contact_id"]) == (stored_id("acc-huadong"), stored_id("con-wang"))
    assert (task["amount"], task["currency"]) == ("200000", "CNY")
    assert body["task_rows"] is None


def test_memo_id_gives_stable_task_rows(api: Any, stored_book: None) -> None:
    """With a memo id the answer carries CRM rows whose ids repeat on a retried upload."""
    first = _post(api, text="Call Acme tomorrow and email Li Na the quote by Friday", memo_id="m-1")
    again = _post(api, text="Call Acme tomorrow and email Li Na the quote by Friday", memo_id="m-1")
    rows = first.json()["task_rows"]
    assert len(rows) == 2
    assert [r["id"] for r in rows] == [r["id"] for r in again.json()["task_rows"]]
    assert {r["status"] for r in rows} == {"suggested"} and {r["source"] for r in rows} == {"voice"}


def test_synthesised_audio_becomes_a_task(api: Any, audio: Any) -> None:
    """An espeak-ng recording goes through PocketSphinx and comes back as at least one suggested task."""
    wav = audio.espeak("Call the customer tomorrow")
    r = _post(api, audio_base64=base64.b64encode(wav).decode(), lang="en")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["transcript"]["engine"] == "pocketsphinx"
    assert body["transcript"]["text"]
    assert body["transcript"]["audio_seconds"] > 1.0
    assert len(body["tasks"]) >= 1
    assert body["tasks"][0]["due_at"].startswith("2026-11-23")


def test_transcript_wins_over_audio_and_audio_is_still_checked(api: Any, audio: Any) -> None:
    """With both, the phone transcript is used; the audio must still be audio."""
    wav = audio.espeak("hello")
    ok = _post(api, text="Call Acme tomorrow", audio_base64=base64.b64encode(wav).decode())
    assert ok.status_code == 200 and ok.json()["transcript"]["engine"] == "phone"
    bad = _post(api, text="Call Acme tomorrow", audio_base64=base64.b64encode(b"not audio at all").decode())
    assert bad.status_code == 415 and bad.json()["error"]["code"] == "FS-6001"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"audio_base64": base64.b64encode(b"just some text, not audio").decode()}, 415, "FS-6001"),
        ({"audio_base64": "%%% not base64 %%%"}, 415, "FS-6001"),
        ({"text": "Il faut appeler le client demain pour le devis"}, 422, "FS-6004"),
        ({"text": "Call Acme tomorrow", "lang": "de"}, 422, "FS-6004"),
        ({"lang": "en"}, 422, "FS-6006"),
        ({"text": "Call Acme", "recorded_at": "2026-11-22T17:05:00"}, 422, "FS-6006"),
        ({"text": "Call Acme", "time_zone": "Nowhere/Land"}, 422, "FS-6006"),
        ({"text": "x" * 20_001}, 413, "FS-6007"),
        ({"text": "Call Acme", "recorded_at": "yesterday-ish"}, 400, "FS-1001"),
    ],
)
def test_bad_requests_get_typed_errors(api: Any, body: dict[str, Any], status: int, code: str) -> None:
    """Each kind of bad request gets its catalogue status and code in an {"error": ...} body."""
    r = _post(api, **body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert set(error) >= {"code", "name", "retryable", "message"}
    assert error["retryable"] is False


def test_silence_is_no_speech(api: Any, audio: Any) -> None:
    """A silent recording is FS-6003 no_speech."""
    r = _post(api, audio_base64=base64.b64encode(audio.silence(2.0)).decode())
    assert r.status_code == 422 and r.json()["error"]["code"] == "FS-6003"


def test_two_hours_of_audio_is_too_long(api: Any, audio: Any) -> None:
    """A WAV declaring two hours is FS-6002 audio_too_long, answered without decoding it."""
    r = _post(api, audio_base64=base64.b64encode(audio.long_header(2 * 3600)).decode())
    assert r.status_code == 413 and r.json()["error"]["code"] == "FS-6002"


def test_chinese_audio_with_english_engine_is_unsupported(api: Any, audio: Any) -> None:
    """Chinese audio without a Chinese-capable engine is FS-6004, naming what is supported."""
    r = _post(api, audio_base64=base64.b64encode(audio.espeak("hello")).decode(), lang="zh")
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "FS-6004"


def test_missing_whisper_model_is_engine_unavailable(tmp_path: Path) -> None:
    """A server configured for faster-whisper without a model answers audio with FS-6005 (503)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from fieldsync.server.app import create_app
    from fieldsync.server.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db", asr_engine="faster-whisper",
                        asr_model_dir=str(tmp_path / "no-model"))
    from fieldsync.server.testing import auth_header

    with TestClient(create_app(settings), headers=auth_header(settings)) as client:
        r = client.post("/v1/memos", json={"audio_base64": base64.b64encode(b"RIFF....WAVE").decode(),
                                           "recorded_at": AT})
        assert r.status_code == 503 and r.json()["error"]["code"] == "FS-6005"
        text_only = client.post("/v1/memos", json={"text": "Call Acme tomorrow", "recorded_at": AT})
        assert text_only.status_code == 200  # transcripts do not need the engine


def test_audio_memo_over_a_real_server(live_server: Any, audio: Any, accounts: list[dict[str, Any]]) -> None:
    """Over HTTP to a real uvicorn, a recorded memo uploaded days later still resolves from its recording time."""
    wav = audio.espeak("Call the customer tomorrow")
    server = live_server()
    headers = {"Authorization": f"Bearer {server.token()}"}
    with httpx.Client(base_url=server.http_url, timeout=60, headers=headers) as client:
        r = client.post("/v1/memos", json={"audio_base64": base64.b64encode(wav).decode(), "lang": "en",
                                           "recorded_at": "2026-01-05T18:30:00+08:00", "accounts": accounts})
    assert r.status_code == 200, r.text
    tasks = r.json()["tasks"]
    assert tasks and tasks[0]["due_at"].startswith("2026-01-06")
