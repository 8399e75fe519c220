"""The dashboard's REST API: scope-filtered, paginated visit queries, CSV, funnel, day view, conflicts, refusals."""

from __future__ import annotations

import csv
import io
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from .conftest import DAY, Team

pytestmark = pytest.mark.timeout(120)
RANGE = {"start": f"{DAY}T00:00:00+08:00", "end": f"{DAY}T23:59:59+08:00"}


def test_manager_sees_exactly_their_team(team: Team) -> None:
    """A manager's visit log holds their team's visits and none of another team's, with the total."""
    token = team.token("mgr_east")
    page = team.get(token, "/v1/dashboard/visits", **RANGE).json()
    east = set(team.visits["rep_e1"]) | set(team.visits["rep_e2"])
    assert {v["id"] for v in page["items"]} == east and page["total"] == len(east)
    assert "West Secret Account" not in str(page)
    me = team.get(token, "/v1/dashboard/me").json()
    assert me["team"] is True
    assert {p["login"] for p in me["people"]} == {"mgr_east", "rep_e1", "rep_e2"}


def test_api_refuses_another_teams_visits(team: Team) -> None:
    """Asking for another team's rep, day, visit ids or conflict history is refused or answered empty."""
    token = team.token("mgr_east")
    west_rep, west_visit = team.user["rep_w1"], team.visits["rep_w1"][0]
    for path, params in [("/v1/dashboard/visits", {"rep": west_rep}), ("/v1/dashboard/day", {"rep": west_rep, **RANGE}),
                         ("/v1/dashboard/visits.csv", {"rep": west_rep}), ("/v1/dashboard/funnel", {"rep": west_rep}),
                         (f"/v1/dashboard/records/visits/{west_visit}/conflicts", {})]:
        resp = team.get(token, path, **params)
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "FS-3004", (path, resp.text)
    assert team.get(token, "/v1/dashboard/visits", ids=west_visit).json()["items"] == []


def test_requests_without_a_valid_access_token_are_refused(team: Team) -> None:
    """No token, a forged token, and a TOTP enrolment token all get typed 401 errors."""
    enrol = team.login("mgr_west")["enrol_token"]
    for headers in ({}, {"Authorization": "Bearer forged.token"}, {"Authorization": f"Bearer {enrol}"}):
        resp = httpx.get(f"{team.url}/v1/dashboard/visits", headers=headers, timeout=30)
        assert resp.status_code == 401 and re.match(r"FS-300\d", resp.json()["error"]["code"])


def test_a_rep_sees_only_their_own_visits(team: Team) -> None:
    """A rep's dashboard answers only their own visits and offers only themselves as a rep."""
    token = team.token("rep_e1")
    page = team.get(token, "/v1/dashboard/visits", **RANGE).json()
    assert {v["id"] for v in page["items"]} == set(team.visits["rep_e1"])
    me = team.get(token, "/v1/dashboard/me").json()
    assert me["team"] is False and [p["login"] for p in me["people"]] == ["rep_e1"]
    assert team.get(token, "/v1/dashboard/visits", rep=team.user["rep_e2"]).status_code == 403


def test_filters_and_pagination(team: Team) -> None:
    """Rep, verdict, account and date filters narrow the log; limit/offset pages keep the total."""
    token = team.token("mgr_east")
    e2 = team.get(token, "/v1/dashboard/visits", rep=team.user["rep_e2"], **RANGE).json()
    assert {v["id"] for v in e2["items"]} == set(team.visits["rep_e2"])
    odd = team.get(token, "/v1/dashboard/visits", verdict="suspicious", **RANGE).json()["items"]
    assert [v["id"] for v in odd] == [team.visits["rep_e2"][1]]
    assert odd[0]["verdict_reasons"][0]["code"] == "too_far" and odd[0]["distance_m"] == 3335.8
    by_name = team.get(token, "/v1/dashboard/visits", account="Hongda", **RANGE).json()["items"]
    assert [v["account"]["name"] for v in by_name] == ["Shanghai Hongda Machinery"]
    assert team.get(token, "/v1/dashboard/visits", start="2026-11-25T00:00:00+08:00", end="2026-11-26T00:00:00+08:00").json()["total"] == 0
    first = team.get(token, "/v1/dashboard/visits", limit=2, offset=0, **RANGE).json()
    rest = team.get(token, "/v1/dashboard/visits", limit=2, offset=2, **RANGE).json()
    assert first["total"] == rest["total"] == 5 and len(first["items"]) == 2 and len(rest["items"]) == 2
    assert not {v["id"] for v in first["items"]} & {v["id"] for v in rest["items"]}
    done = next(v for v in e2["items"] if v["status"] == "done")
    assert done["dwell_s"] == 45 * 60 and done["rep_name"] == "刘洋 Liu Yang"
    bad = team.get(token, "/v1/dashboard/visits", start="yesterday")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "FS-2003"


def test_csv_export_holds_the_filtered_set(team: Team) -> None:
    """The CSV export has a header and one line per visit of the filtered, scoped set, readable by spreadsheets."""
    token = team.token("mgr_east")
    resp = team.get(token, "/v1/dashboard/visits.csv", rep=team.user["rep_e1"], **RANGE)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert {r["visit_id"] for r in rows} == set(team.visits["rep_e1"])
    assert "上海华东电气有限公司" in {r["account"] for r in rows}


def test_funnel_counts_per_rep(team: Team) -> None:
    """The funnel counts planned, checked-in, verified, done and suspicious visits per rep of the team."""
    token = team.token("mgr_east")
    funnel = team.get(token, "/v1/dashboard/funnel", **RANGE).json()
    by_rep = {r["rep_id"]: r for r in funnel["reps"]}
    assert set(by_rep) == {team.user["rep_e1"], team.user["rep_e2"]}
    e2 = by_rep[team.user["rep_e2"]]
    assert (e2["planned"], e2["checked_in"], e2["verified"], e2["done"], e2["suspicious"]) == (2, 2, 1, 1, 1)
    assert e2["dwell_s"] == 45 * 60
    assert funnel["totals"]["visits"] == 5


def test_day_view_orders_the_route_and_converts_to_wgs84(team: Team) -> None:
    """The day view lists a rep's visits in sequence with planned and actual points."""
    token = team.token("mgr_east")
    day = team.get(token, "/v1/dashboard/day", rep=team.user["rep_e2"], **RANGE).json()
    assert [s["visit"]["id"] for s in day["stops"]] == team.visits["rep_e2"]
    assert day["stops"][0]["planned"] == [31.2397, 121.4998] and day["stops"][0]["actual"] == [31.2399, 121.4999]
    assert day["tile_url"] is None


def test_conflict_restore_rules(team: Team) -> None:
    """Evidence conflicts cannot be restored, another team's conflicts are out of scope, a restored value wins and is audited."""
    from fieldsync.sdk import Replica, SyncClient

    rep = team.user["rep_e1"]
    visit = team.visits["rep_e1"][0]
    tmp = Path(team.server.settings.attachments_dir).parent
    phones = []
    for name in ("a", "b"):
        replica = Replica.open(tmp / f"{name}.db")
        token = team.server.token(user_id=rep, site=replica.site, department_id=team.dept["east"])
        client = SyncClient(team.server.ws_url, replica=replica, token=token)
        client.sync_once(timeout=30)
        phones.append((replica, client))
    try:
        (a, ca), (b, cb) = phones
        a.update("visits", visit, {"outcome": "signed"})
        b.update("visits", visit, {"outcome": "lost to competitor"})
        ca.sync_once(timeout=30)
        cb.sync_once(timeout=30)
        ca.sync_once(timeout=30)
        token = team.token("mgr_east")
        history = team.get(token, f"/v1/dashboard/records/visits/{visit}/conflicts").json()["conflicts"]
        assert len(history) == 1 and history[0]["restorable"] and history[0]["field"] == "outcome"
        loser = history[0]["loser"]["value"]
        west = team.token("mgr_west")
        refused = httpx.post(f"{team.url}/v1/dashboard/conflicts/{history[0]['id']}/restore", headers={"Authorization": f"Bearer {west}"}, timeout=30)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "FS-3004"
        done = httpx.post(f"{team.url}/v1/dashboard/conflicts/{history[0]['id']}/restore", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert done.status_code == 200 and done.json()["value"] == loser
        [audited] = [e for e in team.hub.audit.entries(subject=visit) if e["action"] == "conflict_restored"]
        assert audited["actor"] == team.user["mgr_east"]
        again = httpx.post(f"{team.url}/v1/dashboard/conflicts/{history[0]['id']}/restore", headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert again.status_code == 403 and again.json()["error"]["code"] == "FS-3003"
        ca.sync_once(timeout=30)
        assert a.get("visits", visit).values["outcome"] == loser
        assert team.get(token, "/v1/dashboard/conflicts").json()["conflicts"] == []
    finally:
        for replica, client in phones:
            client.stop()
            replica.close()


def test_visit_queries_use_the_rep_and_planned_start_index(team: Team) -> None:
    """Filtering one rep's range is answered from the (rep_id, planned_start) index, not a table scan."""
    from fieldsync.server.dashboard.access import viewer_for
    from fieldsync.server.dashboard.queries import VisitFilter, VisitQueries
    from fieldsync.server.store.base import Principal

    viewer = viewer_for(team.hub, Principal(team.user["mgr_east"], team.dept["east"], "x"))
    queries = VisitQueries(team.server.app.state.store, viewer)
    f = VisitFilter.parse(rep=team.user["rep_e1"], **RANGE)
    stmt = queries._select().where(*queries._where(f)).order_by(*queries._order())
    engine = team.server.app.state.store.engine
    compiled = stmt.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        plan = " ".join(str(r[-1]) for r in conn.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert "ix_visits_rep_planned" in plan, plan


def test_page_and_static_files_are_served_without_external_resources(team: Team) -> None:
    """The page and its modules come from this server with a strict CSP, and reference nothing on the internet."""
    page = httpx.get(f"{team.url}/dashboard", timeout=30)
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    static = Path(__file__).resolve().parents[2] / "server" / "dashboard" / "static"
    for path in (p for p in static.iterdir() if p.suffix in {".html", ".js", ".css", ".svg"}):
        resp = httpx.get(f"{team.url}/dashboard/static/{path.name}", timeout=30)
        assert resp.status_code == 200, path.name
        urls = set(re.findall(r"https?://[^\s\"'`)]+", resp.text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, (path.name, urls)
    assert httpx.get(f"{team.url}/dashboard/static/..%2Fqueries.py", timeout=30).status_code == 404
    assert httpx.get(f"{team.url}/dashboard/static/{uuid.uuid4()}.js", timeout=30).status_code == 404


def test_unknown_filters_get_typed_errors(team: Team) -> None:
    """Malformed rep ids, verdicts and tables are answered with typed 4xx errors."""
    token = team.token("rep_e2")
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/v1/dashboard/visits", {"rep": "not-a-uuid"}), ("/v1/dashboard/visits", {"verdict": "great"}),
        ("/v1/dashboard/visits", {"ids": "x,y"}), ("/v1/dashboard/conflicts", {"table": "sync_changes"}),
        ("/v1/dashboard/records/users/x/conflicts", {}), ("/v1/dashboard/visits", {"limit": 0}),
    ]
    for path, params in cases:
        resp = team.get(token, path, **params)
        assert 400 <= resp.status_code < 500 and re.match(r"FS-\d{4}", resp.json()["error"]["code"]), (path, resp.text)


def test_fields_hidden_from_a_role_never_leave_the_server(team: Team) -> None:
    """A role that hides visit fields gets them stripped from rows, CSV and funnel, and cannot filter on them."""
    from fieldsync.server.org.model import Scope

    org = team.hub.org
    role = next(r for r in org.load().roles.values() if r.name == "manager")
    org.update_role(role.id, {("*", "read"): Scope.DEPARTMENT_TREE, ("*", "write"): Scope.SUBORDINATES},
                    hidden={"visits": ["verdict", "verdict_reasons", "distance_m", "outcome"]})
    token = team.token("mgr_east")
    items = team.get(token, "/v1/dashboard/visits", **RANGE).json()["items"]
    assert items and all(not {"verdict", "verdict_reasons", "distance_m", "outcome"} & set(v) for v in items)
    assert "quote sent" not in str(items) and "too_far" not in str(items)
    refused = team.get(token, "/v1/dashboard/visits", verdict="suspicious")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "FS-3010"
    header = team.get(token, "/v1/dashboard/visits.csv", **RANGE).content.decode("utf-8-sig").splitlines()[0].split(",")
    assert "verdict" not in header and "outcome" not in header and "distance_m" not in header
    funnel = team.get(token, "/v1/dashboard/funnel", **RANGE).json()
    assert all(r["verified"] is None and r["suspicious"] is None and r["mean_distance_m"] is None for r in funnel["reps"])
    day = team.get(token, "/v1/dashboard/day", rep=team.user["rep_e2"], **RANGE).json()
    assert "3335.8" not in str(day)


@pytest.mark.postgres
def test_visit_log_and_funnel_on_postgresql(live_server: Any, pg_url: str) -> None:
    """The same scoped queries, filters and funnel answer identically on a PostgreSQL store."""
    from .conftest import build_team

    team = build_team(live_server(database_url=pg_url, org_poll_s=0.05))
    token = team.token("mgr_east")
    page = team.get(token, "/v1/dashboard/visits", **RANGE).json()
    assert page["total"] == 5 and "West Secret Account" not in str(page)
    odd = team.get(token, "/v1/dashboard/visits", verdict="suspicious", account="Jinqiao", **RANGE).json()["items"]
    assert [v["id"] for v in odd] == [team.visits["rep_e2"][1]]
    funnel = team.get(token, "/v1/dashboard/funnel", rep=team.user["rep_e2"], **RANGE).json()
    assert funnel["totals"]["verified"] == 1 and funnel["totals"]["dwell_s"] == 45 * 60
    assert team.get(token, "/v1/dashboard/conflicts").json() == {"conflicts": []}
