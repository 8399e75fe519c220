"""Restoring an edit that lost to a concurrent delete: the row comes back with the value, on the server and on phones."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Team

pytestmark = pytest.mark.timeout(120)


class Phones:
    """Two SDK replicas of one rep, synced with ``sync_once`` (they are offline between syncs)."""

    def __init__(self, team: Team, rep: str) -> None:
        from fieldsync.sdk import Replica, SyncClient

        tmp = Path(team.server.settings.attachments_dir).parent
        self.pairs = []
        for _ in range(2):
            replica = Replica.open(tmp / f"{rep}-{uuid.uuid4().hex[:8]}.db")
            token = team.server.token(user_id=team.user[rep], site=replica.site, department_id=team.dept["east"])
            client = SyncClient(team.server.ws_url, replica=replica, token=token)
            client.sync_once(timeout=30)
            self.pairs.append((replica, client))

    @property
    def a(self) -> Any:
        return self.pairs[0][0]

    @property
    def b(self) -> Any:
        return self.pairs[1][0]

    def sync(self, *which: int) -> None:
        for i in which or (0, 1):
            self.pairs[i][1].sync_once(timeout=30)

    def close(self) -> None:
        for replica, client in self.pairs:
            client.stop()
            replica.close()


@pytest.fixture
def phones(team: Team) -> Iterator[Phones]:
    """Two phones of rep_e1, both holding the rep's records."""
    found = Phones(team, "rep_e1")
    yield found
    found.close()


def restore(team: Team, token: str, conflict_id: int) -> httpx.Response:
    return httpx.post(f"{team.url}/v1/dashboard/conflicts/{conflict_id}/restore", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def lose_to_delete(team: Team, phones: Phones, table: str, values: dict[str, Any], edit: dict[str, Any]) -> str:
    """A row of rep_e1 that phone a deletes while phone b, offline, edits it; both then sync. Returns the row id."""
    row = str(uuid.uuid4())
    team.write(table, row, {**values, "owner_id": team.user["rep_e1"], "department_id": team.dept["east"]})
    phones.sync()
    phones.a.delete(table, row)
    phones.b.update(table, row, edit)
    phones.sync(0, 1, 0)
    assert phones.a.get(table, row) is None and phones.b.get(table, row) is None
    return row


def test_an_edit_lost_to_a_delete_is_restored_with_its_row_and_reaches_both_phones(team: Team, phones: Phones) -> None:
    """Restoring a `deleted` entry brings the task back with the lost title in one server write that syncs to the rep's phones."""
    task = lose_to_delete(team, phones, "tasks", {"title": "Call the buyer", "status": "open"},
                          {"title": "Call the buyer and send the quote"})
    token = team.token("mgr_east")
    found = team.get(token, "/v1/dashboard/conflicts", table="visits,tasks").json()["conflicts"]
    [entry] = [c for c in found if c["row_id"] == task]
    assert entry["kind"] == "deleted" and entry["field"] == "title" and entry["restorable"] is True
    assert entry["loser"]["value"] == "Call the buyer and send the quote" and entry["winner"]["value"] is None
    assert entry["record"]["deleted"] is True
    head = team.server.app.state.store.head()
    done = restore(team, token, entry["id"])
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["row_restored"] is True and body["kind"] == "deleted" and body["value"] == "Call the buyer and send the quote"
    assert int(body["seq"]) == head + 1  # one server write: the row's return and the value in one log record
    phones.sync()
    for replica in (phones.a, phones.b):
        record = replica.get("tasks", task)
        assert record is not None and record["title"] == "Call the buyer and send the quote"
    history = team.get(token, f"/v1/dashboard/records/tasks/{task}/conflicts").json()["conflicts"]
    assert [c["resolved"] for c in history] == [True] and history[0]["restorable"] is False
    again = restore(team, token, entry["id"])
    assert again.status_code == 403 and again.json()["error"]["code"] == "FS-3003"
    assert team.get(token, "/v1/dashboard/conflicts", table="tasks").json()["conflicts"] == []


def test_restoring_from_a_delete_is_refused_outside_the_managers_scope(team: Team, phones: Phones) -> None:
    """Another team's manager gets FS-3004 and the row stays deleted; the rep's own manager then restores it."""
    task = lose_to_delete(team, phones, "tasks", {"title": "Visit the depot", "status": "open"}, {"status": "done"})
    east = team.token("mgr_east")
    [entry] = team.get(east, f"/v1/dashboard/records/tasks/{task}/conflicts").json()["conflicts"]
    west = team.token("mgr_west")
    refused = restore(team, west, entry["id"])
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FS-3004"
    assert team.get(west, "/v1/dashboard/conflicts", table="tasks").json()["conflicts"] == []
    phones.sync()
    assert phones.a.get("tasks", task) is None
    done = restore(team, east, entry["id"])
    assert done.status_code == 200 and done.json()["row_restored"] is True
    phones.sync()
    record = phones.a.get("tasks", task)
    assert record is not None and record["status"] == "done" and record["title"] == "Visit the depot"


def test_a_note_and_a_max_score_lost_to_a_delete_come_back_with_the_row(team: Team, phones: Phones) -> None:
    """A lead's text note and `max` score merged before the delete are restorable: restoring either brings the row back
    with both (the score is the maximum over every write, the lost one included); the other entry then restores alone."""
    lead = lose_to_delete(team, phones, "leads", {"name": "Pudong Cold Chain", "score": 40},
                          {"notes": "Wants a demo next week", "score": 70})
    token = team.token("mgr_east")
    history = {c["field"]: c for c in team.get(token, f"/v1/dashboard/records/leads/{lead}/conflicts").json()["conflicts"]}
    assert set(history) == {"notes", "score"} and all(c["kind"] == "deleted" for c in history.values())
    assert all(c["restorable"] is True and c["merged"] is True for c in history.values())
    done = restore(team, token, history["score"]["id"])
    assert done.status_code == 200, done.text
    assert done.json()["row_restored"] is True
    phones.sync()
    for replica in (phones.a, phones.b):
        record = replica.get("leads", lead)
        assert record is not None and record["score"] == 70 and record["notes"] == "Wants a demo next week"
    again = restore(team, token, history["notes"]["id"])
    assert again.status_code == 200 and again.json()["row_restored"] is False
    left = team.get(token, f"/v1/dashboard/records/leads/{lead}/conflicts").json()["conflicts"]
    assert all(c["resolved"] for c in left)


@pytest.mark.parametrize(
    ("table", "field", "kind", "resolved", "allowed"),
    [
        ("leads", "score", "deleted", False, True),  # max: the cell holds the lost value's contribution
        ("leads", "score", "value", False, False),  # max: the larger value wins by rule, nothing to restore
        ("leads", "notes", "deleted", False, True),
        ("leads", "name", "value", False, True),  # lww
        ("visits", "checkin_at", "value", False, False),  # evidence: first write wins, never rewritten
        ("visits", "verdict", "value", False, False),  # server-only
        ("leads", "name", "value", True, False),  # already restored
        ("leads", "no_such_field", "value", False, False),
    ],
)
def test_which_conflict_entries_are_restorable(table: str, field: str, kind: str, resolved: bool, allowed: bool) -> None:
    """Restorable: lww/server_wins values and any edit lost to a delete whose cell keeps it (counter, set, text, max, min);
    never evidence, server-only fields, a max/min value that lost to another value, or an entry already restored."""
    from fieldsync.server.dashboard.conflicts import restorable

    raw = {"kind": kind, "field": field, "resolved": resolved}
    assert (restorable(None, table, raw) is None) is allowed  # type: ignore[arg-type]
