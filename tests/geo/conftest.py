"""Shared helpers for the geo tests: an independent plan checker and an API client."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fieldsync.geo.datum import Datum
from fieldsync.geo.plan import DayPlan
from fieldsync.geo.request import DayRequest


def _travel_s(req: DayRequest, a: Any, b: Any) -> int:
    """Travel seconds recomputed from first principles (haversine on the WGS-84 points)."""
    pa, pb = a.to(Datum.WGS84), b.to(Datum.WGS84)
    if (pa.lat, pa.lon) == (pb.lat, pb.lon):
        return 0
    p1, p2 = math.radians(pa.lat), math.radians(pb.lat)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(pb.lon - pa.lon) / 2) ** 2
    metres = 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h))) * req.travel.detour_factor
    return math.ceil(metres / (req.travel.speed_kmh / 3.6)) + req.travel.leg_overhead_s


def check_plan(req: DayRequest, plan: DayPlan) -> None:
    """Assert every rule of the day on ``plan`` without trusting the planner's own checker."""
    accounts = {a.id: a for a in req.accounts}
    appts = {a.id: a for a in req.appointments}
    ids = [s.id for s in plan.stops]
    assert len(ids) == len(set(ids)), "a stop is planned twice"
    assert set(ids) | {d.id for d in plan.dropped} == set(accounts) | set(appts), "every candidate is planned or explained"
    assert not set(ids) & {d.id for d in plan.dropped}
    assert set(appts) <= set(ids), "every appointment is kept"
    assert {a.id for a in req.accounts if a.must_visit} <= set(ids), "every must-visit account is visited"
    assert req.shift.start <= plan.depart
    clock, here = plan.depart, req.start
    busy: list[tuple[int, int]] = []
    for stop in plan.stops:
        assert stop.arrival >= clock + _travel_s(req, here, stop.location) - 1, f"{stop.id} reached faster than possible"
        assert stop.start >= stop.arrival
        if stop.kind == "appointment":
            ap = appts[stop.id]
            assert stop.start == ap.start and stop.departure == ap.start + ap.duration_s
        else:
            acc = accounts[stop.id]
            assert stop.departure == stop.start + acc.visit_s
            if acc.windows:
                assert any(w.start <= stop.start and stop.departure <= w.end for w in acc.windows), f"{stop.id} outside its hours"
        busy.append((stop.start, stop.departure))
        clock, here = stop.departure, stop.location
        if plan.lunch is not None and plan.lunch.after == stop.id:
            assert plan.lunch.start >= clock + _travel_s(req, here, plan.lunch.location) - 1
            clock, here = plan.lunch.end, plan.lunch.location
    assert plan.back >= clock + _travel_s(req, here, req.end) - 1
    assert plan.back <= req.shift.end, "back after the end of the shift"
    if plan.lunch is not None:
        assert req.lunch is not None
        lunch = plan.lunch
        assert lunch.end - lunch.start == req.lunch.duration_s
        assert req.lunch.window.start <= lunch.start and lunch.end <= req.lunch.window.end
        assert all(lunch.end <= s or lunch.start >= e for s, e in busy), "lunch overlaps a visit"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Any]:
    """A TestClient on a fresh app with a SQLite file under tmp_path."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient
    from fieldsync.server.app import create_app
    from fieldsync.server.settings import Settings

    from fieldsync.server.testing import auth_header

    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db")
    with TestClient(create_app(settings), headers=auth_header(settings)) as client:
        yield client


@pytest.fixture(name="check_plan")
def check_plan_fixture() -> Any:
    """The independent plan checker, as a fixture (test modules cannot import conftest)."""
    return check_plan
