"""A day plan as rows of the CRM ``visits`` table (pure; server and SDK write them through sync).

Visit ids are derived from the plan id and the account, so planning the same
day again (or re-planning after a change) rewrites the same visits instead of
adding new ones; stops that fell out of the plan are returned separately so
the caller can mark them ``skipped``.
"""

from __future__ import annotations

import uuid
from typing import Any

from fieldsync.geo.plan import DayPlan, local_iso

_NS = uuid.UUID("0b7c1f5e-2d49-4c1a-a8e3-6f0d9b2c4e71")


def visit_id(plan_id: str, account_id: str) -> str:
    """The stable id of the planned visit to ``account_id`` in plan ``plan_id``."""
    return str(uuid.uuid5(_NS, f"{plan_id}:{account_id}"))


def plan_id_for(rep_id: str, day: str) -> str:
    """The plan id of a rep's day (one plan per rep and date)."""
    return f"{day}:{rep_id}"[:64]


def visit_rows(plan: DayPlan, *, rep_id: str, plan_id: str | None = None) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any]]]]:
    """``(planned, skipped)``: ``(visit id, values)`` pairs for the plan's visits and dropped stops."""
    pid = plan_id or plan_id_for(rep_id, plan.date.isoformat())
    planned = []
    for sequence, stop in enumerate(s for s in plan.stops if s.kind == "visit"):
        planned.append(
            (
                visit_id(pid, stop.id),
                {
                    "account_id": stop.id,
                    "rep_id": rep_id,
                    "plan_id": pid,
                    "sequence": sequence + 1,
                    "planned_start": local_iso(plan.date, plan.timezone, stop.start),
                    "planned_end": local_iso(plan.date, plan.timezone, stop.departure),
                    "status": "planned",
                },
            )
        )
    skipped = [(visit_id(pid, d.id), {"account_id": d.id, "rep_id": rep_id, "plan_id": pid, "status": "skipped"}) for d in plan.dropped]
    return planned, skipped


__all__ = ["plan_id_for", "visit_id", "visit_rows"]
