"""Visits on the device: check in, check out, plan the day offline.

Check-in evidence is written into the visit's first-write-wins fields, so
once a check-in has synced nobody (not even the same rep on another phone)
can rewrite where and when it happened. The server classifies it (verified /
out of range / suspect, with reasons) and the verdict syncs back into the
visit's ``verdict`` and ``verdict_reasons`` fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from datetime import datetime, timezone

from fieldsync.geo import Datum, DayPlan, Evidence, Point, plan_day
from fieldsync.geo.visit_rows import visit_rows
from fieldsync.geo.visits import check_in_fields, check_out_fields
from fieldsync.sdk.attachments import attach
from fieldsync.sdk.records import Record
from fieldsync.sdk.replica import Replica


def _now(replica: Replica) -> datetime:
    return datetime.fromtimestamp(replica.now_ms() / 1000, timezone.utc)


def _offset_s(replica: Replica) -> float | None:
    offset_ms = getattr(replica.hlc, "offset_ms", None)
    return None if offset_ms is None else -offset_ms / 1000


def check_in(
    replica: Replica,
    visit_id: str,
    *,
    lat: float,
    lon: float,
    datum: str = "wgs84",
    accuracy_m: float | None = None,
    mock_location: bool = False,
    fix_time: datetime | None = None,
    photo: bytes | None = None,
) -> Record:
    """Record a check-in at the visit's customer (works offline).

    ``datum``: what the coordinates are in (``wgs84`` from the GPS, ``gcj02``
    from Chinese map SDKs, ``bd09`` from Baidu); the server converts before
    comparing. ``photo``: an optional photo, stored as an attachment whose
    hash becomes part of the evidence. Bad coordinates raise FS-5004.
    """
    now = _now(replica)
    evidence = Evidence(
        location=Point(lat, lon, Datum.parse(datum)),
        device_time=now,
        received_at=now,  # the server stamps its own receipt time
        accuracy_m=accuracy_m,
        mock_location=mock_location,
        fix_time=fix_time,
        clock_offset_s=_offset_s(replica),
        photo_sha256=hashlib.sha256(photo).hexdigest() if photo is not None else None,
    )
    if photo is not None:
        attach(replica, photo, kind="visit_photo", mime="image/jpeg", record=("visits", visit_id))
    fields = check_in_fields(evidence)
    return replica.update("visits", visit_id, {k: v for k, v in fields.items() if v is not None})


def check_out(replica: Replica, visit_id: str, *, lat: float, lon: float, datum: str = "wgs84", accuracy_m: float | None = None, outcome: str | None = None) -> Record:
    """Record leaving the customer; dwell time is judged from check-in to check-out."""
    fields = check_out_fields(device_time=_now(replica), location=Point(lat, lon, Datum.parse(datum)), accuracy_m=accuracy_m)
    if outcome is not None:
        fields["outcome"] = outcome
    return replica.update("visits", visit_id, {k: v for k, v in fields.items() if v is not None})


def plan_day_offline(replica: Replica, request: Mapping[str, Any], *, rep_id: str) -> tuple[DayPlan, list[Record]]:
    """Plan the day on the phone (no signal needed) and write it as planned visits.

    The visit ids are the same the server would use for this rep and date, so
    a plan made offline and one made on the server describe the same visits.
    """
    plan = plan_day(request)
    planned, skipped = visit_rows(plan, rep_id=rep_id)
    records = []
    for visit_id, values in planned + skipped:
        existing = replica.get("visits", visit_id)
        if existing is None:
            records.append(replica.insert("visits", values, id=visit_id))
        else:
            records.append(replica.update("visits", visit_id, values))
    return plan, records


__all__ = ["check_in", "check_out", "plan_day_offline"]
