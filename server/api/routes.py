"""REST endpoints of visit routes and check-in evidence (``fieldsync.geo``).

``POST /v1/routes/plan``      a ``DayRequest`` JSON -> ``DayPlan`` JSON
``POST /v1/routes/replan``    ``{request, position, now, done, lunch_taken}`` -> ``DayPlan`` JSON
``POST /v1/routes/team``      a ``TeamRequest`` JSON -> ``TeamPlan`` JSON
``POST /v1/checkins/classify`` ``{evidence, account, previous?, policy?}`` -> ``Verdict`` JSON

Bodies are parsed by the geo package's own ``from_json`` (one validation
path for HTTP, CLI and Python), so bad input comes back as typed FS-5xxx
errors. Handlers are plain functions: FastAPI runs them in its thread pool,
keeping the solver's CPU time off the event loop.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Body

from fieldsync.geo.checkin import AccountSite, Evidence, Policy, classify_check_in
from fieldsync.geo.datum import Point
from fieldsync.geo.planner import plan_day, replan
from fieldsync.geo.provider import provider_for
from fieldsync.geo.team import plan_team
from fieldsync.server.settings import Settings
from fieldsync.sync.errors import INVALID_CHECK_IN, INVALID_ROUTE_REQUEST, error_for


def build_router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["routes"])
    provider = provider_for(settings.distance_provider_url, fallback=settings.distance_provider_fallback)

    @router.post("/v1/routes/plan")
    def plan(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Plan one rep's day."""
        return plan_day(body, provider=provider).to_json()

    @router.post("/v1/routes/replan")
    def replan_day(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Re-plan the rest of a day from the rep's position and the current time."""
        done = body.get("done", [])
        if not isinstance(done, list) or not all(isinstance(d, str) for d in done):
            raise error_for(INVALID_ROUTE_REQUEST, "done must be a list of stop ids", field="done")
        lunch_taken = body.get("lunch_taken", False)
        if not isinstance(lunch_taken, bool):
            raise error_for(INVALID_ROUTE_REQUEST, "lunch_taken must be true or false", field="lunch_taken")
        now = body.get("now")
        if not isinstance(now, str):
            raise error_for(INVALID_ROUTE_REQUEST, "now must be a local time like '13:05' or an ISO 8601 datetime", field="now")
        return replan(body.get("request"), position=Point.from_json(body.get("position")), now=now, done=done,  # type: ignore[arg-type]
                      lunch_taken=lunch_taken, provider=provider).to_json()

    @router.post("/v1/routes/team")
    def team(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Distribute accounts across several reps' days."""
        return plan_team(body, provider=provider).to_json()

    @router.post("/v1/checkins/classify")
    def classify(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Classify check-in evidence; ``received_at`` defaults to the server's clock now."""
        raw = body.get("evidence")
        if not isinstance(raw, dict):
            raise error_for(INVALID_CHECK_IN, "evidence must be an object", field="evidence")
        raw = {"received_at": dt.datetime.now(dt.timezone.utc).isoformat(), **raw}
        previous = body.get("previous")
        verdict = classify_check_in(Evidence.from_json(raw), AccountSite.from_json(body.get("account")),
                                    previous=None if previous is None else Evidence.from_json(previous),
                                    policy=Policy.from_json(body.get("policy"), default_radius_m=settings.checkin_radius_m))
        return verdict.to_json()

    return router


__all__ = ["build_router"]
