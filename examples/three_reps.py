"""Three reps go offline, edit the same customers, come back: everyone ends identical.

Run from the repository root (it starts its own server on a temporary SQLite file)::

    python examples/three_reps.py

What happens, in order:

1. Rep Wang creates four accounts and a task, and syncs; Rep Li and Rep Zhao sync them down.
2. All three go offline (no client runs) and edit:
   * account 1: Wang sets the phone, Li sets the tier       -> different fields: both survive
   * account 2: Wang and Li both rename it                  -> same field: one wins everywhere,
                                                               the other is in the conflict history
   * account 3: Li and Zhao both edit the notes             -> collaborative text: both edits survive
   * account 4: Zhao deletes it while Wang edits it          -> accounts are update-wins: it lives on
   * the task:  Zhao deletes it while Li edits it            -> tasks are delete-wins: it stays deleted,
                                                               Li's edit is in the conflict history
   * account 1: every rep counts a visit                    -> counter: the visits add up
3. They come back and sync (twice, so each sees what the others pushed after it).
4. The script prints every replica's view and checks that all three and the server agree.
"""

from __future__ import annotations

import json
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from fieldsync.sdk import Increment, Replica, SyncClient
from fieldsync.server.settings import Settings
from fieldsync.server.testing import running_server
from fieldsync.sync.merge import loads_state

TABLES = ("accounts", "tasks")


def snapshot(replica: Replica) -> dict[str, Any]:
    """Every visible record of the example's tables, as plain values."""
    out: dict[str, Any] = {}
    for table in TABLES:
        for rec in replica.query(table):
            out[f"{table}/{rec.id}"] = {k: v for k, v in rec.values.items() if v is not None}
    return out


def server_snapshot(store: Any) -> dict[str, Any]:
    """The same view, read from the server's store."""
    out: dict[str, Any] = {}
    for table in TABLES:
        after = ""
        while page := store.snapshot_page(table, after, 500):
            for row_id, text in page:
                state = loads_state(text)
                if state.exists:
                    out[f"{table}/{row_id}"] = {k: v for k, v in state.values().items() if v is not None}
            after = page[-1][0]
    return out


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="fieldsync-example-"))
    settings = Settings(database_url=f"sqlite:///{work}/server.db", attachments_dir=work / "attachments")
    with running_server(settings) as server:
        reps = {}
        for name in ("Wang", "Li", "Zhao"):
            replica = Replica.open(work / f"{name}.db")
            token = server.token(user_id=str(uuid.uuid4()), site=replica.site)
            reps[name] = (replica, SyncClient(server.ws_url, replica=replica, token=token))

        def sync_all(rounds: int = 2) -> None:
            for _ in range(rounds):
                for _, client in reps.values():
                    client.sync_once(timeout=30)

        wang, li, zhao = (reps[n][0] for n in ("Wang", "Li", "Zhao"))
        acc = [wang.insert("accounts", {"name": n, "tier": "B"}) for n in ("华东电气", "Acme Trading", "北方重工", "Delta Foods")]
        wang.update("accounts", acc[2].id, {"notes": "Met the buyer."})
        task = wang.insert("tasks", {"title": "Send revised quote", "status": "open"})
        sync_all()
        print(f"online : {len(snapshot(li))} records on Li's phone, {len(snapshot(zhao))} on Zhao's")

        print("offline: everyone edits ...")
        wang.update("accounts", acc[0].id, {"phone": "+862155550100"})
        li.update("accounts", acc[0].id, {"tier": "A"})
        wang.update("accounts", acc[1].id, {"name": "Acme Trading Co."})
        li.update("accounts", acc[1].id, {"name": "ACME Trading (Shanghai)"})
        li.update("accounts", acc[2].id, {"notes": "Met the buyer. Wants samples."})
        zhao.update("accounts", acc[2].id, {"notes": "Urgent: Met the buyer."})
        zhao.delete("accounts", acc[3].id)
        wang.update("accounts", acc[3].id, {"tier": "A"})
        zhao.delete("tasks", task.id)
        li.update("tasks", task.id, {"status": "done"})
        for replica in (wang, li, zhao):
            replica.update("accounts", acc[0].id, {"visit_count": Increment(1)})
        print("         pending changes:", {n: r.pending_count for n, (r, _) in reps.items()})

        sync_all()
        views = {n: snapshot(r) for n, (r, _) in reps.items()}
        server_view = server_snapshot(server.app.state.store)
        a0, a1, a2 = (views["Zhao"][f"accounts/{a.id}"] for a in acc[:3])
        print("back   :")
        print(f"  account 1  phone={a0.get('phone')} tier={a0.get('tier')} visits={a0.get('visit_count')}")
        print(f"  account 2  name={a1.get('name')!r}")
        print(f"  account 3  notes={a2.get('notes')!r}")
        print(f"  account 4  exists={f'accounts/{acc[3].id}' in views['Zhao']} (update-wins)")
        print(f"  task       exists={f'tasks/{task.id}' in views['Zhao']} (delete-wins)")
        for row, what in ((acc[1].id, "account 2"), (task.id, "task")):
            table = "accounts" if row == acc[1].id else "tasks"
            for c in server.app.state.store.conflicts(table, row):
                print(f"  conflict history of {what}: {c['field']} lost {json.dumps(c['loser']['value'], ensure_ascii=False)} ({c['kind']})")
        identical = all(v == server_view for v in views.values())
        print("all three replicas and the server identical:", identical)
        for _, client in reps.values():
            client.stop()
        for replica, _ in reps.values():
            replica.close()
        return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
