"""Helpers for the business-card tests: text-line fixtures and generated card images."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

import pytest
from PIL import Image

from bench.cardgen import Sample, make_sample


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` but whose data is a few bytes: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def encode(image: Image.Image, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


@pytest.fixture(scope="session")
def blank_png() -> bytes:
    """A plain white 'card' with nothing printed on it."""
    return encode(Image.new("RGB", (1050, 600), "white"))


@pytest.fixture(scope="session")
def card_samples() -> dict[str, Sample]:
    """Four photographed cards (zh, en, bi, two-sided; moderate difficulty; one shot sideways with an EXIF tag)."""
    return {s.kind: s for s in (make_sample(i, seed=12, difficulty=0.6) for i in range(4))}


@pytest.fixture(scope="session")
def flat_samples() -> dict[str, Sample]:
    """The same kinds as flat renders (a scanner, not a phone)."""
    return {s.kind: s for s in (make_sample(i, seed=11, photo=False) for i in range(4))}


@pytest.fixture(scope="session")
def bomb_png() -> Callable[[int, int], bytes]:
    """Factory of PNGs that declare a huge size in a few bytes."""
    return png_header_only
