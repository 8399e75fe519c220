"""The organisation as plain values: departments, users, roles, record teams.

``Org`` is an immutable snapshot read from the store (``OrgStore.load``); the
scope module computes what a user may see from it, and nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class Scope(enum.IntEnum):
    """The five data scopes of Chinese CRMs, narrowest first (``NONE``: no access)."""

    NONE = 0
    SELF = 1  # 本人
    SUBORDINATES = 2  # 本人及下属
    DEPARTMENT = 3  # 本部门
    DEPARTMENT_TREE = 4  # 本部门及下级部门
    ALL = 5  # 全部

    @classmethod
    def parse(cls, text: str) -> Scope:
        try:
            return cls[text.strip().upper().replace("-", "_").replace("+", "_")]
        except KeyError:
            raise ValueError(f"unknown scope {text!r}: one of {', '.join(s.name.lower() for s in cls)}") from None


class Action(str, enum.Enum):
    READ = "read"
    WRITE = "write"


ANY_TABLE = "*"


@dataclass(frozen=True, slots=True)
class Department:
    """A node of the department tree (``parent_id`` None: a root)."""

    id: str
    name: str
    parent_id: str | None = None


@dataclass(frozen=True, slots=True)
class Role:
    """What a role may do: a scope per (table, action), fields it may not see, whether it needs TOTP.

    ``grants`` keys are ``(table, action)``; the table ``"*"`` is the default for
    tables not named. ``hidden`` maps a table to the fields stripped for this role.
    """

    id: str
    name: str
    grants: Mapping[tuple[str, str], Scope] = field(default_factory=dict)
    hidden: Mapping[str, frozenset[str]] = field(default_factory=dict)
    totp_required: bool = False
    admin: bool = False

    def scope(self, table: str, action: Action | str) -> Scope:
        act = Action(action).value
        if (table, act) in self.grants:
            return self.grants[(table, act)]
        return self.grants.get((ANY_TABLE, act), Scope.NONE)

    def grants_json(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for (table, act), scope in sorted(self.grants.items()):
            out.setdefault(table, {})[act] = scope.name.lower()
        return out

    @staticmethod
    def grants_from_json(obj: Mapping[str, Mapping[str, str]]) -> dict[tuple[str, str], Scope]:
        out: dict[tuple[str, str], Scope] = {}
        for table, acts in obj.items():
            for act, scope in acts.items():
                out[(str(table), Action(act).value)] = Scope.parse(str(scope))
        return out


@dataclass(frozen=True, slots=True)
class User:
    """A person who may sign in; ``manager_id`` makes the reporting tree."""

    id: str
    login: str
    display_name: str = ""
    department_id: str | None = None
    manager_id: str | None = None
    role_id: str | None = None
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class TeamMember:
    """A user added to one record's team, with ``read`` or ``write`` access."""

    table: str
    row_id: str
    user_id: str
    access: str = "read"


@dataclass(frozen=True, slots=True)
class Org:
    """A consistent snapshot of the organisation."""

    departments: Mapping[str, Department] = field(default_factory=dict)
    users: Mapping[str, User] = field(default_factory=dict)
    roles: Mapping[str, Role] = field(default_factory=dict)
    teams: tuple[TeamMember, ...] = ()
    version: int = 0

    @classmethod
    def build(
        cls,
        departments: Iterable[Department] = (),
        users: Iterable[User] = (),
        roles: Iterable[Role] = (),
        teams: Iterable[TeamMember] = (),
        version: int = 0,
    ) -> Org:
        return cls(
            MappingProxyType({d.id: d for d in departments}),
            MappingProxyType({u.id: u for u in users}),
            MappingProxyType({r.id: r for r in roles}),
            tuple(teams),
            version,
        )

    @property
    def enforced(self) -> bool:
        """Scopes apply once the organisation has users (an empty org is an open development server)."""
        return bool(self.users)

    def role_of(self, user_id: str) -> Role | None:
        user = self.users.get(user_id)
        if user is None or user.role_id is None:
            return None
        return self.roles.get(user.role_id)

    def department_tree(self, root: str) -> frozenset[str]:
        """``root`` and every department below it."""
        children: dict[str | None, list[str]] = {}
        for d in self.departments.values():
            children.setdefault(d.parent_id, []).append(d.id)
        out: set[str] = set()
        stack = [root]
        while stack:
            dep = stack.pop()
            if dep in out:
                continue
            out.add(dep)
            stack.extend(children.get(dep, ()))
        return frozenset(out)

    def subordinates(self, user_id: str) -> frozenset[str]:
        """Everyone who reports to ``user_id``, directly or not (not the user)."""
        reports: dict[str, list[str]] = {}
        for u in self.users.values():
            if u.manager_id:
                reports.setdefault(u.manager_id, []).append(u.id)
        out: set[str] = set()
        stack = list(reports.get(user_id, ()))
        while stack:
            uid = stack.pop()
            if uid in out or uid == user_id:
                continue
            out.add(uid)
            stack.extend(reports.get(uid, ()))
        return frozenset(out)

    def is_manager(self, user_id: str) -> bool:
        return any(u.manager_id == user_id for u in self.users.values())

    def totp_required(self, user_id: str, *, for_managers: bool = True) -> bool:
        role = self.role_of(user_id)
        if role is not None and (role.totp_required or role.admin):
            return True
        return for_managers and self.is_manager(user_id)

    def describe(self) -> dict[str, Any]:
        return {"departments": len(self.departments), "users": len(self.users), "roles": len(self.roles), "teams": len(self.teams)}


__all__ = ["ANY_TABLE", "Action", "Department", "Org", "Role", "Scope", "TeamMember", "User"]
