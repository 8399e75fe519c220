"""A rep's day: the planned route (visits in sequence, at their accounts) and the actual check-ins.

Coordinates are converted to WGS-84 here (a check-in reported in GCJ-02 by a
Chinese map SDK would otherwise be drawn hundreds of metres off), so the page
projects one datum only. The page draws the map itself (SVG); tiles are an
optional layer configured with ``Settings.dashboard_tile_url`` (``FIELDSYNC_DASHBOARD_TILE_URL``).
"""

from __future__ import annotations

from typing import Any

from fieldsync.geo import Datum, Point, convert
from fieldsync.server.dashboard.queries import VisitFilter, VisitQueries

MAX_DAY_VISITS = 200


def wgs84(lat: Any, lon: Any, datum: Any) -> list[float] | None:
    """``[lat, lon]`` in WGS-84, or None if the point is missing or unusable."""
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return None
    try:
        p = convert(Point(float(lat), float(lon), Datum.parse(datum or "wgs84")), Datum.WGS84)
    except Exception:  # a bad stored datum or coordinate: leave the point off the map
        return None
    return [round(p.lat, 7), round(p.lon, 7)]


def day_view(queries: VisitQueries, f: VisitFilter) -> dict[str, Any]:
    """The visits of one rep's day in route order, with planned and actual points."""
    page = queries.page(f, limit=MAX_DAY_VISITS)
    visits = sorted(page["items"], key=lambda x: (x.get("sequence") is None, x.get("sequence") or 0, x.get("planned_start") or x.get("checkin_at") or ""))
    stops = []
    for i, visit in enumerate(visits, start=1):
        account = visit.get("account") or {}
        stops.append({
            "n": i,
            "visit": visit,
            "planned": wgs84(account.get("lat"), account.get("lon"), account.get("datum")),
            "actual": wgs84(visit.get("checkin_lat"), visit.get("checkin_lon"), visit.get("checkin_datum")),
        })
    return {"total": page["total"], "stops": stops}


__all__ = ["MAX_DAY_VISITS", "day_view", "wgs84"]
