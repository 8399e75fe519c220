"""Review marks on suspicious check-ins over the real API: who and when, the to-review list, scope, restarts, audit."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fieldsync.server.auth.passwords import hash_password

from .conftest import DAY, PASSWORD, Team

pytestmark = pytest.mark.timeout(120)
RANGE = {"start": f"{DAY}T00:00:00+08:00", "end": f"{DAY}T23:59:59+08:00"}
NOTE = "Called the buyer: the meeting moved to their warehouse"


def mark(team: Team, token: str, visit: str, note: str | None = None) -> httpx.Response:
    body = {} if note is None else {"note": note}
    return httpx.post(f"{team.url}/v1/dashboard/visits/{visit}/review", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def suspicious(team: Team, token: str, **params: Any) -> list[dict[str, Any]]:
    resp = team.get(token, "/v1/dashboard/visits", verdict="suspicious", **RANGE, **params)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])


def refused(resp: httpx.Response, status: int, code: str) -> bool:
    return resp.status_code == status and resp.json()["error"]["code"] == code


def test_marking_a_check_in_reviewed_takes_it_off_the_to_review_list(team: Team) -> None:
    """A marked check-in records who and when with the note, leaves `reviewed=false`, shows under `reviewed=true`, and is audited."""
    token = team.token("mgr_east")
    visit = team.visits["rep_e2"][1]
    [before] = suspicious(team, token, reviewed="false")
    assert before["id"] == visit and before["review"] is None
    done = mark(team, token, visit, NOTE)
    assert done.status_code == 200, done.text
    review = done.json()["review"]
    assert review["by"] == team.user["mgr_east"] and review["by_name"] == "李静 Li Jing" and review["note"] == NOTE
    assert review["current"] is True and review["verdict"] == "out_of_range" and review["at"].endswith("Z")
    assert suspicious(team, token, reviewed="false") == []
    [after] = suspicious(team, token, reviewed="true")
    assert after["id"] == visit and after["review"] == review
    assert [v["id"] for v in suspicious(team, token)] == [visit]  # the log itself still lists it, with its mark
    [entry] = [e for e in team.hub.audit.entries(subject=visit) if e["action"] == "checkin_reviewed"]
    assert entry["actor"] == team.user["mgr_east"] and entry["detail"] == {"table": "visits", "verdict": "out_of_range", "note": True}
    assert NOTE not in str(team.hub.audit.entries())


def test_marking_is_refused_outside_the_scope_and_for_the_wrong_check_ins(team: Team) -> None:
    """Another team's manager gets FS-3004; reps, one's own check-in, a verified one and a second mark get FS-3003; reps never see marks."""
    visit, verified = team.visits["rep_e2"][1], team.visits["rep_e2"][0]
    west = team.token("mgr_west")
    assert refused(mark(team, west, visit), 403, "FS-3004")
    assert suspicious(team, west, ids=visit) == []
    rep = team.token("rep_e2")
    assert refused(mark(team, rep, visit), 403, "FS-3003")
    east = team.token("mgr_east")
    own = str(uuid.uuid4())
    team.write("visits", own, {"rep_id": team.user["mgr_east"], "planned_start": f"{DAY}T15:00:00+08:00", "verdict": "suspect",
                               "verdict_reasons": [{"code": "no_photo"}], "owner_id": team.user["mgr_east"], "department_id": team.dept["east"]})
    assert refused(mark(team, east, own), 403, "FS-3003")
    assert refused(mark(team, east, verified), 403, "FS-3003")
    assert refused(mark(team, east, "not-a-visit"), 422, "FS-2005")
    assert refused(mark(team, east, str(uuid.uuid4())), 403, "FS-3004")
    assert refused(mark(team, east, visit, "x" * 501), 422, "FS-2004")
    assert refused(team.get(east, "/v1/dashboard/visits", reviewed="maybe"), 422, "FS-2003")
    assert mark(team, east, visit).status_code == 200
    assert refused(mark(team, east, visit, "again"), 403, "FS-3003")
    assert [v["review"]["note"] for v in suspicious(team, east, reviewed="true")] == [None]
    assert [v["review"] for v in suspicious(team, rep)] == [None]  # the mark is the managers' business, not the rep's
    assert refused(team.get(rep, "/v1/dashboard/visits", reviewed="true"), 403, "FS-3003")


def test_a_mark_survives_a_restart_and_other_managers_of_the_visit_see_it(team: Team, live_server: Any) -> None:
    """After a server restart a second manager of the East team sees the first one's mark and cannot mark it again."""
    org = team.hub.org
    manager_role = org.load().users[team.user["mgr_east"]].role_id
    deputy = org.create_user("mgr_deputy", display_name="Deputy East", department_id=team.dept["east"], role_id=manager_role)
    trainee = org.create_user("rep_e3", department_id=team.dept["east"], manager_id=deputy, role_id=manager_role)
    for uid in (deputy, trainee):
        org.set_credentials(uid, password_hash=hash_password(PASSWORD))
    visit = team.visits["rep_e2"][1]
    assert mark(team, team.token("mgr_east"), visit, NOTE).status_code == 200
    team.server.stop()
    again = Team(live_server(database_url=team.server.settings.database_url, org_poll_s=0.05), user={**team.user, "mgr_deputy": deputy},
                 dept=team.dept, accounts=team.accounts, visits=team.visits)
    token = again.token("mgr_deputy")
    assert suspicious(again, token, reviewed="false") == []
    [seen] = suspicious(again, token, reviewed="true")
    assert seen["id"] == visit and seen["review"]["by_name"] == "李静 Li Jing" and seen["review"]["note"] == NOTE
    assert refused(mark(again, token, visit), 403, "FS-3003")


def test_a_reclassified_check_in_returns_to_the_list_with_its_old_mark_superseded(team: Team) -> None:
    """When the server rewrites the verdict's reasons after a mark, the visit is to review again and may be marked again."""
    token = team.token("mgr_east")
    visit = team.visits["rep_e2"][1]
    assert mark(team, token, visit, NOTE).status_code == 200
    team.write("visits", visit, {"verdict_reasons": [
        {"code": "too_far", "message": "the fix is farther from the account than the radius allows (m)", "observed": 3335.8, "limit": 200.0},
        {"code": "short_dwell", "message": "left too soon (s)", "observed": 120, "limit": 600}]})
    [back] = suspicious(team, token, reviewed="false")
    assert back["id"] == visit and back["review"]["current"] is False and back["review"]["note"] == NOTE
    assert mark(team, token, visit, "Short visit agreed with the buyer").status_code == 200
    assert suspicious(team, token, reviewed="false") == []


def unmark(team: Team, token: str, visit: str) -> httpx.Response:
    return httpx.delete(f"{team.url}/v1/dashboard/visits/{visit}/review", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def test_withdrawing_a_mark_puts_the_check_in_back_on_the_to_review_list(team: Team) -> None:
    """A withdrawn mark is gone for every manager, the visit is to review again and may be re-marked; the withdrawal is audited."""
    token = team.token("mgr_east")
    visit = team.visits["rep_e2"][1]
    assert mark(team, token, visit, NOTE).status_code == 200
    done = unmark(team, token, visit)
    assert done.status_code == 200, done.text
    assert done.json() == {"visit_id": visit, "withdrawn": {"by": team.user["mgr_east"], "verdict": "out_of_range"}}
    [back] = suspicious(team, token, reviewed="false")
    assert back["id"] == visit and back["review"] is None
    assert suspicious(team, token, reviewed="true") == []
    [entry] = [e for e in team.hub.audit.entries(subject=visit) if e["action"] == "review_withdrawn"]
    assert entry["actor"] == team.user["mgr_east"] and entry["detail"] == {"table": "visits", "verdict": "out_of_range"}
    assert refused(unmark(team, token, visit), 403, "FS-3003")  # nothing left to withdraw
    assert mark(team, token, visit, "second look").status_code == 200


def test_withdrawing_is_refused_to_reps_and_outside_the_scope(team: Team) -> None:
    """Reps get FS-3003, another team's manager FS-3004, a malformed id FS-2005; the mark stays after every refusal."""
    east = team.token("mgr_east")
    visit = team.visits["rep_e2"][1]
    assert mark(team, east, visit, NOTE).status_code == 200
    assert refused(unmark(team, team.token("rep_e2"), visit), 403, "FS-3003")
    assert refused(unmark(team, team.token("mgr_west"), visit), 403, "FS-3004")
    assert refused(unmark(team, east, "not-a-visit"), 422, "FS-2005")
    assert refused(unmark(team, east, str(uuid.uuid4())), 403, "FS-3004")
    [still] = suspicious(team, east, reviewed="true")
    assert still["id"] == visit and still["review"]["note"] == NOTE


def test_the_csv_export_carries_review_marks_for_managers_only(team: Team) -> None:
    """A manager's CSV has who reviewed, when, the note and whether the mark is current, and honours `reviewed`; a rep's CSV has no review columns."""
    token = team.token("mgr_east")
    visit = team.visits["rep_e2"][1]
    assert mark(team, token, visit, "=HYPERLINK(1)").status_code == 200

    def export(tok: str, **params: Any) -> list[dict[str, str]]:
        resp = team.get(tok, "/v1/dashboard/visits.csv", **RANGE, **params)
        assert resp.status_code == 200, resp.text
        return list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))

    rows = {r["visit_id"]: r for r in export(token)}
    assert rows[visit]["reviewed_by"] == "李静 Li Jing" and rows[visit]["review_current"] == "true"
    assert rows[visit]["review_note"] == "'=HYPERLINK(1)" and rows[visit]["reviewed_at"].endswith("Z")
    unmarked = next(r for k, r in rows.items() if k != visit)
    assert (unmarked["reviewed_by"], unmarked["review_current"]) == ("", "")
    assert visit not in {r["visit_id"] for r in export(token, verdict="suspicious", reviewed="false")}
    [only] = export(token, verdict="suspicious", reviewed="true")
    assert only["visit_id"] == visit
    rep_rows = export(team.token("rep_e2"))
    assert rep_rows and not {"reviewed_by", "reviewed_at", "review_note", "review_current"} & set(rep_rows[0])


def test_erasing_the_reviewer_keeps_the_mark_under_a_pseudonym(team: Team) -> None:
    """An erased manager's marks stay (the visit stays reviewed) but name a pseudonymous id instead of them."""
    from fieldsync.server.org.erasure import Eraser, pseudonymous_id

    token = team.token("mgr_east")
    visit = team.visits["rep_e2"][1]
    assert mark(team, token, visit, NOTE).status_code == 200
    hub = team.hub
    Eraser(hub.store, hub.org, hub.devices, hub.audit).erase_user(team.user["mgr_east"], write=lambda fn: team.call(hub.write(fn)))
    reviews = hub.store.metadata.tables["visit_reviews"]
    with hub.store.engine.connect() as conn:
        assert conn.execute(select(reviews.c.visit_id, reviews.c.reviewer_id)).all() == [(visit, pseudonymous_id(team.user["mgr_east"]))]


@pytest.mark.postgres
def test_review_marks_on_postgresql(live_server: Any, pg_url: str) -> None:
    """On a PostgreSQL store a mark takes the visit off the list and a reclassification puts it back, as on SQLite."""
    from .conftest import build_team

    team = build_team(live_server(database_url=pg_url, org_poll_s=0.05))
    token = team.token("mgr_east")
    visit = team.visits["rep_e2"][1]
    assert mark(team, token, visit, NOTE).status_code == 200
    assert suspicious(team, token, reviewed="false") == []
    assert [v["review"]["current"] for v in suspicious(team, token, reviewed="true")] == [True]
    team.write("visits", visit, {"verdict": "suspect", "verdict_reasons": [{"code": "mock_location"}]})
    assert [v["review"]["current"] for v in suspicious(team, token, reviewed="false")] == [False]
