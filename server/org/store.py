"""``OrgStore``: the organisation, users' credentials, record teams, devices and the audit log in SQL.

It shares the change store's engine (same database, same migrations). Reads of
the whole organisation are cached and keyed by ``org_meta.org_version``, which
every organisation change bumps in the same transaction, so a hub (or another
hub process, or the admin command line) sees a change at its next ``load()``.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, MetaData, Table, delete, insert, select, update

from fieldsync.server.org.model import Department, Org, Role, Scope, TeamMember, User
from fieldsync.server.org.tables import add_org_tables
from fieldsync.server.store.bulk import scalar
from fieldsync.sync import errors as E


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Credentials:
    """The sign-in record of one user (never sent to clients)."""

    user_id: str
    login: str
    password_hash: str | None
    totp_secret: str | None
    totp_enabled: bool
    totp_last_step: int
    recovery_codes: tuple[str, ...]
    failed_logins: int
    locked_until_ms: int
    disabled: bool


@dataclass(frozen=True, slots=True)
class Device:
    """One registered device (site id) of a user."""

    site: str
    user_id: str
    label: str
    created_ms: int
    last_seen_ms: int
    revoked_ms: int | None
    revoked_reason: str | None
    refresh_hash: str | None
    refresh_expires_ms: int | None
    scope: str | None

    @property
    def revoked(self) -> bool:
        return self.revoked_ms is not None

    def public(self) -> dict[str, Any]:
        return {"site": self.site, "user": self.user_id, "label": self.label, "created_ms": self.created_ms,
                "last_seen_ms": self.last_seen_ms, "revoked": self.revoked, "revoked_reason": self.revoked_reason}


class OrgStore:
    """Organisation, credentials, devices and audit on one SQLAlchemy engine."""

    def __init__(self, engine: Engine, *, clock: Any = now_ms) -> None:
        self.engine = engine
        md = MetaData()
        add_org_tables(md)
        self.t: Mapping[str, Table] = md.tables
        self.now = clock
        self._now = clock
        self._cache: Org | None = None

    # --- the organisation ------------------------------------------------------

    def version(self) -> int:
        """The organisation's version (asked before every scoped push: a plain driver query, see ``store/bulk.py``)."""
        with self.engine.connect() as conn:
            v = scalar(conn, "SELECT value FROM org_meta WHERE key = ?", ("org_version",))
        return int(v or 0)

    def load(self) -> Org:
        """The current organisation (cached until the version moves)."""
        version = self.version()
        if self._cache is not None and self._cache.version == version:
            return self._cache
        t = self.t
        with self.engine.connect() as conn:
            deps = [Department(r.id, r.name, r.parent_id) for r in conn.execute(select(t["org_departments"]))]
            roles = [
                Role(r.id, r.name, Role.grants_from_json(json.loads(r.grants)),
                     {k: frozenset(v) for k, v in json.loads(r.hidden).items()}, bool(r.totp_required), bool(r.admin))
                for r in conn.execute(select(t["org_roles"]))
            ]
            u = t["org_users"].c
            users = [
                User(r.id, r.login, r.display_name, r.department_id, r.manager_id, r.role_id, bool(r.disabled))
                for r in conn.execute(select(u.id, u.login, u.display_name, u.department_id, u.manager_id, u.role_id, u.disabled))
            ]
            teams = [TeamMember(r.tbl, r.row_id, r.user_id, r.access) for r in conn.execute(select(t["org_teams"]))]
        org = Org.build(deps, users, roles, teams, version)
        self._cache = org
        return org

    def bump_version(self, conn: Any) -> None:
        """Bump ``org_version`` inside ``conn``'s transaction (every hub re-checks its connections)."""
        m = self.t["org_meta"]
        current = conn.execute(select(m.c.value).where(m.c.key == "org_version")).scalar()
        if current is None:
            conn.execute(insert(m).values(key="org_version", value=1))
        else:
            conn.execute(update(m).where(m.c.key == "org_version").values(value=int(current) + 1))

    def create_department(self, name: str, parent_id: str | None = None, *, id: str | None = None) -> str:
        dep_id = id or str(uuid.uuid4())
        with self.engine.begin() as conn:
            if parent_id is not None and conn.execute(select(self.t["org_departments"].c.id).where(self.t["org_departments"].c.id == parent_id)).first() is None:
                raise E.AuthError(E.FORBIDDEN, "unknown parent department")
            conn.execute(insert(self.t["org_departments"]).values(id=dep_id, name=name, parent_id=parent_id, created_ms=self._now()))
            self.bump_version(conn)
        return dep_id

    def create_role(
        self, name: str, grants: Mapping[tuple[str, str], Scope] | Mapping[str, Mapping[str, str]], *,
        hidden: Mapping[str, Iterable[str]] | None = None, totp_required: bool = False, admin: bool = False, id: str | None = None,
    ) -> str:
        role_id = id or str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(insert(self.t["org_roles"]).values(id=role_id, name=name, **_role_values(grants, hidden, totp_required, admin)))
            self.bump_version(conn)
        return role_id

    def update_role(
        self, role_id: str, grants: Mapping[tuple[str, str], Scope] | Mapping[str, Mapping[str, str]], *,
        hidden: Mapping[str, Iterable[str]] | None = None, totp_required: bool = False, admin: bool = False,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(self.t["org_roles"]).where(self.t["org_roles"].c.id == role_id).values(**_role_values(grants, hidden, totp_required, admin)))
            self.bump_version(conn)

    def create_user(
        self, login: str, *, display_name: str = "", department_id: str | None = None, manager_id: str | None = None,
        role_id: str | None = None, password_hash: str | None = None, id: str | None = None,
    ) -> str:
        user_id = id or str(uuid.uuid4())
        with self.engine.begin() as conn:
            conn.execute(insert(self.t["org_users"]).values(
                id=user_id, login=login, display_name=display_name or login, department_id=department_id, manager_id=manager_id,
                role_id=role_id, password_hash=password_hash, totp_secret=None, totp_enabled=False, totp_last_step=0,
                recovery_codes="[]", failed_logins=0, locked_until_ms=0, disabled=False, created_ms=self._now(),
            ))
            self.bump_version(conn)
        return user_id

    def update_user(self, user_id: str, **values: Any) -> None:
        """Change organisation fields of a user (department_id, manager_id, role_id, disabled, display_name, login)."""
        allowed = {"department_id", "manager_id", "role_id", "disabled", "display_name", "login"}
        if not values or set(values) - allowed:
            raise ValueError(f"update_user takes {sorted(allowed)}")
        with self.engine.begin() as conn:
            conn.execute(update(self.t["org_users"]).where(self.t["org_users"].c.id == user_id).values(**values))
            self.bump_version(conn)

    def set_team(self, table: str, row_id: str, user_id: str, access: str | None) -> None:
        """Add (``read``/``write``) or remove (None) a user on a record's team."""
        tt = self.t["org_teams"]
        with self.engine.begin() as conn:
            conn.execute(delete(tt).where(tt.c.tbl == table, tt.c.row_id == row_id, tt.c.user_id == user_id))
            if access is not None:
                if access not in {"read", "write"}:
                    raise ValueError("team access is read or write")
                conn.execute(insert(tt).values(tbl=table, row_id=row_id, user_id=user_id, access=access))
            self.bump_version(conn)

    def touch(self) -> None:
        """Bump the organisation version (hubs re-read the log and re-check every connection)."""
        with self.engine.begin() as conn:
            self.bump_version(conn)

    def delete_user_links(self, conn: Any, user_id: str) -> None:
        """Remove a user from teams and managers' chains (erasure), inside ``conn``'s transaction."""
        tt, u = self.t["org_teams"], self.t["org_users"]
        conn.execute(delete(tt).where(tt.c.user_id == user_id))
        conn.execute(update(u).where(u.c.manager_id == user_id).values(manager_id=None))
        self.bump_version(conn)

    # --- credentials -------------------------------------------------------------

    def credentials(self, *, login: str | None = None, user_id: str | None = None) -> Credentials | None:
        u = self.t["org_users"].c
        cond = u.login == login if login is not None else u.id == user_id
        with self.engine.connect() as conn:
            r = conn.execute(select(self.t["org_users"]).where(cond)).first()
        if r is None:
            return None
        return Credentials(r.id, r.login, r.password_hash, r.totp_secret, bool(r.totp_enabled), int(r.totp_last_step),
                           tuple(json.loads(r.recovery_codes)), int(r.failed_logins), int(r.locked_until_ms), bool(r.disabled))

    def set_credentials(self, user_id: str, **values: Any) -> None:
        """Update sign-in fields (password_hash, totp_*, recovery_codes, failed_logins, locked_until_ms)."""
        if "recovery_codes" in values:
            values["recovery_codes"] = json.dumps(list(values["recovery_codes"]))
        with self.engine.begin() as conn:
            conn.execute(update(self.t["org_users"]).where(self.t["org_users"].c.id == user_id).values(**values))

    def claim_totp_step(self, user_id: str, step: int) -> bool:
        """Record a used TOTP time step; False if it (or a later one) was already used (replay)."""
        u = self.t["org_users"]
        with self.engine.begin() as conn:
            res = conn.execute(update(u).where(u.c.id == user_id, u.c.totp_last_step < step).values(totp_last_step=step))
            return bool(res.rowcount)

    def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        creds = self.credentials(user_id=user_id)
        if creds is None or code_hash not in creds.recovery_codes:
            return False
        self.set_credentials(user_id, recovery_codes=[c for c in creds.recovery_codes if c != code_hash])
        return True


def _role_values(grants: Any, hidden: Mapping[str, Iterable[str]] | None, totp_required: bool, admin: bool) -> dict[str, Any]:
    if grants and all(isinstance(k, tuple) for k in grants):
        grants_json = Role("", "", dict(grants)).grants_json()
    else:
        grants_json = Role("", "", Role.grants_from_json(grants)).grants_json()
    return {
        "grants": json.dumps(grants_json, sort_keys=True),
        "hidden": json.dumps({k: sorted(v) for k, v in (hidden or {}).items()}, sort_keys=True),
        "totp_required": totp_required,
        "admin": admin,
    }


__all__ = ["Credentials", "Device", "OrgStore", "now_ms"]
