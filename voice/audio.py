"""Audio in: recognise the container, refuse what is too long, decode to 16 kHz mono PCM.

Theory of operation
-------------------
A memo arrives as bytes (an attachment uploaded from the phone). Three gates
run from cheapest to dearest, so a bad upload is refused before any decoder
spends time on it:

1. ``sniff_format`` looks at magic bytes only (RIFF/WAVE, fLaC, OggS, ID3 or an
   MPEG frame sync, ISO-BMFF ``ftyp`` for M4A/3GP, WebM/Matroska, AMR). Bytes
   that match none are ``not_audio`` (FS-6001) without starting a process.
2. ``probe_duration`` reads the length the container *claims*: the WAV header
   is parsed in pure Python (``data`` size / byte rate), anything else goes
   through ``ffprobe``, which reads headers, not samples. A claim above the
   limit is ``audio_too_long`` (FS-6002) at once, even if the file is short
   (a hostile or truncated header), because the decoder below is also capped.
3. ``decode_pcm16k`` runs ``ffmpeg`` with ``-t limit`` so a file that lies
   about its length can never make us decode more than the limit. If the
   decoder produced exactly the limit, the memo was longer: FS-6002.

``speech_seconds`` is a plain energy detector over 30 ms frames (pure numpy):
a recording with less than a quarter second of frames clearly above the
noise floor is ``no_speech`` (FS-6003) and never reaches the recogniser.

Only this module runs ffmpeg/ffprobe; only ``asr.py`` imports ASR engines.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fieldsync.sync import errors as E

__all__ = [
    "SAMPLE_RATE",
    "DecodedAudio",
    "check_audio",
    "decode_pcm16k",
    "load_audio",
    "probe_duration",
    "sniff_format",
    "speech_seconds",
    "wav_header_duration",
]

SAMPLE_RATE = 16_000
_FRAME = 480  # 30 ms at 16 kHz
_MIN_SPEECH_SECONDS = 0.25
_DECODE_TIMEOUT_S = 120.0
_STREAMING_SIZE = 0x7FFF0000
# The demuxer is forced to the container the magic bytes named, so ffmpeg never
# probes its way into another format (playlists, images) on untrusted input.
_DEMUXERS = {"wav": "wav", "flac": "flac", "ogg": "ogg", "mp3": "mp3", "aac": "aac", "m4a": "mov",
             "webm": "matroska", "amr": "amr"}


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """Mono signed 16-bit little-endian PCM at 16 kHz, plus what we learnt on the way."""

    pcm: bytes
    format: str
    seconds: float
    speech_seconds: float


def sniff_format(data: bytes) -> str | None:
    """The container named by the first bytes of ``data``, or None when it is not audio we know."""
    head = data[:64]
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) != 0:
        # MPEG audio frame sync with a valid layer; ADTS AAC has layer bits 00.
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0:
        return "aac"
    if head[4:8] == b"ftyp":
        return "m4a"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:5] == b"#!AMR":
        return "amr"
    return None


def wav_header_duration(data: bytes) -> float | None:
    """Seconds of audio a RIFF/WAVE header claims (pure; reads chunk headers only), None if unreadable."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    byte_rate = 0
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        size: int = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt " and body + 16 <= len(data):
            byte_rate = int(struct.unpack("<HHII", data[body : body + 12])[3])
        elif chunk_id == b"data":
            if byte_rate <= 0:
                return None
            if size == 0 or size >= _STREAMING_SIZE:
                # Streaming writers (espeak-ng, phone recorders) leave a placeholder near 2**31 or
                # 2**32: the length is unknown, and the capped decoder will measure it.
                return None
            return float(size) / byte_rate
        pos = body + size + (size & 1)
    return None


def _run(cmd: list[str], *, stdin: bytes | None = None, timeout: float) -> subprocess.CompletedProcess[bytes]:
    if shutil.which(cmd[0]) is None:
        raise E.error_for(E.ASR_ENGINE_UNAVAILABLE, f"{cmd[0]} is not installed on the server", tool=cmd[0])
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise E.error_for(E.NOT_AUDIO, "the audio could not be decoded in time") from exc


def probe_duration(data: bytes, fmt: str) -> float | None:
    """Seconds the container claims, from the header only; None when it does not say."""
    if fmt == "wav":
        # The header is authoritative when it states a length; a placeholder means "unknown".
        return wav_header_duration(data)
    with tempfile.TemporaryDirectory(prefix="fs-memo-") as tmp:
        path = Path(tmp) / f"memo.{fmt}"
        path.write_bytes(data)
        done = _run(
            ["ffprobe", "-v", "error", "-f", _DEMUXERS[fmt], "-show_entries", "format=duration", "-of", "json",
             str(path)],
            timeout=30.0,
        )
    if done.returncode != 0:
        raise E.error_for(E.NOT_AUDIO, "the upload is not decodable audio", format=fmt)
    try:
        raw = json.loads(done.stdout or b"{}").get("format", {}).get("duration")
        return float(raw) if raw not in (None, "N/A") else None
    except (ValueError, TypeError):
        return None


def decode_pcm16k(data: bytes, fmt: str, *, max_seconds: float) -> bytes:
    """Decode ``data`` to 16 kHz mono s16le with ffmpeg, never past ``max_seconds``."""
    with tempfile.TemporaryDirectory(prefix="fs-memo-") as tmp:
        path = Path(tmp) / f"memo.{fmt}"
        path.write_bytes(data)
        done = _run(
            ["ffmpeg", "-nostdin", "-v", "error", "-f", _DEMUXERS[fmt], "-i", str(path), "-t", f"{max_seconds:.3f}",
             "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"],
            timeout=_DECODE_TIMEOUT_S,
        )
    if done.returncode != 0 or not done.stdout:
        raise E.error_for(E.NOT_AUDIO, "the upload is not decodable audio", format=fmt)
    return done.stdout


def speech_seconds(pcm: bytes) -> float:
    """Seconds of 30 ms frames clearly louder than the recording's noise floor (pure)."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float64)
    frames = len(samples) // _FRAME
    if frames == 0:
        return 0.0
    rms = np.sqrt(np.mean(samples[: frames * _FRAME].reshape(frames, _FRAME) ** 2, axis=1))
    floor = float(np.percentile(rms, 10))
    # Speech is at least ~-50 dBFS absolute and well above the floor (room hum, tape hiss).
    threshold = max(100.0, floor * 3.0)
    return float(np.count_nonzero(rms > threshold)) * _FRAME / SAMPLE_RATE


def check_audio(data: bytes, *, max_seconds: float) -> tuple[str, float | None]:
    """The container and claimed length of an upload, without decoding it; FS-6001/FS-6002 when refused."""
    if not data:
        raise E.error_for(E.NOT_AUDIO, "the upload is empty")
    fmt = sniff_format(data)
    if fmt is None:
        raise E.error_for(E.NOT_AUDIO, "the upload is not WAV, FLAC, OGG, MP3, M4A, WebM or AMR audio")
    claimed = probe_duration(data, fmt)
    if claimed is not None and claimed > max_seconds:
        raise E.error_for(E.AUDIO_TOO_LONG, f"the recording lasts {claimed:.0f} s; the limit is {max_seconds:.0f} s",
                          seconds=round(claimed, 1), limit=max_seconds)
    return fmt, claimed


def load_audio(data: bytes, *, max_seconds: float) -> DecodedAudio:
    """Validate and decode a memo upload; raise FS-6001/6002/6003 for bad input."""
    fmt, _claimed = check_audio(data, max_seconds=max_seconds)
    pcm = decode_pcm16k(data, fmt, max_seconds=max_seconds + 0.5)
    seconds = len(pcm) / 2 / SAMPLE_RATE
    if seconds > max_seconds:
        raise E.error_for(E.AUDIO_TOO_LONG, f"the recording is longer than the {max_seconds:.0f} s limit",
                          limit=max_seconds)
    voiced = speech_seconds(pcm)
    if voiced < _MIN_SPEECH_SECONDS:
        raise E.error_for(E.NO_SPEECH, "the recording holds no speech", seconds=round(seconds, 2))
    return DecodedAudio(pcm=pcm, format=fmt, seconds=seconds, speech_seconds=voiced)
