"""Geodetic points and the three datums Chinese map apps use.

Theory of operation
-------------------
GPS receivers report WGS-84. Maps licensed in mainland China store GCJ-02
("Mars coordinates"): WGS-84 pushed through a published-by-leak obfuscation
polynomial that moves points by 100-700 m. Baidu adds its own rotation on top
(BD-09). Comparing a raw fix with an address geocoded on AMap or Baidu
without converting is therefore off by hundreds of metres.

* WGS-84 -> GCJ-02 is the closed-form polynomial (Krasovsky ellipsoid
  constants ``a = 6378245``, ``ee = 0.006693421622965943``), applied only
  inside the conventional mainland bounding box; outside it GCJ-02 equals
  WGS-84, as every map vendor does.
* GCJ-02 -> WGS-84 has no closed form; we invert by fixed-point iteration
  (``wgs -= gcj(wgs) - target``), which converges to < 1e-9 degrees in a few
  steps because the shift varies slowly.
* GCJ-02 <-> BD-09 is Baidu's closed-form rotation/offset; its published
  inverse is approximate (~1e-6 degrees, ~0.1 m), so we refine it by the same
  fixed-point iteration.

Sources: the eviltransform project (googollee/eviltransform) and gcoord
(hujiulong/gcoord), whose published test vectors tests/geo/test_geo_datum.py
replays.

Distances are great-circle (haversine on a 6,371,008.8 m sphere), always
computed after normalising both points to WGS-84.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fieldsync.sync.errors import BAD_COORDINATES, error_for

EARTH_RADIUS_M = 6_371_008.8
_A = 6_378_245.0
_EE = 0.006693421622965943
_X_PI = math.pi * 3000.0 / 180.0


class Datum(str, Enum):
    """The geodetic datum a coordinate pair is expressed in."""

    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @classmethod
    def parse(cls, value: object) -> Datum:
        """Read a datum name leniently ("WGS-84", "gcj02", "BD09" ...)."""
        text = str(value).strip().lower().replace("-", "").replace("_", "")
        for datum in cls:
            if datum.value == text:
                return datum
        raise error_for(BAD_COORDINATES, f"unknown datum {value!r}; use wgs84, gcj02 or bd09", datum=str(value))


@dataclass(frozen=True, slots=True)
class Point:
    """A latitude/longitude pair in degrees that always knows its datum."""

    lat: float
    lon: float
    datum: Datum = Datum.WGS84

    def __post_init__(self) -> None:
        lat, lon = self.lat, self.lon
        if not (isinstance(lat, (int, float)) and isinstance(lon, (int, float))) or isinstance(lat, bool) or isinstance(lon, bool):
            raise error_for(BAD_COORDINATES, "latitude and longitude must be numbers")
        if not (math.isfinite(lat) and math.isfinite(lon)) or not -90.0 <= lat <= 90.0 or not -180.0 <= lon <= 180.0:
            raise error_for(BAD_COORDINATES, f"coordinate out of range: lat={lat}, lon={lon}", lat=str(lat), lon=str(lon))
        if not isinstance(self.datum, Datum):
            object.__setattr__(self, "datum", Datum.parse(self.datum))
        object.__setattr__(self, "lat", float(lat))
        object.__setattr__(self, "lon", float(lon))

    def to(self, datum: Datum) -> Point:
        """This point expressed in ``datum``."""
        return convert(self, datum)

    def to_json(self) -> dict[str, Any]:
        return {"lat": self.lat, "lon": self.lon, "datum": self.datum.value}

    @classmethod
    def from_json(cls, raw: object, *, default_datum: Datum = Datum.WGS84) -> Point:
        """Parse ``{"lat": .., "lon": .., "datum": ..}``; the datum defaults to WGS-84."""
        if not isinstance(raw, dict) or "lat" not in raw or "lon" not in raw:
            raise error_for(BAD_COORDINATES, "a point is an object with lat, lon and optional datum")
        datum = Datum.parse(raw["datum"]) if raw.get("datum") is not None else default_datum
        return cls(raw["lat"], raw["lon"], datum)


def in_china(lat: float, lon: float) -> bool:
    """The conventional (coarse) mainland box inside which GCJ-02 is applied."""
    return 72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271


def _shift(lat: float, lon: float) -> tuple[float, float]:
    """GCJ-02 offset (dlat, dlon) in degrees for a WGS-84 point."""
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    if not in_china(lat, lon):
        return lat, lon
    dlat, dlon = _shift(lat, lon)
    return lat + dlat, lon + dlon


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    if not in_china(lat, lon):
        return lat, lon
    wlat, wlon = lat, lon
    for _ in range(30):
        glat, glon = wgs84_to_gcj02(wlat, wlon)
        dlat, dlon = glat - lat, glon - lon
        wlat, wlon = wlat - dlat, wlon - dlon
        if abs(dlat) < 1e-10 and abs(dlon) < 1e-10:
            break
    return wlat, wlon


def gcj02_to_bd09(lat: float, lon: float) -> tuple[float, float]:
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def bd09_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    glat, glon = z * math.sin(theta), z * math.cos(theta)
    for _ in range(10):  # refine Baidu's closed-form inverse (~1e-6 deg) by fixed-point iteration
        blat, blon = gcj02_to_bd09(glat, glon)
        dlat, dlon = blat - lat, blon - lon
        glat, glon = glat - dlat, glon - dlon
        if abs(dlat) < 1e-11 and abs(dlon) < 1e-11:
            break
    return glat, glon


def convert(point: Point, datum: Datum) -> Point:
    """Express ``point`` in ``datum`` (through GCJ-02 when BD-09 is involved)."""
    if point.datum is datum:
        return point
    lat, lon = point.lat, point.lon
    if point.datum is Datum.BD09:
        lat, lon = bd09_to_gcj02(lat, lon)
    elif point.datum is Datum.WGS84:
        lat, lon = wgs84_to_gcj02(lat, lon)
    # (lat, lon) is now GCJ-02
    if datum is Datum.WGS84:
        lat, lon = gcj02_to_wgs84(lat, lon)
    elif datum is Datum.BD09:
        lat, lon = gcj02_to_bd09(lat, lon)
    lat = min(90.0, max(-90.0, lat))
    lon = ((lon + 180.0) % 360.0) - 180.0 if not -180.0 <= lon <= 180.0 else lon
    return Point(lat, lon, datum)


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres between two points of any datums."""
    wa, wb = a.to(Datum.WGS84), b.to(Datum.WGS84)
    return haversine_m(wa.lat, wa.lon, wb.lat, wb.lon)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2.0) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2.0) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


__all__ = ["Datum", "Point", "convert", "distance_m", "haversine_m", "in_china"]
