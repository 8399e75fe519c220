"""Schemathesis against the dashboard's own OpenAPI operations: every answer is typed, nothing stored changes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from .conftest import Team

schemathesis = pytest.importorskip("schemathesis")
pytestmark = pytest.mark.timeout(180)
CODE = re.compile(r"^FS-\d{4}$")


def visits_dump(team: Team) -> list[Any]:
    store = team.server.app.state.store
    t = store.rows["visits"]
    with store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(t).order_by(t.c.id))]


def test_dashboard_operations_answer_generated_input_with_typed_errors(team: Team) -> None:
    """Generated (valid and invalid) dashboard requests with a real manager token never get a 5xx or an untyped error."""
    token = team.token("mgr_east")
    before = visits_dump(team)
    schema = schemathesis.openapi.from_url(team.url + "/openapi.json").include(path_regex=r"^/v1/dashboard/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 7
    strategy = st.one_of(*[op.as_strategy() for op in operations])

    @settings(max_examples=80, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=strategy)
    def probe(case: Any) -> None:
        resp = case.call(base_url=team.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert resp.status_code < 500, (case.operation.label, resp.text)
        if resp.status_code >= 400:
            body = resp.json()
            if resp.status_code == 404 and body == {"detail": "Not Found"}:
                return  # a generated path segment normalised the URL to no route at all
            assert CODE.match(body["error"]["code"]), (case.operation.label, resp.text)

    probe()
    assert visits_dump(team) == before
