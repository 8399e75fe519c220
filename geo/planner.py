"""Day planning: a ``DayRequest`` in, a checked ``DayPlan`` out.

Theory of operation
-------------------
1. *Screen.* Each account's opening hours are clipped to the shift and turned
   into allowed service starts; an account that cannot even be visited alone
   (start -> account -> end inside its hours and the shift) is left out with a
   reason, or, if it is a must-visit, refused with a typed error.
2. *Model.* The day becomes a prize-collecting VRPTW for one vehicle, costs
   in travel seconds. An optional account is a node with prize ``value x 60``
   (one value point = one minute of travel). Soft windows and several
   opening windows become a mutually exclusive *group* of variants of the
   same account, one per window; a variant outside the soft window earns
   ``soft_window_penalty`` points less. Appointments are required nodes
   whose window is a single instant. Lunch is a required group of variants,
   one co-located with each place of the day, whose service is the break:
   the solver thus decides where and when to eat without a special engine
   feature, and a break "at account X" costs no extra travel.
3. *Solve* with :mod:`fieldsync.geo.solver` (the only engine import).
4. *Check.* The route is re-timed by :mod:`fieldsync.geo.schedule` against
   the request's own windows, shift and lunch; a plan that breaks any rule
   is never returned.
5. *Explain.* Every optional account not in the plan gets a reason: does it
   fit anywhere in the final day (then it was not worth the detour) or not.

Re-planning (``replan``) rewrites the request from the rep's position and
the current time with what remains, and solves it with a short budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from fieldsync.geo import solver
from fieldsync.geo.datum import Point
from fieldsync.geo.plan import DayPlan, DropReason, DroppedStop, LunchBreak, PlannedStop
from fieldsync.geo.request import Candidate, DayRequest, Lunch, Window, parse_time
from fieldsync.geo.schedule import Event, EventKind, Timetable, evaluate, visit_starts
from fieldsync.geo.travel import MatrixProvider, TravelMatrix, great_circle
from fieldsync.sync.errors import INVALID_ROUTE_REQUEST, NO_FEASIBLE_PLAN, error_for

LUNCH_KEY = "lunch"
_MUST_AS_OPTIONAL_VALUE = 10_000.0  # when re-planning a day that can no longer hold every must-visit


@dataclass(frozen=True, slots=True)
class _Meta:
    """What a solver node stands for."""

    event: Event
    account: Candidate | None = None


def points_of(req: DayRequest) -> list[Point]:
    """The day's places in matrix order: start, end, accounts, appointments."""
    return [req.start, req.end, *(a.location for a in req.accounts), *(a.location for a in req.appointments)]


def account_event(acc: Candidate, loc: int, shift: Window) -> Event:
    return Event(EventKind.VISIT, acc.id, loc, acc.visit_s, visit_starts(acc.windows, acc.visit_s, shift))


def lunch_starts(lunch: Lunch | None, shift: Window) -> tuple[tuple[int, int], ...] | None:
    """Allowed break starts inside the shift, or None when the day has no break."""
    if lunch is None:
        return None
    inside = lunch.window.intersect(shift)
    if inside is None or inside.length < lunch.duration_s:
        return None
    return ((inside.start, inside.end - lunch.duration_s),)


def account_variants(acc: Candidate, loc: int, shift: Window, penalty_points: float) -> list[tuple[tuple[int, int], int]]:
    """(allowed start span, prize) per solver variant of an account; prizes in travel seconds."""
    value = 0 if acc.must_visit else round(acc.value * 60)
    hard = visit_starts(acc.windows, acc.visit_s, shift)
    if acc.soft_window is None:
        return [(span, value) for span in hard]
    penalty = round(penalty_points * 60)
    preferred = [w2 for w in (acc.windows or (shift,)) if (w2 := w.intersect(acc.soft_window)) is not None]
    soft = visit_starts(preferred, acc.visit_s, shift) if preferred else ()
    if acc.must_visit:
        return [(span, penalty) for span in soft] + [(span, 0) for span in hard]
    return [(span, value) for span in soft] + [(span, max(0, value - penalty)) for span in hard]


def _alone_ok(ev: Event, matrix: TravelMatrix, shift: Window) -> bool:
    return bool(ev.starts) and evaluate([ev], matrix, start_loc=0, end_loc=1, shift=shift).feasible


def plan_day(request: DayRequest | Mapping[str, Any], *, provider: MatrixProvider | None = None) -> DayPlan:
    """Plan one rep's day; raises typed FS-5xxx errors for bad or impossible requests."""
    req = request if isinstance(request, DayRequest) else DayRequest.from_json(request)
    matrix = (provider or great_circle)(points_of(req), req.travel)
    return plan_with_matrix(req, matrix, strict=True)


def plan_with_matrix(req: DayRequest, matrix: TravelMatrix, *, strict: bool, budget: solver.Budget | None = None) -> DayPlan:
    """Plan ``req`` on a precomputed matrix whose order is ``points_of(req)``."""
    shift, n_acc = req.shift, len(req.accounts)
    warnings: list[str] = list(matrix.warnings)
    dropped: list[DroppedStop] = []
    eligible: list[tuple[int, Candidate]] = []
    for i, acc in enumerate(req.accounts):
        ev = account_event(acc, 2 + i, shift)
        if not ev.starts:
            reason = DropReason.WINDOW_OUTSIDE_SHIFT
        elif not _alone_ok(ev, matrix, shift):
            reason = DropReason.UNREACHABLE
        else:
            eligible.append((i, acc))
            continue
        if acc.must_visit and strict:
            raise error_for(NO_FEASIBLE_PLAN, f"must-visit account {acc.id}: {DroppedStop(acc.id, reason).message}",
                            id=acc.id, reason=reason.value)
        if acc.must_visit:
            warnings.append(f"must-visit account {acc.id} can no longer be visited today")
        dropped.append(DroppedStop(acc.id, reason))
    appts = [Event(EventKind.APPOINTMENT, a.id, 2 + n_acc + k, a.duration_s, ((a.start, a.start),))
             for k, a in enumerate(req.appointments)]
    for ev in appts:
        if not _alone_ok(ev, matrix, shift):
            raise error_for(NO_FEASIBLE_PLAN, f"appointment {ev.key} cannot be reached in time from the start", id=ev.key)
    lunch_span = lunch_starts(req.lunch, shift)
    if req.lunch is not None and lunch_span is None:
        warnings.append("the lunch window lies outside the shift; no break planned")

    problem, metas = _model(req, matrix, eligible, appts, lunch_span)
    budget = budget or solver.Budget(seconds=req.options.time_limit_s, seed=req.options.seed)
    solved = solver.solve(problem, budget)
    if not solved.feasible and not strict:
        return _relaxed(req, matrix, eligible, appts, lunch_span, dropped, warnings, budget)
    if not solved.feasible:
        musts = sorted(a.id for _, a in eligible if a.must_visit)
        raise error_for(NO_FEASIBLE_PLAN, "the must-visit accounts, appointments and lunch do not fit together in the shift",
                        must_visit=musts[:50], appointments=[e.key for e in appts][:50])
    events = [metas[node].event for node in solved.routes[0]]
    return build_plan(req, matrix, events, eligible, dropped, warnings, solved.runtime_s, lunch_span is not None)


def _relaxed(req: DayRequest, matrix: TravelMatrix, eligible: list[tuple[int, Candidate]], appts: list[Event],
             lunch_span: tuple[tuple[int, int], ...] | None, dropped: list[DroppedStop], warnings: list[str],
             budget: solver.Budget) -> DayPlan:
    """Re-planning fallback: must-visits become very valuable optional stops, so as many as possible stay."""
    soft = [(i, replace(a, must_visit=False, value=_MUST_AS_OPTIONAL_VALUE) if a.must_visit else a) for i, a in eligible]
    problem, metas = _model(req, matrix, soft, appts, lunch_span)
    solved = solver.solve(problem, budget)
    if not solved.feasible:
        raise error_for(NO_FEASIBLE_PLAN, "the remaining appointments and lunch no longer fit in the shift")
    events = [metas[node].event for node in solved.routes[0]]
    kept = {e.key for e in events}
    for _, acc in eligible:
        if acc.must_visit and acc.id not in kept:
            warnings.append(f"must-visit account {acc.id} no longer fits today")
    return build_plan(req, matrix, events, soft, dropped, warnings, solved.runtime_s, lunch_span is not None)


def _model(req: DayRequest, matrix: TravelMatrix, eligible: Sequence[tuple[int, Candidate]], appts: Sequence[Event],
           lunch_span: tuple[tuple[int, int], ...] | None) -> tuple[solver.Problem, list[_Meta]]:
    shift = req.shift
    nodes: list[solver.Node] = []
    metas: list[_Meta] = []
    groups: list[bool] = []
    for i, acc in eligible:
        loc = 2 + i
        variants = account_variants(acc, loc, shift, req.options.soft_window_penalty)
        full = account_event(acc, loc, shift)
        group = None
        if len(variants) > 1:
            group = len(groups)
            groups.append(acc.must_visit)
        for (lo, hi), prize in variants:
            nodes.append(solver.Node(loc, acc.visit_s, lo, hi, prize, acc.must_visit and group is None, group))
            # the event keeps the variant's span, so the timetable honours the soft window the solver chose
            metas.append(_Meta(replace(full, starts=((lo, hi),)), acc))
    for ev in appts:
        (t, _), = ev.starts
        nodes.append(solver.Node(ev.location, ev.duration_s, t, t, 0, True, None))
        metas.append(_Meta(ev))
    if lunch_span is not None and req.lunch is not None:
        (lo, hi), = lunch_span
        group = len(groups)
        groups.append(True)
        places = sorted({0, 1, *(2 + i for i, _ in eligible), *(e.location for e in appts)})
        for loc in places:
            nodes.append(solver.Node(loc, req.lunch.duration_s, lo, hi, 0, False, group))
            metas.append(_Meta(Event(EventKind.LUNCH, LUNCH_KEY, loc, req.lunch.duration_s, lunch_span)))
    vehicle = solver.Vehicle(0, 1, shift.start, shift.end)
    return solver.Problem(matrix.seconds, matrix.seconds, tuple(nodes), (vehicle,), tuple(groups)), metas


def _drop_reason(ev: Event, events: Sequence[Event], matrix: TravelMatrix, shift: Window) -> DropReason:
    for pos in range(len(events) + 1):
        trial = [*events[:pos], ev, *events[pos:]]
        if evaluate(trial, matrix, start_loc=0, end_loc=1, shift=shift).feasible:
            return DropReason.LOW_VALUE
    return DropReason.NO_TIME


def build_plan(req: DayRequest, matrix: TravelMatrix, events: Sequence[Event], candidates: Sequence[tuple[int, Candidate]],
               dropped: Sequence[DroppedStop], warnings: Sequence[str], runtime_s: float, needs_lunch: bool) -> DayPlan:
    """Re-time ``events``, refuse the plan if it breaks any rule, and explain the accounts left out."""
    required = {a.id for _, a in candidates if a.must_visit} | {a.id for a in req.appointments}
    if needs_lunch:
        required.add(LUNCH_KEY)
    table = evaluate(events, matrix, start_loc=0, end_loc=1, shift=req.shift, required_keys=frozenset(required))
    violations = list(table.violations)
    accounts = {a.id: a for _, a in candidates}
    for t in table.timed:  # variant spans are subsets of the opening hours; check against the hours themselves
        acc = accounts.get(t.event.key) if t.event.kind is EventKind.VISIT else None
        if acc is not None and not any(lo <= t.start <= hi for lo, hi in visit_starts(acc.windows, acc.visit_s, req.shift)):
            violations.append(f"visit {acc.id}: starts outside its opening hours")
    if violations:
        raise error_for(NO_FEASIBLE_PLAN, "the solver's route fails the schedule check", violations=violations[:10])
    planned = {e.key for e in events}
    out = list(dropped)
    for i, acc in candidates:
        if acc.id not in planned:
            out.append(DroppedStop(acc.id, _drop_reason(account_event(acc, 2 + i, req.shift), events, matrix, req.shift)))
    return _assemble(req, matrix, table, out, warnings, runtime_s)


def _assemble(req: DayRequest, matrix: TravelMatrix, table: Timetable, dropped: list[DroppedStop], warnings: Sequence[str],
              runtime_s: float) -> DayPlan:
    by_id = {a.id: a for a in req.accounts}
    appts = {a.id: a for a in req.appointments}
    stops: list[PlannedStop] = []
    lunch: LunchBreak | None = None
    points = points_of(req)
    for t in table.timed:
        ev = t.event
        if ev.kind is EventKind.LUNCH:
            lunch = LunchBreak(t.start, t.departure, points[ev.location], stops[-1].id if stops else None)
            continue
        if ev.kind is EventKind.VISIT:
            acc = by_id[ev.key]
            soft = None if acc.soft_window is None else acc.soft_window.start <= t.start and t.departure <= acc.soft_window.end
            stops.append(PlannedStop("visit", acc.id, acc.name, acc.location, t.arrival, t.start, t.departure, t.travel_s, t.metres,
                                     acc.must_visit, 0.0 if acc.must_visit else acc.value, soft))
        else:
            ap = appts[ev.key]
            stops.append(PlannedStop("appointment", ap.id, ap.name, ap.location, t.arrival, t.start, t.departure, t.travel_s,
                                     t.metres, True))
    order = {a.id: k for k, a in enumerate(req.accounts)}
    dropped.sort(key=lambda d: order.get(d.id, 0))
    return DayPlan(req.date, req.timezone, tuple(stops), lunch, tuple(dropped), table.depart, table.back, table.travel_s,
                   table.metres, table.wait_s, sum(s.value for s in stops), matrix.source, tuple(warnings), runtime_s)


def _clock(now: int | str | dt.datetime, req: DayRequest) -> int:
    """Seconds since local midnight of the plan's date for ``now`` ("13:05", ISO datetime, datetime or seconds)."""
    if isinstance(now, str) and "T" in now:
        try:
            now = dt.datetime.fromisoformat(now)
        except ValueError as exc:
            raise error_for(INVALID_ROUTE_REQUEST, "now must be 'HH:MM' or an ISO 8601 datetime", field="now") from exc
    if isinstance(now, dt.datetime):
        if now.tzinfo is not None:
            now = now.astimezone(ZoneInfo(req.timezone))
        return (now.date() - req.date).days * 86400 + now.hour * 3600 + now.minute * 60 + now.second
    if isinstance(now, str):
        return parse_time(now, "now")
    return int(now)


def replan(request: DayRequest | Mapping[str, Any], *, position: Point, now: int | str | dt.datetime,
           done: Iterable[str] = (), lunch_taken: bool = False, time_limit_s: float = 0.5,
           provider: MatrixProvider | None = None) -> DayPlan:
    """Plan the rest of the day from ``position`` at ``now`` (local time) with the stops not yet ``done``.

    Must-visit accounts that can no longer be made are reported as dropped
    with a warning instead of failing the whole day.
    """
    req = request if isinstance(request, DayRequest) else DayRequest.from_json(request)
    clock = _clock(now, req)
    if clock >= req.shift.end:
        raise error_for(NO_FEASIBLE_PLAN, "the shift is already over", now=clock)
    finished = set(done)
    shift = Window(max(req.shift.start, clock), req.shift.end)
    warnings = []
    appts = []
    for a in req.appointments:
        if a.id in finished:
            continue
        if a.start < shift.start:
            warnings.append(f"appointment {a.id} started before now and is not re-planned")
            continue
        appts.append(a)
    lunch = None if lunch_taken else req.lunch
    if lunch is not None and lunch_starts(lunch, shift) is None:
        warnings.append("the lunch window has passed")
        lunch = None
    accounts = []
    lost: list[DroppedStop] = []
    for acc in req.accounts:
        if acc.id in finished:
            continue
        if acc.must_visit and not visit_starts(acc.windows, acc.visit_s, shift):
            warnings.append(f"must-visit account {acc.id} can no longer be visited today")
            lost.append(DroppedStop(acc.id, DropReason.WINDOW_OUTSIDE_SHIFT))
            continue
        accounts.append(acc)
    if not accounts and not appts:
        raise error_for(NO_FEASIBLE_PLAN, "nothing is left to plan today")
    rest = replace(req, start=position, shift=shift, lunch=lunch, accounts=tuple(accounts), appointments=tuple(appts),
                   options=replace(req.options, time_limit_s=min(time_limit_s, req.options.time_limit_s)))
    matrix = (provider or great_circle)(points_of(rest), rest.travel)
    budget = solver.Budget(seconds=rest.options.time_limit_s, no_improvement=500, seed=rest.options.seed)
    plan = plan_with_matrix(rest, matrix, strict=False, budget=budget)
    order = {a.id: k for k, a in enumerate(req.accounts)}
    dropped = sorted((*plan.dropped, *lost), key=lambda d: order.get(d.id, 0))
    return replace(plan, dropped=tuple(dropped), warnings=tuple(warnings) + plan.warnings)


__all__ = ["LUNCH_KEY", "build_plan", "plan_day", "plan_with_matrix", "points_of", "replan"]
