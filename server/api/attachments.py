"""Attachment uploads: content-addressed, resumable, chunked (``docs/protocol.md`` §9).

* ``GET  /v1/attachments/{sha256}/status`` -> ``{"received": n, "complete": bool}``
* ``PUT  /v1/attachments/{sha256}?offset=N&total=T`` with the chunk as the body
* ``GET  /v1/attachments/{sha256}`` -> the bytes

All take the device's bearer token. Completing an upload wakes the processor,
which turns card photos into suggested contacts and memos into suggested tasks.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, FastAPI, Header, Query, Request, Response

from fieldsync.server.attachments.blobs import BlobStore
from fieldsync.server.attachments.processing import Processor
from fieldsync.server.settings import Settings
from fieldsync.server.sync_api import bearer
from fieldsync.sync import errors as E

MAX_CHUNK = 4 * 1024 * 1024


async def on_startup(app: FastAPI) -> None:
    """Create the blob store and start the processor, listening to hub commits."""
    settings: Settings = app.state.settings
    hub = app.state.hub
    blobs = BlobStore(settings.attachments_dir, max_bytes=settings.max_attachment_bytes)
    processor = Processor(hub, blobs, settings, asyncio.get_running_loop())
    hub.listeners.append(processor.on_commit)
    processor.start()
    app.state.blobs = blobs
    app.state.processor = processor


async def on_shutdown(app: FastAPI) -> None:
    app.state.processor.stop()


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["attachments"])

    @router.get("/v1/attachments/{sha256}/status")
    async def status(sha256: str, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """How many bytes of this attachment the server holds."""
        bearer(request.app.state.hub, authorization)
        state = request.app.state.blobs.state(BlobStore.check_sha(sha256))
        return {"sha256": sha256, "received": state.received, "complete": state.complete}

    @router.put("/v1/attachments/{sha256}")
    async def upload(
        sha256: str,
        request: Request,
        offset: int = Query(ge=0),
        total: int = Query(gt=0),
        authorization: str | None = Header(default=None),
    ) -> dict[str, Any]:
        """Append one chunk at ``offset``; the last chunk verifies the hash and stores the blob."""
        bearer(request.app.state.hub, authorization)
        BlobStore.check_sha(sha256)
        chunk = bytearray()
        async for part in request.stream():
            chunk += part
            if len(chunk) > MAX_CHUNK:
                raise E.error_for(E.ATTACHMENT_TOO_LARGE, f"chunks hold at most {MAX_CHUNK} bytes")
        blobs: BlobStore = request.app.state.blobs
        state = await asyncio.to_thread(blobs.write_chunk, sha256, offset, total, bytes(chunk))
        if state.complete:
            await asyncio.to_thread(request.app.state.processor.enqueue_sha, sha256)
        return {"sha256": sha256, "received": state.received, "complete": state.complete}

    @router.get("/v1/attachments/{sha256}")
    async def download(sha256: str, request: Request, authorization: str | None = Header(default=None)) -> Response:
        """The attachment's bytes."""
        bearer(request.app.state.hub, authorization)
        data = await asyncio.to_thread(request.app.state.blobs.read, sha256)
        return Response(content=data, media_type="application/octet-stream")

    return router
