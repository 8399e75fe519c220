"""Check-in verdicts: the server classifies every check-in that syncs, and the verdict syncs back.

A device writes the evidence fields of a visit (first-write-wins: nobody can
rewrite them afterwards). When they reach the hub, ``VerdictWorker`` stamps
the receipt time, gathers the account's location and radius and the rep's
previous check-in, runs the pure ``fieldsync.geo.classify_check_in``, and
writes ``verdict``, ``verdict_reasons`` and ``distance_m`` (server-only
fields) as server changes. It flags, it never blocks: the visit is logged
whatever the verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from sqlalchemy import select

from fieldsync.geo import AccountSite, Evidence, Point, Policy, classify_check_in
from fieldsync.geo.visits import evidence_from_row, verdict_fields
from fieldsync.server.settings import Settings
from fieldsync.sync import errors as E
from fieldsync.sync.merge import loads_state

log = logging.getLogger("fieldsync.visits")


def _time(text: str | None) -> dt.datetime | None:
    return None if not text else dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def evidence_of(visit: dict[str, Any], received_at: dt.datetime) -> Evidence | None:
    """The check-in evidence recorded on a visit row, or None if it has no check-in yet."""
    if visit.get("checkin_lat") is None or visit.get("checkin_lon") is None:
        return None
    return evidence_from_row(visit, received_at=received_at)


class VerdictWorker:
    """Classifies check-ins as they sync (one at a time, off the event loop)."""

    def __init__(self, hub: Any, settings: Settings) -> None:
        self.hub = hub
        self.store = hub.store
        self.policy = Policy(radius_m=settings.checkin_radius_m)
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.classified = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def on_commit(self, entries: list[Any]) -> None:
        """Hub listener: visits whose evidence changed on a device."""
        for e in entries:
            if e.table == "visits" and e.site != "server" and '"f":"check' in e.body:
                self._pending.add(e.row_id)
        if self._pending:
            self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                visit_id = self._pending.pop()
                try:
                    values = await asyncio.to_thread(self.verdict_values, visit_id, dt.datetime.now(dt.timezone.utc))
                    if values:
                        await self.hub.write(lambda v=values, i=visit_id: self.store.server_write("visits", i, v))
                        self.classified += 1
                except E.FieldSyncError as err:
                    log.warning("check-in %s not classified: %s", visit_id, err.code.code)

    def _row(self, table: str, row_id: str | None) -> dict[str, Any] | None:
        if not row_id:
            return None
        raw = self.store.row_states(table, [row_id]).get(row_id)
        return None if raw is None else loads_state(raw).values()

    def verdict_values(self, visit_id: str, now: dt.datetime) -> dict[str, Any] | None:
        """The server fields to write for a visit's current evidence (None: nothing to classify)."""
        visit = self._row("visits", visit_id)
        if visit is None:
            return None
        received = _time(visit.get("checkin_received_at")) or now
        evidence = evidence_of(visit, received)
        account = self._row("accounts", visit.get("account_id"))
        if evidence is None or account is None or account.get("lat") is None or account.get("lon") is None:
            return None
        site = AccountSite(str(visit["account_id"]), Point(account["lat"], account["lon"], account.get("datum") or "wgs84"), account.get("checkin_radius_m"))
        verdict = classify_check_in(evidence, site, previous=self._previous(visit, visit_id, received), policy=self.policy)
        values = verdict_fields(verdict)
        if visit.get("checkin_received_at") is None:
            values["checkin_received_at"] = received.isoformat()
        if all(visit.get(k) == v for k, v in values.items()):
            return None
        return values

    def _previous(self, visit: dict[str, Any], visit_id: str, received: dt.datetime) -> Evidence | None:
        rep, at = visit.get("rep_id") or visit.get("owner_id"), visit.get("checkin_device_time") or visit.get("checkin_at")
        if not rep or not at:
            return None
        t = self.store.rows["visits"]
        when = t.c.checkin_device_time
        query = (
            select(t.c.id)
            .where((t.c.rep_id == rep) | (t.c.owner_id == rep), when < at, t.c.id != visit_id)
            .order_by(when.desc())
            .limit(1)
        )
        with self.store.engine.connect() as conn:
            prev_id = conn.execute(query).scalar()
        prev = self._row("visits", prev_id)
        return None if prev is None else evidence_of(prev, _time(prev.get("checkin_received_at")) or received)


__all__ = ["VerdictWorker", "evidence_of"]
