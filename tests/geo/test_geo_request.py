"""Bad planning input is answered with clear typed errors, fast."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fieldsync.geo import plan_day
from fieldsync.geo.request import DayRequest, TeamRequest
from fieldsync.geo.testing import random_day_request
from fieldsync.sync.errors import FieldSyncError


def _day() -> dict[str, Any]:
    return random_day_request(3, 5, time_limit_s=0.2).to_json()


def _code(body: Any) -> str:
    with pytest.raises(FieldSyncError) as err:
        plan_day(body)
    return err.value.code.name


def test_no_stops() -> None:
    """A day without accounts or appointments is refused as no_stops."""
    body = _day()
    body["accounts"], body["appointments"] = [], []
    assert _code(body) == "no_stops"


def test_ten_thousand_stops_are_refused_before_parsing() -> None:
    """10,000 stops get too_many_stops even when every entry is garbage (sizes are checked first)."""
    body = _day()
    body["accounts"] = [{"junk": True}] * 10_000
    assert _code(body) == "too_many_stops"
    with pytest.raises(FieldSyncError) as err:
        TeamRequest.from_json({"accounts": [{}] * 10_000, "reps": [], "dates": []})
    assert err.value.code.code == "FS-5002"


@pytest.mark.parametrize("mutate,expected", [
    (lambda b: b["accounts"][0].update(windows=[{"start": "12:00", "end": "11:00"}]), "impossible_time_window"),
    (lambda b: b["accounts"][0].update(visit_minutes=60, windows=[{"start": "10:00", "end": "10:30"}]), "impossible_time_window"),
    (lambda b: b["accounts"][0].update(must_visit=True, windows=[{"start": "19:00", "end": "21:00"}]), "impossible_time_window"),
    (lambda b: b.update(shift={"start": "18:00", "end": "08:00"}), "impossible_time_window"),
    (lambda b: b.update(lunch={"start": "12:00", "end": "12:30", "minutes": 45}), "impossible_time_window"),
    (lambda b: b["appointments"].append({**b["appointments"][0], "id": "apt-x"}), "impossible_time_window"),
    (lambda b: b["appointments"][0].update(start="20:00"), "impossible_time_window"),
    (lambda b: b["accounts"][0]["location"].update(lat=123.0), "bad_coordinates"),
    (lambda b: b["accounts"][0]["location"].update(datum="mars"), "bad_coordinates"),
    (lambda b: b["start"].update(lon=-200), "bad_coordinates"),
    (lambda b: b.update(timezone="Mars/Olympus"), "invalid_route_request"),
    (lambda b: b.update(date="23/11/2026"), "invalid_route_request"),
    (lambda b: b["accounts"][1].update(id=b["accounts"][0]["id"]), "invalid_route_request"),
    (lambda b: b["accounts"][0].update(value=-1), "invalid_route_request"),
    (lambda b: b["accounts"][0].update(visit_minutes="long"), "invalid_route_request"),
    (lambda b: b.update(options={"time_limit_s": 3600}), "invalid_route_request"),
    (lambda b: b["shift"].update(start="25:00"), "invalid_route_request"),
])
def test_bad_input_is_typed(mutate: Any, expected: str) -> None:
    """Each kind of malformed or impossible request gets its own typed error."""
    body = copy.deepcopy(_day())
    mutate(body)
    assert _code(body) == expected


def test_request_round_trips_through_json() -> None:
    """A request survives to_json/from_json unchanged."""
    req = random_day_request(11, 12)
    assert DayRequest.from_json(req.to_json()) == req


def test_not_an_object() -> None:
    """A body that is not an object is an invalid_route_request."""
    assert _code([1, 2, 3]) == "invalid_route_request"
