"""The visit log, day view and funnel as SQL over the store's real columns, scope-filtered.

Theory of operation
-------------------
``SqlChangeStore.rows["visits"]`` has a column per declared field and indexes
on ``(rep_id, planned_start)``, ``owner_id``, ``department_id`` and
``account_id``. Every query starts from the viewer's read condition
(``Viewer.visits_clause``: a few ``IN`` lists, the same sets the hub uses for
the live feed), adds the page's filters and pages with ``LIMIT/OFFSET`` plus a
``COUNT(*)`` total. A visit belongs to a day by its planned start, or by its
check-in time when it was never planned. Timestamps are stored as canonical
UTC text (``YYYY-MM-DDTHH:MM:SS[.f]Z``), so range filters are string
comparisons that use the index.

Rows leave through ``shape_visit``: the account's name and location only when
the viewer may read that account, hidden fields removed, the rep's display
name, dwell time, the count of unresolved conflicts and the review mark
(``reviews.py``, joined from ``visit_reviews`` on its primary key) added.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, not_, or_, select

from fieldsync.server.dashboard.access import Viewer
from fieldsync.server.dashboard.reviews import SUSPICIOUS, current, reviewed_clause, reviews_table, shape_review
from fieldsync.sync import errors as E
from fieldsync.sync.schema import format_timestamp, is_uuid

MAX_LIMIT = 500
VERDICTS = ("verified", "out_of_range", "suspect", "none")
VISIT_FIELDS = (
    "account_id", "rep_id", "plan_id", "sequence", "planned_start", "planned_end", "status", "checkin_at", "checkin_lat",
    "checkin_lon", "checkin_datum", "checkin_accuracy_m", "checkin_mock", "checkin_received_at", "checkout_at", "checkout_lat",
    "checkout_lon", "checkout_datum", "verdict", "verdict_reasons", "distance_m", "outcome", "notes", "owner_id", "department_id",
)


def parse_time(text: str | None, name: str) -> str | None:
    """An ISO 8601 instant from a query string, as the store's canonical UTC text."""
    if text is None or text == "":
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        raise E.ValidationError(E.WRONG_TYPE, f"{name} must be an ISO 8601 time with an offset") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return format_timestamp(moment)


@dataclass(frozen=True, slots=True)
class VisitFilter:
    """The page's filters: reps, time range ``[start, end)``, verdicts, account (id or name fragment), review mark."""

    reps: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    verdicts: tuple[str, ...] = ()
    account: str | None = None
    ids: tuple[str, ...] = ()
    reviewed: bool | None = None

    @classmethod
    def parse(cls, *, rep: str | None = None, start: str | None = None, end: str | None = None, verdict: str | None = None,
              account: str | None = None, ids: str | None = None, reviewed: str | None = None) -> VisitFilter:
        reps = tuple(r for r in (rep or "").split(",") if r)
        for r in reps:
            if not is_uuid(r):
                raise E.ValidationError(E.BAD_ROW_ID, "rep must be a user id")
        verdicts = tuple(v for v in (verdict or "").split(",") if v)
        if "suspicious" in verdicts:
            verdicts = tuple(dict.fromkeys([v for v in verdicts if v != "suspicious"] + list(SUSPICIOUS)))
        for v in verdicts:
            if v not in VERDICTS:
                raise E.ValidationError(E.WRONG_TYPE, f"verdict must be one of {', '.join(VERDICTS)}, suspicious")
        id_list = tuple(i.lower() for i in (ids or "").split(",") if i)
        if len(id_list) > MAX_LIMIT or any(not is_uuid(i) for i in id_list):
            raise E.ValidationError(E.BAD_ROW_ID, "ids must be at most 500 visit ids")
        acct = (account or "").strip() or None
        if acct is not None and len(acct) > 200:
            raise E.ValidationError(E.VALUE_TOO_LARGE, "account filter is too long")
        flag = (reviewed or "").strip().lower()
        if flag not in ("", "true", "false"):
            raise E.ValidationError(E.WRONG_TYPE, "reviewed must be true or false")
        mark = None if flag == "" else flag == "true"
        return cls(reps, parse_time(start, "start"), parse_time(end, "end"), verdicts, acct, id_list, mark)


class VisitQueries:
    """Read-only queries over a ``SqlChangeStore`` for one viewer (blocking: run in a worker thread)."""

    def __init__(self, store: Any, viewer: Viewer) -> None:
        self.store = store
        self.viewer = viewer
        self.v = store.rows["visits"]
        self.a = store.rows["accounts"]

    # --- building blocks ----------------------------------------------------------

    def _where(self, f: VisitFilter) -> list[Any]:
        v, a = self.v, self.a
        conds: list[Any] = [self.viewer.visits_clause(v, indexed=not f.reps), v.c._cl.op("%")(2) == 1]
        if f.reps:
            for rep in f.reps:
                self.viewer.require_user(rep)
            conds.append(or_(v.c.rep_id.in_(f.reps), and_(v.c.rep_id.is_(None), v.c.owner_id.in_(f.reps))))
        if f.start is not None or f.end is not None:
            planned = [v.c.planned_start.isnot(None)]
            unplanned = [v.c.planned_start.is_(None)]
            if f.start is not None:
                planned.append(v.c.planned_start >= f.start)
                unplanned.append(v.c.checkin_at >= f.start)
            if f.end is not None:
                planned.append(v.c.planned_start < f.end)
                unplanned.append(v.c.checkin_at < f.end)
            conds.append(or_(and_(*planned), and_(*unplanned)))
        hidden = self.viewer.hidden("visits")
        if (f.verdicts or f.reviewed is not None) and "verdict" in hidden:
            raise E.AuthError(E.HIDDEN_FIELD, "visits.verdict is hidden from your role")
        if f.account is not None and not is_uuid(f.account) and "name" in self.viewer.hidden("accounts"):
            raise E.AuthError(E.HIDDEN_FIELD, "accounts.name is hidden from your role")
        if f.verdicts:
            named = [x for x in f.verdicts if x != "none"]
            parts = [v.c.verdict.in_(named)] if named else []
            if "none" in f.verdicts:
                parts.append(v.c.verdict.is_(None))
            conds.append(or_(*parts))
        if f.account is not None:
            if is_uuid(f.account):
                conds.append(v.c.account_id == f.account.lower())
            else:
                pattern = "%" + f.account.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                conds.append(v.c.account_id.in_(select(a.c.id).where(a.c.name.like(pattern, escape="\\"))))
        if f.ids:
            conds.append(v.c.id.in_(f.ids))
        if f.reviewed is not None:
            if not self.viewer.team:
                raise E.AuthError(E.FORBIDDEN, "review marks are for managers")
            marked = reviewed_clause(self.store, v)
            conds.append(marked if f.reviewed else not_(marked))
        return conds

    def check(self, f: VisitFilter) -> None:
        """Raise the typed error a filter would get (a rep outside the scope) without querying."""
        self._where(f)

    def _select(self) -> Select[Any]:
        v, a, r = self.v, self.a, reviews_table(self.store)
        cols = [v.c.id, *(v.c[name] for name in VISIT_FIELDS), a.c.name.label("a_name"), a.c.lat.label("a_lat"),
                a.c.lon.label("a_lon"), a.c.datum.label("a_datum"), a.c.owner_id.label("a_owner"), a.c.department_id.label("a_dept"),
                r.c.reviewer_id.label("rv_by"), r.c.reviewed_ms.label("rv_ms"), r.c.note.label("rv_note"),
                r.c.verdict.label("rv_verdict"), case((current(r, v), 1), else_=0).label("rv_current")]
        joined = v.outerjoin(a, a.c.id == v.c.account_id).outerjoin(r, r.c.visit_id == v.c.id)
        return select(*cols).select_from(joined)

    def _order(self) -> list[Any]:
        v = self.v
        return [func.coalesce(v.c.planned_start, v.c.checkin_at), v.c.sequence, v.c.id]

    # --- the visit log -------------------------------------------------------------

    def page(self, f: VisitFilter, *, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """One page of the filtered visit log and the total count."""
        limit = max(1, min(MAX_LIMIT, limit))
        offset = max(0, offset)
        where = self._where(f)
        with self.store.engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(self.v).where(*where)).scalar_one())
            rows = conn.execute(self._select().where(*where).order_by(*self._order()).limit(limit).offset(offset)).mappings().all()
            shaped = self._shape_all(conn, rows)
        return {"total": total, "limit": limit, "offset": offset, "items": shaped}

    def iter_all(self, f: VisitFilter, *, chunk: int = 1000) -> Iterable[list[dict[str, Any]]]:
        """Every visit of the filtered set, in chunks (CSV export)."""
        where = self._where(f)
        offset = 0
        while True:
            with self.store.engine.connect() as conn:
                rows = conn.execute(self._select().where(*where).order_by(*self._order()).limit(chunk).offset(offset)).mappings().all()
                shaped = self._shape_all(conn, rows, conflicts=False)
            if not rows:
                return
            yield shaped
            offset += len(rows)
            if len(rows) < chunk:
                return

    def _shape_all(self, conn: Any, rows: Sequence[Any], *, conflicts: bool = True) -> list[dict[str, Any]]:
        counts: dict[str, int] = {}
        if conflicts and rows:
            c = self.store.t_conflicts.c
            q = (select(c.row_id, func.count()).where(c.tbl == "visits", c.row_id.in_([r["id"] for r in rows]), c.resolved.is_(False))
                 .group_by(c.row_id))
            counts = {r[0]: int(r[1]) for r in conn.execute(q)}
        return [self.shape_visit(r, counts.get(r["id"], 0)) for r in rows]

    def shape_visit(self, r: Any, conflicts: int = 0) -> dict[str, Any]:
        """One visit as the page sees it (hidden fields removed, account only if readable)."""
        viewer = self.viewer
        out: dict[str, Any] = {"id": r["id"]}
        hidden = viewer.hidden("visits")
        for name in VISIT_FIELDS:
            if name not in hidden and name not in ("owner_id", "department_id"):
                out[name] = r[name]
        rep = r["rep_id"] or r["owner_id"]
        out["rep_id"] = rep
        out["rep_name"] = viewer.name_of(rep)
        account_ok = r["account_id"] is not None and any(r[k] is not None for k in ("a_name", "a_lat", "a_owner", "a_dept"))
        if account_ok and viewer.reads("accounts", r["account_id"], r["a_owner"], r["a_dept"]):
            ahidden = viewer.hidden("accounts")
            out["account"] = {
                "id": r["account_id"],
                "name": None if "name" in ahidden else r["a_name"],
                "lat": None if "lat" in ahidden else r["a_lat"],
                "lon": None if "lon" in ahidden else r["a_lon"],
                "datum": None if "datum" in ahidden else r["a_datum"],
            }
        else:
            out["account"] = None
        out["dwell_s"] = None if hidden & {"checkin_at", "checkout_at"} else dwell_seconds(r["checkin_at"], r["checkout_at"])
        out["conflicts"] = conflicts
        review = r.get("rv_by")
        out["review"] = None if review is None or "verdict" in hidden or not viewer.team else shape_review(
            viewer, review, int(r["rv_ms"]), r["rv_note"], r["rv_verdict"], bool(r["rv_current"]))
        return out

    # --- the funnel -------------------------------------------------------------------

    def funnel(self, f: VisitFilter) -> dict[str, Any]:
        """Per rep: visits planned, checked in, verified, done; suspicious ones; total dwell and mean distance."""
        v = self.v
        rep = func.coalesce(v.c.rep_id, v.c.owner_id).label("rep")
        checked = func.sum(case((v.c.checkin_at.isnot(None), 1), else_=0))
        verified = func.sum(case((v.c.verdict == "verified", 1), else_=0))
        done = func.sum(case((or_(v.c.status == "done", v.c.checkout_at.isnot(None)), 1), else_=0))
        suspicious = func.sum(case((v.c.verdict.in_(SUSPICIOUS), 1), else_=0))
        planned = func.sum(case((v.c.planned_start.isnot(None), 1), else_=0))
        query = (select(rep, func.count(), planned, checked, verified, done, suspicious, func.avg(v.c.distance_m))
                 .where(*self._where(f)).group_by(rep))
        dwell_q = select(rep, v.c.checkin_at, v.c.checkout_at).where(*self._where(f), v.c.checkin_at.isnot(None), v.c.checkout_at.isnot(None))
        with self.store.engine.connect() as conn:
            rows = conn.execute(query).all()
            dwell: dict[str, float] = {}
            for rid, cin, cout in conn.execute(dwell_q):
                seconds = dwell_seconds(cin, cout)
                if seconds is not None and rid is not None:
                    dwell[rid] = dwell.get(rid, 0.0) + seconds
        reps = []
        for rid, total, n_planned, n_checked, n_verified, n_done, n_susp, avg_dist in rows:
            reps.append({
                "rep_id": rid, "rep_name": self.viewer.name_of(rid), "visits": int(total), "planned": int(n_planned or 0),
                "checked_in": int(n_checked or 0), "verified": int(n_verified or 0), "done": int(n_done or 0),
                "suspicious": int(n_susp or 0), "dwell_s": round(dwell.get(rid or "", 0.0)),
                "mean_distance_m": None if avg_dist is None else round(float(avg_dist), 1),
            })
        hidden = self.viewer.hidden("visits")
        blanked = {"verified": "verdict", "suspicious": "verdict", "mean_distance_m": "distance_m", "checked_in": "checkin_at",
                   "dwell_s": "checkin_at", "done": "checkout_at", "planned": "planned_start"}
        for r in reps:
            for key, source in blanked.items():
                if source in hidden or (key == "dwell_s" and "checkout_at" in hidden):
                    r[key] = None
        reps.sort(key=lambda x: (x["rep_name"] or x["rep_id"] or "").lower())
        keys = ("visits", "planned", "checked_in", "verified", "done", "suspicious", "dwell_s")
        totals = {k: None if any(r[k] is None for r in reps) else sum(r[k] for r in reps) for k in keys}
        return {"reps": reps, "totals": totals}


def dwell_seconds(checkin: str | None, checkout: str | None) -> float | None:
    """Seconds between check-in and check-out (None unless both are known and in order)."""
    if not checkin or not checkout:
        return None
    try:
        a = dt.datetime.fromisoformat(checkin.replace("Z", "+00:00"))
        b = dt.datetime.fromisoformat(checkout.replace("Z", "+00:00"))
    except ValueError:
        return None
    seconds = (b - a).total_seconds()
    return seconds if seconds >= 0 else None


__all__ = ["MAX_LIMIT", "SUSPICIOUS", "VisitFilter", "VisitQueries", "dwell_seconds", "parse_time"]
