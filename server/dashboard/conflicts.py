"""Conflict history for the dashboard: list what lost, and restore a losing value as a server write.

``sync_conflicts`` keeps one row per losing write with the row's owner and
department at the time, so the list of open conflicts is scope-filtered in
SQL like the visit log. Restoring writes the loser's value back through
``Hub.write`` (``SqlChangeStore.server_write``): it is a new change by the
server, later than everything the record has seen, so it wins under
last-writer-wins and ``server_wins`` and syncs to every device holding the
record.

An entry of kind ``deleted`` (an edit that lost to a concurrent delete on a
delete-wins table) is restored the same way with ``restore=True``: one server
write that first brings the row back (an existence change to the next odd
causal length) and then writes the lost value at that length. For counters,
sets, text and ``max``/``min`` the lost contribution is still merged into the
row's cell (for ``max``/``min`` the extreme over every write, the lost one
included), so bringing the row back is the restore. Evidence
(``first_write_wins``) and server-only fields cannot be restored -- by design
nobody rewrites them -- nor can a ``max``/``min`` value that lost to a
concurrent value (the extreme is the rule); they are refused with a typed error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from fieldsync.server.dashboard.access import Viewer, rowset_clause
from fieldsync.server.dashboard.queries import VisitFilter, VisitQueries
from fieldsync.sync import errors as E
from fieldsync.sync.change import EXISTS
from fieldsync.sync.schema import is_uuid

RESTORABLE_RULES = frozenset({"lww", "server_wins"})
#: Rules whose lost contribution stays merged in the cell: counters, sets and text, and max/min (the cell holds the
#: extreme over every write, the lost one included). Restoring such an edit lost to a delete is bringing the row back.
MERGED_RULES = frozenset({"counter", "add_wins_set", "text", "max", "min"})
MAX_OPEN = 200
LABEL_FIELDS = {"accounts": "name", "contacts": "name", "leads": "name", "opportunities": "name", "tasks": "title"}


def _public(viewer: Viewer, table: str, raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": raw["id"], "table": table, "row_id": raw["row_id"], "field": raw["field"], "kind": raw["kind"],
        "winner": raw["winner"], "loser": raw["loser"], "resolved": raw["resolved"], "at_ms": raw["at_ms"],
        "restorable": restorable(viewer, table, raw) is None, "merged": merged_contribution(table, raw),
    }


def merged_contribution(table: str, raw: dict[str, Any]) -> bool:
    """True for an edit that lost to a delete on a counter, set, text, max or min field: its value is already merged
    into the row's cell (shown again when the row returns), not a value to write back."""
    from fieldsync.sync.crm import CRM_SCHEMA

    if raw.get("kind") != "deleted":
        return False
    try:
        return CRM_SCHEMA.table(table).field(str(raw.get("field"))).rule in MERGED_RULES
    except E.FieldSyncError:
        return False


def name_writers(devices: Any, viewer: Viewer, conflicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add ``by`` (the writer's display name, via the device registry) to each side of each conflict (blocking)."""
    names: dict[str, str | None] = {"server": "server"}
    for c in conflicts:
        for side in ("winner", "loser"):
            site = c[side].get("site")
            if site and site not in names:
                device = devices.get(site)
                names[site] = None if device is None else viewer.name_of(device.user_id)
            c[side] = {**c[side], "by": names.get(site or "")}
    return conflicts


def restorable(viewer: Viewer, table: str, raw: dict[str, Any]) -> str | None:
    """Why a conflict cannot be restored (None: it can)."""
    from fieldsync.sync.crm import CRM_SCHEMA

    kind = raw.get("kind")
    if kind not in ("value", "deleted"):
        return "unknown kind of conflict"
    try:
        fld = CRM_SCHEMA.table(table).field(str(raw.get("field")))
    except E.FieldSyncError:
        return "unknown field"
    allowed = RESTORABLE_RULES | MERGED_RULES if kind == "deleted" else RESTORABLE_RULES
    if fld.server_only or fld.rule not in allowed:
        return "this field keeps its first or extreme value by design"
    if raw.get("resolved"):
        return "already restored"
    return None


def record_conflicts(store: Any, viewer: Viewer, table: str, row_id: str) -> list[dict[str, Any]]:
    """The conflict history of one record the viewer may read (blocking)."""
    if not is_uuid(row_id):
        raise E.ValidationError(E.BAD_ROW_ID)
    current = store.row_scopes(table, [row_id]).get(row_id)
    if current is None or not viewer.reads(table, row_id, *current):
        raise E.AuthError(E.OUT_OF_SCOPE, "the record is outside your read scope")
    hidden = viewer.hidden(table)
    found = [c for c in store.conflicts(table, row_id) if str(c.get("field")) not in hidden]
    return [_public(viewer, table, {**c, "row_id": row_id}) for c in found]


def open_conflicts(store: Any, viewer: Viewer, table: str | Sequence[str] = "visits", *, limit: int = MAX_OPEN) -> list[dict[str, Any]]:
    """Unresolved conflicts of records in the viewer's read scope, in one or several tables, newest first (blocking)."""
    tables = (table,) if isinstance(table, str) else tuple(table)
    t = store.t_conflicts
    out = []
    with store.engine.connect() as conn:
        for name in tables:
            cond = rowset_clause(t, viewer.rowset(name), row_id="row_id")
            if name == "visits" and not viewer.team:
                cond = t.c.owner_id == viewer.user_id
            query = (select(t.c.id, t.c.row_id, t.c.body, t.c.resolved, t.c.committed_ms)
                     .where(t.c.tbl == name, t.c.resolved.is_(False), cond).order_by(t.c.id.desc()).limit(limit))
            hidden = viewer.hidden(name)
            for cid, row_id, body, resolved, at_ms in conn.execute(query):
                raw = {"id": cid, "row_id": row_id, **json.loads(body), "resolved": bool(resolved), "at_ms": at_ms}
                if raw["field"] not in hidden:
                    out.append(_public(viewer, name, raw))
    out.sort(key=lambda c: c["id"], reverse=True)
    return out[:limit]


def record_labels(store: Any, viewer: Viewer, table: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``{id: {"label", "deleted"}}`` for records of a non-visit table the viewer may read (blocking).

    ``label`` is the record's name (a task's title), None when the role hides it;
    ``deleted`` says the row is deleted now (an edit of it may have lost to that delete).
    """
    column = LABEL_FIELDS.get(table)
    if column is None or not ids:
        return {}
    t = store.rows[table]
    hidden = viewer.hidden(table)
    out: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        query = select(t.c.id, t.c[column], t.c._cl, t.c.owner_id, t.c.department_id).where(t.c.id.in_(list(ids)[:MAX_OPEN]))
        for row_id, label, cl, owner, dept in conn.execute(query):
            if viewer.reads(table, row_id, owner, dept):
                out[row_id] = {"label": None if column in hidden else label, "deleted": cl % 2 == 0}
    return out


def describe_records(store: Any, viewer: Viewer, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Name each conflict's record (blocking): ``visit`` (rep, account, planned start) for visits, ``record``
    (``record_labels``) for other tables; None where the viewer may not read it."""
    visit_ids = tuple(dict.fromkeys(c["row_id"] for c in found if c["table"] == "visits"))[:500]
    if visit_ids:
        page = VisitQueries(store, viewer).page(VisitFilter(ids=visit_ids), limit=500)
        visits = {v["id"]: v for v in page["items"]}
        for c in found:
            if c["table"] == "visits":
                v = visits.get(c["row_id"])
                c["visit"] = None if v is None else {"rep_name": v["rep_name"], "account": (v["account"] or {}).get("name"),
                                                     "planned_start": v.get("planned_start")}
    for table in dict.fromkeys(c["table"] for c in found if c["table"] != "visits"):
        labels = record_labels(store, viewer, table, tuple(dict.fromkeys(c["row_id"] for c in found if c["table"] == table)))
        for c in found:
            if c["table"] == table:
                c["record"] = labels.get(c["row_id"])
    return found


def load_conflict(store: Any, conflict_id: int) -> tuple[str, dict[str, Any]]:
    """``(table, conflict)`` of one conflict-history entry (blocking)."""
    t = store.t_conflicts
    with store.engine.connect() as conn:
        row = conn.execute(select(t.c.id, t.c.tbl, t.c.row_id, t.c.body, t.c.resolved, t.c.committed_ms).where(t.c.id == conflict_id)).first()
    if row is None:
        raise E.AuthError(E.OUT_OF_SCOPE, "no such conflict in your scope")
    return row[1], {"id": row[0], "row_id": row[2], **json.loads(row[3]), "resolved": bool(row[4]), "at_ms": row[5]}


def check_restore(store: Any, viewer: Viewer, conflict_id: int) -> tuple[str, dict[str, Any]]:
    """The conflict to restore, once the viewer may write the record and the field may be restored (blocking)."""
    table, raw = load_conflict(store, conflict_id)
    row_id = raw["row_id"]
    current = store.row_scopes(table, [row_id]).get(row_id)
    if current is None or not viewer.reads(table, row_id, *current) or viewer.hidden(table) & {raw["field"]}:
        raise E.AuthError(E.OUT_OF_SCOPE, "no such conflict in your scope")
    if not viewer.writes(table, row_id, *current):
        raise E.AuthError(E.OUT_OF_SCOPE, "the record is outside your write scope")
    why = restorable(viewer, table, raw)
    if why is not None:
        raise E.AuthError(E.FORBIDDEN, why)
    return table, raw


def restore_values(table: str, raw: dict[str, Any]) -> dict[str, Any]:
    """What a restore writes: the loser's value, except for merged rules, whose lost contribution is still in the cell."""
    if merged_contribution(table, raw):
        return {}
    return {raw["field"]: raw["loser"]["value"]}


def restore_job(store: Any, table: str, raw: dict[str, Any]) -> Any:
    """The writer-thread job: write the loser's value back as the server, marking the entry resolved in the same transaction.

    For an edit that lost to a delete, the same server write first brings the row back.
    """

    def job() -> Any:
        return store.server_write(
            table, raw["row_id"], restore_values(table, raw), restore=raw["kind"] == "deleted", resolves=raw["id"]
        )

    return job


def brought_back(outcome: Any, row_id: str) -> bool:
    """Whether a restore's write brought its row back (it logged an existence change for the row)."""
    for entry in outcome.entries:
        if entry.row_id == row_id and any(ch.get("f") == EXISTS for ch in entry.changes()):
            return True
    return False


__all__ = ["brought_back", "check_restore", "describe_records", "merged_contribution", "name_writers", "open_conflicts", "record_conflicts", "record_labels",
           "restorable", "restore_job", "restore_values"]
