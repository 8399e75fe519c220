"""Check-in verdicts: each reason, datum normalisation, radius override, JSON round trip."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldsync.geo import AccountSite, Evidence, Policy, Verdict, classify_check_in
from fieldsync.geo.checkin import ReasonCode, Status
from fieldsync.geo.datum import Datum, Point
from fieldsync.sync.errors import FieldSyncError

T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SITE = AccountSite("acct-1", Point(31.2304, 121.4737))
PHOTO = "a" * 64


def good(**changes: Any) -> Evidence:
    base = Evidence(location=Point(31.2305, 121.4738), device_time=T0, received_at=T0 + dt.timedelta(seconds=2), accuracy_m=12.0,
                    fix_time=T0, photo_sha256=PHOTO, check_out_time=T0 + dt.timedelta(minutes=35))
    return replace(base, **changes)


def test_honest_check_in_is_verified() -> None:
    """A precise fix at the door, sane clock, photo and a normal dwell is verified with no reasons."""
    verdict = classify_check_in(good(), SITE)
    assert verdict.status is Status.VERIFIED and verdict.reasons == ()
    assert verdict.distance_m < 20 and verdict.dwell_s == 35 * 60


def test_too_far_is_out_of_range() -> None:
    """A fix 600 m away is out of range (too_far) and nothing else."""
    verdict = classify_check_in(good(location=Point(31.2358, 121.4737)), SITE)
    assert verdict.status is Status.OUT_OF_RANGE and verdict.codes == {ReasonCode.TOO_FAR}


def test_accuracy_widens_the_radius_up_to_the_limit() -> None:
    """A 250 m fix with 80 m accuracy passes a 200 m radius; the same fix claiming 500 m accuracy is suspect."""
    fix = Point(31.2304 + 250 / 111_320, 121.4737)
    assert classify_check_in(good(location=fix, accuracy_m=80.0), SITE).status is Status.VERIFIED
    blurry = classify_check_in(good(location=fix, accuracy_m=500.0), SITE)
    assert blurry.status is Status.SUSPECT and ReasonCode.POOR_ACCURACY in blurry.codes


def test_missing_accuracy_is_poor_accuracy() -> None:
    """A fix without a reported accuracy cannot be trusted (poor_accuracy)."""
    assert classify_check_in(good(accuracy_m=None), SITE).codes == {ReasonCode.POOR_ACCURACY}


def test_account_radius_overrides_company_radius() -> None:
    """A 600 m fix is fine for an account whose radius is 1 km (a factory campus) but not for the company's 200 m."""
    fix = Point(31.2358, 121.4737)
    assert classify_check_in(good(location=fix), replace(SITE, radius_m=1000.0)).status is Status.VERIFIED
    assert classify_check_in(good(location=fix), SITE, policy=Policy(radius_m=200.0)).status is Status.OUT_OF_RANGE


def test_datums_are_normalised_before_comparing() -> None:
    """A WGS-84 fix at an account stored in GCJ-02 (or BD-09) is verified, not 500 m off."""
    for datum in (Datum.GCJ02, Datum.BD09):
        site = AccountSite("acct-cn", SITE.location.to(datum))
        verdict = classify_check_in(good(), site)
        assert verdict.status is Status.VERIFIED and verdict.distance_m < 20
    raw = AccountSite("acct-naive", Point(SITE.location.to(Datum.GCJ02).lat, SITE.location.to(Datum.GCJ02).lon, Datum.WGS84))
    assert classify_check_in(good(), raw).status is Status.OUT_OF_RANGE


def test_mock_location_is_suspect() -> None:
    """The phone's mock-location flag makes the check-in suspect."""
    assert classify_check_in(good(mock_location=True), SITE).codes == {ReasonCode.MOCK_LOCATION}


@pytest.mark.parametrize("changes", [
    {"fix_time": T0 - dt.timedelta(hours=2)},  # phone clock set two hours ahead of satellite time
    {"clock_offset_s": -900.0},  # the SDK measured the phone 15 minutes behind the server at its last sync
    {"received_at": T0 - dt.timedelta(hours=1), "fix_time": None},  # claims a time after the server got it
])
def test_clock_manipulation_is_suspect(changes: dict[str, Any]) -> None:
    """A phone clock that disagrees with satellite or server time is flagged as clock_skew."""
    assert classify_check_in(good(**changes), SITE).codes == {ReasonCode.CLOCK_SKEW}


def test_offline_upload_hours_later_is_not_clock_skew() -> None:
    """A check-in captured offline and uploaded six hours later is still verified."""
    assert classify_check_in(good(received_at=T0 + dt.timedelta(hours=6)), SITE).status is Status.VERIFIED


def test_impossible_travel_since_previous_is_suspect() -> None:
    """Checking in 100 km from the previous check-out 10 minutes later is impossible_travel; 2 hours later is fine."""
    previous = good(location=Point(32.1304, 121.4737), device_time=T0 - dt.timedelta(minutes=40),
                    check_out_time=T0 - dt.timedelta(minutes=10))
    verdict = classify_check_in(good(), SITE, previous=previous)
    assert verdict.codes == {ReasonCode.IMPOSSIBLE_TRAVEL} and verdict.speed_kmh is not None and verdict.speed_kmh > 500
    earlier = replace(previous, device_time=T0 - dt.timedelta(hours=3), check_out_time=T0 - dt.timedelta(hours=2))
    assert classify_check_in(good(), SITE, previous=earlier).status is Status.VERIFIED


def test_short_dwell_is_suspect() -> None:
    """Checking out two minutes after checking in is short_dwell."""
    verdict = classify_check_in(good(check_out_time=T0 + dt.timedelta(minutes=2)), SITE)
    assert verdict.codes == {ReasonCode.SHORT_DWELL} and verdict.dwell_s == 120


def test_missing_photo_is_flagged_only_when_required() -> None:
    """No photo is fine by default and no_photo when the company requires one."""
    assert classify_check_in(good(photo_sha256=None), SITE).status is Status.VERIFIED
    assert classify_check_in(good(photo_sha256=None), SITE, policy=Policy(require_photo=True)).codes == {ReasonCode.NO_PHOTO}


def test_suspect_outranks_out_of_range_and_all_reasons_are_listed() -> None:
    """A far fix from a mocked location is suspect and lists both reasons."""
    verdict = classify_check_in(good(location=Point(31.25, 121.4737), mock_location=True), SITE)
    assert verdict.status is Status.SUSPECT and verdict.codes == {ReasonCode.TOO_FAR, ReasonCode.MOCK_LOCATION}


def test_evidence_and_verdict_round_trip_through_json() -> None:
    """Evidence and verdicts are plain JSON values that read back equal (for first-write-wins sync fields)."""
    ev = good(location=Point(31.2305, 121.4738, Datum.GCJ02), mock_location=True, clock_offset_s=12.5)
    assert Evidence.from_json(ev.to_json()) == ev
    verdict = classify_check_in(ev, SITE, previous=good(device_time=T0 - dt.timedelta(hours=1)))
    again = Verdict.from_json(verdict.to_json())
    assert again.status is verdict.status and again.codes == verdict.codes
    assert AccountSite.from_json(SITE.to_json()) == SITE and Policy.from_json(Policy().to_json()) == Policy()


@pytest.mark.parametrize("raw", [
    None,
    {"location": {"lat": 95, "lon": 0}, "device_time": T0.isoformat(), "received_at": T0.isoformat()},
    {"location": {"lat": 31, "lon": 121}, "device_time": "2026-11-23T10:00:00", "received_at": T0.isoformat()},
    {"location": {"lat": 31, "lon": 121}, "device_time": "yesterday", "received_at": T0.isoformat()},
    {"location": {"lat": 31, "lon": 121}, "device_time": T0.isoformat(), "received_at": T0.isoformat(), "photo_sha256": "xyz"},
    {"location": {"lat": 31, "lon": 121}, "device_time": T0.isoformat(), "received_at": T0.isoformat(), "mock_location": "yes"},
    {"location": {"lat": 31, "lon": 121}, "device_time": T0.isoformat(), "received_at": T0.isoformat(), "accuracy_m": -3},
])
def test_malformed_evidence_is_a_typed_error(raw: Any) -> None:
    """Malformed evidence (bad point, naive or unparsable time, bad hash, wrong types) is invalid_check_in."""
    with pytest.raises(FieldSyncError) as err:
        Evidence.from_json(raw)
    assert err.value.code.name == "invalid_check_in"


@settings(max_examples=60, deadline=None)
@given(dlat=st.floats(-0.02, 0.02), acc=st.one_of(st.none(), st.floats(1, 400)), mock=st.booleans(),
       skew=st.floats(-7200, 7200), dwell=st.floats(-600, 7200), radius=st.one_of(st.none(), st.floats(20, 2000)))
def test_status_always_follows_from_reasons(dlat: float, acc: float | None, mock: bool, skew: float, dwell: float,
                                            radius: float | None) -> None:
    """For any evidence the status is verified iff no reason, out_of_range iff only too_far, else suspect."""
    ev = good(location=Point(31.2304 + dlat, 121.4737), accuracy_m=acc, mock_location=mock,
              fix_time=T0 + dt.timedelta(seconds=skew), check_out_time=T0 + dt.timedelta(seconds=dwell))
    verdict = classify_check_in(ev, replace(SITE, radius_m=radius))
    if not verdict.reasons:
        assert verdict.status is Status.VERIFIED
    elif verdict.codes == {ReasonCode.TOO_FAR}:
        assert verdict.status is Status.OUT_OF_RANGE
    else:
        assert verdict.status is Status.SUSPECT
    assert (ReasonCode.MOCK_LOCATION in verdict.codes) == mock
    assert Verdict.from_json(verdict.to_json()).status is verdict.status
