"""The public surface: Python exports, the CLI and the HTTP endpoints."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

import fieldsync.geo
from fieldsync.cli import main
from fieldsync.geo.testing import random_day_request, random_team_request


def test_public_surface_is_pinned() -> None:
    """fieldsync.geo exports exactly its documented names."""
    assert sorted(fieldsync.geo.__all__) == sorted([
        "AccountSite", "DayPlan", "DayRequest", "Datum", "Evidence", "Point", "Policy", "TeamPlan", "TeamRequest", "Verdict",
        "classify_check_in", "convert", "distance_m", "plan_day", "plan_team", "replan"])


def test_cli_plans_a_day_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`fieldsync route plan REQUEST.json --json` prints the day plan."""
    path = tmp_path / "req.json"
    path.write_text(json.dumps(random_day_request(4, 10, time_limit_s=0.2).to_json()))
    assert main(["route", "plan", str(path), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["stops"] and body["lunch"] is not None


def test_cli_human_output_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json the CLI prints a timetable; a bad request exits 1 with the typed code."""
    path = tmp_path / "req.json"
    path.write_text(json.dumps(random_day_request(4, 6, time_limit_s=0.2).to_json()))
    assert main(["route", "plan", str(path)]) == 0
    assert "depart" in capsys.readouterr().out
    path.write_text(json.dumps({"accounts": []}))
    assert main(["route", "plan", str(path), "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "FS-5008"
    assert main(["route", "plan", str(tmp_path / "missing.json")]) == 2


def test_cli_team_and_classify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`route team` and `route classify` answer from JSON files."""
    team = tmp_path / "team.json"
    team.write_text(json.dumps(random_team_request(6, 12, 2, 1, time_limit_s=0.3).to_json()))
    assert main(["route", "team", str(team), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["days"]) == 2
    check = tmp_path / "check.json"
    now = dt.datetime(2026, 11, 23, 10, tzinfo=dt.timezone.utc).isoformat()
    check.write_text(json.dumps({"evidence": {"location": {"lat": 31.2304, "lon": 121.4737}, "accuracy_m": 10, "device_time": now,
                                              "received_at": now},
                                 "account": {"id": "a", "location": {"lat": 31.2304, "lon": 121.4737}}}))
    assert main(["route", "classify", str(check)]) == 0
    assert capsys.readouterr().out.startswith("verified")


def test_http_plan_replan_team(api: Any) -> None:
    """POST /v1/routes/plan, /replan and /team answer plans; bad input is a typed error body."""
    req = random_day_request(9, 12, time_limit_s=0.2).to_json()
    plan = api.post("/v1/routes/plan", json=req)
    assert plan.status_code == 200 and plan.json()["stops"]
    first = plan.json()["stops"][0]
    again = api.post("/v1/routes/replan", json={"request": req, "position": first["location"], "now": first["departure"][11:16],
                                                "done": [first["id"]]})
    assert again.status_code == 200 and first["id"] not in {s["id"] for s in again.json()["stops"]}
    team = api.post("/v1/routes/team", json=random_team_request(1, 10, 2, 1, time_limit_s=0.3).to_json())
    assert team.status_code == 200 and len(team.json()["days"]) == 2
    too_many = api.post("/v1/routes/plan", json={**req, "accounts": [{}] * 10_000})
    assert too_many.status_code == 413 and too_many.json()["error"]["name"] == "too_many_stops"
    bad = api.post("/v1/routes/replan", json={"request": req, "position": first["location"], "now": 5})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "FS-5001"


def test_http_classify_uses_server_clock_and_company_radius(api: Any) -> None:
    """POST /v1/checkins/classify stamps received_at itself and applies the configured radius."""
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    body = {"evidence": {"location": {"lat": 31.2330, "lon": 121.4737}, "accuracy_m": 10, "device_time": now},
            "account": {"id": "a", "location": {"lat": 31.2304, "lon": 121.4737}}}
    answer = api.post("/v1/checkins/classify", json=body)
    assert answer.status_code == 200
    assert answer.json()["status"] == "out_of_range" and answer.json()["radius_m"] == 200.0
    bad = api.post("/v1/checkins/classify", json={"evidence": "nope"})
    assert bad.status_code == 422 and bad.json()["error"]["name"] == "invalid_check_in"
