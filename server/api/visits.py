"""Visits: check-in verdicts as they sync, and day plans written as planned visits.

* ``POST /v1/visits/plan`` — plan the calling rep's day (a ``fieldsync.geo``
  day request) and write it as planned visits that sync to the rep's devices;
  answers the plan and the visit ids.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Body, FastAPI, Header, Request

from fieldsync.geo import plan_day
from fieldsync.geo.visit_rows import visit_rows
from fieldsync.server.settings import Settings
from fieldsync.server.sync_api import bearer
from fieldsync.server.visits import VerdictWorker


async def on_startup(app: FastAPI) -> None:
    """Start classifying check-ins as they are committed."""
    worker = VerdictWorker(app.state.hub, app.state.settings)
    app.state.hub.listeners.append(worker.on_commit)
    worker.start()
    app.state.verdicts = worker


async def on_shutdown(app: FastAPI) -> None:
    await app.state.verdicts.stop()


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["visits"])

    @router.post("/v1/visits/plan")
    async def plan_into_visits(request: Request, body: dict[str, Any] = Body(...), authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """Plan the rep's day and write it as planned visits (re-planning rewrites the same visits)."""
        hub = request.app.state.hub
        principal = bearer(hub, authorization)
        plan = await asyncio.to_thread(plan_day, body)
        planned, skipped = visit_rows(plan, rep_id=principal.user_id)
        extra = {"owner_id": principal.user_id, "department_id": principal.department_id}
        for visit_id, values in planned + skipped:
            row = {**values, **{k: v for k, v in extra.items() if v is not None}}
            await hub.write(lambda i=visit_id, v=row: hub.store.server_write("visits", i, v))
        return {"plan": plan.to_json(), "visits": [i for i, _ in planned], "skipped": [i for i, _ in skipped]}

    return router
