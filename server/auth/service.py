"""Sign-in, refresh, second factor and device revocation: the account rules, behind the HTTP routes.

Theory of operation
-------------------
``login`` checks, in order: the account exists and is enabled, it is not
locked, the password (argon2), then the second factor when the user has one
(a TOTP code whose time step is later than the last one spent, or a one-time
recovery code). Every failure counts; ``login_max_failures`` in a row lock the
account for ``login_lockout_s`` (FS-3008). A user whose role (or being a
manager) requires TOTP but has none enrolled gets only an *enrolment token*,
good for nothing but enrolling.

Success binds the device's site id to the user in the registry (a site of
another user or a revoked one is refused) and returns a short-lived access
token (the device token of ``docs/protocol.md`` §4) plus a refresh token.
The refresh token is random, stored only as a hash on the device row, bound
to that site and rotated at each use. Every outcome is audited, by id only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fieldsync.server.auth import passwords, totp
from fieldsync.server.auth.tokens import issue_token
from fieldsync.server.org.audit import AuditAction, AuditLog
from fieldsync.server.org.devices import DeviceRegistry
from fieldsync.server.org.store import Credentials, OrgStore
from fieldsync.server.settings import Settings
from fieldsync.sync import errors as E

ENROL_TTL_S = 15 * 60


@dataclass(frozen=True, slots=True)
class Session:
    """What a successful login or refresh hands the device."""

    user_id: str
    department_id: str | None
    site: str
    access_token: str | None
    refresh_token: str | None
    expires_in: int
    enrol_token: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.enrol_token is not None:
            return {"totp_enrolment_required": True, "enrol_token": self.enrol_token, "expires_in": self.expires_in,
                    "user": self.user_id, "site": self.site}
        return {"access_token": self.access_token, "token_type": "bearer", "expires_in": self.expires_in,
                "refresh_token": self.refresh_token, "user": self.user_id, "department": self.department_id, "site": self.site}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AuthService:
    """Accounts and devices over an ``OrgStore`` (blocking: call from a worker thread)."""

    def __init__(self, org: OrgStore, devices: DeviceRegistry, audit: AuditLog, settings: Settings,
                 *, now: Callable[[], float] = time.time) -> None:
        self.org, self.devices, self.audit, self.settings = org, devices, audit, settings
        self._now = now

    # --- login and refresh --------------------------------------------------------

    def login(self, login: str, password: str, site: str, *, code: str | None = None, label: str = "") -> Session:
        creds = self.org.credentials(login=login) if isinstance(login, str) and len(login) <= 128 else None
        if creds is None:
            passwords.verify_password(None, password)
            self.audit.record(AuditAction.LOGIN_FAILED, outcome="denied", reason="unknown_user")
            raise E.AuthError(E.LOGIN_FAILED)
        now_ms = int(self._now() * 1000)
        if creds.locked_until_ms > now_ms:
            self.audit.record(AuditAction.LOGIN_FAILED, subject=creds.user_id, outcome="denied", reason="locked")
            raise E.AuthError(E.ACCOUNT_LOCKED, retry_after_s=(creds.locked_until_ms - now_ms) // 1000 + 1)
        if creds.disabled or not passwords.verify_password(creds.password_hash, password):
            self._failed(creds, "password" if not creds.disabled else "disabled")
        org = self.org.load()
        required = org.totp_required(creds.user_id, for_managers=self.settings.totp_for_managers)
        if creds.totp_enabled:
            if not code:
                self.audit.record(AuditAction.LOGIN_FAILED, subject=creds.user_id, outcome="denied", reason="totp_missing")
                raise E.AuthError(E.TOTP_REQUIRED)
            self._second_factor(creds, code)
        self.org.set_credentials(creds.user_id, failed_logins=0, locked_until_ms=0)
        self.devices.bind(site, creds.user_id, label=label)
        user = org.users.get(creds.user_id)
        dept = user.department_id if user else None
        if required and not creds.totp_enabled:
            enrol = issue_token(self.settings.secret_key, user_id=creds.user_id, site=site, department_id=dept,
                                ttl_s=ENROL_TTL_S, kind="enrol", now=self._now())
            self.audit.record(AuditAction.LOGIN, actor=creds.user_id, subject=creds.user_id, outcome="enrol_only", site=site)
            return Session(creds.user_id, dept, site, None, None, ENROL_TTL_S, enrol)
        self.audit.record(AuditAction.LOGIN, actor=creds.user_id, subject=creds.user_id, site=site)
        return self._session(creds.user_id, dept, site)

    def refresh(self, refresh_token: str, site: str) -> Session:
        device = self.devices.get(site) if isinstance(site, str) and len(site) <= 64 else None
        if device is None or not isinstance(refresh_token, str):
            raise E.AuthError(E.UNAUTHENTICATED, "unknown device")
        if device.revoked:
            raise E.AuthError(E.DEVICE_REVOKED)
        if device.refresh_hash is None or not hmac.compare_digest(device.refresh_hash, _hash(refresh_token)):
            self.audit.record(AuditAction.REFRESH, subject=device.user_id, outcome="denied", site=site)
            raise E.AuthError(E.UNAUTHENTICATED, "refresh token not valid for this device")
        if (device.refresh_expires_ms or 0) < self._now() * 1000:
            raise E.AuthError(E.TOKEN_EXPIRED, "the refresh token expired; sign in again")
        org = self.org.load()
        user = org.users.get(device.user_id)
        if user is None or user.disabled:
            raise E.AuthError(E.DEVICE_REVOKED, "the user is disabled")
        self.audit.record(AuditAction.REFRESH, actor=user.id, subject=user.id, site=site)
        return self._session(user.id, user.department_id, site)

    def _session(self, user_id: str, dept: str | None, site: str) -> Session:
        ttl = self.settings.access_token_ttl_s
        access = issue_token(self.settings.secret_key, user_id=user_id, site=site, department_id=dept, ttl_s=ttl, now=self._now())
        refresh = f"{secrets.token_urlsafe(32)}"
        expires = int((self._now() + self.settings.refresh_token_ttl_s) * 1000)
        self.devices.set_refresh(site, _hash(refresh), expires)
        return Session(user_id, dept, site, access, refresh, ttl)

    def _failed(self, creds: Credentials, reason: str) -> None:
        failures = creds.failed_logins + 1
        if failures >= self.settings.login_max_failures:
            until = int((self._now() + self.settings.login_lockout_s) * 1000)
            self.org.set_credentials(creds.user_id, failed_logins=0, locked_until_ms=until)
            self.audit.record(AuditAction.LOCKED, subject=creds.user_id, outcome="locked", reason=reason)
            raise E.AuthError(E.ACCOUNT_LOCKED, retry_after_s=self.settings.login_lockout_s)
        self.org.set_credentials(creds.user_id, failed_logins=failures)
        self.audit.record(AuditAction.LOGIN_FAILED, subject=creds.user_id, outcome="denied", reason=reason)
        raise E.AuthError(E.LOGIN_FAILED)

    def _second_factor(self, creds: Credentials, code: str) -> None:
        step = totp.matching_step(creds.totp_secret or "", code, now=self._now())
        if step is not None:
            if self.org.claim_totp_step(creds.user_id, step):
                return
            self._failed(creds, "totp_replayed")
        if self.org.use_recovery_code(creds.user_id, totp.hash_recovery_code(code)):
            self.audit.record(AuditAction.RECOVERY_CODE_USED, actor=creds.user_id, subject=creds.user_id)
            return
        self._failed(creds, "totp")

    # --- second factor enrolment -----------------------------------------------------

    def enrol_totp(self, user_id: str) -> dict[str, Any]:
        """Start enrolment: a new secret, its provisioning URI and QR code (PNG, base64)."""
        creds = self.org.credentials(user_id=user_id)
        if creds is None:
            raise E.AuthError(E.UNAUTHENTICATED)
        if creds.totp_enabled:
            raise E.AuthError(E.FORBIDDEN, "a second factor is already enrolled; an administrator must reset it")
        secret = totp.new_secret()
        self.org.set_credentials(user_id, totp_secret=secret, totp_enabled=False)
        uri = totp.provisioning_uri(secret, creds.login, self.settings.totp_issuer)
        return {"secret": secret, "provisioning_uri": uri, "qr_png": totp.qr_png_base64(uri)}

    def confirm_totp(self, user_id: str, code: str) -> list[str]:
        """Finish enrolment with a first code; returns the recovery codes (shown once)."""
        creds = self.org.credentials(user_id=user_id)
        if creds is None or creds.totp_secret is None or creds.totp_enabled:
            raise E.AuthError(E.FORBIDDEN, "no enrolment in progress")
        step = totp.matching_step(creds.totp_secret, code, now=self._now())
        if step is None or not self.org.claim_totp_step(user_id, step):
            raise E.AuthError(E.LOGIN_FAILED, "wrong or reused code")
        codes = totp.new_recovery_codes()
        self.org.set_credentials(user_id, totp_enabled=True, recovery_codes=[totp.hash_recovery_code(c) for c in codes])
        self.audit.record(AuditAction.TOTP_ENROLLED, actor=user_id, subject=user_id)
        return codes

    def reset_totp(self, user_id: str, *, actor: str | None = None) -> None:
        self.org.set_credentials(user_id, totp_secret=None, totp_enabled=False, recovery_codes=[], totp_last_step=0)
        self.audit.record(AuditAction.TOTP_RESET, actor=actor, subject=user_id)

    # --- devices and users ------------------------------------------------------------

    def revoke_device(self, site: str, *, actor: str | None = None) -> bool:
        device = self.devices.get(site)
        done = self.devices.revoke(site, "device_revoked")
        if done:
            self.audit.record(AuditAction.DEVICE_REVOKED, actor=actor, subject=device.user_id if device else None, site=site)
        return done

    def disable_user(self, user_id: str, *, actor: str | None = None) -> None:
        self.org.update_user(user_id, disabled=True)
        self.devices.revoke_user(user_id, "user_disabled")
        self.audit.record(AuditAction.USER_DISABLED, actor=actor, subject=user_id)


__all__ = ["AuthService", "Session"]
