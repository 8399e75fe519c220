"""Group commit: several push batches in one transaction, each succeeding or failing on its own (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from fieldsync.server.push import legacy_digest, push_request
from fieldsync.server.store import SqlChangeStore, open_store
from fieldsync.server.store.base import BatchOutcome, Principal, PushRequest
from fieldsync.sync import errors as E
from fieldsync.sync import protocol as P
from fieldsync.sync.change import Change
from fieldsync.sync.crm import CRM_SCHEMA
from fieldsync.sync.hlc import pack
from fieldsync.sync.merge import loads_state

DEPT = str(uuid.uuid4())
A = Principal(str(uuid.uuid4()), DEPT, "dev-a")
B = Principal(str(uuid.uuid4()), DEPT, "dev-b")
NOW = 1_764_000_000_000


@pytest.fixture
def store(store_url: str) -> Iterator[SqlChangeStore]:
    s = open_store(store_url, CRM_SCHEMA)
    yield s
    s.close()


def wire(site: str, row: str, field: str, value: object, ms: int) -> dict[str, object]:
    return {"t": "accounts", "r": row, "f": field, "v": value, "h": str(pack(ms, 0)), "s": site, "c": 1, "b": "0"}


def request(who: Principal, batch: str, changes: list[dict[str, object]], **kw: object) -> PushRequest:
    return push_request(CRM_SCHEMA, who, P.Push(batch, changes), now_ms=NOW, **kw)  # type: ignore[arg-type]


def test_group_applies_every_batch_with_its_own_ack(store: SqlChangeStore) -> None:
    """Batches of several devices applied as one group each get an ack naming their own last sequence."""
    r1, r2 = str(uuid.uuid4()), str(uuid.uuid4())
    out = store.apply_batches([
        request(A, "a1", [wire("dev-a", r1, "name", "Acme", NOW)]),
        request(B, "b1", [wire("dev-b", r2, "name", "Beta", NOW), wire("dev-b", r2, "tier", "A", NOW + 1)]),
    ])
    assert all(isinstance(o, BatchOutcome) for o in out)
    first, second = out
    assert isinstance(first, BatchOutcome) and isinstance(second, BatchOutcome)
    assert int(first.ack["seq"]) == first.entries[-1].seq < second.entries[0].seq
    assert int(second.ack["seq"]) == second.entries[-1].seq == store.head()
    assert [e.seq for e in store.changes_after(0, 100)] == list(range(1, store.head() + 1))


def test_a_reused_batch_id_fails_alone(store: SqlChangeStore) -> None:
    """A batch id reused with other content is refused while the rest of its group commits."""
    row = str(uuid.uuid4())
    store.apply_batches([request(A, "a1", [wire("dev-a", row, "name", "Acme", NOW)])])
    other = str(uuid.uuid4())
    out = store.apply_batches([
        request(A, "a1", [wire("dev-a", row, "name", "Changed", NOW + 5)]),
        request(B, "b1", [wire("dev-b", other, "name", "Beta", NOW)]),
    ])
    assert isinstance(out[0], E.ProtocolError) and out[0].code is E.BATCH_ID_REUSED
    assert isinstance(out[1], BatchOutcome)
    assert loads_state(store.row_states("accounts", [row])[row]).values()["name"] == "Acme"
    assert other in store.row_states("accounts", [other])


def test_a_failing_batch_leaves_the_others_and_its_rows_untouched(store: SqlChangeStore) -> None:
    """A batch that raises half-way (here: its scope check) is reported failed; its rows and the others' are as if it never ran."""
    shared = str(uuid.uuid4())

    def broken(changes: Sequence[tuple[int, Change]], owners: Mapping[tuple[str, str], object]) -> tuple[list[Change], list[P.Reject]]:
        raise RuntimeError("a bug")

    good = request(A, "a1", [wire("dev-a", shared, "name", "Acme", NOW)])
    bad = request(B, "b1", [wire("dev-b", shared, "name", "Broken", NOW + 10)])
    bad = PushRequest(bad.principal, bad.batch_id, bad.digest, bad.changes, bad.rejects, bad.total, bad.raw, check=broken)
    out = store.apply_batches([good, bad, request(A, "a2", [wire("dev-a", shared, "tier", "B", NOW + 20)])])
    assert isinstance(out[1], E.ServerError) and out[1].code is E.INTERNAL
    assert isinstance(out[0], BatchOutcome) and isinstance(out[2], BatchOutcome)
    values = loads_state(store.row_states("accounts", [shared])[shared]).values()
    assert (values["name"], values["tier"]) == ("Acme", "B")
    logged = store.changes_after(0, 100)
    assert {ch["s"] for e in logged for ch in e.changes()} == {"dev-a", "server"}  # the stamp rides in dev-a's record
    assert {e.site for e in logged} == {"dev-a"}
    t = store.t_batches
    with store.engine.connect() as conn:
        assert {r[0] for r in conn.execute(select(t.c.batch_id))} == {"a1", "a2"}


def test_a_row_created_earlier_in_the_group_is_seen_by_later_batches(store: SqlChangeStore) -> None:
    """Later batches of a group see rows created by earlier ones: their owner for the scope check, their state for the merge."""
    row = str(uuid.uuid4())
    seen: list[object] = []

    def spy(changes: Sequence[tuple[int, Change]], owners: Mapping[tuple[str, str], object]) -> tuple[list[Change], list[P.Reject]]:
        seen.append(owners.get(("accounts", row)))
        return [ch for _, ch in changes], []

    out = store.apply_batches([
        request(A, "a1", [wire("dev-a", row, "name", "Acme", NOW)]),
        request(B, "b1", [wire("dev-b", row, "tier", "A", NOW + 1)], scope=None),
    ])
    later = request(B, "b2", [wire("dev-b", row, "phone", "+86 21 1234 5678", NOW + 2)])
    later = PushRequest(later.principal, later.batch_id, later.digest, later.changes, later.rejects, later.total, later.raw, check=spy)
    store.apply_batches([request(A, "a2", [wire("dev-a", row, "industry", "energy", NOW + 3)]), later])
    assert seen == [(A.user_id, DEPT)]
    owner_changes = [e for o in out if isinstance(o, BatchOutcome) for e in o.entries for c in e.changes() if c["f"] == "owner_id"]
    assert len(owner_changes) == 1  # stamped once, by the batch that created the row
    values = loads_state(store.row_states("accounts", [row])[row]).values()
    assert (values["name"], values["tier"], values["industry"], values["owner_id"]) == ("Acme", "A", "energy", A.user_id)


def test_a_duplicate_inside_one_group_applies_once(store: SqlChangeStore) -> None:
    """The same batch twice in one group (a resend that caught up with its original) applies once; the second is a duplicate."""
    row = str(uuid.uuid4())
    changes = [wire("dev-a", row, "name", "Acme", NOW)]
    first, second = store.apply_batches([request(A, "a1", changes), request(A, "a1", changes)])
    assert isinstance(first, BatchOutcome) and isinstance(second, BatchOutcome)
    assert not first.duplicate and second.duplicate and second.entries == []
    assert second.ack["seq"] == first.ack["seq"]
    assert store.head() == len(first.entries)


def test_a_resend_with_keys_reordered_is_a_duplicate(store: SqlChangeStore) -> None:
    """A resend whose changes are re-serialised with their keys in another order is recognised as the same batch."""
    row = str(uuid.uuid4())
    change = wire("dev-a", row, "name", "Acme", NOW)
    store.apply_batches([request(A, "a1", [change])])
    reordered = dict(reversed(list(change.items())))
    (again,) = store.apply_batches([request(A, "a1", [reordered])])
    assert isinstance(again, BatchOutcome) and again.duplicate


def test_a_batch_stored_under_the_first_digest_format_is_still_recognised(store: SqlChangeStore) -> None:
    """A batch acknowledged before the digest format changed is still a duplicate when resent (not a reused id)."""
    row = str(uuid.uuid4())
    changes = [wire("dev-a", row, "name", "Acme", NOW)]
    store.apply_batch(A, "a1", legacy_digest(changes), [], [], 1)  # what an older server stored
    (again,) = store.apply_batches([request(A, "a1", changes)])
    assert isinstance(again, BatchOutcome) and again.duplicate
    (other,) = store.apply_batches([request(A, "a1", [wire("dev-a", row, "name", "Other", NOW)])])
    assert isinstance(other, E.ProtocolError) and other.code is E.BATCH_ID_REUSED


FORM_FIELDS = {"name": "Acme", "industry": "retail", "phone": "+33 1 23 45 67 89", "tags": ["a", "b"], "opening_hours": {"mon": "9-17"}, "lat": 48.85}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(groups=st.lists(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(sorted(FORM_FIELDS))), min_size=1, max_size=6), min_size=1, max_size=5))
def test_row_columns_mirror_row_states_whatever_fields_each_group_writes(store: SqlChangeStore, groups: list[list[tuple[int, str]]]) -> None:
    """Upserts name only the fields their rows have cells for, yet every column of every row equals its state's
    cell (NULL where the row has none), whichever fields each group writes to which rows, JSON columns included."""
    rows = [str(uuid.uuid4()) for _ in range(4)]
    ms = NOW - 10_000_000 + store.head() * 1000  # later examples write later (the store persists across them)
    for g, group in enumerate(groups):
        changes = []
        for row, fname in group:
            ms += 1
            changes.append(wire("dev-a", rows[row], fname, FORM_FIELDS[fname], ms))
        [out] = store.apply_batches([request(A, f"g{uuid.uuid4()}", changes)])
        assert isinstance(out, BatchOutcome)
    table = store.rows["accounts"]
    with store.engine.connect() as conn:
        for found in conn.execute(select(table).where(table.c.id.in_(rows))).mappings():
            cells = loads_state(found["_state"]).cells
            for f in CRM_SCHEMA.table("accounts").fields:
                expected = cells[f.name].value if f.name in cells else None
                assert found[f.name] == expected, f.name
