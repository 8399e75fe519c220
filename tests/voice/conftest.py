"""Shared helpers for the voice tests: synthetic recordings, a sample account book, an API client."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import uuid
import wave
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

RECORDED_AT = datetime.fromisoformat("2026-11-22T17:05:00+08:00")  # a Sunday evening in Shanghai

ACCOUNTS: list[dict[str, Any]] = [
    {
        "id": "acc-huadong",
        "name": "上海华东电气设备有限公司",
        "aliases": ["Huadong Electric"],
        "contacts": [{"id": "con-wang", "name": "王建国"}, {"id": "con-zhao", "name": "赵敏"}],
    },
    {
        "id": "acc-acme",
        "name": "Acme Corporation",
        "aliases": ["ACME"],
        "contacts": [{"id": "con-david", "name": "David Miller"}, {"id": "con-li", "name": "Li Na"}],
    },
    {
        "id": "acc-hengrui",
        "name": "江苏恒瑞医药股份有限公司",
        "short_names": ["恒瑞"],
        "contacts": [{"id": "con-liu", "name": "刘洋"}],
    },
    {
        "id": "acc-globex",
        "name": "Globex Industries Ltd.",
        "contacts": [{"id": "con-chen", "name": "陈静"}],
    },
]


def stored_id(fixture_id: str) -> str:
    """The UUID a fixture account or contact id is stored under on a server (ids there are UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fieldsync-test:{fixture_id}"))


def seed_book(store: Any, accounts: list[dict[str, Any]], *, owner_id: str | None = None,
              department_id: str | None = None) -> None:
    """Write ``accounts`` and their contacts into a server store, as server writes (ids through ``stored_id``)."""
    scope = {"owner_id": owner_id, "department_id": department_id}
    for account in accounts:
        short = (account.get("short_names") or [None])[0]
        store.server_write("accounts", stored_id(account["id"]), {"name": account["name"], "short_name": short, **scope})
        for contact in account.get("contacts", ()):
            store.server_write("contacts", stored_id(contact["id"]),
                               {"name": contact["name"], "account_id": stored_id(account["id"]), **scope})


def wav_bytes(samples: np.ndarray, rate: int = 16_000) -> bytes:
    """A mono 16-bit WAV file holding ``samples``."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
    return buf.getvalue()


def silence_wav(seconds: float = 3.0, *, hiss: float = 4.0) -> bytes:
    """A recording of an empty room: faint seeded noise, no speech."""
    rng = np.random.default_rng(1)
    return wav_bytes(rng.normal(0, hiss, int(16_000 * seconds)).clip(-32768, 32767))


def long_header_wav(seconds: float = 2 * 3600) -> bytes:
    """A WAV whose header claims ``seconds`` of audio, followed by only one second of samples."""
    rate, byte_rate = 16_000, 32_000
    data_size = int(seconds * byte_rate)
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, byte_rate, 2, 16)
    header = struct.pack("<4sI4s", b"RIFF", 36 + data_size, b"WAVE") + fmt + struct.pack("<4sI", b"data", data_size)
    return header + b"\x00\x10" * rate


def espeak_wav(text: str, *, speed: int = 140, voice: str = "en-us") -> bytes:
    """``text`` spoken by espeak-ng, as WAV bytes."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (scripts/system-deps.sh installs it)")
    done = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                          capture_output=True, check=True)
    return done.stdout


def transcode(wav: bytes, fmt: str, tmp_path: Path) -> bytes:
    """``wav`` re-encoded by ffmpeg as ``fmt`` (flac, ogg, mp3, m4a)."""
    src, dst = tmp_path / "in.wav", tmp_path / f"out.{fmt}"
    src.write_bytes(wav)
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-i", str(src), str(dst)], check=True)
    return dst.read_bytes()


class AudioFactory:
    """Recordings made on demand for a test (fixture ``audio``)."""

    def __init__(self, tmp_path: Path) -> None:
        self._tmp = tmp_path

    espeak = staticmethod(espeak_wav)
    silence = staticmethod(silence_wav)
    long_header = staticmethod(long_header_wav)
    wav = staticmethod(wav_bytes)

    def transcode(self, wav: bytes, fmt: str) -> bytes:
        return transcode(wav, fmt, self._tmp)


@pytest.fixture
def audio(tmp_path: Path) -> AudioFactory:
    """Synthetic recordings: espeak-ng speech, silence, lying headers, other containers."""
    return AudioFactory(tmp_path)


@pytest.fixture
def recorded_at() -> datetime:
    """The recording time used by most tests: Sunday 2026-11-22 17:05 in Shanghai."""
    return RECORDED_AT


@pytest.fixture
def accounts() -> list[dict[str, Any]]:
    """The sample rep's account book (two Chinese, two English accounts with contacts)."""
    return [dict(a) for a in ACCOUNTS]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    """A TestClient over the real app on a SQLite file under ``tmp_path`` (an open server: no organisation)."""
    with warnings.catch_warnings():
        # starlette warns about its httpx-based TestClient at import; not our code's warning.
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from fieldsync.server.app import create_app
    from fieldsync.server.settings import Settings

    from fieldsync.server.testing import auth_header

    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db")
    with TestClient(create_app(settings), headers=auth_header(settings)) as client:
        yield client


@pytest.fixture
def stored_book(api: Any, accounts: list[dict[str, Any]]) -> None:
    """The sample account book, written into the ``api`` server's store (memos resolve against the store)."""
    seed_book(api.app.state.store, accounts)
