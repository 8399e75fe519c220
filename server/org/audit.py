"""The audit log: who did what, when, with what outcome.

Entries name people by id only, and ``detail`` never holds names, passwords,
codes or record contents, so erasing a person leaves the log meaningful
(``user 0192... revoked device dev-3``) without their personal data. An
erasure replaces the erased id in ``actor_id``/``subject_id`` by a stable
pseudonym (``erased:<sha256 prefix>``), so their entries stay countable.
"""

from __future__ import annotations

import enum
import hashlib
import json
from typing import Any

from sqlalchemy import Engine, insert, select, update

from fieldsync.server.org.store import OrgStore


class AuditAction(str, enum.Enum):
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOCKED = "account_locked"
    REFRESH = "token_refresh"
    TOTP_ENROLLED = "totp_enrolled"
    TOTP_RESET = "totp_reset"
    RECOVERY_CODE_USED = "recovery_code_used"
    ORG_CHANGE = "org_change"
    ROLE_CHANGE = "role_change"
    SCOPE_CHANGE = "scope_change"
    REASSIGN = "reassign"
    DEVICE_REVOKED = "device_revoked"
    USER_DISABLED = "user_disabled"
    ERASURE = "erasure"
    TOKEN_ISSUED = "token_issued"
    CHECKIN_REVIEWED = "checkin_reviewed"
    REVIEW_WITHDRAWN = "review_withdrawn"
    CONFLICT_RESTORED = "conflict_restored"


def pseudonym(user_id: str) -> str:
    return "erased:" + hashlib.sha256(user_id.encode()).hexdigest()[:16]


class AuditLog:
    """Append-only audit entries in ``audit_log``."""

    def __init__(self, org: OrgStore) -> None:
        self.engine: Engine = org.engine
        self.t = org.t["audit_log"]
        self._now = org.now

    def record(self, action: AuditAction, *, actor: str | None = None, subject: str | None = None,
               outcome: str = "ok", **detail: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(self.t).values(
                at_ms=self._now(), actor_id=actor, action=action.value, subject_id=subject, outcome=outcome,
                detail=json.dumps(detail, sort_keys=True, ensure_ascii=False),
            ))

    def entries(self, *, subject: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        c = self.t.c
        query = select(self.t).order_by(c.id.desc()).limit(limit)
        if subject is not None:
            query = query.where(c.subject_id == subject)
        with self.engine.connect() as conn:
            return [
                {"id": r.id, "at_ms": r.at_ms, "actor": r.actor_id, "action": r.action, "subject": r.subject_id,
                 "outcome": r.outcome, "detail": json.loads(r.detail)}
                for r in conn.execute(query)
            ]

    def pseudonymise(self, conn: Any, user_id: str) -> None:
        """Replace ``user_id`` by its pseudonym in every entry (inside an erasure's transaction)."""
        alias = pseudonym(user_id)
        conn.execute(update(self.t).where(self.t.c.actor_id == user_id).values(actor_id=alias))
        conn.execute(update(self.t).where(self.t.c.subject_id == user_id).values(subject_id=alias))


__all__ = ["AuditAction", "AuditLog", "pseudonym"]
