"""HTTP routes of accounts and devices: login, refresh, TOTP enrolment, device list and revocation, reassignment."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from fieldsync.server.auth.service import AuthService
from fieldsync.server.auth.tokens import verify_token
from fieldsync.server.hub import Hub, TokenBucket
from fieldsync.server.org.audit import AuditAction
from fieldsync.server.org.scopes import compute_view
from fieldsync.server.store.base import Principal
from fieldsync.sync import errors as E
from fieldsync.sync.schema import is_uuid


class LoginBody(BaseModel):
    login: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1, max_length=1024)
    site: str = Field(min_length=1, max_length=64)
    code: str | None = Field(default=None, max_length=32, description="TOTP code or recovery code")
    label: str = Field(default="", max_length=128, description="a name for the device (shown in the device list)")


class RefreshBody(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=256)
    site: str = Field(min_length=1, max_length=64)


class CodeBody(BaseModel):
    code: str = Field(min_length=1, max_length=32)


class AssignBody(BaseModel):
    owner_id: str = Field(min_length=36, max_length=36)


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _auth(request: Request) -> AuthService:
    service: AuthService = request.app.state.auth
    return service


def _token(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise E.AuthError(E.UNAUTHENTICATED, "send Authorization: Bearer <token>")
    return authorization[7:].strip()


async def device_principal(hub: Hub, authorization: str | None) -> Principal:
    return await asyncio.to_thread(hub.authenticate, _token(authorization))


def build_router() -> APIRouter:
    router = APIRouter(tags=["auth"])

    buckets: dict[str, TokenBucket] = {}

    def throttle(request: Request) -> None:
        """Per client address: ``login_per_minute`` attempts a minute (bursts of as many), then FS-1009."""
        settings = _hub(request).settings
        ip = request.client.host if request.client else "?"
        if len(buckets) > 10_000:
            buckets.clear()
        rate = settings.login_per_minute
        bucket = buckets.setdefault(ip, TokenBucket(rate=rate / 60.0, burst=float(rate)))
        if not bucket.take():
            raise E.ProtocolError(E.RATE_LIMITED, "too many sign-in attempts from this address; wait a minute")

    @router.post("/v1/auth/login")
    async def login(body: LoginBody, request: Request) -> dict[str, Any]:
        """Sign in on a device: an access token and a device-bound refresh token (or an enrolment token)."""
        throttle(request)
        session = await asyncio.to_thread(_auth(request).login, body.login, body.password, body.site, code=body.code, label=body.label)
        return session.to_json()

    @router.post("/v1/auth/refresh")
    async def refresh(body: RefreshBody, request: Request) -> dict[str, Any]:
        """Trade a refresh token (rotated) for a new access token, on the device it was issued to."""
        throttle(request)
        session = await asyncio.to_thread(_auth(request).refresh, body.refresh_token, body.site)
        return session.to_json()

    @router.post("/v1/auth/totp/enroll")
    async def enroll(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Start TOTP enrolment: secret, provisioning URI and QR code PNG (base64)."""
        user_id = await _user_or_enrolling(request, authorization)
        return await asyncio.to_thread(_auth(request).enrol_totp, user_id)

    @router.post("/v1/auth/totp/confirm")
    async def confirm(body: CodeBody, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Finish TOTP enrolment with a first code; answers the one-time recovery codes."""
        user_id = await _user_or_enrolling(request, authorization)
        codes = await asyncio.to_thread(_auth(request).confirm_totp, user_id, body.code)
        return {"recovery_codes": codes}

    @router.get("/v1/auth/devices")
    async def devices(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """The signed-in user's devices."""
        hub = _hub(request)
        principal = await device_principal(hub, authorization)
        found = await asyncio.to_thread(hub.devices.of_user, principal.user_id)
        return {"devices": [d.public() for d in found]}

    @router.post("/v1/auth/devices/{site}/revoke")
    async def revoke(site: str, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Revoke a device (one's own, or any as an administrator): it is wiped and disconnected."""
        hub = _hub(request)
        principal = await device_principal(hub, authorization)
        device = await asyncio.to_thread(hub.devices.get, site[:64])
        org = await asyncio.to_thread(hub.org.load)
        role = org.role_of(principal.user_id)
        if device is None or (device.user_id != principal.user_id and not (role and role.admin)):
            raise E.AuthError(E.FORBIDDEN, "not your device")
        done = await asyncio.to_thread(_auth(request).revoke_device, site, actor=principal.user_id)
        await hub.org_changed()
        return {"revoked": done}

    @router.post("/v1/records/{table}/{row_id}/assign")
    async def assign(table: str, row_id: str, body: AssignBody, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Reassign a record to another user (both the record and the new owner must be in the caller's write scope)."""
        hub = _hub(request)
        principal = await device_principal(hub, authorization)
        declared = hub.schema.table(table)
        if not is_uuid(row_id) or not is_uuid(body.owner_id):
            raise E.ValidationError(E.BAD_ROW_ID)
        org = await asyncio.to_thread(hub.org.load)
        new_owner = org.users.get(body.owner_id)
        if new_owner is None or new_owner.disabled:
            raise E.AuthError(E.FORBIDDEN, "unknown owner")
        scope = compute_view(org, principal.user_id, [t.name for t in hub.schema.tables])
        current = (await asyncio.to_thread(hub.store.row_scopes, declared.name, [row_id])).get(row_id)  # type: ignore[attr-defined]
        if current is None or not scope.writes(table, row_id, *current):
            raise E.AuthError(E.OUT_OF_SCOPE, "the record is outside your write scope")
        if not scope.writes(table, "", new_owner.id, new_owner.department_id):
            raise E.AuthError(E.OUT_OF_SCOPE, "the new owner is outside your write scope")
        outcome = await hub.server_write(table, row_id, {"owner_id": new_owner.id, "department_id": new_owner.department_id})
        await asyncio.to_thread(hub.audit.record, AuditAction.REASSIGN, actor=principal.user_id, subject=row_id,
                                table=table, to=new_owner.id)
        return {"seq": outcome.ack.get("seq")}

    async def _user_or_enrolling(request: Request, authorization: str | None) -> str:
        hub = _hub(request)
        token = _token(authorization)
        try:
            claims = verify_token(hub.settings.secret_key, token, kind="enrol")
            return claims.user_id
        except E.AuthError:
            principal = await asyncio.to_thread(hub.authenticate, token)
            return principal.user_id

    return router


__all__ = ["build_router"]
