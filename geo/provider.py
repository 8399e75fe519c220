"""Road travel matrices from an OSRM or Valhalla server (the I/O edge of routing).

``provider_for(url)`` returns a ``MatrixProvider`` for the planner. The URL
names the engine by scheme prefix: ``osrm+http://host:5000`` (also plain
``http(s)://``) or ``valhalla+http://host:8002``. Large tables are fetched in
blocks (OSRM's default ``--max-table-size`` is 100 places), all points are
sent in WGS-84, and cells the engine cannot route fall back to the
great-circle estimate with a warning.

When the engine fails (connection refused, timeout, HTTP error, malformed
body) the provider raises ``distance_provider_failed`` (FS-5005, retryable),
or, with ``fallback=True``, answers with the great-circle matrix and a
warning on the plan, so a rep in the field still gets a day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from fieldsync.geo.datum import Datum, Point
from fieldsync.geo.travel import TravelMatrix, TravelModel, great_circle
from fieldsync.sync.errors import DISTANCE_PROVIDER_FAILED, INVALID_ROUTE_REQUEST, error_for


@dataclass(frozen=True, slots=True)
class RoadProvider:
    """A configured road engine; call it like any ``MatrixProvider``."""

    engine: str  # "osrm" | "valhalla"
    base_url: str
    profile: str = "driving"
    fallback: bool = False
    timeout_s: float = 10.0
    block: int = 50
    transport: httpx.BaseTransport | None = None

    def __call__(self, points: Sequence[Point], model: TravelModel) -> TravelMatrix:
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.timeout_s, transport=self.transport) as client:
                seconds, metres = self._table(client, [p.to(Datum.WGS84) for p in points])
        except (httpx.HTTPError, ValueError, KeyError, TypeError, IndexError) as exc:
            if not self.fallback:
                raise error_for(DISTANCE_PROVIDER_FAILED, f"{self.engine} did not answer: {type(exc).__name__}",
                                engine=self.engine) from exc
            plain = great_circle(points, model)
            return TravelMatrix(plain.seconds, plain.metres, "great_circle_fallback",
                                (f"{self.engine} failed ({type(exc).__name__}); travel times are great-circle estimates",))
        warnings: tuple[str, ...] = ()
        missing = np.isnan(seconds) | np.isnan(metres)
        if missing.any():
            plain = great_circle(points, model)
            seconds = np.where(missing, plain.seconds, seconds)
            metres = np.where(missing, plain.metres, metres)
            warnings = (f"{int(missing.sum())} legs had no road route and use great-circle estimates",)
        s = np.ceil(seconds).astype(np.int64) + model.leg_overhead_s
        m = np.rint(metres).astype(np.int64)
        np.fill_diagonal(s, 0)
        np.fill_diagonal(m, 0)
        return TravelMatrix(s, m, self.engine, warnings)

    def _table(self, client: httpx.Client, pts: list[Point]) -> tuple[np.ndarray, np.ndarray]:
        n = len(pts)
        seconds = np.full((n, n), np.nan)
        metres = np.full((n, n), np.nan)
        for i0 in range(0, n, self.block):
            src = list(range(i0, min(n, i0 + self.block)))
            for j0 in range(0, n, self.block):
                dst = list(range(j0, min(n, j0 + self.block)))
                fetch = self._osrm if self.engine == "osrm" else self._valhalla
                s, m = fetch(client, [pts[i] for i in src], [pts[j] for j in dst])
                seconds[np.ix_(src, dst)] = s
                metres[np.ix_(src, dst)] = m
        return seconds, metres

    def _osrm(self, client: httpx.Client, src: list[Point], dst: list[Point]) -> tuple[np.ndarray, np.ndarray]:
        coords = ";".join(f"{p.lon:.6f},{p.lat:.6f}" for p in [*src, *dst])
        sources = ";".join(str(i) for i in range(len(src)))
        destinations = ";".join(str(len(src) + j) for j in range(len(dst)))
        # built by hand: OSRM expects literal ';' and ',' in the query, not %3B / %2C
        query = f"sources={sources}&destinations={destinations}&annotations=duration,distance"
        response = client.get(f"/table/v1/{self.profile}/{coords}?{query}")
        response.raise_for_status()
        body = response.json()
        if body.get("code") != "Ok":
            raise ValueError(f"OSRM answered {body.get('code')}")
        return _grid(body["durations"], len(src), len(dst)), _grid(body["distances"], len(src), len(dst))

    def _valhalla(self, client: httpx.Client, src: list[Point], dst: list[Point]) -> tuple[np.ndarray, np.ndarray]:
        costing = "auto" if self.profile == "driving" else self.profile
        payload = {"sources": [{"lat": p.lat, "lon": p.lon} for p in src], "targets": [{"lat": p.lat, "lon": p.lon} for p in dst],
                   "costing": costing}
        response = client.post("/sources_to_targets", json=payload)
        response.raise_for_status()
        rows = response.json()["sources_to_targets"]
        times = [[cell.get("time") for cell in row] for row in rows]
        km = [[None if cell.get("distance") is None else cell["distance"] * 1000.0 for cell in row] for row in rows]
        return _grid(times, len(src), len(dst)), _grid(km, len(src), len(dst))


def _grid(rows: Any, n: int, m: int) -> np.ndarray:
    out = np.array([[math.nan if v is None else float(v) for v in row] for row in rows], dtype=np.float64)
    if out.shape != (n, m):
        raise ValueError(f"matrix of shape {out.shape}, expected {(n, m)}")
    return out


def provider_for(url: str | None, *, fallback: bool = False, timeout_s: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> RoadProvider | None:
    """The provider a distance-provider URL names, or None for the great-circle default."""
    if not url:
        return None
    engine, _, rest = url.partition("+")
    if not rest:
        engine, rest = "osrm", url
    if engine not in {"osrm", "valhalla"} or not rest.startswith(("http://", "https://")):
        raise error_for(INVALID_ROUTE_REQUEST, "distance provider URL must be osrm+http(s)://... or valhalla+http(s)://...")
    return RoadProvider(engine, rest.rstrip("/"), fallback=fallback, timeout_s=timeout_s, transport=transport)


__all__ = ["RoadProvider", "provider_for"]
