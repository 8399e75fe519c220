"""Generators of realistic planning requests, shipped for tests, benchmarks and demos.

Accounts are scattered around a city centre (Shanghai by default) with a mix
of opening hours (morning-only, afternoon-only, split days), soft
preferences, must-visit flags and values, like a field rep's real book.
Everything is driven by a seeded ``random.Random``: same seed, same request.
"""

from __future__ import annotations

import datetime as dt
import math
import random

from fieldsync.geo.datum import Datum, Point
from fieldsync.geo.request import Appointment, Candidate, DayRequest, Lunch, PlanOptions, Rep, TeamRequest, Window

SHANGHAI = Point(31.2304, 121.4737)
_H = 3600


def scatter(rng: random.Random, centre: Point, radius_km: float) -> Point:
    """A point uniformly distributed on the disc of ``radius_km`` around ``centre``."""
    r = radius_km * 1000.0 * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    dlat = r * math.cos(theta) / 111_320.0
    dlon = r * math.sin(theta) / (111_320.0 * math.cos(math.radians(centre.lat)))
    return Point(centre.lat + dlat, centre.lon + dlon, centre.datum)


def random_candidates(rng: random.Random, n: int, *, centre: Point = SHANGHAI, radius_km: float = 12.0,
                      must_share: float = 0.15, window_share: float = 0.5, soft_share: float = 0.2, prefix: str = "acc") -> tuple[Candidate, ...]:
    """``n`` accounts with a realistic mix of hours, priorities and values."""
    out = []
    for k in range(n):
        visit = rng.choice((15, 20, 30, 30, 45, 60)) * 60
        windows: tuple[Window, ...] = ()
        if rng.random() < window_share:
            windows = rng.choice((
                (Window(9 * _H, 12 * _H),),
                (Window(13 * _H + 1800, 17 * _H + 1800),),
                (Window(9 * _H, 11 * _H + 1800), Window(14 * _H, 17 * _H)),
                (Window(10 * _H, 16 * _H),),
            ))
        soft = Window(9 * _H, 11 * _H) if rng.random() < soft_share else None
        point = scatter(rng, centre, radius_km)
        if rng.random() < 0.3:  # addresses geocoded on a Chinese map app arrive in GCJ-02
            point = point.to(Datum.GCJ02)
        out.append(Candidate(f"{prefix}{k:04d}", point, visit, windows, soft, rng.random() < must_share,
                             float(rng.choice((5, 10, 20, 40, 80))), f"Account {k}"))
    return tuple(out)


def random_day_request(seed: int, n: int = 30, *, appointments: int = 1, lunch: bool = True, must_share: float = 0.15,
                       time_limit_s: float = 1.0, radius_km: float = 12.0) -> DayRequest:
    """A rep's day: 08:30-17:30 from one base, ``n`` candidates, a fixed meeting, lunch 11:30-13:30 (45 min)."""
    rng = random.Random(seed)
    base = scatter(rng, SHANGHAI, 3.0)
    accounts = random_candidates(rng, n, radius_km=radius_km, must_share=must_share)
    # keep the must-visit load plausible: at most five per day
    musts = [a for a in accounts if a.must_visit][5:]
    accounts = tuple(Candidate(a.id, a.location, a.visit_s, a.windows, a.soft_window, False, a.value, a.name) if a in musts else a
                     for a in accounts)
    appts = tuple(Appointment(f"apt{k}", scatter(rng, SHANGHAI, radius_km), (10 + 4 * k) * _H + 1800, 3600, f"Meeting {k}")
                  for k in range(appointments))
    return DayRequest(dt.date(2026, 11, 23), "Asia/Shanghai", base, base, Window(8 * _H + 1800, 17 * _H + 1800),
                      Lunch(Window(11 * _H + 1800, 13 * _H + 1800), 45 * 60) if lunch else None, accounts, appts,
                      options=PlanOptions(time_limit_s=time_limit_s, seed=seed))


def random_team_request(seed: int, accounts: int = 300, reps: int = 5, days: int = 5, *, time_limit_s: float = 10.0,
                        radius_km: float = 20.0) -> TeamRequest:
    """A manager's week: ``reps`` reps from their own bases over ``days`` weekdays, ``accounts`` to share."""
    rng = random.Random(seed)
    team = tuple(Rep(f"rep{r}", base := scatter(rng, SHANGHAI, radius_km / 2), base, Window(8 * _H + 1800, 17 * _H + 1800),
                     Lunch(Window(11 * _H + 1800, 13 * _H + 1800), 45 * 60)) for r in range(reps))
    dates = tuple(dt.date(2026, 11, 23) + dt.timedelta(days=d) for d in range(days))
    cands = random_candidates(rng, accounts, radius_km=radius_km, must_share=0.05)
    return TeamRequest("Asia/Shanghai", dates, team, cands, options=PlanOptions(time_limit_s=time_limit_s, seed=seed))


__all__ = ["SHANGHAI", "random_candidates", "random_day_request", "random_team_request", "scatter"]
