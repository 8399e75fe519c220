"""``scan_card``: image bytes in, ``CardFields`` out (intake, engine, parser).

This is the function the server calls for ``POST /v1/cards`` and for card
photos that arrive as attachments: it is synchronous and CPU-bound (run it in a
worker thread from async code), safe to call from many threads at once, and it
raises only typed ``FieldSyncError``s (FS-4xxx) for bad input.
"""

from __future__ import annotations

import numpy as np
import phonenumbers

from fieldsync.ocr.engines import get_engine
from fieldsync.ocr.fields import CardFields, TextLine
from fieldsync.ocr.image import DEFAULT_LIMITS, ImageLimits, prepare
from fieldsync.ocr.parse import parse_card
from fieldsync.sync import errors as E

#: Lines the engine is less sure of than this are noise (wood grain, logo strokes).
MIN_LINE_CONFIDENCE = 0.5


def recognise_lines(image_bytes: bytes, *, engine: str | None = None, side: int = 0, limits: ImageLimits = DEFAULT_LIMITS) -> list[TextLine]:
    """Validate, straighten and OCR one side of a card; the lines the engine is confident of."""
    ocr = get_engine(engine)  # unknown or missing engines fail before any decoding work
    pixels = prepare(image_bytes, limits)
    best: list[TextLine] = []
    for candidate in _orientations(pixels):
        lines = [
            TextLine(line.text, line.box, line.confidence, side)
            for line in ocr.recognise(candidate)
            if line.confidence >= MIN_LINE_CONFIDENCE and line.text.strip()
        ]
        if _weight(lines) > _weight(best):
            best = lines
    return best


def _orientations(pixels: np.ndarray) -> list[np.ndarray]:
    """The card as shot, plus both quarter turns when it stands upright.

    Most cards are landscape; a portrait frame is either a vertical card or a
    landscape card shot sideways by an app that dropped the EXIF tag (chat
    apps do). Reading all three and keeping the richest answer costs three
    passes only for portrait frames.
    """
    h, w = pixels.shape[:2]
    if h <= 1.15 * w:
        return [pixels]
    return [pixels, np.ascontiguousarray(np.rot90(pixels, -1)), np.ascontiguousarray(np.rot90(pixels, 1))]


def _weight(lines: list[TextLine]) -> float:
    """How much confident text an orientation produced."""
    return sum(line.confidence * len(line.text.strip()) for line in lines)


def scan_card(
    image_bytes: bytes,
    *,
    engine: str | None = None,
    region: str = "CN",
    back: bytes | None = None,
    limits: ImageLimits = DEFAULT_LIMITS,
) -> CardFields:
    """Recognise a business card photo (and its back, for two-sided cards).

    ``engine`` is ``"rapidocr"`` (default) or ``"tesseract"``; ``region`` is the
    ISO 3166 region numbers without a ``+country`` prefix are dialled from.
    Raises FS-4001..FS-4007 (not an image, empty, too large, no text, engine
    unavailable, unknown engine, unknown region).
    """
    region = (region or "CN").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise E.error_for(E.INVALID_REGION, f"unknown phone region {region!r}", region=region)
    lines = recognise_lines(image_bytes, engine=engine, side=0, limits=limits)
    if back is not None:
        lines += recognise_lines(back, engine=engine, side=1, limits=limits)
    if not lines:
        raise E.error_for(E.NO_TEXT_FOUND, "no text was recognised on the image")
    return parse_card(lines, region=region)
