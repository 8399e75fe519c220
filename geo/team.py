"""Team planning: share a set of accounts across several reps' days.

Theory of operation
-------------------
Cluster and sequence at once, then finish each day exactly:

1. One multi-vehicle prize-collecting VRPTW: a vehicle per (rep, date),
   starting and ending at the rep's base within the rep's shift, shortened
   by the rep's lunch length (PyVRP has no per-route break, and the lunch
   groups of ``planner`` would let one route eat another's lunch).
   Accounts restricted to some reps (``rep_ids``, e.g. ownership) are made
   unreachable in the other reps' routing profiles, and checked afterwards.
   Opening hours are daily and every vehicle lives in the same
   time-of-day frame, so one window per account serves every date.
2. Each route then becomes a ``DayRequest`` for its rep and date. The break
   is inserted into the solver's order at the position that brings the rep
   home earliest; if no position keeps every window, that day alone is
   re-solved by ``planner.plan_with_matrix`` (which also drops the least
   valuable optional stops if it must).
3. Every day passes the same independent schedule check as a single day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from fieldsync.geo import solver
from fieldsync.geo.datum import Point
from fieldsync.geo.plan import DayPlan, DropReason, DroppedStop, RepDay, TeamPlan
from fieldsync.geo.planner import LUNCH_KEY, account_event, account_variants, build_plan, lunch_starts, plan_with_matrix
from fieldsync.geo.request import Candidate, DayRequest, Rep, TeamRequest, Window
from fieldsync.geo.schedule import Event, EventKind, evaluate
from fieldsync.geo.travel import MatrixProvider, TravelMatrix, great_circle
from fieldsync.sync.errors import NO_FEASIBLE_PLAN, ServiceError, error_for


def _with_lunch(events: list[Event], req: DayRequest, matrix: TravelMatrix) -> list[Event] | None:
    span = lunch_starts(req.lunch, req.shift)
    if span is None or req.lunch is None:
        return events
    best: tuple[int, list[Event]] | None = None
    for pos in range(len(events) + 1):
        loc = events[pos - 1].location if pos else 0
        trial = [*events[:pos], Event(EventKind.LUNCH, LUNCH_KEY, loc, req.lunch.duration_s, span), *events[pos:]]
        table = evaluate(trial, matrix, start_loc=0, end_loc=1, shift=req.shift)
        if table.feasible and (best is None or table.back < best[0]):
            best = (table.back, trial)
    return None if best is None else best[1]


def plan_team(request: TeamRequest | Mapping[str, Any], *, provider: MatrixProvider | None = None) -> TeamPlan:
    """Distribute ``request.accounts`` over every rep's dates; each account is visited at most once."""
    req = request if isinstance(request, TeamRequest) else TeamRequest.from_json(request)
    rep_locs: dict[str, tuple[int, int]] = {}
    points: list[Point] = []
    for rep in req.reps:
        rep_locs[rep.id] = (len(points), len(points) + 1)
        points += [rep.start, rep.end]
    first_acc = len(points)
    points += [a.location for a in req.accounts]
    matrix = (provider or great_circle)(points, req.travel)
    horizon = Window(min(r.shift.start for r in req.reps), max(r.shift.end for r in req.reps))

    nodes: list[solver.Node] = []
    owner: list[int] = []
    groups: list[bool] = []
    dropped: list[DroppedStop] = []
    for k, acc in enumerate(req.accounts):
        variants = account_variants(acc, first_acc + k, horizon, req.options.soft_window_penalty)
        if not variants:
            if acc.must_visit:
                raise error_for(NO_FEASIBLE_PLAN, f"must-visit account {acc.id}: no opening hours inside any rep's shift", id=acc.id)
            dropped.append(DroppedStop(acc.id, DropReason.WINDOW_OUTSIDE_SHIFT))
            continue
        group = None
        if len(variants) > 1:
            group = len(groups)
            groups.append(acc.must_visit)
        for (lo, hi), prize in variants:
            nodes.append(solver.Node(first_acc + k, acc.visit_s, lo, hi, prize, acc.must_visit and group is None, group))
            owner.append(k)
    slots: list[tuple[Rep, int]] = [(rep, d) for rep in req.reps for d in range(len(req.dates))]
    profiles, profile_of = _rep_profiles(req, matrix, first_acc)
    vehicles = []
    for rep, _ in slots:
        lunch = rep.lunch.duration_s if lunch_starts(rep.lunch, rep.shift) is not None and rep.lunch else 0
        s, e = rep_locs[rep.id]
        vehicles.append(solver.Vehicle(s, e, rep.shift.start, rep.shift.end - lunch, profile=profile_of.get(rep.id, 0)))
    problem = solver.Problem(matrix.seconds, matrix.seconds, tuple(nodes), tuple(vehicles), tuple(groups), profiles)
    solved = solver.solve(problem, solver.Budget(seconds=req.options.time_limit_s, no_improvement=20_000, seed=req.options.seed))
    if not solved.feasible:
        raise error_for(NO_FEASIBLE_PLAN, "the must-visit accounts do not fit in the team's shifts",
                        must_visit=[a.id for a in req.accounts if a.must_visit][:50])
    for (rep, _), route in zip(slots, solved.routes):
        for n in route:  # the restriction is enforced by prohibitive travel; check it, never trust it
            allowed = req.accounts[owner[n]].rep_ids
            if allowed and rep.id not in allowed:
                raise error_for(NO_FEASIBLE_PLAN, f"account {req.accounts[owner[n]].id} cannot be given to its allowed reps",
                                id=req.accounts[owner[n]].id)

    days: list[RepDay] = []
    assigned: set[str] = set()
    for (rep, d), route in zip(slots, solved.routes):
        accounts = [req.accounts[owner[n]] for n in route]
        if not accounts:
            days.append(RepDay(rep.id, DayPlan(req.dates[d], req.timezone, (), None, (), rep.shift.start, rep.shift.start, 0, 0, 0, 0.0,
                                               matrix.source, matrix.warnings)))
            continue
        day_req = DayRequest(req.dates[d], req.timezone, rep.start, rep.end, rep.shift, rep.lunch, tuple(accounts), (),
                             req.travel, req.options)
        s, e = rep_locs[rep.id]
        sub = matrix.sub([s, e, *(first_acc + owner[n] for n in route)])
        plan = _finish_day(day_req, sub, accounts)
        assigned |= {st.id for st in plan.stops}
        days.append(RepDay(rep.id, replace(plan, dropped=(), solver_runtime_s=0.0)))
    listed = {d.id for d in dropped}
    for acc in req.accounts:
        if acc.id not in assigned and acc.id not in listed:
            dropped.append(DroppedStop(acc.id, _team_reason(acc, req, days, matrix, rep_locs, first_acc)))
    return TeamPlan(tuple(days), tuple(dropped), solved.runtime_s)


_FORBIDDEN_S = 10**8  # a leg no shift can absorb: visiting it would break the route's time window


def _rep_profiles(req: TeamRequest, matrix: TravelMatrix, first_acc: int
                  ) -> tuple[tuple[tuple[np.ndarray, np.ndarray], ...], dict[str, int]]:
    """One routing profile per rep that may not take some accounts: travel into those accounts is prohibitive.

    PyVRP has no client-to-vehicle restriction; a vehicle's own matrices are the standard way to express
    one, and the assignment is re-checked after solving.
    """
    profiles: list[tuple[np.ndarray, np.ndarray]] = []
    profile_of: dict[str, int] = {}
    for rep in req.reps:
        banned = [first_acc + k for k, a in enumerate(req.accounts) if a.rep_ids and rep.id not in a.rep_ids]
        if not banned:
            continue
        seconds = matrix.seconds.copy()
        seconds[:, banned] = _FORBIDDEN_S
        np.fill_diagonal(seconds, 0)
        profiles.append((seconds, seconds))
        profile_of[rep.id] = len(profiles)
    return tuple(profiles), profile_of


def _finish_day(req: DayRequest, matrix: TravelMatrix, accounts: list[Candidate]) -> DayPlan:
    events = [account_event(a, 2 + i, req.shift) for i, a in enumerate(accounts)]
    ordered = _with_lunch(events, req, matrix)
    cands = list(enumerate(accounts))
    if ordered is not None:
        try:
            return build_plan(req, matrix, ordered, cands, [], [], 0.0, lunch_starts(req.lunch, req.shift) is not None)
        except ServiceError:
            pass
    return plan_with_matrix(req, matrix, strict=True, budget=solver.Budget(seconds=0.5, no_improvement=500, seed=req.options.seed))


def _team_reason(acc: Candidate, req: TeamRequest, days: list[RepDay], matrix: TravelMatrix,
                 rep_locs: dict[str, tuple[int, int]], first_acc: int) -> DropReason:
    """LOW_VALUE if the account fits feasibly into some planned day as it stands, else NO_TIME."""
    k = next(i for i, a in enumerate(req.accounts) if a.id == acc.id)
    reps = {r.id: r for r in req.reps}
    index = {a.id: i for i, a in enumerate(req.accounts)}
    for day in days:
        if acc.rep_ids and day.rep_id not in acc.rep_ids:
            continue
        rep = reps[day.rep_id]
        s, e = rep_locs[rep.id]
        ids = [st.id for st in day.plan.stops]
        locs = [s, e, *(first_acc + index[i] for i in ids), first_acc + k]
        sub = matrix.sub(locs)
        events = [account_event(req.accounts[index[i]], 2 + j, rep.shift) for j, i in enumerate(ids)]
        if day.plan.lunch is not None and rep.lunch is not None:
            span = lunch_starts(rep.lunch, rep.shift) or ()
            pos = 0 if day.plan.lunch.after is None else ids.index(day.plan.lunch.after) + 1
            loc = events[pos - 1].location if pos else 0
            events.insert(pos, Event(EventKind.LUNCH, LUNCH_KEY, loc, rep.lunch.duration_s, span))
        ev = account_event(acc, len(locs) - 1, rep.shift)
        if not ev.starts:
            continue
        for pos in range(len(events) + 1):
            if evaluate([*events[:pos], ev, *events[pos:]], sub, start_loc=0, end_loc=1, shift=rep.shift).feasible:
                return DropReason.LOW_VALUE
    return DropReason.NO_TIME


__all__ = ["plan_team"]
