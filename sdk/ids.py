"""Identifiers the SDK generates: UUIDv7 row and batch ids, site ids.

A UUIDv7 (RFC 9562, section 5.7) starts with the Unix time in milliseconds,
so ids sort roughly by creation time and index well in SQLite and
PostgreSQL, while 74 random bits keep ids from different devices apart.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable


def uuid7(*, now_ms: int | None = None, random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A new UUIDv7 as a canonical lower-case hyphenated string."""
    ms = time.time_ns() // 1_000_000 if now_ms is None else now_ms
    rand = int.from_bytes(random_bytes(10), "big")
    rand_a = rand >> 68 & 0xFFF  # 12 bits
    rand_b = rand & ((1 << 62) - 1)  # 62 bits
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b
    return str(uuid.UUID(int=value))


def new_site_id() -> str:
    """A fresh site id for a device: ``d-`` and 32 hex digits (well under the 64-character limit)."""
    return "d-" + uuid.uuid4().hex


__all__ = ["new_site_id", "uuid7"]
