"""Erasure of a person on request (GDPR art. 17, PIPL art. 47): server and devices.

Two kinds of person live in FieldSync:

* a **record person** -- a contact or lead (a customer's employee). ``erase_rows``
  deletes the rows (and the attachments linked to them: card photos, memos)
  from the row tables, every change-log entry and conflict of those rows, and
  appends one *erasure entry* per row to the log. The feed turns an erasure
  entry into ``evict`` for every device that could read the row (live, or at
  its next catch-up), and ``sync_erased`` refuses any later write to the row
  (FS-2009) so an offline device cannot upload it again.
* a **user** -- an employee. ``erase_user`` revokes their devices (they get
  ``purge``), erases their voice-memo attachments (their voice), reassigns the
  rows they owned to a successor (their manager by default) as server writes so
  devices are re-scoped, replaces their id by a pseudonymous UUID in rows that
  name them (``rep_id``, ``assignee_id``), in the change log, conflicts, batches,
  review marks they made, device registry and audit log, and deletes their account (login, name,
  password hash, second factor). The audit log keeps "pseudonym X was erased
  by admin Y", nothing that identifies them.

Every step is a normal store write under the store's write lock; ``write`` is
how the caller runs it (the hub passes its writer so entries fan out at once;
the command line runs it directly and the hub notices through the organisation
version).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from fieldsync.server.org.audit import AuditAction, AuditLog, pseudonym
from fieldsync.server.org.devices import DeviceRegistry
from fieldsync.server.org.store import OrgStore
from fieldsync.server.store.base import BatchOutcome, LogEntry
from fieldsync.server.store.sql import ERASED_MARK, SqlChangeStore
from fieldsync.sync.hlc import format_hlc
from fieldsync.sync.rules import SERVER_SITE

Write = Callable[[Callable[[], BatchOutcome]], BatchOutcome]
PSEUDONYM_NS = uuid.UUID("6f1b1c1e-5e2a-4c8e-9b55-6a0e6c2f7e11")
REFERENCE_FIELDS = {"visits": ("rep_id",), "tasks": ("assignee_id",)}


def pseudonymous_id(user_id: str) -> str:
    """A stable UUID standing in for an erased user's id (same length, still a UUID)."""
    return str(uuid.uuid5(PSEUDONYM_NS, user_id))


def _direct(fn: Callable[[], BatchOutcome]) -> BatchOutcome:
    return fn()


class Eraser:
    """Erases record persons and users (see module docstring)."""

    def __init__(self, store: SqlChangeStore, org: OrgStore, devices: DeviceRegistry, audit: AuditLog) -> None:
        self.store, self.org, self.devices, self.audit = store, org, devices, audit

    # --- record persons ---------------------------------------------------------------

    def linked_rows(self, rows: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """``rows`` plus the attachments linked to them (by record or as a contact's card photo)."""
        out = list(dict.fromkeys(rows))
        att = self.store.rows["attachments"]
        with self.store.engine.connect() as conn:
            for table, row_id in rows:
                for (aid,) in conn.execute(select(att.c.id).where(att.c.record_table == table, att.c.record_id == row_id)):
                    out.append(("attachments", aid))
                if table == "contacts":
                    card = conn.execute(select(self.store.rows["contacts"].c.card_attachment_id).where(self.store.rows["contacts"].c.id == row_id)).scalar()
                    if card:
                        out.append(("attachments", card))
        return list(dict.fromkeys(out))

    def erase_rows(self, rows: Sequence[tuple[str, str]], *, actor: str | None = None, write: Write = _direct) -> BatchOutcome:
        """Delete rows everywhere on the server and log one erasure entry each (devices evict them)."""
        targets = self.linked_rows(rows)
        outcome = write(lambda: self._erase(targets))
        self.org.touch()
        for table, row_id in targets:
            self.audit.record(AuditAction.ERASURE, actor=actor, subject=row_id, table=table, kind="record")
        return outcome

    def _erase(self, targets: Sequence[tuple[str, str]]) -> BatchOutcome:
        s = self.store
        ch, cf, er = s.t_changes, s.t_conflicts, s.metadata.tables["sync_erased"]
        teams, reviews = s.metadata.tables["org_teams"], s.metadata.tables["visit_reviews"]
        entries: list[LogEntry] = []
        with s._write() as conn:
            seq = s._head(conn)
            now = s._now()
            for table, row_id in targets:
                t = s.rows[table]
                found = conn.execute(select(t.c.owner_id, t.c.department_id).where(t.c.id == row_id)).first()
                owner, dept = (found[0], found[1]) if found else (None, None)
                conn.execute(delete(t).where(t.c.id == row_id))
                conn.execute(delete(ch).where(ch.c.tbl == table, ch.c.row_id == row_id))
                conn.execute(delete(cf).where(cf.c.tbl == table, cf.c.row_id == row_id))
                conn.execute(delete(teams).where(teams.c.tbl == table, teams.c.row_id == row_id))
                if table == "visits":
                    conn.execute(delete(reviews).where(reviews.c.visit_id == row_id))
                if conn.execute(select(er.c.seq).where(er.c.tbl == table, er.c.row_id == row_id)).first() is not None:
                    continue
                seq += 1
                hlc = s._server_clock.tick()
                body = json.dumps({"t": table, "r": row_id, "f": "_cl", "v": "0", "h": format_hlc(hlc), "s": SERVER_SITE, "c": 0, "b": "0"},
                                  separators=(",", ":"))
                conn.execute(insert(ch).values(seq=seq, tbl=table, row_id=row_id, field="_cl", site=SERVER_SITE, hlc=hlc, owner_id=owner,
                                               department_id=dept, body=body, committed_ms=now, moved_from=ERASED_MARK))
                conn.execute(insert(er).values(tbl=table, row_id=row_id, seq=seq, at_ms=now))
                entries.append(LogEntry(seq, SERVER_SITE, table, row_id, owner, dept, body, None, True))
        return BatchOutcome({"seq": str(seq)}, entries)

    # --- users ---------------------------------------------------------------------------

    def erase_user(self, user_id: str, *, successor: str | None = None, actor: str | None = None, write: Write = _direct) -> dict[str, Any]:
        """Erase an employee (see module docstring); returns counts of what was done."""
        org = self.org.load()
        user = org.users[user_id]
        successor = successor or user.manager_id
        heir = org.users.get(successor) if successor else None
        pseudo = pseudonymous_id(user_id)
        revoked = self.devices.revoke_user(user_id, "erased")
        owned: dict[str, list[str]] = {}
        for t in self.store.schema.tables:
            owned[t.name] = [rid for rid, (owner, _) in self.store.row_scopes(t.name).items() if owner == user_id]
        att = self.store.rows["attachments"]
        with self.store.engine.connect() as conn:
            memos = {r[0] for r in conn.execute(select(att.c.id).where(att.c.owner_id == user_id, att.c.kind == "voice_memo"))}
        if memos:
            self.erase_rows([("attachments", m) for m in sorted(memos)], actor=actor, write=write)
        reassigned = 0
        for table, ids in owned.items():
            for row_id in ids:
                if table == "attachments" and row_id in memos:
                    continue
                values = {"owner_id": heir.id if heir else None, "department_id": heir.department_id if heir else None}
                write(lambda t=table, r=row_id, v=values: self.store.server_write(t, r, v))
                reassigned += 1
        for table, fields in REFERENCE_FIELDS.items():
            t = self.store.rows[table]
            for fname in fields:
                with self.store.engine.connect() as conn:
                    ids = [r[0] for r in conn.execute(select(t.c.id).where(t.c[fname] == user_id))]
                for row_id in ids:
                    write(lambda tb=table, r=row_id, f=fname: self.store.server_write(tb, r, {f: pseudo}))
        self._scrub(user_id, pseudo)
        self.audit.record(AuditAction.ERASURE, actor=actor, subject=pseudonym(user_id), kind="user",
                          devices=len(revoked), reassigned=reassigned, memos=len(memos))
        return {"devices_revoked": len(revoked), "rows_reassigned": reassigned, "memos_erased": len(memos), "pseudonym": pseudo}

    def _scrub(self, user_id: str, pseudo: str) -> None:
        """Replace the user's id everywhere it is stored as text; delete the account."""
        s = self.store
        ch, cf, b = s.t_changes, s.t_conflicts, s.t_batches
        dev, users = self.org.t["org_devices"], self.org.t["org_users"]
        like = f"%{user_id}%"
        with s._write() as conn:
            conn.execute(update(ch).where(ch.c.owner_id == user_id).values(owner_id=pseudo))
            conn.execute(update(ch).where(ch.c.body.like(like)).values(body=func.replace(ch.c.body, user_id, pseudo)))
            conn.execute(update(ch).where(ch.c.moved_from.like(like)).values(moved_from=func.replace(ch.c.moved_from, user_id, pseudo)))
            conn.execute(update(cf).where(cf.c.owner_id == user_id).values(owner_id=pseudo))
            conn.execute(update(cf).where(cf.c.body.like(like)).values(body=func.replace(cf.c.body, user_id, pseudo)))
            conn.execute(update(b).where(b.c.user_id == user_id).values(user_id=pseudo))
            reviews = s.metadata.tables["visit_reviews"]
            conn.execute(update(reviews).where(reviews.c.reviewer_id == user_id).values(reviewer_id=pseudo))
            for t in s.rows.values():
                conn.execute(update(t).where(t.c._state.like(like)).values(_state=func.replace(t.c._state, user_id, pseudo)))
            conn.execute(update(dev).where(dev.c.user_id == user_id).values(user_id=pseudo, label="erased", scope=None))
            conn.execute(update(dev).where(dev.c.scope.like(like)).values(scope=func.replace(dev.c.scope, user_id, pseudo)))
            self.org.delete_user_links(conn, user_id)
            conn.execute(delete(users).where(users.c.id == user_id))
            self.audit.pseudonymise(conn, user_id)


__all__ = ["Eraser", "pseudonymous_id"]
