"""Review marks on suspicious check-ins: "a manager has looked at this one", kept on the server only.

Theory of operation
-------------------
``visit_reviews`` holds at most one mark per visit: who marked it, when (the
store's clock), an optional short note, and the *basis* of the mark -- the
visit's ``verdict`` and the exact stored text of its ``verdict_reasons`` when
it was marked. A mark is **current** while the visit's verdict and reasons are
still that basis; the to-review list is "suspicious and no current mark".
When the server reclassifies the check-in with other reasons (a check-out adds
``short_dwell``, an earlier check-in that synced late makes the travel
impossible), the visit is back in the list and the old mark is shown as
superseded. Comparing the stored texts needs no JSON in SQL: both sides are
the same column's text, read by the same database.

Only managers (and administrators) mark, only visits in their read scope
whose verdict their role may see, and nobody marks their own check-in. The
mark never syncs to devices: see ``docs/decisions.md``. The route audits it
(``AuditAction.CHECKIN_REVIEWED``, ids only -- never the note). A manager who
could mark a visit may also withdraw its mark (``withdraw_review``, audited as
``AuditAction.REVIEW_WITHDRAWN``); the visit is then to review again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Table, Text, and_, cast, delete, exists, func, insert, select

from fieldsync.server.dashboard.access import Viewer
from fieldsync.sync import errors as E
from fieldsync.sync.schema import is_uuid

MAX_NOTE = 500
SUSPICIOUS = ("out_of_range", "suspect")


def reviews_table(store: Any) -> Table:
    table: Table = store.metadata.tables["visit_reviews"]
    return table


def reasons_text(v: Table) -> ColumnElement[Any]:
    """The stored text of ``visits.verdict_reasons`` ('' when null): what a mark's basis is compared with."""
    return func.coalesce(cast(v.c.verdict_reasons, Text), "")


def current(r: Any, v: Table) -> ColumnElement[bool]:
    """SQL: mark ``r`` still covers visit ``v`` (same verdict, same reasons)."""
    return and_(r.c.verdict == v.c.verdict, r.c.reasons == reasons_text(v))


def reviewed_clause(store: Any, v: Table) -> ColumnElement[bool]:
    """SQL: the visit has a current review mark."""
    r = reviews_table(store).alias("marks")  # its own name: the page's query also joins visit_reviews
    return exists(select(r.c.visit_id).where(r.c.visit_id == v.c.id, current(r, v)).correlate_except(r))


def shape_review(viewer: Viewer, by: str, at_ms: int, note: str | None, verdict: str, is_current: bool) -> dict[str, Any]:
    """A mark as the page sees it."""
    at = dt.datetime.fromtimestamp(at_ms / 1000, dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return {"by": by, "by_name": viewer.name_of(by), "at": at, "note": note, "verdict": verdict, "current": is_current}


def clean_note(note: str | None) -> str | None:
    """The note as stored: trimmed, None when empty; longer than ``MAX_NOTE`` characters is refused."""
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise E.ValidationError(E.VALUE_TOO_LARGE, f"the note is longer than {MAX_NOTE} characters")
    return text or None


def _check_markable(conn: Any, store: Any, viewer: Viewer, visit_id: str) -> tuple[str, str]:
    """The visit's (verdict, reasons text) when ``viewer`` may mark or unmark it; raises the typed refusal otherwise."""
    if not viewer.team:
        raise E.AuthError(E.FORBIDDEN, "only managers mark check-ins reviewed")
    v = store.rows["visits"]
    query = select(v.c.owner_id, v.c.department_id, v.c.rep_id, v.c._cl, v.c.verdict, reasons_text(v)).where(v.c.id == visit_id)
    row = conn.execute(query).first()
    if row is None or row[3] % 2 == 0 or not viewer.reads("visits", visit_id, row[0], row[1]):
        raise E.AuthError(E.OUT_OF_SCOPE, "no such visit in your scope")
    owner, _, rep, _, verdict, reasons = row
    if "verdict" in viewer.hidden("visits"):
        raise E.AuthError(E.HIDDEN_FIELD, "visits.verdict is hidden from your role")
    if (rep or owner) == viewer.user_id:
        raise E.AuthError(E.FORBIDDEN, "nobody marks their own check-in reviewed")
    return verdict, reasons


def mark_reviewed(store: Any, viewer: Viewer, visit_id: str, note: str | None) -> dict[str, Any]:
    """Mark a suspicious check-in reviewed for everyone who sees the visit; answers the mark (blocking).

    Refused: by a rep (``FS-3003``), outside the read scope or a deleted visit
    (``FS-3004``), when the role hides the verdict (``FS-3010``), on one's own
    check-in, a check-in that is not suspicious, or one already marked for the
    same verdict and reasons (``FS-3003``).
    """
    if not is_uuid(visit_id):
        raise E.ValidationError(E.BAD_ROW_ID)
    text = clean_note(note)
    r = reviews_table(store)
    with store.engine.begin() as conn:
        verdict, reasons = _check_markable(conn, store, viewer, visit_id)
        if verdict not in SUSPICIOUS:
            raise E.AuthError(E.FORBIDDEN, "only suspicious check-ins are marked reviewed")
        before = conn.execute(select(r.c.verdict, r.c.reasons).where(r.c.visit_id == visit_id)).first()
        if before is not None and (before[0], before[1]) == (verdict, reasons):
            raise E.AuthError(E.FORBIDDEN, "this check-in is already marked reviewed")
        now = store.now_ms()
        conn.execute(delete(r).where(r.c.visit_id == visit_id))
        conn.execute(insert(r).values(visit_id=visit_id, reviewer_id=viewer.user_id, reviewed_ms=now, note=text,
                                      verdict=verdict, reasons=reasons))
    return {"visit_id": visit_id, "review": shape_review(viewer, viewer.user_id, now, text, verdict, True)}


def withdraw_review(store: Any, viewer: Viewer, visit_id: str) -> dict[str, Any]:
    """Withdraw a visit's review mark (current or superseded): the check-in is to review again if still suspicious.

    Any manager who could mark the visit may withdraw its mark, not only the
    one who made it (a supervisor overruling a deputy); the same refusals as
    ``mark_reviewed`` apply, and a visit with no mark gets ``FS-3003``.
    Answers the withdrawn mark's verdict and who had made it.
    """
    if not is_uuid(visit_id):
        raise E.ValidationError(E.BAD_ROW_ID)
    r = reviews_table(store)
    with store.engine.begin() as conn:
        _check_markable(conn, store, viewer, visit_id)
        mark = conn.execute(select(r.c.reviewer_id, r.c.verdict).where(r.c.visit_id == visit_id)).first()
        if mark is None:
            raise E.AuthError(E.FORBIDDEN, "this check-in has no review mark")
        conn.execute(delete(r).where(r.c.visit_id == visit_id))
    return {"visit_id": visit_id, "withdrawn": {"by": mark[0], "verdict": mark[1]}}


__all__ = ["MAX_NOTE", "clean_note", "current", "mark_reviewed", "reasons_text", "reviewed_clause", "reviews_table", "shape_review",
           "withdraw_review"]
