"""``POST /v1/memos``: a voice memo (phone transcript and/or audio) -> transcript + suggested tasks.

The body is JSON: ``text`` (a transcript made on the phone) and/or
``audio_base64`` (the recording), ``recorded_at`` with its UTC offset (the
moment dates are resolved against, never the upload time), the rep's
``time_zone`` (IANA) and ``lang`` (en, zh, auto). ``memo_id`` (the attachment
id) makes the returned ``task_rows`` ids stable, so a retried upload suggests
the same rows.

Customers are resolved against the accounts the caller may read, from the
store (``fieldsync.server.account_book``): their read scope, or every account
on an open development server. ``accounts`` in the body is still accepted, so
that apps already in the field keep working, but it is ignored (deprecated in
the OpenAPI schema): a client cannot widen what the server resolves against.

Recognition is CPU-bound, so the handler is a plain ``def`` that FastAPI runs
in its thread pool; the recogniser is loaded on first use, not at start-up,
and the caller's customer directory is cached until their accounts change.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from fieldsync.server.account_book import DirectoryCache
from fieldsync.server.settings import Settings
from fieldsync.server.store.base import Principal
from fieldsync.server.sync_api import require_device
from fieldsync.sync import errors as E
from fieldsync.voice.asr import select_recogniser
from fieldsync.voice.memo import process_memo

__all__ = ["build_router"]


class ContactIn(BaseModel):
    """A contact of one of the rep's accounts (deprecated with ``MemoIn.accounts``)."""

    model_config = ConfigDict(extra="ignore")
    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)


class AccountIn(BaseModel):
    """One of the rep's accounts, as the phone knows it (deprecated with ``MemoIn.accounts``)."""

    model_config = ConfigDict(extra="ignore")
    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    short_names: list[str] = Field(default_factory=list)
    contacts: list[ContactIn] = Field(default_factory=list)


class MemoIn(BaseModel):
    """A memo to read: transcript and/or audio, and when and where it was recorded."""

    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(default=None, description="transcript made on the phone")
    audio_base64: str | None = Field(default=None, description="the recording, base64 (WAV, FLAC, OGG, MP3, M4A ...)")
    recorded_at: datetime = Field(description="recording time, ISO 8601 with UTC offset")
    time_zone: str | None = Field(default=None, description="the rep's IANA time zone, e.g. Asia/Shanghai")
    lang: str = Field(default="auto", description="en, zh or auto")
    accounts: list[AccountIn] = Field(
        default_factory=list,
        max_length=5_000,
        deprecated=True,
        description="ignored: customers are resolved against the accounts the caller may read on the server",
    )
    memo_id: str | None = Field(default=None, max_length=200, description="attachment id; stable task row ids")


def build_router(settings: Settings) -> APIRouter:
    """The memo routes, configured by ``settings`` (engine, model directory, length and size limits)."""
    router = APIRouter(prefix="/v1", tags=["memos"])

    @router.post("/memos")
    def create_memo(body: MemoIn, request: Request, principal: Principal = Depends(require_device)) -> dict[str, Any]:
        """Read a memo and suggest follow-up tasks for the caller's own accounts (nothing is stored: suggestions)."""
        hub = request.app.state.hub
        directory = request.app.state.memo_directories.directory_for(hub.scope_for(principal))
        audio = _decode_audio(body.audio_base64, limit=settings.max_attachment_bytes) if body.audio_base64 else None
        recogniser = None
        if audio is not None and not (body.text and body.text.strip()):
            recogniser = select_recogniser(settings.asr_engine, settings.asr_model_dir)
        result = process_memo(
            recorded_at=body.recorded_at,
            text=body.text,
            audio=audio,
            time_zone=body.time_zone,
            lang=body.lang,
            accounts=directory,
            recogniser=recogniser,
            max_seconds=settings.memo_max_seconds,
            max_audio_bytes=settings.max_attachment_bytes,
        )
        answer: dict[str, Any] = result.to_dict(memo_id=body.memo_id)
        return answer

    return router


async def on_startup(app: FastAPI) -> None:
    """Once the store exists: the per-caller cache of customer directories."""
    app.state.memo_directories = DirectoryCache(app.state.store)


def _decode_audio(encoded: str, *, limit: int) -> bytes:
    if len(encoded) > limit * 4 // 3 + 4:
        raise E.error_for(E.MEMO_TOO_LARGE, f"the audio exceeds {limit} bytes", limit=limit)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise E.error_for(E.NOT_AUDIO, "audio_base64 is not valid base64", field="audio_base64") from exc
