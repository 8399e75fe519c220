"""TOTP second factor (RFC 6238, via pyotp): secrets, provisioning, QR codes, recovery codes.

Replay protection lives with the caller: ``matching_step`` returns the time
step a code belongs to, and the store accepts a step only if it is later than
the last one the user spent (``OrgStore.claim_totp_step``), so a code seen
over a shoulder or in a log cannot be used twice, even inside its window.
"""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import time

import pyotp
import qrcode

STEP_S = 30
WINDOW = 1  # accept the previous and next step too (clock drift of a phone)
RECOVERY_CODES = 10


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    return pyotp.TOTP(secret, interval=STEP_S).provisioning_uri(name=account, issuer_name=issuer)


def qr_png(uri: str) -> bytes:
    """The provisioning URI as a PNG QR code an authenticator app can scan."""
    image = qrcode.make(uri)
    buf = io.BytesIO()
    image.save(buf)
    return buf.getvalue()


def qr_png_base64(uri: str) -> str:
    return base64.b64encode(qr_png(uri)).decode()


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time step whose code is ``code`` (within the drift window), or None."""
    if not isinstance(code, str) or not code.isdigit() or len(code) != 6:
        return None
    totp = pyotp.TOTP(secret, interval=STEP_S)
    t = time.time() if now is None else now
    step = int(t // STEP_S)
    for candidate in range(step - WINDOW, step + WINDOW + 1):
        if secrets.compare_digest(totp.at(candidate * STEP_S), code):
            return candidate
    return None


def code_at(secret: str, when: float) -> str:
    """The code for instant ``when`` (tests and the admin tool)."""
    return str(pyotp.TOTP(secret, interval=STEP_S).at(when))


def new_recovery_codes(n: int = RECOVERY_CODES) -> list[str]:
    """One-time recovery codes, ``xxxx-xxxx`` (shown once; store their hashes)."""
    return [f"{secrets.token_hex(2)}-{secrets.token_hex(2)}" for _ in range(n)]


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(code.strip().lower().encode()).hexdigest()


__all__ = [
    "code_at",
    "hash_recovery_code",
    "matching_step",
    "new_recovery_codes",
    "new_secret",
    "provisioning_uri",
    "qr_png",
    "qr_png_base64",
]
