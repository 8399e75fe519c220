"""What a planner is asked: the day (or week) of one rep or a team.

Every value here is frozen and already validated; ``from_json`` is the only
way untrusted input becomes a request, and it answers bad input with typed
FS-5xxx errors before any solving starts. Sizes are checked first, so a
10,000-stop request is refused in microseconds, not after parsing.

Times of day travel as ``"HH:MM"`` (or ``"HH:MM:SS"``) local wall-clock times
on ``date`` in ``timezone`` and are held as seconds since local midnight.
A *window* is opening hours: the whole visit must fit inside it. Durations
travel as minutes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fieldsync.geo.datum import Point
from fieldsync.geo.travel import TravelModel
from fieldsync.sync.errors import (
    EMPTY_ROUTE_REQUEST,
    IMPOSSIBLE_TIME_WINDOW,
    INVALID_ROUTE_REQUEST,
    TOO_MANY_STOPS,
    error_for,
)

MAX_DAY_STOPS = 500
MAX_TEAM_STOPS = 3_000
MAX_TEAM_ROUTES = 200
MAX_TIME_LIMIT_S = 30.0
MAX_PROFILE_CELLS = 60_000_000  # rep-restricted team requests hold one travel matrix per rep
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _bad(message: str, field_name: str) -> Exception:
    return error_for(INVALID_ROUTE_REQUEST, message, field=field_name)


def parse_time(raw: object, field_name: str) -> int:
    """``"HH:MM[:SS]"`` -> seconds since midnight (``"24:00"`` allowed as the day's end)."""
    if not isinstance(raw, str) or not (m := _TIME.match(raw.strip())):
        raise _bad(f"{field_name} must be a time of day like '09:30'", field_name)
    h, mnt, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    total = h * 3600 + mnt * 60 + s
    if mnt > 59 or s > 59 or total > 24 * 3600:
        raise _bad(f"{field_name} is not a valid time of day: {raw!r}", field_name)
    return total


def format_time(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _minutes(raw: object, field_name: str, *, low: float = 0.0, high: float = 24 * 60, allow_zero: bool = False) -> int:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw):
        raise _bad(f"{field_name} must be a number of minutes", field_name)
    if raw < low or raw > high or (raw == 0 and not allow_zero):
        raise _bad(f"{field_name} must be between {low:g} and {high:g} minutes", field_name)
    return round(raw * 60)


def _obj(raw: object, field_name: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _bad(f"{field_name} must be an object", field_name)
    return raw


def _list(raw: object, field_name: str, limit: int, code_limit: bool = True) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad(f"{field_name} must be a list", field_name)
    if len(raw) > limit and code_limit:
        raise error_for(TOO_MANY_STOPS, f"{len(raw)} entries in {field_name}; the limit is {limit}", count=len(raw), limit=limit)
    return raw


def _ident(raw: object, field_name: str) -> str:
    if not isinstance(raw, (str, int)) or isinstance(raw, bool) or not str(raw).strip() or len(str(raw)) > 200:
        raise _bad(f"{field_name} must be a non-empty string of at most 200 characters", field_name)
    return str(raw)


@dataclass(frozen=True, slots=True)
class Window:
    """A span of the day in seconds since local midnight, ``start < end``."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def intersect(self, other: Window) -> Window | None:
        lo, hi = max(self.start, other.start), min(self.end, other.end)
        return Window(lo, hi) if lo < hi else None

    def to_json(self) -> dict[str, str]:
        return {"start": format_time(self.start)[:5] if self.start % 60 == 0 else format_time(self.start),
                "end": format_time(self.end)[:5] if self.end % 60 == 0 else format_time(self.end)}

    @classmethod
    def from_json(cls, raw: object, field_name: str) -> Window:
        body = _obj(raw, field_name)
        start, end = parse_time(body.get("start"), f"{field_name}.start"), parse_time(body.get("end"), f"{field_name}.end")
        if end <= start:
            raise error_for(IMPOSSIBLE_TIME_WINDOW, f"{field_name} ends before it starts", field=field_name)
        return cls(start, end)


@dataclass(frozen=True, slots=True)
class Lunch:
    """A break of ``duration_s`` that must lie wholly inside ``window``."""

    window: Window
    duration_s: int

    def to_json(self) -> dict[str, Any]:
        return {**self.window.to_json(), "minutes": self.duration_s / 60}

    @classmethod
    def from_json(cls, raw: object, field_name: str = "lunch") -> Lunch | None:
        if raw is None:
            return None
        body = _obj(raw, field_name)
        window = Window.from_json(body, field_name)
        duration = _minutes(body.get("minutes"), f"{field_name}.minutes", high=240)
        if duration > window.length:
            raise error_for(IMPOSSIBLE_TIME_WINDOW, f"the {duration // 60}-minute lunch does not fit its window", field=field_name)
        return cls(window, duration)


@dataclass(frozen=True, slots=True)
class Candidate:
    """An account that would like a visit."""

    id: str
    location: Point
    visit_s: int
    windows: tuple[Window, ...] = ()
    soft_window: Window | None = None
    must_visit: bool = False
    value: float = 10.0
    name: str = ""
    rep_ids: tuple[str, ...] = ()  # team planning: the reps allowed to take it (empty = anyone)

    def to_json(self) -> dict[str, Any]:
        body = {"id": self.id, "name": self.name, "location": self.location.to_json(), "visit_minutes": self.visit_s / 60,
                "windows": [w.to_json() for w in self.windows],
                "soft_window": self.soft_window.to_json() if self.soft_window else None,
                "must_visit": self.must_visit, "value": self.value}
        if self.rep_ids:
            body["rep_ids"] = list(self.rep_ids)
        return body

    @classmethod
    def from_json(cls, raw: object, field_name: str) -> Candidate:
        body = _obj(raw, field_name)
        ident = _ident(body.get("id"), f"{field_name}.id")
        location = Point.from_json(body.get("location"))
        visit = _minutes(body.get("visit_minutes", 30), f"{field_name}.visit_minutes", high=12 * 60)
        windows = tuple(sorted((Window.from_json(w, f"{field_name}.windows[{i}]")
                                for i, w in enumerate(_list(body.get("windows"), f"{field_name}.windows", 8, code_limit=False)[:9])),
                               key=lambda w: w.start))
        if len(windows) > 8:
            raise _bad("at most 8 windows per account", f"{field_name}.windows")
        for a, b in zip(windows, windows[1:]):
            if b.start < a.end:
                raise error_for(IMPOSSIBLE_TIME_WINDOW, f"account {ident}: its windows overlap", field=f"{field_name}.windows", id=ident)
        for w in windows:
            if w.length < visit:
                raise error_for(IMPOSSIBLE_TIME_WINDOW, f"account {ident}: a window is shorter than the {visit // 60}-minute visit",
                                field=f"{field_name}.windows", id=ident)
        soft = Window.from_json(body["soft_window"], f"{field_name}.soft_window") if body.get("soft_window") is not None else None
        must = body.get("must_visit", False)
        if not isinstance(must, bool):
            raise _bad(f"{field_name}.must_visit must be true or false", f"{field_name}.must_visit")
        value = body.get("value", 10.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= 100_000:
            raise _bad(f"{field_name}.value must be a number between 0 and 100000", f"{field_name}.value")
        name = body.get("name") or ""
        reps = tuple(_ident(r, f"{field_name}.rep_ids") for r in _list(body.get("rep_ids"), f"{field_name}.rep_ids", 1000, code_limit=False))
        return cls(ident, location, visit, windows, soft, must, float(value), str(name)[:200], reps)


@dataclass(frozen=True, slots=True)
class Appointment:
    """A meeting fixed in time: it starts exactly at ``start``."""

    id: str
    location: Point
    start: int
    duration_s: int
    name: str = ""
    account_id: str | None = None

    @property
    def end(self) -> int:
        return self.start + self.duration_s

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "location": self.location.to_json(), "start": format_time(self.start)[:5],
                "minutes": self.duration_s / 60, "account_id": self.account_id}

    @classmethod
    def from_json(cls, raw: object, field_name: str) -> Appointment:
        body = _obj(raw, field_name)
        ident = _ident(body.get("id"), f"{field_name}.id")
        account = body.get("account_id")
        return cls(ident, Point.from_json(body.get("location")), parse_time(body.get("start"), f"{field_name}.start"),
                   _minutes(body.get("minutes"), f"{field_name}.minutes", high=12 * 60), str(body.get("name") or "")[:200],
                   None if account is None else _ident(account, f"{field_name}.account_id"))


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """How hard to search and how to weigh soft windows.

    ``soft_window_penalty`` is in value points; one point is worth one minute
    of travel, the same scale as ``Candidate.value``.
    """

    time_limit_s: float = 2.0
    seed: int = 0
    soft_window_penalty: float = 30.0

    def to_json(self) -> dict[str, Any]:
        return {"time_limit_s": self.time_limit_s, "seed": self.seed, "soft_window_penalty": self.soft_window_penalty}

    @classmethod
    def from_json(cls, raw: object) -> PlanOptions:
        if raw is None:
            return cls()
        body = _obj(raw, "options")
        limit, seed, penalty = body.get("time_limit_s", 2.0), body.get("seed", 0), body.get("soft_window_penalty", 30.0)
        if isinstance(limit, bool) or not isinstance(limit, (int, float)) or not 0 < limit <= MAX_TIME_LIMIT_S:
            raise _bad(f"options.time_limit_s must be in (0, {MAX_TIME_LIMIT_S:g}]", "options.time_limit_s")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
            raise _bad("options.seed must be a non-negative integer", "options.seed")
        if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not 0 <= penalty <= 100_000:
            raise _bad("options.soft_window_penalty must be between 0 and 100000", "options.soft_window_penalty")
        return cls(float(limit), seed, float(penalty))


def _parse_date(raw: object) -> dt.date:
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError as exc:
        raise _bad("date must be YYYY-MM-DD", "date") from exc


def _parse_zone(raw: object) -> str:
    if not isinstance(raw, str) or not raw:
        raise _bad("timezone must be an IANA name such as 'Asia/Shanghai'", "timezone")
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _bad(f"unknown time zone {raw!r}", "timezone") from exc
    return raw


@dataclass(frozen=True, slots=True)
class DayRequest:
    """One rep's day: where it starts and ends, when, and what could be visited."""

    date: dt.date
    timezone: str
    start: Point
    end: Point
    shift: Window
    lunch: Lunch | None = None
    accounts: tuple[Candidate, ...] = ()
    appointments: tuple[Appointment, ...] = ()
    travel: TravelModel = field(default_factory=TravelModel)
    options: PlanOptions = field(default_factory=PlanOptions)

    def __post_init__(self) -> None:
        check_day(self)

    def at(self, seconds: int) -> dt.datetime:
        """The aware local datetime ``seconds`` after midnight of the plan's date."""
        midnight = dt.datetime.combine(self.date, dt.time(0), tzinfo=ZoneInfo(self.timezone))
        naive = dt.datetime.combine(self.date, dt.time(0)) + dt.timedelta(seconds=seconds)
        return naive.replace(tzinfo=midnight.tzinfo)

    def to_json(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "timezone": self.timezone, "start": self.start.to_json(), "end": self.end.to_json(),
                "shift": self.shift.to_json(), "lunch": self.lunch.to_json() if self.lunch else None,
                "accounts": [a.to_json() for a in self.accounts], "appointments": [a.to_json() for a in self.appointments],
                "travel": self.travel.to_json(), "options": self.options.to_json()}

    @classmethod
    def from_json(cls, raw: object) -> DayRequest:
        body = _obj(raw, "request")
        accounts_raw = _list(body.get("accounts"), "accounts", MAX_DAY_STOPS)
        appts_raw = _list(body.get("appointments"), "appointments", MAX_DAY_STOPS)
        if len(accounts_raw) + len(appts_raw) > MAX_DAY_STOPS:
            raise error_for(TOO_MANY_STOPS, f"{len(accounts_raw) + len(appts_raw)} stops; the limit is {MAX_DAY_STOPS}",
                            count=len(accounts_raw) + len(appts_raw), limit=MAX_DAY_STOPS)
        if not accounts_raw and not appts_raw:
            raise error_for(EMPTY_ROUTE_REQUEST, "the request has no accounts and no appointments")
        start = Point.from_json(body.get("start"))
        return cls(
            date=_parse_date(body.get("date")),
            timezone=_parse_zone(body.get("timezone", "UTC")),
            start=start,
            end=Point.from_json(body["end"]) if body.get("end") is not None else start,
            shift=Window.from_json(body.get("shift"), "shift"),
            lunch=Lunch.from_json(body.get("lunch")),
            accounts=tuple(Candidate.from_json(a, f"accounts[{i}]") for i, a in enumerate(accounts_raw)),
            appointments=tuple(Appointment.from_json(a, f"appointments[{i}]") for i, a in enumerate(appts_raw)),
            travel=TravelModel.from_json(body.get("travel")),
            options=PlanOptions.from_json(body.get("options")),
        )


def _room(window: Window, shift: Window) -> int:
    inside = window.intersect(shift)
    return 0 if inside is None else inside.length


def check_day(req: DayRequest) -> None:
    """Consistency rules a day must satisfy before any solving (typed errors)."""
    if len(req.accounts) + len(req.appointments) > MAX_DAY_STOPS:
        raise error_for(TOO_MANY_STOPS, f"the limit is {MAX_DAY_STOPS} stops per day", limit=MAX_DAY_STOPS)
    if not req.accounts and not req.appointments:
        raise error_for(EMPTY_ROUTE_REQUEST, "the request has no accounts and no appointments")
    ids = [a.id for a in req.accounts] + [a.id for a in req.appointments]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[:5]
        raise error_for(INVALID_ROUTE_REQUEST, f"duplicate stop ids: {', '.join(dup)}", field="accounts", ids=dup)
    for acc in req.accounts:
        if acc.visit_s > req.shift.length:
            raise error_for(IMPOSSIBLE_TIME_WINDOW, f"account {acc.id}: the visit is longer than the shift", id=acc.id)
        if acc.must_visit and acc.windows and not any(_room(w, req.shift) >= acc.visit_s for w in acc.windows):
            raise error_for(IMPOSSIBLE_TIME_WINDOW, f"must-visit account {acc.id}: no window leaves room for the visit inside the shift",
                            id=acc.id)
    appts = sorted(req.appointments, key=lambda a: a.start)
    for a in appts:
        if a.start < req.shift.start or a.end > req.shift.end:
            raise error_for(IMPOSSIBLE_TIME_WINDOW, f"appointment {a.id} lies outside the shift", id=a.id)
    for a, b in zip(appts, appts[1:]):
        if b.start < a.end:
            raise error_for(IMPOSSIBLE_TIME_WINDOW, f"appointments {a.id} and {b.id} overlap", ids=[a.id, b.id])
    if req.lunch is not None:
        inside = req.lunch.window.intersect(req.shift)
        if inside is not None and inside.length < req.lunch.duration_s:
            raise error_for(IMPOSSIBLE_TIME_WINDOW, "the lunch break does not fit where its window meets the shift", field="lunch")


@dataclass(frozen=True, slots=True)
class Rep:
    """One member of a team: home base and working hours, the same every day."""

    id: str
    start: Point
    end: Point
    shift: Window
    lunch: Lunch | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "start": self.start.to_json(), "end": self.end.to_json(), "shift": self.shift.to_json(),
                "lunch": self.lunch.to_json() if self.lunch else None}

    @classmethod
    def from_json(cls, raw: object, field_name: str) -> Rep:
        body = _obj(raw, field_name)
        start = Point.from_json(body.get("start"))
        return cls(_ident(body.get("id"), f"{field_name}.id"), start,
                   Point.from_json(body["end"]) if body.get("end") is not None else start,
                   Window.from_json(body.get("shift"), f"{field_name}.shift"), Lunch.from_json(body.get("lunch"), f"{field_name}.lunch"))


@dataclass(frozen=True, slots=True)
class TeamRequest:
    """Several reps over several dates; each account is visited at most once in total.

    Windows are daily opening hours and apply on every date.
    """

    timezone: str
    dates: tuple[dt.date, ...]
    reps: tuple[Rep, ...]
    accounts: tuple[Candidate, ...]
    travel: TravelModel = field(default_factory=TravelModel)
    options: PlanOptions = field(default_factory=PlanOptions)

    def __post_init__(self) -> None:
        if not self.accounts:
            raise error_for(EMPTY_ROUTE_REQUEST, "the team request has no accounts")
        if len(self.accounts) > MAX_TEAM_STOPS:
            raise error_for(TOO_MANY_STOPS, f"the limit is {MAX_TEAM_STOPS} accounts per team request", limit=MAX_TEAM_STOPS)
        if not self.reps or not self.dates:
            raise _bad("a team request needs at least one rep and one date", "reps")
        if len(self.reps) * len(self.dates) > MAX_TEAM_ROUTES:
            raise _bad(f"at most {MAX_TEAM_ROUTES} rep-days per request", "reps")
        for label, ids in (("rep", [r.id for r in self.reps]), ("account", [a.id for a in self.accounts]),
                           ("date", [d.isoformat() for d in self.dates])):
            if len(set(ids)) != len(ids):
                raise _bad(f"duplicate {label} ids", label)
        known = {r.id for r in self.reps}
        for acc in self.accounts:
            if set(acc.rep_ids) - known:
                raise _bad(f"account {acc.id} names an unknown rep in rep_ids", "accounts.rep_ids")
        if any(a.rep_ids for a in self.accounts) and len(self.reps) * (len(self.accounts) + 2 * len(self.reps)) ** 2 > MAX_PROFILE_CELLS:
            raise error_for(TOO_MANY_STOPS, "too many reps x accounts for per-rep account restrictions; split the request",
                            limit=MAX_PROFILE_CELLS)

    def to_json(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "dates": [d.isoformat() for d in self.dates], "reps": [r.to_json() for r in self.reps],
                "accounts": [a.to_json() for a in self.accounts], "travel": self.travel.to_json(), "options": self.options.to_json()}

    @classmethod
    def from_json(cls, raw: object) -> TeamRequest:
        body = _obj(raw, "request")
        accounts_raw = _list(body.get("accounts"), "accounts", MAX_TEAM_STOPS)
        if not accounts_raw:
            raise error_for(EMPTY_ROUTE_REQUEST, "the team request has no accounts")
        reps_raw = _list(body.get("reps"), "reps", MAX_TEAM_ROUTES, code_limit=False)
        dates_raw = _list(body.get("dates"), "dates", MAX_TEAM_ROUTES, code_limit=False)
        if len(reps_raw) > MAX_TEAM_ROUTES or len(dates_raw) > MAX_TEAM_ROUTES:
            raise _bad(f"at most {MAX_TEAM_ROUTES} rep-days per request", "reps")
        return cls(
            timezone=_parse_zone(body.get("timezone", "UTC")),
            dates=tuple(_parse_date(d) for d in dates_raw),
            reps=tuple(Rep.from_json(r, f"reps[{i}]") for i, r in enumerate(reps_raw)),
            accounts=tuple(Candidate.from_json(a, f"accounts[{i}]") for i, a in enumerate(accounts_raw)),
            travel=TravelModel.from_json(body.get("travel")),
            options=PlanOptions.from_json(body.get("options")),
        )


__all__ = ["Appointment", "Candidate", "DayRequest", "Lunch", "PlanOptions", "Rep", "TeamRequest", "Window",
           "format_time", "parse_time"]
