"""Recompute a route's timetable and check it, independently of the solver.

Theory of operation
-------------------
The solver's word is not trusted: every plan handed out is rebuilt here from
nothing but the visiting order, the travel matrix and the request's own
windows, and refused if any rule is broken.

Given a fixed order, the earliest-start schedule is optimal for feasibility:
leave each place as soon as its service ends, start each service at
``max(arrival, earliest allowed start)`` taking the first window that still
admits it. Waiting is allowed, arriving late is not. Afterwards the departure
from the start location is delayed by the wait at the first stop, so the rep
does not leave home early just to wait outside a closed door.

An ``Event`` carries the *allowed start times* of its service as windows:
for a visit with opening hours ``[o, c]`` and visit length ``v`` that is
``[o, c - v]``; an appointment allows exactly its start; a lunch of length
``d`` in ``[l0, l1]`` allows ``[l0, l1 - d]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from fieldsync.geo.request import Window
from fieldsync.geo.travel import TravelMatrix


class EventKind(str, Enum):
    VISIT = "visit"
    APPOINTMENT = "appointment"
    LUNCH = "lunch"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing the rep does at one place."""

    kind: EventKind
    key: str  # stop id, or "lunch"
    location: int  # index into the travel matrix
    duration_s: int
    starts: tuple[tuple[int, int], ...]  # allowed service starts as inclusive (earliest, latest), sorted


@dataclass(frozen=True, slots=True)
class Timed:
    """An event with its computed times (seconds since local midnight)."""

    event: Event
    arrival: int
    start: int
    departure: int
    travel_s: int
    metres: int

    @property
    def wait_s(self) -> int:
        return self.start - self.arrival


@dataclass(frozen=True, slots=True)
class Timetable:
    """The recomputed day; ``violations`` is empty exactly when it is feasible."""

    timed: tuple[Timed, ...]
    depart: int
    back: int
    travel_s: int
    metres: int
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def wait_s(self) -> int:
        return sum(t.wait_s for t in self.timed)


def _first_start(arrival: int, starts: Sequence[tuple[int, int]]) -> int | None:
    for lo, hi in starts:
        if arrival <= hi:
            return max(arrival, lo)
    return None


def evaluate(events: Sequence[Event], matrix: TravelMatrix, *, start_loc: int, end_loc: int, shift: Window,
             required_keys: frozenset[str] = frozenset()) -> Timetable:
    """Build the earliest-start timetable of ``events`` in this order and list every broken rule."""
    seconds, metres = matrix.seconds, matrix.metres
    violations: list[str] = []
    timed: list[Timed] = []
    clock, here = shift.start, start_loc
    travel_total = metres_total = 0
    for ev in events:
        leg_s, leg_m = int(seconds[here, ev.location]), int(metres[here, ev.location])
        travel_total += leg_s
        metres_total += leg_m
        arrival = clock + leg_s
        start = _first_start(arrival, ev.starts)
        if start is None:
            violations.append(f"{ev.kind.value} {ev.key}: arrives at {arrival}s, after its last allowed start")
            start = arrival
        departure = start + ev.duration_s
        timed.append(Timed(ev, arrival, start, departure, leg_s, leg_m))
        clock, here = departure, ev.location
    leg_s, leg_m = int(seconds[here, end_loc]), int(metres[here, end_loc])
    back = clock + leg_s
    travel_total += leg_s
    metres_total += leg_m
    if back > shift.end:
        violations.append(f"returns at {back}s, after the shift ends at {shift.end}s")
    seen = [t.event.key for t in timed]
    if len(set(seen)) != len(seen):
        violations.append("a stop appears twice")
    missing = required_keys - set(seen)
    if missing:
        violations.append("missing required: " + ", ".join(sorted(missing)))
    depart = shift.start
    if timed and timed[0].wait_s > 0:
        # leave later instead of waiting at the first door; nothing after it moves
        first = timed[0]
        depart += first.wait_s
        timed[0] = Timed(first.event, first.start, first.start, first.departure, first.travel_s, first.metres)
    return Timetable(tuple(timed), depart, back, travel_total, metres_total, tuple(violations))


def visit_starts(opening: Sequence[Window], visit_s: int, shift: Window) -> tuple[tuple[int, int], ...]:
    """Allowed service starts for a visit of ``visit_s`` given opening hours (none = the whole shift)."""
    out = []
    for w in opening or (shift,):
        inside = w.intersect(shift)
        if inside is not None and inside.length >= visit_s:
            out.append((inside.start, inside.end - visit_s))
    return tuple(sorted(out))


__all__ = ["Event", "EventKind", "Timed", "Timetable", "evaluate", "visit_starts"]
