"""What a planner answers: a day's ordered stops, or a team's days.

Plans are plain values that round-trip through JSON (``to_json`` /
``from_json``) so the server can hand them to the sync layer as planned
visits and a device can store one it made offline. Times are held as seconds
since local midnight and travel as ISO 8601 local datetimes with offset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from fieldsync.geo.datum import Point


class DropReason(str, Enum):
    """Why a candidate is not in the plan."""

    WINDOW_OUTSIDE_SHIFT = "window_outside_shift"  # none of its opening hours leaves room inside the shift
    UNREACHABLE = "unreachable"  # even alone it cannot be reached in its window and the rep be back in time
    NO_TIME = "no_time"  # it could be visited alone, but the day is full with stops worth more
    LOW_VALUE = "low_value"  # it would fit, but the detour costs more than the stop's value


_REASON_TEXT = {
    DropReason.WINDOW_OUTSIDE_SHIFT: "its opening hours do not leave room for the visit inside the shift",
    DropReason.UNREACHABLE: "it cannot be reached within its opening hours and still be back by the end of the shift",
    DropReason.NO_TIME: "no time left once the more valuable stops and the fixed appointments are planned",
    DropReason.LOW_VALUE: "it would fit, but the detour costs more than the value of the visit",
}


def local_iso(day: dt.date, tz: str, seconds: int) -> str:
    """ISO 8601 local time with offset for ``seconds`` after midnight of ``day`` in ``tz``."""
    naive = dt.datetime.combine(day, dt.time(0)) + dt.timedelta(seconds=seconds)
    return naive.replace(tzinfo=ZoneInfo(tz)).isoformat()


def _seconds(day: dt.date, raw: str) -> int:
    when = dt.datetime.fromisoformat(raw)
    return (when.date() - day).days * 86400 + when.hour * 3600 + when.minute * 60 + when.second


@dataclass(frozen=True, slots=True)
class PlannedStop:
    """One visit or appointment in the day, with its timetable."""

    kind: str  # "visit" | "appointment"
    id: str
    name: str
    location: Point
    arrival: int
    start: int
    departure: int
    travel_s: int
    distance_m: int
    must_visit: bool
    value: float = 0.0
    soft_window_met: bool | None = None

    @property
    def wait_s(self) -> int:
        return self.start - self.arrival


@dataclass(frozen=True, slots=True)
class LunchBreak:
    """Where and when the break is taken; ``after`` is the stop it follows (None: before the first)."""

    start: int
    end: int
    location: Point
    after: str | None


@dataclass(frozen=True, slots=True)
class DroppedStop:
    id: str
    reason: DropReason

    @property
    def message(self) -> str:
        return _REASON_TEXT[self.reason]


@dataclass(frozen=True, slots=True)
class DayPlan:
    """A rep's day: ordered stops, the break, what was left out and why, and totals."""

    date: dt.date
    timezone: str
    stops: tuple[PlannedStop, ...]
    lunch: LunchBreak | None
    dropped: tuple[DroppedStop, ...]
    depart: int
    back: int
    travel_s: int
    distance_m: int
    wait_s: int
    value_collected: float
    travel_source: str = "great_circle"
    warnings: tuple[str, ...] = field(default=())
    solver_runtime_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        day, tz = self.date, self.timezone
        return {
            "date": day.isoformat(),
            "timezone": tz,
            "depart": local_iso(day, tz, self.depart),
            "back": local_iso(day, tz, self.back),
            "stops": [
                {"kind": s.kind, "id": s.id, "name": s.name, "location": s.location.to_json(), "arrival": local_iso(day, tz, s.arrival),
                 "start": local_iso(day, tz, s.start), "departure": local_iso(day, tz, s.departure), "wait_minutes": round(s.wait_s / 60, 2),
                 "travel_minutes": round(s.travel_s / 60, 2), "distance_m": s.distance_m, "must_visit": s.must_visit,
                 "value": s.value, "soft_window_met": s.soft_window_met}
                for s in self.stops
            ],
            "lunch": None if self.lunch is None else {
                "start": local_iso(day, tz, self.lunch.start), "end": local_iso(day, tz, self.lunch.end),
                "location": self.lunch.location.to_json(), "after": self.lunch.after},
            "dropped": [{"id": d.id, "reason": d.reason.value, "message": d.message} for d in self.dropped],
            "totals": {"travel_minutes": round(self.travel_s / 60, 2), "distance_km": round(self.distance_m / 1000, 3),
                       "wait_minutes": round(self.wait_s / 60, 2), "value_collected": self.value_collected,
                       "stops": len(self.stops), "dropped": len(self.dropped)},
            "travel_source": self.travel_source,
            "warnings": list(self.warnings),
            "solver_runtime_s": self.solver_runtime_s,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> DayPlan:
        day = dt.date.fromisoformat(raw["date"])
        stops = tuple(
            PlannedStop(s["kind"], s["id"], s.get("name", ""), Point.from_json(s["location"]), _seconds(day, s["arrival"]),
                        _seconds(day, s["start"]), _seconds(day, s["departure"]), round(s["travel_minutes"] * 60), int(s["distance_m"]),
                        bool(s["must_visit"]), float(s.get("value", 0.0)), s.get("soft_window_met"))
            for s in raw["stops"])
        lunch_raw = raw.get("lunch")
        lunch = None if lunch_raw is None else LunchBreak(_seconds(day, lunch_raw["start"]), _seconds(day, lunch_raw["end"]),
                                                          Point.from_json(lunch_raw["location"]), lunch_raw.get("after"))
        totals = raw["totals"]
        return cls(day, raw["timezone"], stops, lunch, tuple(DroppedStop(d["id"], DropReason(d["reason"])) for d in raw["dropped"]),
                   _seconds(day, raw["depart"]), _seconds(day, raw["back"]), round(totals["travel_minutes"] * 60),
                   round(totals["distance_km"] * 1000), round(totals["wait_minutes"] * 60), float(totals["value_collected"]),
                   raw.get("travel_source", "great_circle"), tuple(raw.get("warnings", ())), float(raw.get("solver_runtime_s", 0.0)))


@dataclass(frozen=True, slots=True)
class RepDay:
    rep_id: str
    plan: DayPlan


@dataclass(frozen=True, slots=True)
class TeamPlan:
    """Each rep's day plans, plus the accounts nobody could take."""

    days: tuple[RepDay, ...]
    dropped: tuple[DroppedStop, ...]
    solver_runtime_s: float = 0.0

    @property
    def travel_s(self) -> int:
        return sum(d.plan.travel_s for d in self.days)

    @property
    def distance_m(self) -> int:
        return sum(d.plan.distance_m for d in self.days)

    def to_json(self) -> dict[str, Any]:
        return {
            "days": [{"rep_id": d.rep_id, **d.plan.to_json()} for d in self.days],
            "dropped": [{"id": d.id, "reason": d.reason.value, "message": d.message} for d in self.dropped],
            "totals": {"travel_minutes": round(self.travel_s / 60, 2), "distance_km": round(self.distance_m / 1000, 3),
                       "visits": sum(len(d.plan.stops) for d in self.days), "dropped": len(self.dropped)},
            "solver_runtime_s": round(self.solver_runtime_s, 4),
        }


__all__ = ["DayPlan", "DropReason", "DroppedStop", "LunchBreak", "PlannedStop", "RepDay", "TeamPlan"]
