"""Translation of errors to HTTP responses: the one place that decides statuses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from fieldsync.sync import errors as E

log = logging.getLogger("fieldsync.server")


def error_response(exc: E.FieldSyncError) -> JSONResponse:
    """The HTTP answer for a typed error: its status, ``{"error": {...}}`` body."""
    return JSONResponse(status_code=exc.code.http_status, content={"error": exc.to_wire()})


def install_error_handlers(app: FastAPI) -> None:
    """Make every error that leaves the app a typed ``{"error": {...}}`` body."""

    @app.exception_handler(E.FieldSyncError)
    async def _typed(_: Request, exc: E.FieldSyncError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [".".join(str(p) for p in err.get("loc", ())) for err in exc.errors()][:20]
        return error_response(E.ProtocolError(E.MALFORMED_MESSAGE, "request body does not match the schema", fields=fields))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(E.ServerError(E.INTERNAL))
