"""The managers' live visit log: the page at ``/dashboard`` and its REST API under ``/v1/dashboard``.

Every data endpoint takes the same bearer access token as the sync hub and
answers only what the signed-in user's read scope reaches, computed here on
the server (``fieldsync.server.dashboard.access``). The page is a hub client:
it learns *which* visits changed from its scoped live feed and re-fetches
them here. See ``docs/dashboard.md``.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, StreamingResponse
from pydantic import BaseModel

from fieldsync.server.dashboard.access import Viewer, viewer_for
from fieldsync.server.dashboard.conflicts import (brought_back, check_restore, describe_records, name_writers, open_conflicts,
                                                  record_conflicts, restore_job)
from fieldsync.server.dashboard.day import day_view
from fieldsync.server.dashboard.export import csv_chunks
from fieldsync.server.dashboard.queries import VisitFilter, VisitQueries
from fieldsync.server.dashboard.reviews import mark_reviewed, withdraw_review
from fieldsync.server.org.audit import AuditAction
from fieldsync.server.settings import Settings
from fieldsync.server.sync_api import bearer
from fieldsync.sync import errors as E

STATIC = Path(__file__).resolve().parent.parent / "dashboard" / "static"
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
         ".html": "text/html; charset=utf-8"}
TABLES = ("visits", "accounts", "contacts", "leads", "opportunities", "tasks")


def tile_url(settings: Settings) -> str | None:
    """The optional map tile URL template (``{z}/{x}/{y}``), or None: the map is drawn without tiles."""
    url = settings.dashboard_tile_url
    if url and urlsplit(url).scheme not in ("http", "https"):
        return None
    return url


def _csp(settings: Settings) -> str:
    tiles = tile_url(settings)
    img = "'self' data:" + (f" {urlsplit(tiles).scheme}://{urlsplit(tiles).netloc}" if tiles else "")
    return (f"default-src 'self'; img-src {img}; connect-src 'self' ws: wss:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


async def _viewer(request: Request, authorization: str | None) -> Viewer:
    hub = request.app.state.hub
    principal = await asyncio.to_thread(bearer, hub, authorization)
    return await asyncio.to_thread(viewer_for, hub, principal)


def _filter(rep: str | None, start: str | None, end: str | None, verdict: str | None, account: str | None, ids: str | None = None,
            reviewed: str | None = None) -> VisitFilter:
    return VisitFilter.parse(rep=rep, start=start, end=end, verdict=verdict, account=account, ids=ids, reviewed=reviewed)


class ReviewBody(BaseModel):
    """A review mark's optional short note (at most 500 characters)."""

    note: str | None = None


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["dashboard"])
    headers = {"Content-Security-Policy": _csp(settings), "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               "Cache-Control": "no-cache"}

    @router.get("/dashboard", include_in_schema=False)
    async def page() -> HTMLResponse:
        """The dashboard page (plain HTML, CSS and ES modules; no build step, no CDN)."""
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"), headers=headers)

    @router.get("/dashboard/static/{name}", include_in_schema=False)
    async def static(name: str) -> FileResponse:
        """One static file of the page."""
        path = (STATIC / name).resolve()
        if path.parent != STATIC or path.suffix not in TYPES or not path.is_file():
            raise HTTPException(status_code=404)
        return FileResponse(path, media_type=TYPES[path.suffix], headers=headers)

    @router.get("/v1/dashboard/me")
    async def me(request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Who is signed in, whether they see a team, the people they may filter by, and the map tile setting."""
        viewer = await _viewer(request, authorization)
        return {"user": viewer.user_id, "name": viewer.name_of(viewer.user_id) or viewer.user_id, "team": viewer.team,
                "people": viewer.people(), "tile_url": tile_url(settings)}

    @router.get("/v1/dashboard/visits")
    async def visits(
        request: Request,
        authorization: str | None = Header(default=None),
        rep: str | None = Query(default=None, max_length=4000, description="comma-separated user ids"),
        start: str | None = Query(default=None, max_length=40, description="ISO 8601 instant, inclusive"),
        end: str | None = Query(default=None, max_length=40, description="ISO 8601 instant, exclusive"),
        verdict: str | None = Query(default=None, max_length=100, description="verified, out_of_range, suspect, none, suspicious"),
        account: str | None = Query(default=None, max_length=200, description="account id or part of its name"),
        ids: str | None = Query(default=None, max_length=20000, description="only these visit ids (live re-fetch)"),
        reviewed: str | None = Query(default=None, max_length=5, description="true: with a current review mark; false: without (to review)"),
        limit: int = Query(default=100, ge=1, le=500),
        offset: int = Query(default=0, ge=0, le=10_000_000),
    ) -> dict[str, Any]:
        """The visit log: filtered, scope-limited, paginated, with the total count."""
        viewer = await _viewer(request, authorization)
        f = _filter(rep, start, end, verdict, account, ids, reviewed)
        return await asyncio.to_thread(VisitQueries(request.app.state.store, viewer).page, f, limit=limit, offset=offset)

    @router.get("/v1/dashboard/visits.csv")
    async def visits_csv(
        request: Request,
        authorization: str | None = Header(default=None),
        rep: str | None = Query(default=None, max_length=4000),
        start: str | None = Query(default=None, max_length=40),
        end: str | None = Query(default=None, max_length=40),
        verdict: str | None = Query(default=None, max_length=100),
        account: str | None = Query(default=None, max_length=200),
        reviewed: str | None = Query(default=None, max_length=5, description="true: with a current review mark; false: without"),
    ) -> StreamingResponse:
        """The whole filtered visit log as CSV (with managers' review marks for those who see them)."""
        viewer = await _viewer(request, authorization)
        f = _filter(rep, start, end, verdict, account, None, reviewed)
        queries = VisitQueries(request.app.state.store, viewer)
        await asyncio.to_thread(queries.check, f)  # refuse out-of-scope filters before the response starts
        hidden = viewer.hidden("visits")
        return StreamingResponse(csv_chunks(queries.iter_all(f), hidden, reviews=viewer.team and "verdict" not in hidden),
                                 media_type="text/csv; charset=utf-8", headers={"Content-Disposition": 'attachment; filename="visits.csv"'})

    @router.get("/v1/dashboard/day")
    async def day(
        request: Request,
        authorization: str | None = Header(default=None),
        rep: str | None = Query(default=None, max_length=36, description="user id (default: the signed-in user)"),
        start: str = Query(max_length=40, description="start of the day, ISO 8601 instant"),
        end: str = Query(max_length=40, description="end of the day, ISO 8601 instant"),
    ) -> dict[str, Any]:
        """One rep's day: visits in route order with planned (account) and actual (check-in) points in WGS-84."""
        viewer = await _viewer(request, authorization)
        f = _filter(rep or viewer.user_id, start, end, None, None)
        result = await asyncio.to_thread(day_view, VisitQueries(request.app.state.store, viewer), f)
        return {**result, "tile_url": tile_url(settings)}

    @router.get("/v1/dashboard/funnel")
    async def funnel(
        request: Request,
        authorization: str | None = Header(default=None),
        rep: str | None = Query(default=None, max_length=4000),
        start: str | None = Query(default=None, max_length=40),
        end: str | None = Query(default=None, max_length=40),
        account: str | None = Query(default=None, max_length=200),
    ) -> dict[str, Any]:
        """Per rep for the range: planned, checked in, verified, done, suspicious; dwell and mean distance."""
        viewer = await _viewer(request, authorization)
        f = _filter(rep, start, end, None, account)
        return await asyncio.to_thread(VisitQueries(request.app.state.store, viewer).funnel, f)

    @router.post("/v1/dashboard/visits/{visit_id}/review")
    async def review(visit_id: str, request: Request, body: ReviewBody | None = None,
                     authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Mark a suspicious check-in reviewed (who, when, optional note); it leaves the to-review list for every manager."""
        viewer = await _viewer(request, authorization)
        hub = request.app.state.hub
        note = body.note if body is not None else None
        done = await asyncio.to_thread(mark_reviewed, hub.store, viewer, visit_id.lower(), note)
        await asyncio.to_thread(hub.audit.record, AuditAction.CHECKIN_REVIEWED, actor=viewer.user_id, subject=done["visit_id"],
                                table="visits", verdict=done["review"]["verdict"], note=done["review"]["note"] is not None)
        return done

    @router.delete("/v1/dashboard/visits/{visit_id}/review")
    async def unreview(visit_id: str, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Withdraw a check-in's review mark (any manager who could mark it); a suspicious one is to review again."""
        viewer = await _viewer(request, authorization)
        hub = request.app.state.hub
        done = await asyncio.to_thread(withdraw_review, hub.store, viewer, visit_id.lower())
        await asyncio.to_thread(hub.audit.record, AuditAction.REVIEW_WITHDRAWN, actor=viewer.user_id, subject=done["visit_id"],
                                table="visits", verdict=done["withdrawn"]["verdict"])
        return done

    @router.get("/v1/dashboard/conflicts")
    async def conflicts(request: Request, authorization: str | None = Header(default=None),
                        table: str = Query(default="visits", max_length=200, description="a table, or several comma-separated")) -> dict[str, Any]:
        """Unresolved conflicts of records in the user's read scope, newest first."""
        viewer = await _viewer(request, authorization)
        tables = tuple(dict.fromkeys(x for x in table.split(",") if x))
        if not tables or any(x not in TABLES for x in tables):
            raise E.ValidationError(E.UNKNOWN_TABLE)
        store = request.app.state.store
        found = await asyncio.to_thread(open_conflicts, store, viewer, tables)
        found = await asyncio.to_thread(name_writers, request.app.state.hub.devices, viewer, found)
        found = await asyncio.to_thread(describe_records, store, viewer, found)
        return {"conflicts": found}

    @router.get("/v1/dashboard/records/{table}/{row_id}/conflicts")
    async def history(table: str, row_id: str, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """The conflict history of one record (refused outside the user's read scope)."""
        viewer = await _viewer(request, authorization)
        if table not in TABLES:
            raise E.ValidationError(E.UNKNOWN_TABLE)
        found = await asyncio.to_thread(record_conflicts, request.app.state.store, viewer, table, row_id.lower())
        return {"conflicts": await asyncio.to_thread(name_writers, request.app.state.hub.devices, viewer, found)}

    @router.post("/v1/dashboard/conflicts/{conflict_id}/restore")
    async def restore(conflict_id: int, request: Request, authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Write a losing value back as a server write; it syncs to every device holding the record."""
        viewer = await _viewer(request, authorization)
        hub = request.app.state.hub
        if not 0 < conflict_id < 2**62:
            raise E.AuthError(E.OUT_OF_SCOPE, "no such conflict in your scope")
        table, raw = await asyncio.to_thread(check_restore, hub.store, viewer, conflict_id)
        outcome = await hub.write(restore_job(hub.store, table, raw))
        revived = brought_back(outcome, raw["row_id"])
        await asyncio.to_thread(hub.audit.record, AuditAction.CONFLICT_RESTORED, actor=viewer.user_id, subject=raw["row_id"],
                                table=table, field=raw["field"], kind=raw["kind"], conflict=conflict_id)
        return {"restored": True, "table": table, "row_id": raw["row_id"], "field": raw["field"], "value": raw["loser"]["value"],
                "kind": raw["kind"], "row_restored": revived, "seq": outcome.ack.get("seq")}

    return router


__all__ = ["build_router", "tile_url"]
