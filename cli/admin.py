"""``fieldsync admin ...``: organisation, users, roles, 2FA, devices, erasure, tokens and the demo seed.

Every command opens the database directly (``--database-url`` or
``FIELDSYNC_DATABASE_URL``), migrates it if needed, and writes through the
same stores the server uses; a running server notices the change through the
organisation version within a second (``docs/security.md``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from typing import Any

from fieldsync.server.org.model import Scope

SCOPES = ", ".join(s.name.lower() for s in Scope)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    admin = sub.add_parser("admin", help="manage the organisation, users, devices, erasure; seed a demo")
    admin.add_argument("--database-url", default=None, help="SQLAlchemy URL (default: FIELDSYNC_DATABASE_URL or sqlite:///fieldsync.db)")
    cmds = admin.add_subparsers(dest="admin_command", metavar="ACTION")
    cmds.required = True

    p = cmds.add_parser("dept", help="create a department")
    p.add_argument("name")
    p.add_argument("--parent", help="parent department (name or id)")
    p.set_defaults(handler=_dept)

    p = cmds.add_parser("role", help="create or replace a role")
    p.add_argument("name")
    p.add_argument("--grant", action="append", default=[], metavar="TABLE:ACTION=SCOPE",
                   help=f"e.g. '*:read=department_tree', 'accounts:write=self'; scopes: {SCOPES}")
    p.add_argument("--hide", action="append", default=[], metavar="TABLE.FIELD", help="a field this role may not see")
    p.add_argument("--totp", action="store_true", help="users of this role must use a second factor")
    p.add_argument("--admin", action="store_true", help="administrators (also need a second factor)")
    p.set_defaults(handler=_role)

    p = cmds.add_parser("user", help="create a user")
    p.add_argument("login")
    p.add_argument("--name", default="", help="display name")
    p.add_argument("--department", help="department (name or id)")
    p.add_argument("--manager", help="manager (login or id)")
    p.add_argument("--role", help="role (name or id)")
    p.add_argument("--password", help="initial password (prompted if omitted and stdin is a terminal)")
    p.set_defaults(handler=_user)

    p = cmds.add_parser("set-user", help="move a user, change their manager or role, disable or enable them")
    p.add_argument("login")
    p.add_argument("--department")
    p.add_argument("--manager")
    p.add_argument("--role")
    p.add_argument("--password")
    p.add_argument("--disable", action="store_true", help="disable: every device is wiped at once")
    p.add_argument("--enable", action="store_true")
    p.set_defaults(handler=_set_user)

    p = cmds.add_parser("users", help="list users")
    p.set_defaults(handler=_users)

    p = cmds.add_parser("reset-2fa", help="remove a user's second factor (they enrol again at next login)")
    p.add_argument("login")
    p.set_defaults(handler=_reset_2fa)

    p = cmds.add_parser("devices", help="list a user's devices")
    p.add_argument("login")
    p.set_defaults(handler=_devices)

    p = cmds.add_parser("revoke", help="revoke a device by site id: it is wiped and disconnected")
    p.add_argument("site")
    p.set_defaults(handler=_revoke)

    p = cmds.add_parser("erase-user", help="erase an employee (GDPR/PIPL): account, devices, personal references")
    p.add_argument("login")
    p.add_argument("--successor", help="who inherits their records (default: their manager)")
    p.set_defaults(handler=_erase_user)

    p = cmds.add_parser("erase-record", help="erase a record person (a contact or lead) and linked attachments")
    p.add_argument("table", choices=["contacts", "leads", "accounts", "opportunities", "visits", "tasks", "attachments"])
    p.add_argument("row_id")
    p.set_defaults(handler=_erase_record)

    p = cmds.add_parser("token", help="issue a device token for a user and site (development; needs FIELDSYNC_SECRET_KEY)")
    p.add_argument("login", help="login or user id")
    p.add_argument("--site", required=True)
    p.add_argument("--ttl", type=int, default=24 * 3600, help="seconds (default one day)")
    p.set_defaults(handler=_token)

    p = cmds.add_parser("audit", help="print the newest audit entries as JSON lines")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(handler=_audit)

    p = cmds.add_parser("seed", help="load a demo organisation: a boss, 2 managers, 6 reps, 300 Shanghai accounts")
    p.add_argument("--accounts", type=int, default=300)
    p.add_argument("--password", default="fieldsync-demo", help="password of every demo user")
    p.set_defaults(handler=_seed)


class Admin:
    """The stores one command needs, opened on the configured database."""

    def __init__(self, args: argparse.Namespace) -> None:
        from fieldsync.server.org.audit import AuditLog
        from fieldsync.server.org.devices import DeviceRegistry
        from fieldsync.server.org.store import OrgStore
        from fieldsync.server.settings import Settings
        from fieldsync.server.store.sql import open_store
        from fieldsync.sync.crm import CRM_SCHEMA

        self.settings = Settings.from_env()
        url = args.database_url or self.settings.database_url
        self.store = open_store(url, CRM_SCHEMA)
        self.org = OrgStore(self.store.engine)
        self.devices = DeviceRegistry(self.org)
        self.audit = AuditLog(self.org)

    def close(self) -> None:
        self.store.close()

    def department(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        org = self.org.load()
        for d in org.departments.values():
            if ref in (d.id, d.name):
                return d.id
        raise SystemExit(f"no department {ref!r}")

    def user(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        for u in self.org.load().users.values():
            if ref in (u.id, u.login):
                return u.id
        raise SystemExit(f"no user {ref!r}")

    def role(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        for r in self.org.load().roles.values():
            if ref in (r.id, r.name):
                return r.id
        raise SystemExit(f"no role {ref!r}")


def _run(args: argparse.Namespace, fn: Any) -> int:
    admin = Admin(args)
    try:
        result = fn(admin)
    finally:
        admin.close()
    if result is not None:
        print(result if isinstance(result, str) else json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _dept(args: argparse.Namespace) -> int:
    return _run(args, lambda a: a.org.create_department(args.name, a.department(args.parent)))


def parse_grants(items: list[str]) -> dict[tuple[str, str], Scope]:
    grants: dict[tuple[str, str], Scope] = {}
    for item in items:
        try:
            target, scope = item.split("=", 1)
            table, action = target.split(":", 1)
            grants[(table, action)] = Scope.parse(scope)
        except ValueError as exc:
            raise SystemExit(f"bad --grant {item!r}: {exc}") from None
    return grants


def _role(args: argparse.Namespace) -> int:
    grants = parse_grants(args.grant)
    hidden: dict[str, list[str]] = {}
    for item in args.hide:
        table, _, fname = item.partition(".")
        hidden.setdefault(table, []).append(fname)

    def go(a: Admin) -> str:
        from fieldsync.server.org.audit import AuditAction

        existing = next((r.id for r in a.org.load().roles.values() if r.name == args.name), None)
        if existing:
            a.org.update_role(existing, grants, hidden=hidden, totp_required=args.totp, admin=args.admin)
            a.audit.record(AuditAction.ROLE_CHANGE, subject=existing, grants=len(grants))
            return existing
        role_id = a.org.create_role(args.name, grants, hidden=hidden, totp_required=args.totp, admin=args.admin)
        a.audit.record(AuditAction.ROLE_CHANGE, subject=role_id, grants=len(grants), created=True)
        return role_id

    return _run(args, go)


def _password(value: str | None) -> str | None:
    if value is not None:
        return value
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return None


def _user(args: argparse.Namespace) -> int:
    from fieldsync.server.auth.passwords import hash_password

    def go(a: Admin) -> str:
        pw = _password(args.password)
        return a.org.create_user(args.login, display_name=args.name, department_id=a.department(args.department),
                                 manager_id=a.user(args.manager), role_id=a.role(args.role),
                                 password_hash=hash_password(pw) if pw else None)

    return _run(args, go)


def _set_user(args: argparse.Namespace) -> int:
    from fieldsync.server.auth.passwords import hash_password
    from fieldsync.server.org.audit import AuditAction

    def go(a: Admin) -> str:
        uid = a.user(args.login) or ""
        values: dict[str, Any] = {}
        if args.department:
            values["department_id"] = a.department(args.department)
        if args.manager:
            values["manager_id"] = a.user(args.manager)
        if args.role:
            values["role_id"] = a.role(args.role)
        if args.disable or args.enable:
            values["disabled"] = bool(args.disable)
        if values:
            a.org.update_user(uid, **values)
            a.audit.record(AuditAction.SCOPE_CHANGE, subject=uid, fields=sorted(values))
        if args.disable:
            a.devices.revoke_user(uid, "user_disabled")
            a.audit.record(AuditAction.USER_DISABLED, subject=uid)
        if args.password:
            a.org.set_credentials(uid, password_hash=hash_password(args.password), failed_logins=0, locked_until_ms=0)
        return uid

    return _run(args, go)


def _users(args: argparse.Namespace) -> int:
    def go(a: Admin) -> list[dict[str, Any]]:
        org = a.org.load()
        return [{"id": u.id, "login": u.login, "name": u.display_name, "department": org.departments[u.department_id].name if u.department_id in org.departments else None,
                 "manager": org.users[u.manager_id].login if u.manager_id in org.users else None,
                 "role": org.roles[u.role_id].name if u.role_id in org.roles else None, "disabled": u.disabled}
                for u in sorted(org.users.values(), key=lambda u: u.login)]

    return _run(args, go)


def _reset_2fa(args: argparse.Namespace) -> int:
    from fieldsync.server.auth.service import AuthService

    return _run(args, lambda a: AuthService(a.org, a.devices, a.audit, a.settings).reset_totp(a.user(args.login) or "") or "2FA reset")


def _devices(args: argparse.Namespace) -> int:
    return _run(args, lambda a: [d.public() for d in a.devices.of_user(a.user(args.login) or "")])


def _revoke(args: argparse.Namespace) -> int:
    from fieldsync.server.auth.service import AuthService

    return _run(args, lambda a: {"revoked": AuthService(a.org, a.devices, a.audit, a.settings).revoke_device(args.site)})


def _erase_user(args: argparse.Namespace) -> int:
    from fieldsync.server.org.erasure import Eraser

    return _run(args, lambda a: Eraser(a.store, a.org, a.devices, a.audit).erase_user(a.user(args.login) or "", successor=a.user(args.successor)))


def _erase_record(args: argparse.Namespace) -> int:
    from fieldsync.server.org.erasure import Eraser

    return _run(args, lambda a: {"seq": Eraser(a.store, a.org, a.devices, a.audit).erase_rows([(args.table, args.row_id)]).ack["seq"]})


def _token(args: argparse.Namespace) -> int:
    from fieldsync.server.auth.tokens import issue_token
    from fieldsync.server.org.audit import AuditAction

    def go(a: Admin) -> str:
        if "FIELDSYNC_SECRET_KEY" not in __import__("os").environ:
            raise SystemExit("set FIELDSYNC_SECRET_KEY to the server's key: a token signed with another key is useless")
        uid = a.user(args.login) or ""
        dept = a.org.load().users[uid].department_id
        a.devices.bind(args.site, uid, label="admin token")
        a.audit.record(AuditAction.TOKEN_ISSUED, subject=uid, site=args.site)
        return issue_token(a.settings.secret_key, user_id=uid, site=args.site, department_id=dept, ttl_s=args.ttl)

    return _run(args, go)


def _audit(args: argparse.Namespace) -> int:
    def go(a: Admin) -> str:
        return "\n".join(json.dumps(e, ensure_ascii=False) for e in a.audit.entries(limit=args.limit))

    return _run(args, go)


def _seed(args: argparse.Namespace) -> int:
    return _run(args, lambda a: seed(a, accounts=args.accounts, password=args.password))


def seed(a: Admin, *, accounts: int = 300, password: str = "fieldsync-demo") -> dict[str, Any]:
    """Create the demo organisation and its accounts through the store (so they sync)."""
    from fieldsync.server.auth.passwords import hash_password
    from fieldsync.server.org.demo import PEOPLE, demo_accounts

    if a.org.load().users:
        raise SystemExit("the organisation is not empty; seed a fresh database")
    org = a.org
    hq = org.create_department("上海分公司 Shanghai Office")
    puxi = org.create_department("浦西销售部 Puxi Sales", hq)
    pudong = org.create_department("浦东销售部 Pudong Sales", hq)
    every = ("*", "read"), ("*", "write")
    boss_role = org.create_role("boss", {k: Scope.ALL for k in every}, admin=True)
    mgr_role = org.create_role("manager", {every[0]: Scope.DEPARTMENT_TREE, every[1]: Scope.SUBORDINATES}, totp_required=True)
    rep_role = org.create_role("rep", {k: Scope.SELF for k in every}, hidden={"opportunities": ["win_probability"]})
    pw = hash_password(password)
    names = dict(PEOPLE)
    ids: dict[str, str] = {}
    ids["boss"] = org.create_user("boss", display_name=names["boss"], department_id=hq, role_id=boss_role, password_hash=pw)
    ids["mgr_puxi"] = org.create_user("mgr_puxi", display_name=names["mgr_puxi"], department_id=puxi, manager_id=ids["boss"], role_id=mgr_role, password_hash=pw)
    ids["mgr_pudong"] = org.create_user("mgr_pudong", display_name=names["mgr_pudong"], department_id=pudong, manager_id=ids["boss"], role_id=mgr_role, password_hash=pw)
    teams = {False: ["rep_zhang", "rep_liu", "rep_zhao"], True: ["rep_sun", "rep_zhou", "rep_wu"]}
    for east, reps in teams.items():
        for login in reps:
            ids[login] = org.create_user(login, display_name=names[login], department_id=pudong if east else puxi,
                                         manager_id=ids["mgr_pudong" if east else "mgr_puxi"], role_id=rep_role, password_hash=pw)
    from fieldsync.sync.writes import update_changes

    counts = {False: 0, True: 0}
    declared = a.store.schema.table("accounts")
    changes = []
    for acct in demo_accounts(accounts):
        reps = teams[acct.east]
        owner = ids[reps[counts[acct.east] % len(reps)]]
        counts[acct.east] += 1
        dept = pudong if acct.east else puxi
        values = {**acct.values, "owner_id": owner, "department_id": dept}
        changes.extend(update_changes(declared, None, acct.id, values, clock=a.store._server_clock, allow_server_only=True))
    a.store.apply_server_changes(changes)  # one transaction; logged, so it syncs like any write
    org.touch()
    return {"departments": 3, "users": len(ids), "accounts": accounts, "logins": sorted(ids), "password": password}


__all__ = ["parse_grants", "register", "seed"]
