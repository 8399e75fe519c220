"""Visits end to end: check-in verdicts sync back, evidence cannot be rewritten, plans become visits."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from fieldsync.sdk import Replica, SyncClient
from fieldsync.sdk.visits import check_in, check_out, plan_day_offline

pytestmark = pytest.mark.timeout(180)
SHOP = (31.2304, 121.4737)  # People's Square, Shanghai (WGS-84)
_OPEN: list[Any] = []


@pytest.fixture(autouse=True)
def _close() -> Any:
    yield
    while _OPEN:
        replica, client = _OPEN.pop()
        client.stop()
        replica.close()


def phone(server: Any, tmp_path: Path, name: str, user: str) -> tuple[Replica, SyncClient, str]:
    replica = Replica.open(tmp_path / f"{name}.db")
    token = server.token(user_id=user, site=replica.site)
    client = SyncClient(server.ws_url, replica=replica, token=token)
    _OPEN.append((replica, client))
    return replica, client, token


def synced_verdict(client: SyncClient, replica: Replica, visit_id: str) -> dict[str, Any]:
    for _ in range(80):
        client.sync_once(timeout=30)
        row = replica.get("visits", visit_id)
        if row is not None and row.values.get("verdict"):
            return dict(row.values)
        time.sleep(0.1)
    raise AssertionError("no verdict came back")


def setup_visit(replica: Replica, client: SyncClient, **account: Any) -> str:
    acct = replica.insert("accounts", {"name": "Shop", "lat": SHOP[0], "lon": SHOP[1], "datum": "wgs84", **account})
    visit = replica.insert("visits", {"account_id": acct.id, "status": "planned"})
    client.sync_once(timeout=30)
    return visit.id


def test_check_in_at_the_customer_is_verified(live_server: Any, tmp_path: Path) -> None:
    """A precise check-in at the account's location comes back verified, with the distance."""
    server = live_server()
    replica, client, _ = phone(server, tmp_path, "rep", str(uuid.uuid4()))
    visit_id = setup_visit(replica, client)
    check_in(replica, visit_id, lat=SHOP[0] + 0.0002, lon=SHOP[1], accuracy_m=10)
    visit = synced_verdict(client, replica, visit_id)
    assert visit["verdict"] == "verified" and visit["distance_m"] < 50
    assert visit["checkin_received_at"]


def test_gcj02_fix_is_converted_before_comparing(live_server: Any, tmp_path: Path) -> None:
    """A check-in reported in GCJ-02 (shifted by hundreds of metres) is compared after datum conversion."""
    from fieldsync.geo import Point, convert

    server = live_server()
    replica, client, _ = phone(server, tmp_path, "rep", str(uuid.uuid4()))
    visit_id = setup_visit(replica, client)
    shifted = convert(Point(SHOP[0], SHOP[1], "wgs84"), "gcj02")
    check_in(replica, visit_id, lat=shifted.lat, lon=shifted.lon, datum="gcj02", accuracy_m=10)
    assert synced_verdict(client, replica, visit_id)["verdict"] == "verified"


def test_far_or_mock_check_ins_are_flagged_not_blocked(live_server: Any, tmp_path: Path) -> None:
    """A check-in 3 km away is out of range and a mock location is suspect; both visits are still logged."""
    server = live_server()
    replica, client, _ = phone(server, tmp_path, "rep", str(uuid.uuid4()))
    far = setup_visit(replica, client)
    check_in(replica, far, lat=SHOP[0] + 0.03, lon=SHOP[1], accuracy_m=10)
    far_visit = synced_verdict(client, replica, far)
    assert far_visit["verdict"] == "out_of_range"
    assert "too_far" in {r["code"] for r in far_visit["verdict_reasons"]}
    mock = setup_visit(replica, client)
    check_in(replica, mock, lat=SHOP[0], lon=SHOP[1], accuracy_m=5, mock_location=True)
    mock_visit = synced_verdict(client, replica, mock)
    assert mock_visit["verdict"] == "suspect" and mock_visit["status"] == "checked_in"


def test_check_in_evidence_cannot_be_rewritten_through_sync(live_server: Any, tmp_path: Path) -> None:
    """A later write to check-in evidence, from another phone of the same rep, loses everywhere."""
    server = live_server()
    user = str(uuid.uuid4())
    a, ca, _ = phone(server, tmp_path, "a", user)
    b, cb, _ = phone(server, tmp_path, "b", user)
    visit_id = setup_visit(a, ca)
    check_in(a, visit_id, lat=SHOP[0], lon=SHOP[1], accuracy_m=8)
    synced_verdict(ca, a, visit_id)
    cb.sync_once(timeout=30)
    b.update("visits", visit_id, {"checkin_lat": SHOP[0] + 0.5, "checkin_lon": SHOP[1] + 0.5})
    cb.sync_once(timeout=30)
    ca.sync_once(timeout=30)
    cb.sync_once(timeout=30)
    for replica in (a, b):
        row = replica.get("visits", visit_id)
        assert row is not None and row.values["checkin_lat"] == SHOP[0]
    stored = server.app.state.store.row_states("visits", [visit_id])[visit_id]
    assert f'"checkin_lat":[{SHOP[0]}' in stored


def test_check_out_too_soon_is_flagged(live_server: Any, tmp_path: Path) -> None:
    """Checking out a minute after checking in adds the short-dwell reason."""
    server = live_server()
    replica, client, _ = phone(server, tmp_path, "rep", str(uuid.uuid4()))
    visit_id = setup_visit(replica, client)
    check_in(replica, visit_id, lat=SHOP[0], lon=SHOP[1], accuracy_m=8)
    synced_verdict(client, replica, visit_id)
    check_out(replica, visit_id, lat=SHOP[0], lon=SHOP[1], accuracy_m=8, outcome="quote sent")
    for _ in range(80):
        client.sync_once(timeout=30)
        row = replica.get("visits", visit_id)
        if row is not None and "short_dwell" in {r["code"] for r in row.values.get("verdict_reasons") or []}:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the short dwell was never flagged")


def day_request(accounts: list[Any]) -> dict[str, Any]:
    return {
        "date": "2026-11-24",
        "timezone": "Asia/Shanghai",
        "start": {"lat": SHOP[0], "lon": SHOP[1]},
        "end": {"lat": SHOP[0], "lon": SHOP[1]},
        "shift": {"start": "08:30", "end": "17:30"},
        "accounts": [{"id": a.id, "location": {"lat": a.values["lat"], "lon": a.values["lon"]}, "visit_minutes": 30} for a in accounts],
    }


def test_plan_made_on_the_server_becomes_planned_visits_on_the_device(live_server: Any, tmp_path: Path) -> None:
    """POST /v1/visits/plan writes the rep's day as visits that sync to the rep's phone in order."""
    server = live_server()
    replica, client, token = phone(server, tmp_path, "rep", str(uuid.uuid4()))
    accounts = [replica.insert("accounts", {"name": f"A{i}", "lat": SHOP[0] + 0.01 * i, "lon": SHOP[1]}) for i in range(4)]
    client.sync_once(timeout=30)
    answer = httpx.post(f"{server.http_url}/v1/visits/plan", json=day_request(accounts), headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
    assert len(answer["visits"]) == 4
    client.sync_once(timeout=30)
    visits = sorted(replica.query("visits"), key=lambda v: v.values["sequence"])
    assert [v.id for v in visits] == answer["visits"]
    assert all(v.values["status"] == "planned" and v.values["planned_start"] for v in visits)


def test_plan_made_offline_on_the_phone_syncs_to_the_server(live_server: Any, tmp_path: Path) -> None:
    """A day planned on the device with no signal becomes visits on the server after reconnecting."""
    server = live_server()
    user = str(uuid.uuid4())
    replica, client, _ = phone(server, tmp_path, "rep", user)
    accounts = [replica.insert("accounts", {"name": f"A{i}", "lat": SHOP[0], "lon": SHOP[1] + 0.01 * i}) for i in range(3)]
    plan, records = plan_day_offline(replica, day_request(accounts), rep_id=user)
    assert len(plan.stops) == 3 and len(records) == 3
    client.sync_once(timeout=30)
    stored = server.app.state.store.row_states("visits", [r.id for r in records])
    assert set(stored) == {r.id for r in records}
