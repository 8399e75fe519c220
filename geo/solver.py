"""The one module that talks to the routing engine (PyVRP).

Theory of operation
-------------------
The planner describes its problem as plain values (``Problem``: an integer
cost matrix, an integer duration matrix, nodes, vehicles, mutually exclusive
groups) and gets plain values back (``Solved``: node indices per vehicle).
Nothing else in ``fieldsync.geo`` imports :mod:`pyvrp`, so replacing the
engine (OR-Tools, VROOM) means rewriting this module only.

PyVRP (Wouda, Lan & Kool, "PyVRP: a high-performance VRP solver package",
INFORMS J. Computing 2024) solves the prize-collecting VRP with time windows;
version 0.14 searches by iterated local search (earlier versions used hybrid
genetic search). Its objective is *travel cost + uncollected prizes*;
required nodes must be visited; a required group must have exactly one member
visited, an optional group at most one. Every unvisited node's prize counts
as uncollected, so visiting member ``j`` of a group saves exactly ``prize_j``
against leaving the group out: variants of one account compare by their own
prizes. A node's time window bounds the *start* of its service.

The search starts from a time-oriented nearest-neighbour construction
(``_warm_start``) and stops at the first of: the time limit, an iteration
cap, or a run of iterations without improvement (small day problems converge in a fraction
of the time limit, which is what makes re-planning fast).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyvrp
from pyvrp import Client, ClientGroup, Depot, Location, ProblemData, VehicleType
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria, NoImprovement, StoppingCriterion

_UNBOUNDED = np.iinfo(np.int64).max


@dataclass(frozen=True, slots=True)
class Node:
    """Something to visit: a location index, a service time and when service may start."""

    location: int
    service_s: int
    tw_early: int
    tw_late: int
    prize: int = 0
    required: bool = True
    group: int | None = None


@dataclass(frozen=True, slots=True)
class Vehicle:
    """One route: where it starts and ends and when it may be out."""

    start: int
    end: int
    tw_early: int
    tw_late: int
    max_duration_s: int | None = None
    profile: int = 0  # 0: the problem's matrices; k > 0: ``Problem.profiles[k - 1]``


@dataclass(frozen=True, slots=True)
class Problem:
    """A complete instance in the planner's terms (matrices indexed by location)."""

    cost: np.ndarray  # int64, square
    duration: np.ndarray  # int64, square
    nodes: tuple[Node, ...]
    vehicles: tuple[Vehicle, ...]
    groups_required: tuple[bool, ...] = ()
    profiles: tuple[tuple[np.ndarray, np.ndarray], ...] = ()  # extra (cost, duration) pairs, e.g. per-rep restrictions


@dataclass(frozen=True, slots=True)
class Budget:
    """When to stop searching."""

    seconds: float = 2.0
    max_iterations: int | None = None
    no_improvement: int | None = 2_000
    seed: int = 0


@dataclass(frozen=True, slots=True)
class Solved:
    """The engine's answer: node indices in visiting order, one tuple per vehicle."""

    routes: tuple[tuple[int, ...], ...]
    feasible: bool
    cost: int
    iterations: int
    runtime_s: float


def _criterion(budget: Budget) -> StoppingCriterion:
    criteria: list[StoppingCriterion] = [MaxRuntime(max(budget.seconds, 0.001))]
    if budget.max_iterations is not None:
        criteria.append(MaxIterations(budget.max_iterations))
    if budget.no_improvement is not None:
        criteria.append(NoImprovement(budget.no_improvement))
    return criteria[0] if len(criteria) == 1 else MultipleCriteria(criteria)


def _to_data(problem: Problem) -> ProblemData:
    n = problem.cost.shape[0]
    locations = [Location(float(i), 0.0) for i in range(n)]
    depot_index: dict[int, int] = {}
    depots: list[Depot] = []
    for v in problem.vehicles:
        for loc in (v.start, v.end):
            if loc not in depot_index:
                depot_index[loc] = len(depots)
                depots.append(Depot(loc))
    clients = [
        Client(
            node.location,
            service_duration=node.service_s,
            tw_early=node.tw_early,
            tw_late=node.tw_late,
            prize=node.prize,
            required=node.required and node.group is None,
            group=node.group,
        )
        for node in problem.nodes
    ]
    members: list[list[int]] = [[] for _ in problem.groups_required]
    for i, node in enumerate(problem.nodes):
        if node.group is not None:
            members[node.group].append(i)
    groups = [ClientGroup(m, required=req) for m, req in zip(members, problem.groups_required)]
    vehicle_types = [
        VehicleType(
            1,
            start_depot=depot_index[v.start],
            end_depot=depot_index[v.end],
            tw_early=v.tw_early,
            tw_late=v.tw_late,
            shift_duration=_UNBOUNDED if v.max_duration_s is None else v.max_duration_s,
            profile=v.profile,
            name=str(k),
        )
        for k, v in enumerate(problem.vehicles)
    ]
    pairs = [(problem.cost, problem.duration), *problem.profiles]
    costs = [np.ascontiguousarray(c, dtype=np.int64) for c, _ in pairs]
    durations = [np.ascontiguousarray(d, dtype=np.int64) for _, d in pairs]
    return ProblemData(locations, clients, depots, vehicle_types, costs, durations, groups)  # type: ignore[arg-type]


def _warm_start(data: ProblemData) -> pyvrp.Solution:
    """A time-oriented nearest-neighbour start (Solomon 1987) over the required clients.

    Each route grows by the feasible client that is closest, soonest and most
    urgent; PyVRP's own start is random, which on tightly fleet-limited
    instances (Solomon C101) can cost thousands of iterations to repair.
    Optional and grouped clients are left to the search.
    """
    cl = data.clients()
    loc = np.array([c.location for c in cl], dtype=np.int64)
    early = np.array([c.tw_early for c in cl], dtype=np.int64)
    late = np.array([c.tw_late for c in cl], dtype=np.int64)
    serv = np.array([c.service_duration for c in cl], dtype=np.int64)
    dem = np.array([sum(c.delivery) for c in cl], dtype=np.int64)
    free = np.array([c.required and c.group is None for c in cl], dtype=bool)
    depots = data.depots()
    routes = []
    for vt_index, vt in enumerate(data.vehicle_types()):
        dur = np.asarray(data.duration_matrix(vt.profile))
        dist = np.asarray(data.distance_matrix(vt.profile))
        cap = sum(vt.capacity) if len(vt.capacity) else _UNBOUNDED
        home, end = depots[vt.start_depot].location, depots[vt.end_depot].location
        for _ in range(vt.num_available):
            clock, here, load, visits = vt.tw_early, home, 0, []
            while (idx := np.flatnonzero(free)).size:
                arrival = clock + dur[here, loc[idx]]
                start = np.maximum(arrival, early[idx])
                ok = (start <= late[idx]) & (load + dem[idx] <= cap) & (start + serv[idx] + dur[loc[idx], end] <= vt.tw_late)
                if not ok.any():
                    break
                score = np.where(ok, dist[here, loc[idx]] + (start - clock) + 0.5 * (late[idx] - arrival), np.inf)
                j = int(idx[int(np.argmin(score))])
                visits.append(j)
                free[j] = False
                clock = max(clock + int(dur[here, loc[j]]), int(early[j])) + int(serv[j])
                here, load = int(loc[j]), load + int(dem[j])
            if visits:
                routes.append(pyvrp.Route(data, visits, vt_index))
    return pyvrp.Solution(data, routes)


def solve(problem: Problem, budget: Budget) -> Solved:
    """Solve ``problem`` within ``budget``; routes come back per vehicle, empty when unused."""
    data = _to_data(problem)
    started = time.perf_counter()
    with warnings.catch_warnings():
        # PyVRP warns when penalties hit their bound, i.e. when the instance is infeasible;
        # the caller turns that into a typed no_feasible_plan error instead.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        result = pyvrp.solve(data, stop=_criterion(budget), seed=budget.seed, collect_stats=False, display=False,
                             initial_solution=_warm_start(data))
    elapsed = time.perf_counter() - started
    per_vehicle: list[tuple[int, ...]] = [() for _ in problem.vehicles]
    for route in result.best.routes():
        per_vehicle[route.vehicle_type()] = tuple(a.idx for a in route if a.is_client())
    return Solved(tuple(per_vehicle), bool(result.best.is_feasible()), int(result.cost()) if result.best.is_feasible() else -1,
                  int(result.num_iterations), elapsed)


# --- VRPLIB benchmark instances ------------------------------------------------

@dataclass(frozen=True, slots=True)
class InstanceResult:
    """A benchmark run: the instance's objective as the literature reports it."""

    name: str
    objective: float
    feasible: bool
    routes: int
    iterations: int
    runtime_s: float


def solve_vrplib(path: str | Path, *, seconds: float, seed: int = 0) -> InstanceResult:
    """Solve a VRPLIB (Solomon) instance with the DIMACS convention.

    Distances are truncated to one decimal (``round_func="dimacs"`` scales by
    ten), the objective is total distance with the instance's vehicle count,
    so it compares directly with the DIMACS best-known values.
    """
    data = pyvrp.read(str(path), round_func="dimacs")
    started = time.perf_counter()
    result = pyvrp.solve(data, stop=MaxRuntime(seconds), seed=seed, collect_stats=False, display=False,
                         initial_solution=_warm_start(data))
    elapsed = time.perf_counter() - started
    best = result.best
    return InstanceResult(Path(path).stem, best.distance() / 10.0, bool(best.is_feasible()), best.num_routes(),
                          int(result.num_iterations), elapsed)


__all__ = ["Budget", "InstanceResult", "Node", "Problem", "Solved", "Vehicle", "solve", "solve_vrplib"]
