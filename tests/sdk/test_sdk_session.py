"""The sans-I/O client session: frames in, frames and events out, replica effects checked."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fieldsync.sdk import Conflict, Replica
from fieldsync.sdk.session import Acked, Applied, ClientSession, Evicted, Failed, Purged, SessionState, Welcomed
from fieldsync.sdk.testing import FakeClock
from fieldsync.sync import protocol as P
from fieldsync.sync.merge import dumps_state

Open = Callable[..., Replica]


def welcome(server_time: int = 1_764_000_005_000, mode: str = "catchup") -> str:
    return json.dumps(P.welcome(site="x", session="s", server_seq=1, server_time_ms=server_time, schema=1, mode=mode))


def page_set(*, rows: list[str] = (), changes: list[str] = (), cursor: str, done: bool = True) -> list[str]:  # type: ignore[assignment]
    """The frames a hub sends for one page (``changes``) and its ``checkpoint``."""
    checksum = P.PageChecksum()
    checksum.add(P.page_payload(list(rows), list(changes)), len(rows) + len(changes))
    frame = P.changes_frame(rows=list(rows), changes=list(changes))
    return [frame, json.dumps(P.checkpoint(cursor=cursor, checksum=checksum.hexdigest(), count=checksum.count, done=done))]


def outbox_texts(replica: Replica) -> list[str]:
    """The wire changes a replica would push (another device's changes, as the hub relays them)."""
    batch = replica.take_batch(max_changes=5000, max_bytes=8_000_000)
    assert batch is not None
    replica.complete_batch(batch.batch_id, [])
    return list(batch.changes)


def opened(replica: Replica, **kw: Any) -> ClientSession:
    session = ClientSession(replica, token="tok", **kw)
    session.start()
    session.data_to_send()
    assert isinstance(session.receive(welcome())[0], Welcomed)
    return session


def test_hello_carries_token_site_schema_and_stored_cursor(open_replica: Open) -> None:
    """The first frame is hello with the replica's site, schema version, last cursor and the features the SDK takes."""
    r = open_replica()
    r.apply_pages([], [], cursor="c:41")
    session = ClientSession(r, token="tok", live=False)
    session.start()
    [hello] = [json.loads(f) for f in session.data_to_send()]
    assert hello == {
        "type": "hello", "protocol": 1, "schema": 1, "token": "tok", "site": r.site, "cursor": "c:41", "live": False,
        "features": ["row-text"],
    }
    assert session.state is SessionState.CONNECTING


def test_welcome_corrects_the_clock_and_starts_pushing_the_outbox(open_replica: Open, clock: FakeClock) -> None:
    """Welcome sets the HLC offset to server time minus local time and sends the outbox as a push."""
    r = open_replica(clock=clock)
    acct = r.insert("accounts", {"name": "Acme"})
    session = ClientSession(r, token="tok")
    session.start()
    session.data_to_send()
    [event] = session.receive(welcome(server_time=clock() + 5_000))
    assert event == Welcomed("catchup", 5_000) and r.hlc.offset_ms == 5_000
    [push] = [json.loads(f) for f in session.data_to_send()]
    assert push["type"] == "push" and [c["r"] for c in push["changes"]] == [acct.id]
    assert session.in_flight == 1 and not session.synced


def test_pages_apply_only_at_their_checkpoint_with_the_cursor(open_replica: Open) -> None:
    """Changes pages are buffered; the checkpoint applies them and stores its cursor atomically."""
    a, b = open_replica("a"), open_replica("b")
    acct = b.insert("accounts", {"name": "Acme", "tier": "A"})
    session = opened(a)
    page, check = page_set(changes=outbox_texts(b), cursor="c:9", done=False)
    assert session.receive(page) == []
    assert a.get("accounts", acct.id) is None and a.cursor is None
    [applied] = session.receive(check)
    assert isinstance(applied, Applied) and (applied.count, applied.cursor, applied.done) == (2, "c:9", False)
    assert a.get("accounts", acct.id) is not None and a.cursor == "c:9"
    assert [e.id for e in applied.changes] == [acct.id] and not session.caught_up
    empty_checkpoint = P.checkpoint(cursor="c:9", checksum=P.PageChecksum().hexdigest(), count=0, done=True)
    session.receive(json.dumps(empty_checkpoint))  # a checkpoint with no page before it
    assert session.caught_up and session.synced


def test_snapshot_rows_merge_as_whole_row_states(open_replica: Open) -> None:
    """Snapshot pages carry row states that are joined into the replica."""
    a, b = open_replica("a"), open_replica("b")
    acct = b.insert("accounts", {"name": "Acme", "tags": ["vip"]})
    b.increment("accounts", acct.id, "visit_count", 4)
    state = b.row_state("accounts", acct.id)
    assert state is not None
    session = opened(a)
    for frame in page_set(rows=[dumps_state(state)], cursor="s:1:accounts:x", done=True):
        session.receive(frame)
    got = a.get("accounts", acct.id)
    assert got is not None and (got["name"], got["tags"], got["visit_count"]) == ("Acme", ["vip"], 4)
    assert a.hlc.last > state.max_hlc  # every remote HLC was observed


def test_checksum_mismatch_discards_the_page_set(open_replica: Open) -> None:
    """A page set whose checksum does not match is not applied and the session fails retryably."""
    a, b = open_replica("a"), open_replica("b")
    acct = b.insert("accounts", {"name": "Acme"})
    session = opened(a)
    a.apply_pages([], [], cursor="c:1")
    page, check = page_set(changes=outbox_texts(b), cursor="c:9")
    tampered = json.loads(check) | {"checksum": "0" * 64}
    session.receive(page)
    [event] = session.receive(json.dumps(tampered))
    assert isinstance(event, Failed) and event.retryable and event.name == "checksum_mismatch"
    assert a.get("accounts", acct.id) is None and a.cursor == "c:1" and session.closed


def test_live_frames_apply_alone_with_their_seq(open_replica: Open) -> None:
    """A live changes frame (with seq) is applied at once and its seq becomes the cursor."""
    a, b = open_replica("a"), open_replica("b")
    acct = b.insert("accounts", {"name": "Acme"})
    session = opened(a)
    [event] = session.receive(P.changes_frame(changes=outbox_texts(b), seq="c:77"))
    assert isinstance(event, Applied) and event.live and a.cursor == "c:77"
    assert a.get("accounts", acct.id) is not None


def test_ack_removes_the_batch_records_rejects_and_pushes_the_next(open_replica: Open) -> None:
    """An ack drops its batch from the outbox, keeps rejects per record, and frees the window."""
    r = open_replica()
    recs = [r.insert("accounts", {"name": f"n{i}"}) for i in range(3)]
    session = opened(r, batch_changes=1, max_in_flight=1)
    [push] = [json.loads(f) for f in session.data_to_send()]
    reject = P.Reject(0, "FS-3004", "out_of_scope", "not yours", False, "accounts", recs[0].id, "name")
    [event] = session.receive(json.dumps(P.ack(push["batch"], seq=5, accepted=0, rejects=[reject])))
    assert isinstance(event, Acked) and [e.record_id for e in event.rejects] == [recs[0].id]
    assert r.pending_count == 2 and [(e.record_id, e.code) for e in r.errors] == [(recs[0].id, "FS-3004")]
    [nxt] = [json.loads(f) for f in session.data_to_send()]
    assert nxt["batch"] != push["batch"] and nxt["changes"][0]["r"] == recs[1].id


def test_a_batch_is_resent_with_the_same_id_and_content_after_a_cut(open_replica: Open) -> None:
    """An unacknowledged batch goes out again, byte for byte, on the next connection."""
    r = open_replica()
    r.insert("accounts", {"name": "Acme"})
    first = opened(r)
    [sent] = first.data_to_send()
    first.connection_lost()
    r.insert("accounts", {"name": "Later"})
    second = opened(r, max_in_flight=1)
    [again] = second.data_to_send()
    assert again == sent


def test_local_writes_while_open_are_pushed_on_local_changed(open_replica: Open) -> None:
    """After a local write the driver's local_changed() call pushes it."""
    r = open_replica()
    session = opened(r)
    assert session.data_to_send() == []
    r.insert("accounts", {"name": "Acme"})
    session.local_changed()
    assert [json.loads(f)["type"] for f in session.data_to_send()] == ["push"]


def test_evict_drops_rows_without_creating_changes(open_replica: Open, clock: FakeClock) -> None:
    """Evicted rows disappear locally and nothing is queued for upload."""
    r = open_replica(clock=clock)
    acct = r.insert("accounts", {"name": "Acme"})
    r.complete_batch(r.take_batch(max_changes=10, max_bytes=10_000).batch_id, [])  # type: ignore[union-attr]
    session = opened(r)
    [event] = session.receive(json.dumps(P.evict([("accounts", acct.id)])))
    assert event == Evicted((("accounts", acct.id),))
    assert r.get("accounts", acct.id) is None and r.pending_count == 0


def test_purge_wipes_the_replica_and_ends_the_session(open_replica: Open) -> None:
    """Purge deletes rows, outbox and cursor, and the session closes."""
    r = open_replica()
    r.insert("accounts", {"name": "Acme"})
    r.apply_pages([], [], cursor="c:3")
    session = opened(r)
    [event] = session.receive(json.dumps(P.purge("device_revoked")))
    assert event == Purged("device_revoked") and session.closed
    assert r.count("accounts") == 0 and r.pending_count == 0 and r.cursor is None and r.purged == "device_revoked"


def test_error_frames_end_the_session_with_their_code(open_replica: Open) -> None:
    """An error frame closes the session and reports its code and retryable flag."""
    r = open_replica()
    session = ClientSession(r, token="bad")
    session.start()
    [event] = session.receive(json.dumps({"type": "error", "code": "FS-3001", "name": "unauthenticated", "retryable": False, "message": "no"}))
    assert event == Failed("FS-3001", "unauthenticated", "no", False) and session.closed
    assert session.receive(welcome()) == []


def test_garbage_from_the_server_fails_the_session_retryably(open_replica: Open) -> None:
    """A frame that is not JSON, or not welcome first, fails the session so the driver reconnects."""
    r = open_replica()
    for frame in ("not json", json.dumps({"type": "ack", "batch": "b"})):
        session = ClientSession(r, token="t")
        session.start()
        [event] = session.receive(frame)
        assert isinstance(event, Failed) and event.retryable and session.closed


def test_a_pulled_change_beating_a_concurrent_local_write_is_a_conflict(open_replica: Open) -> None:
    """When a remote write concurrent with ours wins, the loss is logged and on_conflict is called."""
    a, b = open_replica("a"), open_replica("b")
    acct = a.insert("accounts", {"name": "Acme"})
    base = outbox_texts(a)
    session_b = opened(b)
    for frame in page_set(changes=base, cursor="c:1"):
        session_b.receive(frame)
    a.update("accounts", acct.id, {"tier": "A"})
    b.hlc.observe(a.hlc.last + (10 << 16))  # b writes later, without having seen a's edit
    b.update("accounts", acct.id, {"tier": "B"})
    heard: list[Conflict] = []
    a.on_conflict(heard.append)
    session_a = opened(a)
    for frame in page_set(changes=outbox_texts(b), cursor="c:2"):
        session_a.receive(frame)
    assert (a.get("accounts", acct.id) or {}).get("tier") == "B"
    assert [(c.field, c.loser_value, c.winner_value, c.loser_site) for c in heard] == [("tier", "A", "B", a.site)]
    assert a.conflicts == heard


def test_a_lost_write_is_recorded_and_announced_once(open_replica: Open, clock: FakeClock) -> None:
    """Merging that meets the same lost write again (a snapshot and its catch-up both carry the winner) records and announces it once."""
    a, b = open_replica("a", clock=clock), open_replica("b", clock=clock)
    acct = a.insert("accounts", {"name": "Acme"})
    session_b = opened(b)
    for frame in page_set(changes=outbox_texts(a), cursor="c:1"):
        session_b.receive(frame)
    a.update("accounts", acct.id, {"tier": "A"})
    losing = a._load_state(a.schema.table("accounts"), acct.id)
    b.hlc.observe(a.hlc.last + (10 << 16))
    b.update("accounts", acct.id, {"tier": "B"})
    winner = outbox_texts(b)
    heard: list[Conflict] = []
    a.on_conflict(heard.append)
    session_a = opened(a)
    for frame in page_set(changes=winner, cursor="c:2"):
        session_a.receive(frame)
    with a._tx():  # the row as it was before the winner arrived: merging will meet the same lost write again
        a._store_state(a.schema.table("accounts"), losing)  # type: ignore[arg-type]
    for frame in page_set(changes=winner, cursor="c:3"):
        session_a.receive(frame)
    assert [(c.field, c.loser_value) for c in heard] == [("tier", "A")]
    assert len(a.conflicts) == 1


def test_unknown_fields_from_a_newer_server_are_skipped(open_replica: Open) -> None:
    """A pulled change naming a field this app does not know is skipped, the rest applied."""
    a, b = open_replica("a"), open_replica("b")
    acct = b.insert("accounts", {"name": "Acme"})
    texts = outbox_texts(b)
    future = json.loads(texts[0]) | {"f": "field_from_v9"}
    session = opened(a)
    for frame in page_set(changes=[*texts, json.dumps(future, separators=(",", ":"))], cursor="c:5"):
        session.receive(frame)
    assert a.get("accounts", acct.id) is not None and a.cursor == "c:5"


def test_checksum_covers_the_raw_item_texts_as_sent(open_replica: Open) -> None:
    """The checksum is verified over the items' exact JSON texts, whatever spacing the server used."""
    a, b = open_replica("a"), open_replica("b")
    acct = b.insert("accounts", {"name": "Acme", "lat": 31.50})
    spaced = [json.dumps(json.loads(t), separators=(", ", ": ")) for t in outbox_texts(b)]
    checksum = P.PageChecksum()
    checksum.add(P.page_payload([], spaced), len(spaced))
    frame = '{"type": "changes", "rows": [], "changes": [' + ", ".join(spaced) + "]}"
    session = opened(a)
    session.receive(frame)
    [event] = session.receive(json.dumps(P.checkpoint(cursor="c:3", checksum=checksum.hexdigest(), count=2, done=True)))
    assert isinstance(event, Applied) and (a.get("accounts", acct.id) or {}).get("lat") == 31.5


def test_a_new_snapshot_row_and_a_later_change_to_it_in_one_page_set_both_apply(open_replica: Open) -> None:
    """A row stored straight from the snapshot still merges a change to it later in the same page set."""
    a, b = open_replica("a"), open_replica("b")
    acct = b.insert("accounts", {"name": "Acme", "tags": ["x"]})
    outbox_texts(b)
    state = b.row_state("accounts", acct.id)
    b.update("accounts", acct.id, {"name": "Acme Ltd"})
    b.add_to_set("accounts", acct.id, "tags", "y")
    session = opened(a)
    snapshot_page, _ = page_set(rows=[dumps_state(state)], cursor="s:1")  # type: ignore[arg-type]
    change_page, _ = page_set(changes=outbox_texts(b), cursor="c:2")
    checksum = P.PageChecksum()
    checksum.add(P.page_payload([dumps_state(state)], []), 1)  # type: ignore[arg-type]
    checksum.add(P.page_payload([], outbox_changes := [json.dumps(c, ensure_ascii=False, separators=(",", ":")) for c in json.loads(change_page)["changes"]]), len(outbox_changes))
    session.receive(snapshot_page)
    session.receive(change_page)
    session.receive(json.dumps(P.checkpoint(cursor="c:2", checksum=checksum.hexdigest(), count=1 + len(outbox_changes), done=True)))
    got = a.get("accounts", acct.id)
    assert got is not None and (got["name"], got["tags"]) == ("Acme Ltd", ["x", "y"])
    assert a.row_state("accounts", acct.id) == b.row_state("accounts", acct.id)
