"""Password hashing with argon2id (RFC 9106 parameters from argon2-cffi's defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
# Verified against when a login names no known user, so both paths cost the same.
_DUMMY = _HASHER.hash("fieldsync-timing-equaliser")

MAX_PASSWORD_CHARS = 1024


def hash_password(password: str) -> str:
    """An argon2id hash of ``password`` (salted; store it as is)."""
    if not password or len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(f"a password has 1-{MAX_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True if ``password`` matches ``stored``; a missing hash still costs one verification."""
    if not isinstance(password, str) or len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


__all__ = ["hash_password", "verify_password"]
