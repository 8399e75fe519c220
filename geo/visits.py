"""Check-in evidence and verdicts as columns of the synced ``visits`` table (``fieldsync.sync.crm.VISITS``).

Pure mapping, no storage; planned visits themselves come from
``fieldsync.geo.visit_rows``. The phone writes ``check_in_fields`` /
``check_out_fields`` through the sync core; those columns are
``first_write_wins`` in the table declaration, so a later edit, however
recent its clock, never replaces the evidence. ``evidence_from_row`` reads
the evidence back out of a merged row for ``classify_check_in``, and
``verdict_fields`` gives the server-only columns (``verdict``,
``verdict_reasons``, ``distance_m``) the server writes back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from fieldsync.geo.checkin import Evidence, Verdict
from fieldsync.geo.datum import Datum, Point
from fieldsync.sync.errors import INVALID_CHECK_IN, error_for


def check_in_fields(evidence: Evidence) -> dict[str, Any]:
    """The first-write-wins check-in columns for ``evidence`` (``received_at`` is the server's to stamp)."""
    return {"checkin_at": evidence.device_time.isoformat(), "checkin_device_time": evidence.device_time.isoformat(),
            "checkin_fix_time": None if evidence.fix_time is None else evidence.fix_time.isoformat(),
            "checkin_clock_offset_s": evidence.clock_offset_s,
            "checkin_lat": evidence.location.lat, "checkin_lon": evidence.location.lon, "checkin_datum": evidence.location.datum.value,
            "checkin_accuracy_m": evidence.accuracy_m, "checkin_mock": evidence.mock_location,
            "checkin_photo_sha256": evidence.photo_sha256, "status": "checked_in"}


def check_out_fields(*, device_time: dt.datetime, location: Point, accuracy_m: float | None) -> dict[str, Any]:
    """The first-write-wins check-out columns."""
    return {"checkout_at": device_time.isoformat(), "checkout_device_time": device_time.isoformat(), "checkout_lat": location.lat,
            "checkout_lon": location.lon, "checkout_datum": location.datum.value, "checkout_accuracy_m": accuracy_m, "status": "done"}


def _ts(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def evidence_from_row(row: Mapping[str, Any], *, received_at: dt.datetime | None = None) -> Evidence:
    """The check-in evidence stored in a ``visits`` row; ``received_at`` stands in when the row has none."""
    device = _ts(row.get("checkin_device_time") or row.get("checkin_at"))
    if row.get("checkin_lat") is None or row.get("checkin_lon") is None or device is None:
        raise error_for(INVALID_CHECK_IN, "the visit has no check-in evidence", field="checkin_lat")
    received = _ts(row.get("checkin_received_at")) or received_at or device
    return Evidence(location=Point(row["checkin_lat"], row["checkin_lon"], Datum.parse(row.get("checkin_datum") or "wgs84")),
                    device_time=device, received_at=received, accuracy_m=row.get("checkin_accuracy_m"),
                    mock_location=bool(row.get("checkin_mock") or False), fix_time=_ts(row.get("checkin_fix_time")),
                    clock_offset_s=row.get("checkin_clock_offset_s"), photo_sha256=row.get("checkin_photo_sha256"),
                    check_out_time=_ts(row.get("checkout_device_time") or row.get("checkout_at")))


def verdict_fields(verdict: Verdict) -> dict[str, Any]:
    """The server-only verdict columns."""
    return {"verdict": verdict.status.value, "verdict_reasons": [r.to_json() for r in verdict.reasons],
            "distance_m": round(verdict.distance_m, 1)}


__all__ = ["check_in_fields", "check_out_fields", "evidence_from_row", "verdict_fields"]
