"""HTTP and WebSocket routes of the sync protocol (``docs/protocol.md`` §2, §7)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Header, Request, WebSocket

from fieldsync.server.hub import Hub, page_for_http
from fieldsync.server.store.base import Principal
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def require_device(request: Request, authorization: str | None = Header(default=None)) -> Principal:
    """FastAPI dependency: the caller must present a valid device or access token."""
    return await asyncio.to_thread(bearer, request.app.state.hub, authorization)


def bearer(hub: Hub, authorization: str | None) -> Principal:
    """The principal of an ``Authorization: Bearer`` header."""
    if not authorization or not authorization.startswith("Bearer "):
        raise E.AuthError(E.UNAUTHENTICATED, "send Authorization: Bearer <device token>")
    return hub.authenticate(authorization[7:].strip())


async def _json_body(request: Request, limit: int) -> Any:
    body = await request.body()
    if len(body) > limit:
        raise E.ProtocolError(E.FRAME_TOO_LARGE)
    return body


def build_router() -> APIRouter:
    router = APIRouter(tags=["sync"])

    @router.websocket("/v1/sync")
    async def sync_socket(ws: WebSocket) -> None:
        """The sync protocol over WebSocket."""
        await ws.app.state.hub.serve_websocket(ws)

    @router.post("/v1/sync/push")
    async def push(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """HTTP fallback: apply one `push` batch; answers its `ack`."""
        hub = _hub(request)
        principal = await asyncio.to_thread(bearer, hub, authorization)
        body = await _json_body(request, hub.settings.max_frame_bytes)
        msg = P.parse_client_message(body, max_changes=hub.settings.max_batch_changes)
        if not isinstance(msg, P.Push):
            raise E.ProtocolError(E.MALFORMED_MESSAGE, "expected a push message")
        return await hub.push(principal, msg)

    @router.post("/v1/sync/pull")
    async def pull(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """HTTP fallback: the frames of the next page set after `cursor`."""
        hub = _hub(request)
        try:
            principal = await asyncio.to_thread(bearer, hub, authorization)
        except E.AuthError as err:
            if err.code is E.DEVICE_REVOKED:  # the device's next contact wipes it
                return {"messages": [P.purge("device_revoked")]}
            raise
        body = await _json_body(request, 64 * 1024)
        msg = P.parse_client_message(body, max_changes=0)
        if not isinstance(msg, P.Pull):
            raise E.ProtocolError(E.MALFORMED_MESSAGE, "expected a pull message")
        schema = hub.schema.version if msg.schema is None else msg.schema
        if schema > hub.schema.version:
            raise E.ProtocolError(E.SCHEMA_TOO_NEW, f"server schema is {hub.schema.version}")
        messages = await asyncio.to_thread(page_for_http, hub, principal, msg.cursor, schema)
        return {"messages": messages}

    @router.get("/v1/sync/info")
    async def info(request: Request) -> dict[str, Any]:
        """Server sequence, clock and versions (the HTTP fallback's `welcome`)."""
        hub = _hub(request)
        return {
            "seq": str(hub.head),
            "server_time": str(int(time.time() * 1000)),
            "schema": hub.schema.version,
            "protocol": P.PROTOCOL_VERSION,
        }

    @router.get("/v1/records/{table}/{row_id}/conflicts")
    async def conflicts(table: str, row_id: str, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """The conflict history of one record."""
        hub = _hub(request)
        principal = await asyncio.to_thread(bearer, hub, authorization)
        hub.schema.table(table)
        scope = await asyncio.to_thread(hub.scope_for, principal)
        if scope is not None:
            current = (await asyncio.to_thread(hub.store.row_scopes, table, [row_id[:36]])).get(row_id)  # type: ignore[attr-defined]
            if current is None or not scope.reads(table, row_id, *current):
                raise E.AuthError(E.OUT_OF_SCOPE, "the record is outside your read scope")
        found = await asyncio.to_thread(hub.store.conflicts, table, row_id)
        if scope is not None:
            found = [c for c in found if not scope.hides(table, str(c.get("field")))]
        return {"conflicts": found}

    return router
