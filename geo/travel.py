"""Travel times and distances between the places of a plan.

The default model is pure: great-circle distance x a detour factor (roads are
not straight; 1.3-1.4 is typical for cities) / an average speed, plus a fixed
per-leg overhead (parking, walking to reception). A road matrix from OSRM or
Valhalla (``fieldsync.geo.provider``) replaces it when one is configured.

Matrices hold integers (seconds, metres) because the solver and the schedule
checker must agree to the second: both read the same ``TravelMatrix``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fieldsync.geo.datum import EARTH_RADIUS_M, Datum, Point
from fieldsync.sync.errors import INVALID_ROUTE_REQUEST, error_for


@dataclass(frozen=True, slots=True)
class TravelModel:
    """Parameters of the great-circle travel estimate."""

    detour_factor: float = 1.35
    speed_kmh: float = 28.0
    leg_overhead_s: int = 0

    def __post_init__(self) -> None:
        if not (isinstance(self.detour_factor, (int, float)) and math.isfinite(self.detour_factor) and 1.0 <= self.detour_factor <= 5.0):
            raise error_for(INVALID_ROUTE_REQUEST, "travel.detour_factor must be between 1 and 5", field="travel.detour_factor")
        if not (isinstance(self.speed_kmh, (int, float)) and math.isfinite(self.speed_kmh) and 1.0 <= self.speed_kmh <= 200.0):
            raise error_for(INVALID_ROUTE_REQUEST, "travel.speed_kmh must be between 1 and 200", field="travel.speed_kmh")
        if not (isinstance(self.leg_overhead_s, int) and 0 <= self.leg_overhead_s <= 3600):
            raise error_for(INVALID_ROUTE_REQUEST, "travel.leg_overhead_minutes must be between 0 and 60", field="travel.leg_overhead_minutes")

    def to_json(self) -> dict[str, Any]:
        return {"detour_factor": self.detour_factor, "speed_kmh": self.speed_kmh, "leg_overhead_minutes": self.leg_overhead_s / 60}

    @classmethod
    def from_json(cls, raw: object) -> TravelModel:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise error_for(INVALID_ROUTE_REQUEST, "travel must be an object", field="travel")
        overhead = raw.get("leg_overhead_minutes", 0)
        if not isinstance(overhead, (int, float)) or isinstance(overhead, bool) or not math.isfinite(overhead):
            raise error_for(INVALID_ROUTE_REQUEST, "travel.leg_overhead_minutes must be a number", field="travel.leg_overhead_minutes")
        return cls(detour_factor=raw.get("detour_factor", 1.35), speed_kmh=raw.get("speed_kmh", 28.0), leg_overhead_s=round(overhead * 60))


@dataclass(frozen=True, slots=True)
class TravelMatrix:
    """Integer travel seconds and metres between every ordered pair of places."""

    seconds: np.ndarray
    metres: np.ndarray
    source: str = "great_circle"
    warnings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.seconds.shape != self.metres.shape or self.seconds.ndim != 2 or self.seconds.shape[0] != self.seconds.shape[1]:
            raise ValueError("travel matrices must be square and of equal shape")

    @property
    def size(self) -> int:
        return int(self.seconds.shape[0])

    def sub(self, indices: Sequence[int]) -> TravelMatrix:
        """The matrix restricted to ``indices`` (in that order)."""
        ix = np.ix_(list(indices), list(indices))
        return TravelMatrix(self.seconds[ix], self.metres[ix], self.source, self.warnings)


# A provider turns places into a matrix; ``great_circle`` is the pure default.
MatrixProvider = Callable[[Sequence[Point], TravelModel], TravelMatrix]


def great_circle(points: Sequence[Point], model: TravelModel) -> TravelMatrix:
    """Haversine x detour / speed, vectorised; the diagonal is zero."""
    wgs = [p.to(Datum.WGS84) for p in points]
    lat = np.radians(np.array([p.lat for p in wgs], dtype=np.float64))
    lon = np.radians(np.array([p.lon for p in wgs], dtype=np.float64))
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2.0) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2.0) ** 2
    straight = 2.0 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    road_m = straight * model.detour_factor
    speed_ms = model.speed_kmh / 3.6
    seconds = np.ceil(road_m / speed_ms).astype(np.int64) + model.leg_overhead_s
    metres = np.rint(road_m).astype(np.int64)
    np.fill_diagonal(seconds, 0)
    np.fill_diagonal(metres, 0)
    return TravelMatrix(seconds, metres, "great_circle")


__all__ = ["MatrixProvider", "TravelMatrix", "TravelModel", "great_circle"]
