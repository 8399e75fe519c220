"""Check-in evidence and its verdict: did the visit happen where and when it says?

Theory of operation
-------------------
``classify_check_in`` is pure: evidence, the account's site, the rep's
previous check-in and the company policy in; a ``Verdict`` out. It flags, it
never blocks: the visit is stored whatever the verdict, and a manager reviews
the flagged ones. Evidence and verdicts are plain JSON values, so the sync
layer stores them as first-write-wins fields of a visit and any device or
the server can recompute the same verdict from them.

Each rule adds a ``Reason``; the status is the worst of them:

* ``too_far`` (out of range): distance between the fix and the account,
  both normalised to WGS-84 first (GCJ-02/BD-09 addresses are common),
  exceeds the radius plus the fix's reported accuracy (capped at the
  accuracy limit), so an honest but blurry fix near the door passes.
  The radius is the company's, overridden by the account's when it has one.
* ``poor_accuracy``, ``mock_location``, ``clock_skew``, ``impossible_travel``,
  ``short_dwell``, ``no_photo`` (suspect): the evidence cannot be trusted.

Clocks and offline work: a check-in captured offline reaches the server
hours later, so lateness alone proves nothing. Manipulation shows as a phone
clock that disagrees with a clock the user cannot set: the GNSS time of the
fix (``fix_time``), the device-minus-server offset the SDK measured at its
last sync (``clock_offset_s``), or a device time in the future of the
server's receipt. Travel speed and dwell use the same (device) clock on both
ends, so a constant offset cancels out.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fieldsync.geo.datum import Point, distance_m
from fieldsync.sync.errors import FieldSyncError, INVALID_CHECK_IN, error_for

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class Status(str, Enum):
    VERIFIED = "verified"
    OUT_OF_RANGE = "out_of_range"
    SUSPECT = "suspect"


class ReasonCode(str, Enum):
    TOO_FAR = "too_far"
    POOR_ACCURACY = "poor_accuracy"
    MOCK_LOCATION = "mock_location"
    CLOCK_SKEW = "clock_skew"
    IMPOSSIBLE_TRAVEL = "impossible_travel"
    SHORT_DWELL = "short_dwell"
    NO_PHOTO = "no_photo"


_SEVERITY = {ReasonCode.TOO_FAR: Status.OUT_OF_RANGE}


def _bad(message: str, field_name: str) -> FieldSyncError:
    return error_for(INVALID_CHECK_IN, message, field=field_name)


def _time(raw: object, field_name: str, *, optional: bool = False) -> dt.datetime | None:
    if raw is None and optional:
        return None
    if isinstance(raw, dt.datetime):
        value = raw
    else:
        try:
            value = dt.datetime.fromisoformat(str(raw))
        except ValueError as exc:
            raise _bad(f"{field_name} must be an ISO 8601 time with offset", field_name) from exc
    if value.tzinfo is None or value.utcoffset() is None:
        raise _bad(f"{field_name} must carry a UTC offset", field_name)
    return value


def _num(raw: object, field_name: str, low: float, high: float, *, optional: bool = True) -> float | None:
    if raw is None and optional:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or not low <= raw <= high:
        raise _bad(f"{field_name} must be a number between {low:g} and {high:g}", field_name)
    return float(raw)


def _point(raw: object, field_name: str) -> Point:
    try:
        return Point.from_json(raw)
    except FieldSyncError as exc:
        raise _bad(f"{field_name}: {exc.message}", field_name) from exc


@dataclass(frozen=True, slots=True)
class Evidence:
    """What the phone recorded at check-in (and, later, check-out)."""

    location: Point
    device_time: dt.datetime
    received_at: dt.datetime
    accuracy_m: float | None = None
    mock_location: bool = False
    fix_time: dt.datetime | None = None
    clock_offset_s: float | None = None
    photo_sha256: str | None = None
    check_out_time: dt.datetime | None = None

    def __post_init__(self) -> None:
        for name in ("device_time", "received_at", "fix_time", "check_out_time"):
            _time(getattr(self, name), name, optional=name in {"fix_time", "check_out_time"})
        _num(self.accuracy_m, "accuracy_m", 0, 1e6)
        _num(self.clock_offset_s, "clock_offset_s", -1e9, 1e9)
        if self.photo_sha256 is not None and not _SHA256.match(self.photo_sha256):
            raise _bad("photo_sha256 must be 64 lowercase hex digits", "photo_sha256")
        if not isinstance(self.mock_location, bool):
            raise _bad("mock_location must be true or false", "mock_location")

    def to_json(self) -> dict[str, Any]:
        def iso(t: dt.datetime | None) -> str | None:
            return None if t is None else t.isoformat()

        return {"location": self.location.to_json(), "accuracy_m": self.accuracy_m, "mock_location": self.mock_location,
                "device_time": iso(self.device_time), "fix_time": iso(self.fix_time), "received_at": iso(self.received_at),
                "clock_offset_s": self.clock_offset_s, "photo_sha256": self.photo_sha256, "check_out_time": iso(self.check_out_time)}

    @classmethod
    def from_json(cls, raw: object) -> Evidence:
        if not isinstance(raw, dict):
            raise _bad("evidence must be an object", "evidence")
        mock = raw.get("mock_location", False)
        if not isinstance(mock, bool):
            raise _bad("mock_location must be true or false", "mock_location")
        photo = raw.get("photo_sha256")
        return cls(location=_point(raw.get("location"), "location"),
                   device_time=_time(raw.get("device_time"), "device_time"),  # type: ignore[arg-type]
                   received_at=_time(raw.get("received_at"), "received_at"),  # type: ignore[arg-type]
                   accuracy_m=_num(raw.get("accuracy_m"), "accuracy_m", 0, 1e6), mock_location=mock,
                   fix_time=_time(raw.get("fix_time"), "fix_time", optional=True),
                   clock_offset_s=_num(raw.get("clock_offset_s"), "clock_offset_s", -1e9, 1e9),
                   photo_sha256=None if photo is None else str(photo).lower(),
                   check_out_time=_time(raw.get("check_out_time"), "check_out_time", optional=True))


@dataclass(frozen=True, slots=True)
class AccountSite:
    """Where the account is, with an optional radius that overrides the company's."""

    id: str
    location: Point
    radius_m: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "location": self.location.to_json(), "radius_m": self.radius_m}

    @classmethod
    def from_json(cls, raw: object) -> AccountSite:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise _bad("account must be an object with an id and a location", "account")
        return cls(raw["id"], _point(raw.get("location"), "account.location"), _num(raw.get("radius_m"), "account.radius_m", 1, 100_000))


@dataclass(frozen=True, slots=True)
class Policy:
    """A company's thresholds (``radius_m`` usually comes from ``Settings.checkin_radius_m``)."""

    radius_m: float = 200.0
    max_accuracy_m: float = 100.0
    max_clock_skew_s: float = 300.0
    max_speed_kmh: float = 130.0
    min_dwell_s: float = 300.0
    require_photo: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"radius_m": self.radius_m, "max_accuracy_m": self.max_accuracy_m, "max_clock_skew_s": self.max_clock_skew_s,
                "max_speed_kmh": self.max_speed_kmh, "min_dwell_s": self.min_dwell_s, "require_photo": self.require_photo}

    @classmethod
    def from_json(cls, raw: object, *, default_radius_m: float = 200.0) -> Policy:
        if raw is None:
            return cls(radius_m=default_radius_m)
        if not isinstance(raw, dict):
            raise _bad("policy must be an object", "policy")
        base = cls(radius_m=default_radius_m)
        values: dict[str, Any] = {}
        for name, (low, high) in {"radius_m": (1, 100_000), "max_accuracy_m": (1, 100_000), "max_clock_skew_s": (0, 86_400),
                                  "max_speed_kmh": (1, 2_000), "min_dwell_s": (0, 86_400)}.items():
            values[name] = _num(raw.get(name, getattr(base, name)), f"policy.{name}", low, high, optional=False)
        require = raw.get("require_photo", False)
        if not isinstance(require, bool):
            raise _bad("policy.require_photo must be true or false", "policy.require_photo")
        return cls(require_photo=require, **values)


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    message: str
    observed: float | None = None
    limit: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code.value, "message": self.message, "observed": self.observed, "limit": self.limit}


@dataclass(frozen=True, slots=True)
class Verdict:
    """The classification with every reason and the measurements behind it."""

    status: Status
    reasons: tuple[Reason, ...]
    distance_m: float
    radius_m: float
    dwell_s: float | None = None
    speed_kmh: float | None = None

    @property
    def codes(self) -> frozenset[ReasonCode]:
        return frozenset(r.code for r in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status.value, "reasons": [r.to_json() for r in self.reasons], "distance_m": round(self.distance_m, 1),
                "radius_m": self.radius_m, "dwell_s": self.dwell_s, "speed_kmh": None if self.speed_kmh is None else round(self.speed_kmh, 1)}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Verdict:
        return cls(Status(raw["status"]), tuple(Reason(ReasonCode(r["code"]), r["message"], r.get("observed"), r.get("limit"))
                                                for r in raw["reasons"]),
                   float(raw["distance_m"]), float(raw["radius_m"]), raw.get("dwell_s"), raw.get("speed_kmh"))


def _clock_reason(ev: Evidence, policy: Policy) -> Reason | None:
    tol = policy.max_clock_skew_s
    if ev.clock_offset_s is not None and abs(ev.clock_offset_s) > tol:
        return Reason(ReasonCode.CLOCK_SKEW, "the phone clock was off the server clock at its last sync", abs(ev.clock_offset_s), tol)
    if ev.fix_time is not None:
        skew = abs((ev.device_time - ev.fix_time).total_seconds())
        if skew > tol:
            return Reason(ReasonCode.CLOCK_SKEW, "the phone clock disagrees with the satellite time of the fix", skew, tol)
    ahead = (ev.device_time - ev.received_at).total_seconds()
    if ahead > tol:
        return Reason(ReasonCode.CLOCK_SKEW, "the check-in claims a time after the server received it", ahead, tol)
    return None


def _travel_reason(ev: Evidence, previous: Evidence, policy: Policy) -> tuple[Reason | None, float | None]:
    left = previous.check_out_time or previous.device_time
    elapsed = (ev.device_time - left).total_seconds()
    slack = (ev.accuracy_m or 0.0) + (previous.accuracy_m or 0.0)
    moved = max(0.0, distance_m(ev.location, previous.location) - slack)
    if moved == 0.0:
        return None, 0.0
    if elapsed <= 0:
        return Reason(ReasonCode.IMPOSSIBLE_TRAVEL, "the check-in is at or before the previous one, somewhere else", moved, 0.0), None
    speed = moved / elapsed * 3.6
    if speed > policy.max_speed_kmh:
        return Reason(ReasonCode.IMPOSSIBLE_TRAVEL, "reaching here from the previous check-in needs an impossible speed (km/h)",
                      round(speed, 1), policy.max_speed_kmh), speed
    return None, speed


def classify_check_in(evidence: Evidence, account: AccountSite, *, previous: Evidence | None = None,
                      policy: Policy | None = None) -> Verdict:
    """Classify one check-in as verified, out of range or suspect, with every reason."""
    policy = policy or Policy()
    reasons: list[Reason] = []
    radius = account.radius_m if account.radius_m is not None else policy.radius_m
    dist = distance_m(evidence.location, account.location)
    accuracy = evidence.accuracy_m
    if accuracy is None or accuracy > policy.max_accuracy_m:
        reasons.append(Reason(ReasonCode.POOR_ACCURACY, "the fix is too imprecise to place the rep" if accuracy is not None
                              else "the phone reported no accuracy for the fix", accuracy, policy.max_accuracy_m))
    allowance = min(accuracy or 0.0, policy.max_accuracy_m)
    if dist > radius + allowance:
        reasons.append(Reason(ReasonCode.TOO_FAR, "the fix is farther from the account than the radius allows (m)",
                              round(dist, 1), radius + allowance))
    if evidence.mock_location:
        reasons.append(Reason(ReasonCode.MOCK_LOCATION, "the phone reported a mock (simulated) location"))
    clock = _clock_reason(evidence, policy)
    if clock is not None:
        reasons.append(clock)
    speed = None
    if previous is not None:
        travel, speed = _travel_reason(evidence, previous, policy)
        if travel is not None:
            reasons.append(travel)
    dwell = None
    if evidence.check_out_time is not None:
        dwell = (evidence.check_out_time - evidence.device_time).total_seconds()
        if dwell < policy.min_dwell_s:
            reasons.append(Reason(ReasonCode.SHORT_DWELL, "checked out too soon after checking in (s)", dwell, policy.min_dwell_s))
    if policy.require_photo and not evidence.photo_sha256:
        reasons.append(Reason(ReasonCode.NO_PHOTO, "the company requires a photo and none was attached"))
    status = Status.VERIFIED
    if any(_SEVERITY.get(r.code, Status.SUSPECT) is Status.SUSPECT for r in reasons):
        status = Status.SUSPECT
    elif reasons:
        status = Status.OUT_OF_RANGE
    return Verdict(status, tuple(reasons), dist, radius, dwell, speed)


__all__ = ["AccountSite", "Evidence", "Policy", "Reason", "ReasonCode", "Status", "Verdict", "classify_check_in"]
