"""Who is looking: the signed-in user's read scope, turned into SQL conditions and field filters.

A ``Viewer`` is computed on the server for every request from the bearer
token (never from anything the page says). Managers (anyone with reports) and
administrators see their read scope; everyone else sees only their own visits
(and nothing outside their read scope either) -- "a rep signing in sees only their own day".
An empty organisation is the open development server of ``docs/security.md``:
everything is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, false, or_, true

from fieldsync.server.org.model import Org
from fieldsync.server.org.scopes import RowSet, ScopeView
from fieldsync.sync import errors as E


@dataclass(frozen=True, slots=True)
class Viewer:
    """The user a dashboard request acts for, with their scope (None: open development server)."""

    user_id: str
    org: Org
    scope: ScopeView | None

    @property
    def team(self) -> bool:
        """True for managers (anyone with reports) and administrators: they see their read scope.

        Everyone else -- reps, whatever their role's read scope -- sees only their own visits.
        """
        if self.scope is None:
            return True
        role = self.org.role_of(self.user_id)
        return self.org.is_manager(self.user_id) or bool(role and role.admin)

    def rowset(self, table: str) -> RowSet | None:
        if self.scope is None:
            return None
        return self.scope.read.get(table, RowSet())

    def reads(self, table: str, row_id: str, owner_id: str | None, department_id: str | None) -> bool:
        if self.scope is None:
            return True
        if table == "visits" and not self.team and owner_id != self.user_id:
            return False
        return self.scope.reads(table, row_id, owner_id, department_id)

    def writes(self, table: str, row_id: str, owner_id: str | None, department_id: str | None) -> bool:
        return self.scope is None or self.scope.writes(table, row_id, owner_id, department_id)

    def hidden(self, table: str) -> frozenset[str]:
        if self.scope is None:
            return frozenset()
        return self.scope.hidden.get(table, frozenset())

    def visits_clause(self, t: Table, *, indexed: bool = True) -> ColumnElement[bool]:
        """SQL condition: visits this viewer may read.

        ``indexed=False`` keeps the planner from answering through the owner and
        department indexes, for queries with a more selective filter (one rep's range).
        """
        if self.scope is None:
            return true()
        if not self.team:
            return and_(t.c.owner_id == self.user_id, rowset_clause(t, self.rowset("visits"), indexed=indexed))
        return rowset_clause(t, self.rowset("visits"), indexed=indexed)

    def sees_user(self, user_id: str) -> bool:
        """Whether ``user_id`` is someone whose visits this viewer may see (their own rows would be in scope)."""
        if self.scope is None:
            return True
        if not self.team:
            return user_id == self.user_id
        user = self.org.users.get(user_id)
        if user is None:
            return False
        return self.scope.reads("visits", "", user.id, user.department_id)

    def require_user(self, user_id: str) -> None:
        if not self.sees_user(user_id):
            raise E.AuthError(E.OUT_OF_SCOPE, "that person is outside your data scope")

    def people(self) -> list[dict[str, Any]]:
        """The users whose visits this viewer may see, for the rep filter."""
        found = [u for u in self.org.users.values() if not u.disabled and self.sees_user(u.id)]
        return [{"id": u.id, "login": u.login, "name": u.display_name or u.login} for u in sorted(found, key=lambda u: (u.display_name or u.login).lower())]

    def name_of(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        user = self.org.users.get(user_id)
        return None if user is None else (user.display_name or user.login)


def rowset_clause(t: Table, rs: RowSet | None, *, indexed: bool = True, row_id: str = "id") -> ColumnElement[bool]:
    """SQL condition for the rows of ``t`` a ``RowSet`` reaches (None: every row).

    ``row_id`` names the column holding the record's id (``row_id`` in the conflict history).
    """
    if rs is None or rs.all:
        return true()

    def col(name: str) -> Any:
        # ``column || ''`` has the column's value (NULL stays NULL) but no index, on SQLite and PostgreSQL alike.
        return t.c[name] if indexed else t.c[name].op("||")("")

    conds: list[ColumnElement[bool]] = []
    if rs.owners:
        conds.append(col("owner_id").in_(sorted(rs.owners)))
    if rs.departments:
        conds.append(col("department_id").in_(sorted(rs.departments)))
    if rs.rows:
        conds.append(col(row_id).in_(sorted(rs.rows)))
    return or_(*conds) if conds else false()


def viewer_for(hub: Any, principal: Any) -> Viewer:
    """The viewer of an authenticated principal (blocking: reads the organisation)."""
    org = hub.org.load()
    return Viewer(principal.user_id, org, hub.scope_for(principal))


__all__ = ["Viewer", "rowset_clause", "viewer_for"]
