"""Device tokens: a user, department and site id, signed by the server.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(secret, payload))``
with a JSON payload ``{"u": user, "d": department, "s": site, "exp": epoch s,
"iat": epoch s, "k": kind}``. The signature is checked in constant time; the
site inside the token is the only site the connection may write as.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from fieldsync.sync import errors as E

DEFAULT_TTL_S = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says."""

    user_id: str
    department_id: str | None
    site: str
    expires_at: int
    kind: str = "device"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(
    secret: str, *, user_id: str, site: str, department_id: str | None = None, ttl_s: int = DEFAULT_TTL_S, kind: str = "device", now: float | None = None
) -> str:
    """Sign a token for ``user_id`` on device ``site``."""
    issued = int(now if now is not None else time.time())
    payload = {"u": user_id, "d": department_id, "s": site, "iat": issued, "exp": issued + ttl_s, "k": kind}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    sig = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{sig}"


def verify_token(secret: str, token: str, *, now: float | None = None, kind: str = "device") -> TokenClaims:
    """Check a token's signature and expiry; raises ``AuthError`` (FS-3001/FS-3002)."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 4096:
        raise E.AuthError(E.UNAUTHENTICATED, "malformed token")
    body, sig = token.split(".")
    expected = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, sig):
        raise E.AuthError(E.UNAUTHENTICATED, "bad token signature")
    try:
        payload = json.loads(_unb64(body))
        claims = TokenClaims(str(payload["u"]), payload.get("d"), str(payload["s"]), int(payload["exp"]), str(payload.get("k", "device")))
    except (ValueError, KeyError, TypeError):
        raise E.AuthError(E.UNAUTHENTICATED, "malformed token payload") from None
    if claims.kind != kind:
        raise E.AuthError(E.UNAUTHENTICATED, f"not a {kind} token")
    if claims.expires_at < (now if now is not None else time.time()):
        raise E.AuthError(E.TOKEN_EXPIRED)
    return claims


__all__ = ["TokenClaims", "issue_token", "verify_token"]
