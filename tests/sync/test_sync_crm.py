"""The CRM declaration: every field's rule fits its type, the docs describe it, and three reps converge on it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import HlcClock
from fieldsync.sync.rules import SERVER_SITE, rule_for
from fieldsync.sync.schema import DeletePolicy, FieldType
from fieldsync.sync.writes import Increment, SetOps

DOC = Path(__file__).resolve().parents[2] / "docs" / "conflicts.md"
ACCOUNT = "0192f4c8-0000-7000-8000-00000000acc1"
FIELDS = [(t.name, f) for t in CRM_SCHEMA.tables for f in t.fields]


@pytest.mark.parametrize(("table", "fld"), FIELDS, ids=[f"{t}.{f.name}" for t, f in FIELDS])
def test_every_field_rule_fits_its_type(table: str, fld: Any) -> None:
    """Every declared rule is registered and suits the field's type."""
    rule = rule_for(fld)
    if rule.name == "counter":
        assert fld.type in (FieldType.INTEGER, FieldType.REAL)
    if rule.name == "add_wins_set":
        assert fld.type is FieldType.JSON
    if rule.name == "text":
        assert fld.type is FieldType.TEXT
    if fld.server_only:
        assert rule.name == "server_wins"


def test_every_table_has_scope_fields() -> None:
    """Every table carries server-wins owner and department fields."""
    for table in CRM_SCHEMA.tables:
        assert table.field("owner_id").rule == "server_wins"
        assert table.field("department_id").rule == "server_wins"


def test_conflicts_doc_names_every_non_default_rule_field() -> None:
    """docs/conflicts.md names every field that does not use last-writer-wins."""
    text = DOC.read_text()
    for table, fld in FIELDS:
        if fld.rule == "lww":
            continue
        short = re.sub(r"^(checkin|checkout)_(lat|lon|datum)$", r"\1_lat/lon/datum", fld.name)
        assert f"`{fld.name}`" in text or short in text, f"{table}.{fld.name}"


def test_conflicts_doc_states_each_delete_policy() -> None:
    """docs/conflicts.md lists each table under its actual delete policy."""
    text = DOC.read_text()
    for table in CRM_SCHEMA.tables:
        policy = "update-wins" if table.delete_policy is DeletePolicy.UPDATE_WINS else "delete-wins"
        line = next(line for line in text.splitlines() if line.startswith("|") and f"| {policy} |" in line)
        assert table.name in line, (table.name, policy)


def test_three_reps_edit_one_account_offline_and_converge(kit: Any) -> None:
    """Three reps editing one account offline (different fields, same field, notes, tags, visits) converge on the CRM schema."""
    time = kit.FakeTime()

    def rep(site: str, skew: int) -> Any:
        return kit.Replica(site=site, clock=HlcClock(site, now_ms=time.for_site(skew)), schema=CRM_SCHEMA)

    ann, bo, cy, server = rep("dev-ann", 0), rep("dev-bo", -90_000), rep("dev-cy", 30_000), rep(SERVER_SITE, 0)
    reps = [ann, bo, cy, server]
    ann.write("accounts", ACCOUNT, {"name": "华东电气", "tier": "B", "notes": "Met the buyer.", "tags": ["east"]})
    for r in reps[1:]:
        r.receive(ann.log)
    time.advance(60_000)
    ann.write("accounts", ACCOUNT, {"phone": "+8613800000001", "notes": "Met the buyer. Send quote.", "visit_count": Increment(1)})
    bo.write("accounts", ACCOUNT, {"tier": "A", "notes": "Today: Met the buyer.", "visit_count": Increment(1), "tags": SetOps(add=("vip",))})
    cy.write("accounts", ACCOUNT, {"tier": "C", "last_visit_at": "2025-11-24T10:00:00+08:00", "tags": []})
    server.write("accounts", ACCOUNT, {"owner_id": "0192f4c8-0000-7000-8000-0000000000ff"})
    cy.write("accounts", ACCOUNT, {"owner_id": "0192f4c8-0000-7000-8000-0000000000ee"})
    everything = [ch for r in reps for ch in r.log]
    for r in reps:
        r.receive(everything)
    dumps = {repr(r.dump()) for r in reps}
    assert len(dumps) == 1
    values = ann.values("accounts", ACCOUNT)
    assert values["phone"] == "+8613800000001"
    assert values["notes"] == "Today: Met the buyer. Send quote."
    assert values["visit_count"] == 2
    assert values["tags"] == ["vip"]  # cy removed "east" (seen), bo's concurrent "vip" stays
    assert values["owner_id"] == "0192f4c8-0000-7000-8000-0000000000ff"
    assert values["last_visit_at"] == "2025-11-24T02:00:00Z"
    assert values["tier"] == "C"  # cy's clock is the latest of the three concurrent writes
    lost = {(c.field, c.loser_value) for c in ann.conflicts}
    assert ("tier", "A") in lost
