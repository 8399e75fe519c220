"""Comparison only: the Solomon set with OR-Tools' routing solver, same objective as ``bench.routes``.

Not used by FieldSync (``fieldsync.geo.solver`` is the one engine module);
this script exists so the engine choice in docs/routes.md can be re-measured.
OR-Tools is not a project dependency: run it from a separate environment,

    python -m venv /tmp/ort && /tmp/ort/bin/pip install ortools vrplib numpy
    /tmp/ort/bin/python bench/routes_ortools.py INSTANCE.vrp ... --seconds 5 --bks bks.csv

Model: VRPTW with the instance's vehicle count, DIMACS distances (Euclidean
truncated to one decimal, scaled by ten) as arc cost and travel time, time
windows on service start, first solution by parallel cheapest insertion, then guided
local search until the time limit.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np
import vrplib
from ortools.constraint_solver import pywrapcp, routing_enums_pb2


def solve(path: Path, seconds: float) -> tuple[float | None, float]:
    inst = vrplib.read_instance(str(path))
    coords = np.asarray(inst["node_coord"], dtype=float)
    dist = np.floor(10 * np.sqrt(((coords[:, None, :] - coords[None, :, :]) ** 2).sum(-1))).astype(int)
    service = (10 * np.broadcast_to(np.asarray(inst["service_time"], dtype=float), (len(coords),))).astype(int).copy()
    service[0] = 0
    tw = (10 * np.asarray(inst["time_window"], dtype=float)).astype(int)
    demand = np.asarray(inst["demand"], dtype=int)
    n, vehicles = len(coords), int(inst["vehicles"])
    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    travel = (dist + service[:, None]).tolist()  # service time counted on leaving a node
    arc = dist.tolist()
    nodes = [manager.IndexToNode(i) for i in range(routing.Size() + vehicles)]
    cost_cb = routing.RegisterTransitMatrix(arc) if hasattr(routing, "RegisterTransitMatrix") else \
        routing.RegisterTransitCallback(lambda i, j: arc[nodes[i]][nodes[j]])
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)
    time_cb = routing.RegisterTransitMatrix(travel) if hasattr(routing, "RegisterTransitMatrix") else \
        routing.RegisterTransitCallback(lambda i, j: travel[nodes[i]][nodes[j]])
    horizon = int(tw[0][1])
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    dim = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(tw[node][0]), int(tw[node][1]))
    for v in range(vehicles):
        dim.CumulVar(routing.Start(v)).SetRange(int(tw[0][0]), int(tw[0][1]))
        dim.CumulVar(routing.End(v)).SetRange(int(tw[0][0]), int(tw[0][1]))
    demands = demand.tolist()
    demand_cb = routing.RegisterUnaryTransitVector(demands) if hasattr(routing, "RegisterUnaryTransitVector") else \
        routing.RegisterUnaryTransitCallback(lambda i: demands[nodes[i]])
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, [int(inst["capacity"])] * vehicles, True, "load")
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(seconds * 1000))
    started = time.perf_counter()
    sol = routing.SolveWithParameters(params)
    elapsed = time.perf_counter() - started
    return (None if sol is None else sol.ObjectiveValue() / 10.0), elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("instances", nargs="+", type=Path)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--bks", type=Path, required=True)
    args = parser.parse_args()
    with args.bks.open(newline="") as fh:
        bks = {r["instance"]: float(r["dimacs_bks_published"]) for r in csv.DictReader(fh)}
    gaps, failed = [], []
    for path in args.instances:
        obj, elapsed = solve(path, args.seconds)
        best = bks[path.stem]
        if obj is None:
            failed.append(path.stem)
            print(f"{path.stem:<10} {'no solution':>10} {best:>10.1f}", flush=True)
            continue
        gap = 100 * (obj - best) / best
        gaps.append(gap)
        print(f"{path.stem:<10} {obj:>10.1f} {best:>10.1f} {gap:>7.2f} {elapsed:>6.2f}", flush=True)
    if gaps:
        print(f"mean gap {statistics.fmean(gaps):.3f} % over {len(gaps)} solved; no solution: {failed or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
