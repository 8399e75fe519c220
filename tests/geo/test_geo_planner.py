"""Day planning: every plan keeps windows, lunch, shift end and must-visits, checked independently."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typing import Any

from fieldsync.geo import plan_day, replan
from fieldsync.geo.datum import Datum, Point
from fieldsync.geo.plan import DayPlan, DropReason
from fieldsync.geo.request import Appointment, Candidate, DayRequest, Lunch, PlanOptions, Window
from fieldsync.geo.testing import SHANGHAI, random_day_request, scatter
from fieldsync.sync.errors import FieldSyncError

H = 3600
FAST = PlanOptions(time_limit_s=0.3, seed=1)


def near(km_east: float, km_north: float = 0.0) -> Point:
    return Point(SHANGHAI.lat + km_north / 111.32, SHANGHAI.lon + km_east / (111.32 * 0.855))


def day(accounts: list[Candidate], *, shift: Window = Window(9 * H, 18 * H), lunch: Lunch | None = None,
        appointments: tuple[Appointment, ...] = ()) -> DayRequest:
    return DayRequest(dt.date(2026, 11, 23), "Asia/Shanghai", SHANGHAI, SHANGHAI, shift, lunch, tuple(accounts), appointments,
                      options=FAST)


@pytest.mark.parametrize("seed", range(6))
def test_generated_days_keep_every_rule(seed: int, check_plan: Any) -> None:
    """Plans for generated days (windows, soft windows, must-visits, lunch, a meeting) pass the independent check."""
    req = random_day_request(seed, 18 + seed, time_limit_s=0.3)
    plan = plan_day(req)
    check_plan(req, plan)
    assert plan.lunch is not None


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), n=st.integers(2, 25), must=st.floats(0.0, 0.4), lunch=st.booleans(), appts=st.integers(0, 2))
def test_hypothesis_days_keep_every_rule(seed: int, n: int, must: float, lunch: bool, appts: int, check_plan: Any) -> None:
    """Random days of any size and mix either plan within every rule or are refused with no_feasible_plan."""
    req = random_day_request(seed, n, appointments=appts, lunch=lunch, must_share=must, time_limit_s=0.2)
    try:
        plan = plan_day(req)
    except FieldSyncError as exc:
        assert exc.code.name == "no_feasible_plan"
        return
    check_plan(req, plan)
    assert (plan.lunch is not None) == lunch


def test_lunch_is_taken_inside_its_window(check_plan: Any) -> None:
    """A day with a lunch break places it wholly inside its window, between visits."""
    accounts = [Candidate(f"a{k}", near(k, 1), 40 * 60, value=50) for k in range(8)]
    req = day(accounts, lunch=Lunch(Window(12 * H, 13 * H + 1800), 45 * 60))
    plan = plan_day(req)
    check_plan(req, plan)
    assert plan.lunch is not None and 12 * H <= plan.lunch.start and plan.lunch.end <= 13 * H + 1800


def test_shift_end_is_respected_and_extra_stops_dropped(check_plan: Any) -> None:
    """In a two-hour shift the rep is back in time and the stops that do not fit are dropped with no_time."""
    accounts = [Candidate(f"a{k}", near(2 + k % 3, k % 2), 30 * 60, value=60) for k in range(10)]
    req = day(accounts, shift=Window(9 * H, 11 * H))
    plan = plan_day(req)
    check_plan(req, plan)
    assert plan.back <= 11 * H and 1 <= len(plan.stops) < 10
    assert {d.reason for d in plan.dropped} == {DropReason.NO_TIME}


def test_optional_stops_are_dropped_before_must_visits(check_plan: Any) -> None:
    """When the day is too short, valuable optional stops go and every must-visit stays."""
    musts = [Candidate(f"m{k}", near(6 - k, -2), 45 * 60, must_visit=True) for k in range(4)]
    optional = [Candidate(f"o{k}", near(k * 0.3, 0.5), 45 * 60, value=500) for k in range(12)]
    req = day(musts + optional, shift=Window(9 * H, 15 * H), lunch=Lunch(Window(11 * H + 1800, 13 * H + 1800), 30 * 60))
    plan = plan_day(req)
    check_plan(req, plan)
    planned = {s.id for s in plan.stops}
    assert {m.id for m in musts} <= planned
    assert any(d.id.startswith("o") for d in plan.dropped)


def test_windows_and_appointments_are_honoured(check_plan: Any) -> None:
    """Opening hours (including split days) and a fixed appointment time are kept."""
    accounts = [
        Candidate("morning", near(3), 30 * 60, (Window(9 * H, 10 * H + 1800),), must_visit=True),
        Candidate("afternoon", near(-3), 30 * 60, (Window(15 * H, 16 * H),), must_visit=True),
        Candidate("split", near(0, 3), 60 * 60, (Window(9 * H, 9 * H + 3000), Window(14 * H, 17 * H)), must_visit=True),
    ]
    meeting = Appointment("meet", near(1, -1), 11 * H, 60 * 60, "Board")
    req = day(accounts, appointments=(meeting,))
    plan = plan_day(req)
    check_plan(req, plan)
    by_id = {s.id: s for s in plan.stops}
    assert by_id["meet"].start == 11 * H
    assert by_id["split"].start >= 14 * H


def test_soft_window_is_preferred_when_it_costs_little(check_plan: Any) -> None:
    """A soft 14:00-15:00 preference is met when nothing else competes for the time."""
    req = day([Candidate("soft", near(2), 30 * 60, soft_window=Window(14 * H, 15 * H), must_visit=True)])
    plan = plan_day(req)
    check_plan(req, plan)
    assert plan.stops[0].soft_window_met is True and plan.stops[0].start >= 14 * H


def test_drop_reasons_are_explained() -> None:
    """Each left-out account carries the right reason: outside shift, unreachable, or not worth the detour."""
    accounts = [
        Candidate("anchor", near(1), 30 * 60, must_visit=True),
        Candidate("night", near(1), 30 * 60, (Window(20 * H, 22 * H),)),
        Candidate("far", Point(39.9042, 116.4074), 30 * 60),  # Beijing, 1,000 km away
        Candidate("cheap", near(15, 10), 30 * 60, value=0.5),
    ]
    plan = plan_day(day(accounts))
    reasons = {d.id: d.reason for d in plan.dropped}
    assert reasons == {"night": DropReason.WINDOW_OUTSIDE_SHIFT, "far": DropReason.UNREACHABLE, "cheap": DropReason.LOW_VALUE}
    assert all(d.message for d in plan.dropped)


def test_conflicting_must_visits_are_refused() -> None:
    """Two must-visits 20 km apart in the same 30-minute slot get no_feasible_plan, never a broken plan."""
    accounts = [Candidate("west", near(-10), 30 * 60, (Window(10 * H, 10 * H + 1800),), must_visit=True),
                Candidate("east", near(10), 30 * 60, (Window(10 * H, 10 * H + 1800),), must_visit=True)]
    with pytest.raises(FieldSyncError) as err:
        plan_day(day(accounts))
    assert err.value.code.name == "no_feasible_plan"


def test_unreachable_must_visit_is_refused_before_solving() -> None:
    """A must-visit that cannot be reached and returned from within the shift is a typed error naming it."""
    with pytest.raises(FieldSyncError) as err:
        plan_day(day([Candidate("far", Point(39.9042, 116.4074), 30 * 60, must_visit=True)]))
    assert err.value.code.name == "no_feasible_plan" and err.value.detail["id"] == "far"


def test_gcj02_accounts_are_placed_where_they_really_are() -> None:
    """An account given in GCJ-02 is travelled to at its true (WGS-84) place."""
    true_place = near(3)
    shifted = true_place.to(Datum.GCJ02)
    plan = plan_day(day([Candidate("gcj", shifted, 30 * 60, must_visit=True)]))
    plain = plan_day(day([Candidate("gcj", true_place, 30 * 60, must_visit=True)]))
    assert abs(plan.distance_m - plain.distance_m) <= 2


def test_replan_from_position_keeps_rules_and_skips_done_stops() -> None:
    """Re-planning from the third stop at its departure time only plans the rest, after now, and by shift end."""
    req = random_day_request(21, 20, time_limit_s=0.3)
    plan = plan_day(req)
    third = plan.stops[2]
    done = [s.id for s in plan.stops[:3]]
    again = replan(req, position=third.location, now=third.departure, done=done, lunch_taken=False)
    assert not set(done) & {s.id for s in again.stops}
    assert all(s.arrival >= third.departure for s in again.stops)
    assert again.back <= req.shift.end
    if again.lunch is not None and req.lunch is not None:
        assert again.lunch.start >= max(third.departure, req.lunch.window.start)


def test_replan_when_late_drops_lost_must_visits_with_a_warning() -> None:
    """A must-visit whose hours have passed is reported, not fatal, when re-planning."""
    accounts = [Candidate("early", near(2), 30 * 60, (Window(9 * H, 10 * H),), must_visit=True),
                Candidate("later", near(3), 30 * 60, must_visit=True)]
    req = day(accounts)
    again = replan(req, position=near(0.5), now="11:00")
    assert [s.id for s in again.stops] == ["later"]
    assert [d.id for d in again.dropped] == ["early"]
    assert any("early" in w for w in again.warnings)


def test_replan_accepts_aware_datetimes_in_any_zone() -> None:
    """`now` as an aware datetime in another zone is converted to the plan's local time."""
    req = day([Candidate("a", near(1), 600, must_visit=True)])
    utc_now = dt.datetime(2026, 11, 23, 4, 0, tzinfo=dt.timezone.utc)  # 12:00 in Shanghai
    for now in (utc_now, utc_now.isoformat()):
        plan = replan(req, position=near(0), now=now)
        assert plan.stops[0].arrival >= 12 * H


def test_replan_after_shift_end_is_refused() -> None:
    """Re-planning after the shift is over is a typed error."""
    with pytest.raises(FieldSyncError):
        replan(day([Candidate("a", near(1), 600)]), position=near(0), now="18:30")


def test_plan_round_trips_through_json() -> None:
    """A DayPlan survives to_json/from_json, so it can be synced to a device and read back."""
    plan = plan_day(random_day_request(5, 15, time_limit_s=0.3))
    assert DayPlan.from_json(plan.to_json()) == plan


def test_plans_scatter_helper_stays_in_radius() -> None:
    """The shipped generator scatters accounts inside the requested radius."""
    import random

    from fieldsync.geo.datum import distance_m

    rng = random.Random(0)
    assert all(distance_m(scatter(rng, SHANGHAI, 5.0), SHANGHAI) <= 5000.5 for _ in range(200))
