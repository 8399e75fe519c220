"""Route-planning benchmarks: VRPLIB instances against best-known values, and realistic days.

    python -m bench.routes INSTANCE.vrp ... --seconds 5 [--bks bks.csv]   solve instances, print gap %
    python -m bench.routes --scenarios [--repeat 5]                      time a day, a re-plan, a team week

Instances go through the planner's own engine module
(``fieldsync.geo.solver.solve_vrplib``), with the DIMACS rounding convention
(distances truncated to one decimal), so the objective compares with the
``dimacs_bks_published`` column of the Solomon ``bks.csv``. Timings are wall
clock on whatever else the machine is doing: read the spread, not just the
median.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from fieldsync.geo.planner import plan_day, replan
from fieldsync.geo.solver import solve_vrplib
from fieldsync.geo.team import plan_team
from fieldsync.geo.testing import random_day_request, random_team_request


def _bks(path: Path | None) -> dict[str, float]:
    if path is None:
        return {}
    with path.open(newline="") as fh:
        return {row["instance"]: float(row["dimacs_bks_published"]) for row in csv.DictReader(fh)}


def run_instances(paths: Sequence[Path], seconds: float, bks_path: Path | None, seed: int) -> int:
    bks = _bks(bks_path)
    gaps: list[float] = []
    print(f"{'instance':<10} {'objective':>10} {'bks':>10} {'gap %':>7} {'routes':>6} {'feasible':>8} {'iters':>7} {'time s':>7}")
    for path in paths:
        res = solve_vrplib(path, seconds=seconds, seed=seed)
        best = bks.get(res.name)
        gap = None if best is None or not res.feasible else 100.0 * (res.objective - best) / best
        if gap is not None:
            gaps.append(gap)
        print(f"{res.name:<10} {res.objective:>10.1f} {best if best is not None else float('nan'):>10.1f} "
              f"{gap if gap is not None else float('nan'):>7.2f} {res.routes:>6} {str(res.feasible):>8} {res.iterations:>7} "
              f"{res.runtime_s:>7.2f}", flush=True)
    if gaps:
        print(f"mean gap {statistics.fmean(gaps):.3f} % over {len(gaps)} instances (max {max(gaps):.2f} %, "
              f"{sum(g <= 1e-9 for g in gaps)} at the best-known value), {seconds:g} s each")
    return 0


def _time(label: str, fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    med = statistics.median(samples)
    spread = (min(samples), max(samples))
    print(f"{label:<48} median {med * 1000:8.1f} ms   min {spread[0] * 1000:8.1f}   max {spread[1] * 1000:8.1f}   (n={repeat})",
          flush=True)
    return samples


def run_scenarios(repeat: int, day_seconds: float, team_seconds: float) -> int:
    day = random_day_request(7, 30, time_limit_s=day_seconds)
    plans = []
    _time(f"day: 30 candidates, windows, lunch (limit {day_seconds:g} s)", lambda: plans.append(plan_day(day)), repeat)
    plan = plans[-1]
    print(f"    last plan: {len(plan.stops)} stops, {len(plan.dropped)} dropped, travel {plan.travel_s / 60:.0f} min, "
          f"{plan.distance_m / 1000:.1f} km, lunch {'yes' if plan.lunch else 'no'}")
    mid = plan.stops[len(plan.stops) // 2]
    done = [s.id for s in plan.stops[: len(plan.stops) // 2 + 1]]
    _time("replan: from mid-day position, remaining stops", lambda: replan(day, position=mid.location, now=mid.departure, done=done),
          repeat)
    team = random_team_request(3, 300, 5, 5, time_limit_s=team_seconds)
    teams = []
    _time(f"team week: 300 accounts, 5 reps x 5 days (limit {team_seconds:g} s)", lambda: teams.append(plan_team(team)),
          max(1, repeat // 2))
    t = teams[-1]
    print(f"    last plan: {sum(len(d.plan.stops) for d in t.days)} visits in {len(t.days)} rep-days, {len(t.dropped)} dropped, "
          f"travel {t.travel_s / 3600:.1f} h, {t.distance_m / 1000:.0f} km")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.routes", description=__doc__.split("\n\n")[0])
    parser.add_argument("instances", nargs="*", type=Path, help="VRPLIB VRPTW instance files")
    parser.add_argument("--seconds", type=float, default=5.0, help="time limit per instance")
    parser.add_argument("--bks", type=Path, default=None, help="CSV of best-known values (instance, dimacs_bks_published)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scenarios", action="store_true", help="time a realistic day, a re-plan and a team week")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--day-seconds", type=float, default=1.0)
    parser.add_argument("--team-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    if not args.instances and not args.scenarios:
        parser.error("give instance files and/or --scenarios")
    if args.instances:
        run_instances(args.instances, args.seconds, args.bks, args.seed)
    if args.scenarios:
        run_scenarios(args.repeat, args.day_seconds, args.team_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
