"""``POST /v1/cards``: a business-card photo in, recognised fields out.

The body is either the raw image (any ``image/*`` or ``application/octet-stream``
content type) or ``multipart/form-data`` with a ``file`` part (and optionally a
``back`` part for two-sided cards). Query parameters ``engine`` and ``region``
override the server's ``ocr_engine`` and ``default_phone_region``.

The body is read in chunks and refused with FS-4003 as soon as it passes
``Settings.max_card_image_bytes``, so a 50 MB upload is never held whole in
memory. Recognition is CPU-bound and runs in the worker thread pool; the
engine is loaded on the first request and shared afterwards.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from fieldsync.ocr.image import ImageLimits
from fieldsync.ocr.scan import scan_card
from fieldsync.server.settings import Settings
from fieldsync.sync import errors as E


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/v1/cards", tags=["cards"])
    limits = ImageLimits(max_bytes=settings.max_card_image_bytes)

    @router.post(
        "",
        summary="Recognise a business card",
        responses={
            200: {"description": "The recognised fields: name, title, company, department, phones, emails, website, address, wechat, qq, confidence."},
            400: {"description": "FS-4002 empty upload"},
            413: {"description": "FS-4003 image too large (bytes or pixels)"},
            415: {"description": "FS-4001 not an image"},
            422: {"description": "FS-4004 no text found, FS-4006 unknown engine, FS-4007 invalid region"},
            503: {"description": "FS-4005 OCR engine unavailable"},
        },
    )
    async def scan(request: Request, engine: str | None = None, region: str | None = None) -> dict[str, Any]:
        """Recognise the card in the body (raw image or multipart ``file`` [+ ``back``])."""
        front, back = await _read_images(request, limits.max_bytes)
        card = await run_in_threadpool(
            scan_card,
            front,
            back=back,
            engine=engine or settings.ocr_engine,
            region=region or settings.default_phone_region,
            limits=limits,
        )
        return card.to_json()

    return router


async def _read_images(request: Request, max_bytes: int) -> tuple[bytes, bytes | None]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + 64 * 1024:
        raise E.error_for(E.IMAGE_TOO_LARGE, f"the upload is {declared} bytes; the limit is {max_bytes}", limit_bytes=max_bytes)
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=2, max_fields=8)
        try:
            front = await _part(form.get("file"), max_bytes)
            back_part = form.get("back")
            back = await _part(back_part, max_bytes) if back_part is not None else None
        finally:
            await form.close()
        if front is None:
            raise E.error_for(E.EMPTY_IMAGE, "the multipart body has no `file` part")
        return front, back
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise E.error_for(E.IMAGE_TOO_LARGE, f"the upload exceeds {max_bytes} bytes", limit_bytes=max_bytes)
    return bytes(body), None


async def _part(part: Any, max_bytes: int) -> bytes | None:
    if part is None:
        return None
    if not isinstance(part, UploadFile):
        raise E.error_for(E.NOT_AN_IMAGE, "the `file` part must be a file upload")
    data = await part.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise E.error_for(E.IMAGE_TOO_LARGE, f"the upload exceeds {max_bytes} bytes", limit_bytes=max_bytes)
    return data
