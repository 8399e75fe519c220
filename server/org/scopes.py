"""Who may see and write which rows: the pure scope computation.

Theory of operation
-------------------
A row is in a user's scope for an action when its ``owner_id`` is one of a
set of users, or its ``department_id`` one of a set of departments, or the
user is on the row's team, or the role's scope for that table is ``ALL``.
``compute_view(org, user_id, tables)`` turns the role's five-level scopes into
those sets once per connection (subordinates and sub-departments are walked
then), so deciding a row is a few set lookups:

=====================  =================================================
scope                  visible rows
=====================  =================================================
``SELF``               owner is the user
``SUBORDINATES``       owner is the user or anyone below them (manager chain)
``DEPARTMENT``         owned by the user, or department is the user's
``DEPARTMENT_TREE``    owned by the user, or department in the user's subtree
``ALL``                every row
=====================  =================================================

A row with no owner yet (written by the server) is visible through its
department or to ``ALL``. Team membership (``read`` or ``write``) adds single
rows. Fields named in the role's ``hidden`` map are stripped from every row
state and change before it leaves the server, and writes to them are refused.

``ScopeView`` is a value: the hub compares the old and new view of a device
when the organisation changes, and stores it per device (``to_json``) so a
device that was offline during a change can be corrected at its next hello.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fieldsync.server.org.model import Action, Org, Scope

OWNER_FIELDS = frozenset({"owner_id", "department_id"})


@dataclass(frozen=True, slots=True)
class RowSet:
    """The rows of one table a user reaches for one action."""

    all: bool = False
    owners: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    rows: frozenset[str] = frozenset()

    def contains(self, row_id: str, owner_id: str | None, department_id: str | None) -> bool:
        return (
            self.all
            or (owner_id is not None and owner_id in self.owners)
            or (department_id is not None and department_id in self.departments)
            or row_id in self.rows
        )

    def to_json(self) -> list[Any]:
        return [self.all, sorted(self.owners), sorted(self.departments), sorted(self.rows)]

    @classmethod
    def from_json(cls, obj: list[Any]) -> RowSet:
        return cls(bool(obj[0]), frozenset(obj[1]), frozenset(obj[2]), frozenset(obj[3]))


@dataclass(frozen=True, slots=True)
class ScopeView:
    """What one user may read and write, per table, and which fields are hidden from them."""

    user_id: str
    read: Mapping[str, RowSet] = field(default_factory=dict)
    write: Mapping[str, RowSet] = field(default_factory=dict)
    hidden: Mapping[str, frozenset[str]] = field(default_factory=dict)
    can_create: Mapping[str, bool] = field(default_factory=dict)

    def reads(self, table: str, row_id: str, owner_id: str | None, department_id: str | None) -> bool:
        rs = self.read.get(table)
        return rs is not None and rs.contains(row_id, owner_id, department_id)

    def writes(self, table: str, row_id: str, owner_id: str | None, department_id: str | None) -> bool:
        rs = self.write.get(table)
        return rs is not None and rs.contains(row_id, owner_id, department_id)

    def hides(self, table: str, fname: str) -> bool:
        return fname in self.hidden.get(table, ())

    def to_json(self) -> str:
        """The read side and hidden fields (what decides what a device holds), as stable JSON."""
        return json.dumps(
            {
                "u": self.user_id,
                "r": {t: rs.to_json() for t, rs in sorted(self.read.items())},
                "h": {t: sorted(f) for t, f in sorted(self.hidden.items()) if f},
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> ScopeView:
        obj = json.loads(text)
        return cls(
            str(obj["u"]),
            {t: RowSet.from_json(v) for t, v in obj["r"].items()},
            {},
            {t: frozenset(v) for t, v in obj.get("h", {}).items()},
        )

    def same_reads(self, other: ScopeView) -> bool:
        return self.to_json() == other.to_json()


def _rowset(org: Org, user_id: str, scope: Scope, team_rows: frozenset[str]) -> RowSet:
    user = org.users[user_id]
    dept = user.department_id
    if scope is Scope.ALL:
        return RowSet(all=True)
    owners: frozenset[str] = frozenset()
    departments: frozenset[str] = frozenset()
    if scope >= Scope.SELF:
        owners = frozenset({user_id})
    if scope is Scope.SUBORDINATES:
        owners = owners | org.subordinates(user_id)
    if scope is Scope.DEPARTMENT and dept:
        departments = frozenset({dept})
    if scope is Scope.DEPARTMENT_TREE and dept:
        departments = org.department_tree(dept)
    return RowSet(False, owners, departments, team_rows)


def compute_view(org: Org, user_id: str, tables: Iterable[str]) -> ScopeView:
    """The scope view of ``user_id`` over ``tables`` (an unknown or disabled user sees nothing)."""
    user = org.users.get(user_id)
    if user is None or user.disabled:
        return ScopeView(user_id)
    role = org.role_of(user_id)
    team_read: dict[str, set[str]] = {}
    team_write: dict[str, set[str]] = {}
    for m in org.teams:
        if m.user_id == user_id:
            team_read.setdefault(m.table, set()).add(m.row_id)
            if m.access == "write":
                team_write.setdefault(m.table, set()).add(m.row_id)
    read: dict[str, RowSet] = {}
    write: dict[str, RowSet] = {}
    hidden: dict[str, frozenset[str]] = {}
    create: dict[str, bool] = {}
    for table in tables:
        r_scope = role.scope(table, Action.READ) if role else Scope.SELF
        w_scope = role.scope(table, Action.WRITE) if role else Scope.SELF
        read[table] = _rowset(org, user_id, r_scope, frozenset(team_read.get(table, ())))
        write[table] = _rowset(org, user_id, w_scope, frozenset(team_write.get(table, ())))
        create[table] = w_scope > Scope.NONE
        if role is not None and role.hidden.get(table):
            hidden[table] = frozenset(role.hidden[table]) - OWNER_FIELDS
    return ScopeView(user_id, read, write, hidden, create)


def strip_state(obj: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """A row state (wire JSON object) without the hidden fields' cells."""
    if hidden and isinstance(obj.get("c"), dict):
        obj = {**obj, "c": {k: v for k, v in obj["c"].items() if k not in hidden}}
    return obj


__all__ = ["OWNER_FIELDS", "RowSet", "ScopeView", "compute_view", "strip_state"]
