"""Administration over HTTP: erasure requests and the audit log (administrators only)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Header, Request
from pydantic import BaseModel, Field

from fieldsync.server.auth.routes import device_principal
from fieldsync.server.hub import Hub
from fieldsync.server.org.erasure import Eraser
from fieldsync.server.store.base import BatchOutcome, Principal
from fieldsync.sync import errors as E
from fieldsync.sync.schema import is_uuid


class EraseBody(BaseModel):
    user_id: str | None = Field(default=None, max_length=36, description="erase an employee")
    successor_id: str | None = Field(default=None, max_length=36, description="who inherits their records (default: their manager)")
    table: str | None = Field(default=None, max_length=32, description="erase a record person (contacts, leads)")
    row_id: str | None = Field(default=None, max_length=36)


async def require_admin(hub: Hub, authorization: str | None) -> Principal:
    principal = await device_principal(hub, authorization)
    org = await asyncio.to_thread(hub.org.load)
    role = org.role_of(principal.user_id)
    if role is None or not role.admin:
        raise E.AuthError(E.FORBIDDEN, "administrators only")
    return principal


def eraser_for(hub: Hub) -> Eraser:
    return Eraser(hub.store, hub.org, hub.devices, hub.audit)  # type: ignore[arg-type]


async def run_erasure(hub: Hub, fn: Any) -> Any:
    """Run an erasure in a worker thread, its writes on the hub's writer (so they fan out), then re-read the log."""
    loop = asyncio.get_running_loop()

    def write(job: Any) -> BatchOutcome:
        return asyncio.run_coroutine_threadsafe(hub.write(job), loop).result()

    result = await asyncio.to_thread(fn, write)
    hub.recent.clear()
    await hub.org_changed()
    return result


def build_router() -> APIRouter:
    router = APIRouter(tags=["admin"])

    @router.post("/v1/admin/erase")
    async def erase(body: EraseBody, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Erase a person: an employee (``user_id``) or a record person (``table`` + ``row_id``), on the server and every device."""
        hub: Hub = request.app.state.hub
        admin = await require_admin(hub, authorization)
        eraser = eraser_for(hub)
        if body.user_id is not None:
            org = await asyncio.to_thread(hub.org.load)
            if body.user_id not in org.users or body.user_id == admin.user_id:
                raise E.AuthError(E.FORBIDDEN, "unknown user")
            if body.successor_id is not None and body.successor_id not in org.users:
                raise E.AuthError(E.FORBIDDEN, "unknown successor")
            done = await run_erasure(hub, lambda w: eraser.erase_user(body.user_id or "", successor=body.successor_id, actor=admin.user_id, write=w))
            return {"erased": "user", **done}
        if body.table is None or body.row_id is None or not is_uuid(body.row_id):
            raise E.ProtocolError(E.MALFORMED_MESSAGE, "give user_id, or table and row_id")
        hub.schema.table(body.table)
        out = await run_erasure(hub, lambda w: eraser.erase_rows([(body.table or "", body.row_id or "")], actor=admin.user_id, write=w))
        return {"erased": "record", "seq": out.ack.get("seq")}

    @router.get("/v1/admin/audit")
    async def audit(request: Request, authorization: str | None = Header(default=None), subject: str | None = None) -> dict[str, Any]:
        """The newest audit entries (optionally for one subject id)."""
        hub: Hub = request.app.state.hub
        await require_admin(hub, authorization)
        return {"entries": await asyncio.to_thread(hub.audit.entries, subject=subject[:64] if subject else None)}

    return router


__all__ = ["build_router", "eraser_for", "run_erasure"]
