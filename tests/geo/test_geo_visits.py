"""Plans and check-in evidence as synced visits rows; evidence survives later edits through the merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fieldsync.geo import AccountSite, Point, classify_check_in, plan_day
from fieldsync.geo.checkin import Evidence, Status
from fieldsync.geo.testing import random_day_request
from fieldsync.geo.visit_rows import visit_rows
from fieldsync.geo.visits import check_in_fields, check_out_fields, evidence_from_row, verdict_fields
from fieldsync.sync.change import Change
from fieldsync.sync.crm import VISITS
from fieldsync.sync.hlc import pack
from fieldsync.sync.merge import merge_row
from fieldsync.sync.schema import coerce

ROW = "01935f6c-0000-7000-8000-000000000001"
T0 = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
SITE = AccountSite("acct", Point(31.2304, 121.4737))


def _changes(fields: dict[str, Any], *, hlc: int, site: str) -> list[Change]:
    return [Change("visits", ROW, name, coerce(VISITS.field(name), value), hlc, site) for name, value in fields.items()]


def test_planned_visits_fit_the_visits_table() -> None:
    """Every planned visit becomes a visits row (stable id) whose values the table declaration accepts, in order."""
    plan = plan_day(random_day_request(12, 10, time_limit_s=0.2))
    planned, skipped = visit_rows(plan, rep_id="01935f6c-0000-7000-8000-0000000000aa")
    assert [v["account_id"] for _, v in planned] == [s.id for s in plan.stops if s.kind == "visit"]
    assert [v["sequence"] for _, v in planned] == list(range(1, len(planned) + 1))
    assert {v["account_id"] for _, v in skipped} == {d.id for d in plan.dropped}
    assert visit_rows(plan, rep_id="01935f6c-0000-7000-8000-0000000000aa")[0][0][0] == planned[0][0]
    for _, row in planned:
        for name, value in row.items():
            if name != "account_id":  # the generator's account ids are not UUIDs; real ones are
                coerce(VISITS.field(name), value)


def test_evidence_is_first_write_wins_through_the_merge() -> None:
    """A later, newer edit of the check-in evidence loses in either arrival order, so the verdict stays."""
    honest = Evidence(Point(31.2305, 121.4738), T0, T0, accuracy_m=10.0, fix_time=T0, clock_offset_s=1.5)
    forged = Evidence(Point(31.30, 121.60), T0 + dt.timedelta(hours=3), T0, accuracy_m=5.0)
    first = _changes(check_in_fields(honest), hlc=pack(1_000, 0), site="phone")
    later = _changes(check_in_fields(forged), hlc=pack(9_000, 0), site="laptop")
    for order in (first + later, later + first):
        state = merge_row(VISITS, None, order).state
        row = {name: cell.value for name, cell in state.cells.items()}
        assert row["checkin_lat"] == honest.location.lat and row["checkin_device_time"].startswith("2026-11-23T02:00:00")
        verdict = classify_check_in(evidence_from_row(row, received_at=T0), SITE)
        assert verdict.status is Status.VERIFIED


def test_row_round_trip_and_verdict_columns() -> None:
    """Evidence written as columns reads back to equivalent evidence, and the verdict columns are JSON-ready."""
    ev = Evidence(Point(31.2305, 121.4738), T0, T0 + dt.timedelta(minutes=1), accuracy_m=8.0, mock_location=True,
                  fix_time=T0 - dt.timedelta(seconds=3), clock_offset_s=-2.0, photo_sha256="b" * 64, check_out_time=None)
    row = {**check_in_fields(ev), "checkin_received_at": (T0 + dt.timedelta(minutes=1)).isoformat()}
    row.update({k: v for k, v in check_out_fields(device_time=T0 + dt.timedelta(minutes=40), location=ev.location,
                                                   accuracy_m=9.0).items() if k != "status"})
    back = evidence_from_row(row)
    assert back.location == ev.location and back.mock_location and back.photo_sha256 == ev.photo_sha256
    assert back.check_out_time == T0 + dt.timedelta(minutes=40)
    assert back.fix_time == ev.fix_time and back.clock_offset_s == -2.0 and back.received_at == ev.received_at
    cols = verdict_fields(classify_check_in(back, SITE))
    assert cols["verdict"] == "suspect" and cols["verdict_reasons"][0]["code"] == "mock_location"
    for name, value in cols.items():
        coerce(VISITS.field(name), value)
