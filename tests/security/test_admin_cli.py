"""`fieldsync admin`: organisation commands, tokens, revocation, erasure and the Shanghai demo seed."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from fieldsync.cli import main
from fieldsync.server.org.demo import demo_accounts

from .conftest import WireClient, row_ids

pytestmark = pytest.mark.timeout(180)
SECRET = "test-secret-" + "x" * 32


def admin(url: str, capsys: Any, *args: str) -> Any:
    assert main(["admin", "--database-url", url, *args]) == 0
    out = capsys.readouterr().out.strip()
    try:
        return json.loads(out)
    except json.JSONDecodeError:
        return out


def test_demo_accounts_are_bilingual_and_in_shanghai() -> None:
    """The seed data has 300 distinct accounts, Chinese and English names, all within Shanghai's bounds."""
    accounts = demo_accounts(300)
    names = [a.values["name"] for a in accounts]
    assert len(set(names)) == 300
    assert sum(1 for n in names if str(n).startswith("上海")) == 150
    assert all(30.6 < float(str(a.values["lat"])) < 31.6 and 120.9 < float(str(a.values["lon"])) < 122.0 for a in accounts)


def test_seed_loads_an_organisation_that_syncs_by_scope(tmp_path: Path, capsys: Any, monkeypatch: Any, live_server: Any) -> None:
    """After `admin seed`, a rep's device receives only the accounts dealt to them and the boss's all 300, with tokens from `admin token`."""
    url = f"sqlite:///{tmp_path}/seed.db"
    monkeypatch.setenv("FIELDSYNC_SECRET_KEY", SECRET)
    summary = admin(url, capsys, "seed")
    assert summary["users"] == 9 and summary["accounts"] == 300
    rep_token = admin(url, capsys, "token", "rep_zhang", "--site", "zhang-phone")
    boss_token = admin(url, capsys, "token", "boss", "--site", "boss-pad")
    server = live_server(database_url=url)

    async def scenario() -> tuple[set[str], set[str]]:
        rep, _ = await WireClient.connect(server, user="", site="zhang-phone", token=rep_token)
        rep_rows, _ = await rep.sync_to_done()
        boss, _ = await WireClient.connect(server, user="", site="boss-pad", token=boss_token)
        boss_rows, _ = await boss.sync_to_done()
        await rep.close()
        await boss.close()
        return row_ids(rep_rows), row_ids(boss_rows)

    rep_ids, boss_ids = asyncio.run(scenario())
    puxi = sum(1 for a in demo_accounts(300) if not a.east)
    assert len(rep_ids) == (puxi + 2) // 3 and len(boss_ids) == 300 and rep_ids < boss_ids


def test_admin_commands_manage_the_organisation(tmp_path: Path, capsys: Any, monkeypatch: Any) -> None:
    """Departments, roles, users, moves, 2FA reset, revocation and erasure work from the command line and are audited."""
    url = f"sqlite:///{tmp_path}/org.db"
    monkeypatch.setenv("FIELDSYNC_SECRET_KEY", SECRET)
    hq = admin(url, capsys, "dept", "HQ")
    admin(url, capsys, "dept", "Sales", "--parent", "HQ")
    admin(url, capsys, "role", "rep", "--grant", "*:read=self", "--grant", "*:write=self", "--hide", "opportunities.amount")
    admin(url, capsys, "role", "boss", "--grant", "*:read=all", "--grant", "*:write=all", "--admin")
    admin(url, capsys, "user", "amy", "--department", "HQ", "--role", "boss", "--password", "pw-amy-123")
    bob = admin(url, capsys, "user", "bob", "--department", "Sales", "--manager", "amy", "--role", "rep", "--password", "pw-bob-123")
    users = {u["login"]: u for u in admin(url, capsys, "users")}
    assert users["bob"]["manager"] == "amy" and users["bob"]["department"] == "Sales"
    admin(url, capsys, "set-user", "bob", "--department", hq)
    assert {u["login"]: u for u in admin(url, capsys, "users")}["bob"]["department"] == "HQ"
    admin(url, capsys, "token", "bob", "--site", "bob-phone")
    assert [d["site"] for d in admin(url, capsys, "devices", "bob")] == ["bob-phone"]
    assert admin(url, capsys, "reset-2fa", "bob") == "2FA reset"
    assert admin(url, capsys, "revoke", "bob-phone") == {"revoked": True}
    erased = admin(url, capsys, "erase-user", "bob")
    assert erased["devices_revoked"] == 0 and "bob" not in {u["login"] for u in admin(url, capsys, "users")}
    actions = [json.loads(line)["action"] for line in admin(url, capsys, "audit").splitlines()]
    assert {"erasure", "device_revoked", "totp_reset", "token_issued", "scope_change", "role_change"} <= set(actions)
    assert bob not in admin(url, capsys, "audit")
    with pytest.raises(SystemExit):
        admin(url, capsys, "role", "bad", "--grant", "*:read=galaxy")
