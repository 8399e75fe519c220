"""Team planning: accounts shared across reps' days, each day checked independently."""

from __future__ import annotations

from typing import Any

import pytest

from fieldsync.geo import plan_team
from fieldsync.geo.request import DayRequest, TeamRequest
from fieldsync.geo.testing import random_team_request
from fieldsync.sync.errors import FieldSyncError


def test_team_days_keep_every_rule_and_share_accounts_once(check_plan: Any) -> None:
    """Every rep-day passes the day check, no account is visited twice, every must-visit is visited."""
    req = random_team_request(2, 45, 3, 2, time_limit_s=1.0, radius_km=10.0)
    plan = plan_team(req)
    assert len(plan.days) == 6
    visited = [s.id for d in plan.days for s in d.plan.stops]
    assert len(visited) == len(set(visited))
    assert {a.id for a in req.accounts if a.must_visit} <= set(visited)
    assert set(visited) | {d.id for d in plan.dropped} == {a.id for a in req.accounts}
    reps = {r.id: r for r in req.reps}
    by_id = {a.id: a for a in req.accounts}
    for day in plan.days:
        rep = reps[day.rep_id]
        accounts = tuple(by_id[s.id] for s in day.plan.stops)
        if not accounts:
            continue
        sub = DayRequest(day.plan.date, req.timezone, rep.start, rep.end, rep.shift, rep.lunch, accounts, (), req.travel, req.options)
        check_plan(sub, day.plan)
        assert day.plan.lunch is not None


def test_team_plan_json_lists_days_and_totals() -> None:
    """The team answer serialises with one entry per rep-day and totals."""
    body = plan_team(random_team_request(4, 20, 2, 1, time_limit_s=0.5)).to_json()
    assert len(body["days"]) == 2 and {"rep_id", "stops", "lunch"} <= set(body["days"][0])
    assert body["totals"]["visits"] + body["totals"]["dropped"] == 20


def test_team_request_validation() -> None:
    """A team request without reps or with duplicate accounts is a typed error."""
    body = random_team_request(5, 10, 2, 1).to_json()
    with pytest.raises(FieldSyncError):
        TeamRequest.from_json({**body, "reps": []})
    with pytest.raises(FieldSyncError):
        TeamRequest.from_json({**body, "accounts": body["accounts"] + body["accounts"][:1]})


def test_rep_restrictions_are_respected() -> None:
    """Accounts owned by one rep (rep_ids) only ever land in that rep's days, and unknown reps are refused."""
    from dataclasses import replace

    req = random_team_request(7, 30, 3, 2, time_limit_s=1.0, radius_km=8.0)
    owners = {a.id: (req.reps[k % 3].id,) for k, a in enumerate(req.accounts) if k % 2 == 0}
    restricted = replace(req, accounts=tuple(replace(a, rep_ids=owners.get(a.id, ())) for a in req.accounts))
    plan = plan_team(restricted)
    seen = 0
    for day in plan.days:
        for stop in day.plan.stops:
            if stop.id in owners:
                seen += 1
                assert day.rep_id in owners[stop.id]
    assert seen > 5
    body = restricted.to_json()
    body["accounts"][0]["rep_ids"] = ["nobody"]
    with pytest.raises(FieldSyncError):
        TeamRequest.from_json(body)
