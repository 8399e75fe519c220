"""Structured logs: one JSON object per line, with the request id and the device of the current context.

``RequestIdMiddleware`` gives every HTTP request and WebSocket connection a
request id (the client's ``X-Request-ID`` when it sends a sane one, else a new
one, echoed in the response). The hub adds the device's site and user to the
context once a ``hello`` is accepted. ``configure_logging()`` (called by
``fieldsync serve``) makes every log record carry them.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from typing import Any

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("fieldsync_request_id", default=None)
device: contextvars.ContextVar[str | None] = contextvars.ContextVar("fieldsync_device", default=None)
user: contextvars.ContextVar[str | None] = contextvars.ContextVar("fieldsync_user", default=None)
_SANE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "msg", "request_id", "device", "user", "exc"}``, one line each."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, var in (("request_id", request_id), ("device", device), ("user", user)):
            value = var.get()
            if value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    """Send every log record to stderr as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class RequestIdMiddleware:
    """Pure ASGI middleware (HTTP and WebSocket): a request id in the context and the response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = given if _SANE.match(given) else uuid.uuid4().hex
        token = request_id.set(rid)

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            await send(message)

        try:
            # A WebSocket's frames carry no headers: only HTTP responses need the wrapper (and every live frame is spared it).
            await self.app(scope, receive, send_with_id if scope["type"] == "http" else send)
        finally:
            request_id.reset(token)


__all__ = ["JsonFormatter", "RequestIdMiddleware", "configure_logging", "device", "request_id", "user"]
