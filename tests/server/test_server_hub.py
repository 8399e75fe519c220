"""The hub over a real WebSocket and real uvicorn: protocol behaviour and bad input."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest
import websockets

from fieldsync.server.auth.tokens import issue_token

pytestmark = pytest.mark.timeout(120)


def rows_of(server: Any) -> int:
    return server.app.state.store.count_rows("accounts")


def test_push_is_acked_and_reaches_other_devices_live(live_server: Any, raw_client: Any) -> None:
    """A pushed change is acknowledged and arrives on another connected device as a live frame."""
    server = live_server()

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        b, _ = await raw_client.connect(server)
        await a.sync_to_done()
        await b.sync_to_done()
        row = str(uuid.uuid4())
        ack = await a.push([a.change(row, "name", "Acme")])
        assert ack["accepted"] == 1 and ack["rejects"] == []
        frame = await b.until("changes")
        assert frame["seq"].startswith("c:")
        assert any(c["r"] == row and c["f"] == "name" and c["v"] == "Acme" for c in frame["changes"])
        await a.close()
        await b.close()

    asyncio.run(scenario())


def test_device_never_receives_its_own_changes(live_server: Any, raw_client: Any) -> None:
    """Frames to the pushing device carry no change of its own site, live or on catch-up from a cursor: of a row it
    created it gets just the server's owner stamp, which rides in its own log record."""
    server = live_server()

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        _, cursor = await a.sync_to_done()
        row = str(uuid.uuid4())
        await a.push([a.change(row, "name", "Acme"), a.change(row, "tier", "A")])
        frame = await a.until("changes")  # the server's owner stamp
        assert [(c["r"], c["f"], c["s"]) for c in frame["changes"]] == [(row, "owner_id", "server")]
        await a.close()
        again, _ = await raw_client.connect(server, site=a.site, cursor=cursor)
        caught_up, _ = await again.sync_to_done()
        assert [(c["r"], c["f"], c["s"]) for c in caught_up] == [(row, "owner_id", "server")]
        await again.close()

    asyncio.run(scenario())


def test_one_bad_change_is_rejected_and_the_rest_applied(live_server: Any, raw_client: Any) -> None:
    """Unknown tables, unknown fields, wrong types, bad ids, foreign sites and server-only fields are rejected per change."""
    server = live_server()

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        await a.sync_to_done()
        row = str(uuid.uuid4())
        good = a.change(row, "name", "Acme")
        bad = [
            a.change(row, "nope", 1),
            a.change(row, "lat", "north"),
            {**a.change(row, "name", "x"), "t": "planets"},
            {**a.change(row, "name", "x"), "r": "not-a-uuid"},
            {**a.change(row, "name", "x"), "s": "someone-else"},
            a.change(row, "verdict", "verified", table="visits"),
            {**a.change(row, "name", "x"), "h": "abc"},
            "not an object",
        ]
        ack = await a.push([good, *bad])
        codes = [r["code"] for r in ack["rejects"]]
        assert codes == ["FS-2002", "FS-2003", "FS-2001", "FS-2005", "FS-2007", "FS-2008", "FS-2006", "FS-2003"]
        assert [r["i"] for r in ack["rejects"]] == list(range(1, 9))
        assert ack["accepted"] == 1
        await a.close()

    asyncio.run(scenario())
    assert rows_of(server) == 1


def test_malformed_frames_get_typed_errors_and_leave_data_untouched(live_server: Any, raw_client: Any) -> None:
    """Non-JSON, unknown message types and oversized batches get typed errors; stored data is unchanged."""
    server = live_server(max_batch_changes=10)

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        await a.sync_to_done()
        row = str(uuid.uuid4())
        await a.push([a.change(row, "name", "Keep")])
        head = server.app.state.hub.head
        await a.send("{not json")
        assert (await a.until("error"))["code"] == "FS-1001"
        await a.send({"type": "teleport"})
        assert (await a.until("error"))["code"] == "FS-1001"
        await a.send({"type": "push", "batch": "big", "changes": [a.change(row, "name", "x")] * 11})
        assert (await a.until("error"))["code"] == "FS-1004"
        await a.send({"type": "push", "batch": "x" * 100, "changes": []})
        assert (await a.until("error"))["code"] == "FS-1001"
        assert server.app.state.hub.head == head
        await a.close()

    asyncio.run(scenario())
    assert rows_of(server) == 1


def test_bad_tokens_and_forged_sites_are_refused(live_server: Any, raw_client: Any) -> None:
    """Tampered, expired and other-site tokens get auth errors and a closed connection."""
    server = live_server()
    good = server.token(site="dev-a")
    body, sig = good.split(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + sig
    expired = issue_token(server.settings.secret_key, user_id=str(uuid.uuid4()), site="dev-a", ttl_s=-10)

    async def scenario() -> None:
        for token, site, code in [(tampered, "dev-a", "FS-3001"), (expired, "dev-a", "FS-3002"), (good, "dev-b", "FS-3006"), ("garbage", "dev-a", "FS-3001")]:
            client, first = await raw_client.connect(server, site=site, token=token)
            await client.close()
            assert first["type"] == "error" and first["code"] == code

    asyncio.run(scenario())


def test_first_frame_must_be_hello(live_server: Any) -> None:
    """A connection that starts with anything but hello gets FS-1006 and is closed."""
    import websockets

    server = live_server()

    async def scenario() -> None:
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "push", "batch": "b", "changes": []}))
            msg = json.loads(await ws.recv())
            assert msg["code"] == "FS-1006"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4106

    asyncio.run(scenario())


def test_resent_batch_after_lost_ack_applies_once(live_server: Any, raw_client: Any) -> None:
    """A batch resent on a new connection after the first was cut before its ack is applied exactly once."""
    server = live_server()

    async def scenario() -> None:
        a, _ = await raw_client.connect(server, site="dev-r")
        await a.sync_to_done()
        row = str(uuid.uuid4())
        changes = [a.change(row, "visit_count", 1)]
        await a.send({"type": "push", "batch": "b-1", "changes": changes})
        await a.ws.close()  # cut before reading the ack
        head = 0
        for _ in range(100):
            head = server.app.state.hub.head
            if head:
                break
            await asyncio.sleep(0.02)
        a2, _ = await raw_client.connect(server, site="dev-r")
        ack = await a2.push(changes, batch="b-1")
        assert ack["duplicate"] is True
        assert server.app.state.hub.head == head
        await a2.close()

    asyncio.run(scenario())


def test_initial_sync_resumes_from_last_checkpoint(live_server: Any, raw_client: Any) -> None:
    """A device cut mid-snapshot resumes from its cursor without receiving finished pages again."""
    server = live_server(page_rows=10)

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        await a.sync_to_done()
        rows = [str(uuid.uuid4()) for _ in range(35)]
        await a.push([a.change(r, "name", f"n{i}") for i, r in enumerate(rows)])
        b, _ = await raw_client.connect(server)
        first_page = await b.until("changes")
        checkpoint = await b.until("checkpoint")
        await b.ws.close()
        got_first = {r["r"] for r in first_page["rows"]}
        assert len(got_first) == 10
        c, _ = await raw_client.connect(server, site=b.site, cursor=checkpoint["cursor"])
        items, _ = await c.sync_to_done()
        rest = {i["r"] for i in items if "cl" in i}
        assert rest.isdisjoint(got_first)
        assert got_first | rest == set(rows)
        await a.close()
        await c.close()

    asyncio.run(scenario())


def test_checkpoint_checksum_matches_pages(live_server: Any, raw_client: Any) -> None:
    """The checkpoint checksum is sha256 over the page's row texts as documented."""
    import hashlib

    server = live_server(page_rows=5)

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        await a.sync_to_done()
        await a.push([a.change(str(uuid.uuid4()), "name", f"名{i}") for i in range(3)])
        b, _ = await raw_client.connect(server)
        raw_page = await asyncio.wait_for(b.ws.recv(), 10)
        while json.loads(raw_page)["type"] != "changes":
            raw_page = await asyncio.wait_for(b.ws.recv(), 10)
        checkpoint = await b.until("checkpoint")
        rows = json.loads(raw_page)["rows"]
        texts = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in rows]
        digest = hashlib.sha256((",".join(texts) + "|").encode()).hexdigest()
        assert checkpoint["checksum"] == digest and checkpoint["count"] == 3
        await a.close()
        await b.close()

    asyncio.run(scenario())


def test_catchup_from_cursor_sends_only_newer_changes(live_server: Any, raw_client: Any) -> None:
    """A device reconnecting with a catch-up cursor receives only the changes after it."""
    server = live_server()

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        await a.sync_to_done()
        b, _ = await raw_client.connect(server)
        _, cursor = await b.sync_to_done()
        await b.close()
        row = str(uuid.uuid4())
        await a.push([a.change(row, "name", "after")])
        b2, welcome = await raw_client.connect(server, site=b.site, cursor=cursor)
        assert welcome["mode"] == "catchup"
        items, _ = await b2.sync_to_done()
        assert {i["r"] for i in items} == {row}
        await a.close()
        await b2.close()

    asyncio.run(scenario())


def test_http_fallback_push_and_pull(live_server: Any) -> None:
    """The same push and pull work over plain HTTP with a bearer token."""
    server = live_server()
    token = server.token(site="dev-h")
    row = str(uuid.uuid4())
    ms = int(time.time() * 1000)
    change = {"t": "accounts", "r": row, "f": "name", "v": "Over HTTP", "h": str(ms << 16), "s": "dev-h", "c": 1, "b": "0"}
    with httpx.Client(base_url=server.http_url, headers={"Authorization": f"Bearer {token}"}) as http:
        ack = http.post("/v1/sync/push", json={"type": "push", "batch": "h1", "changes": [change]}).json()
        assert ack["accepted"] == 1
        assert http.post("/v1/sync/push", json={"type": "push", "batch": "h1", "changes": [change]}).json()["duplicate"]
        cursor, rows = None, []
        for _ in range(20):
            messages = http.post("/v1/sync/pull", json={"type": "pull", "cursor": cursor}).json()["messages"]
            for m in messages:
                if m["type"] == "changes":
                    rows.extend(m["rows"])
            checkpoint = messages[-1]
            cursor = checkpoint["cursor"]
            if checkpoint["done"]:
                break
        assert [r["r"] for r in rows] == [row]
        unauth = httpx.post(server.http_url + "/v1/sync/pull", json={"type": "pull", "cursor": None})
        assert unauth.status_code == 401 and unauth.json()["error"]["code"] == "FS-3001"
        bad = http.post("/v1/sync/pull", json={"type": "pull", "cursor": "c:999999"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "FS-1007"


def test_health_answers(live_server: Any) -> None:
    """/health reports the process is up."""
    server = live_server()
    assert httpx.get(server.http_url + "/health").json() == {"status": "ok"}


def test_side_services_refuse_callers_without_a_token(live_server: Any) -> None:
    """Card, route and memo endpoints answer FS-3001 to anonymous callers."""
    server = live_server()
    for path in ("/v1/cards", "/v1/routes/plan", "/v1/memos"):
        reply = httpx.post(server.http_url + path, content=b"{}")
        assert reply.status_code == 401 and reply.json()["error"]["code"] == "FS-3001", path


def test_unencodable_text_gets_typed_rejects_and_the_connection_lives(live_server: Any, raw_client: Any) -> None:
    """Lone surrogates (valid JSON escapes, not Unicode) get per-change FS-2003 and a frame-level FS-1001; nothing crashes, good changes apply."""
    server = live_server()

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        await a.sync_to_done()
        good, bad = str(uuid.uuid4()), str(uuid.uuid4())
        changes = [a.change(good, "name", "Acme"), a.change(bad, "name", "\ud800"), a.change(bad, "tags", {"add": ["\udfff"]})]
        frame = json.dumps({"type": "push", "batch": str(uuid.uuid4()), "changes": changes})  # ensure_ascii: escapes survive
        await a.send(frame)
        ack = await a.until("ack")
        assert ack["accepted"] == 1
        assert [(r["i"], r["code"]) for r in ack["rejects"]] == [(1, "FS-2003"), (2, "FS-2003")]
        await a.send(json.dumps({"type": "push", "batch": "b-\ud800", "changes": []}))
        error = await a.until("error")
        assert error["code"] == "FS-1001"
        again = await a.push([a.change(good, "tier", "A")])  # the same connection still works
        assert again["accepted"] == 1
        await a.close()

    asyncio.run(scenario())
    assert rows_of(server) == 1


def _entries(seqs: list[int]) -> Any:
    from collections import deque

    from fieldsync.server.store.base import LogEntry

    return deque(LogEntry(s, "dev", "accounts", str(s), None, None, "{}") for s in seqs)


def test_window_after_reads_consecutive_entries() -> None:
    """The recent window serves the entries after a position, up to the limit; a position before the window is a miss."""
    from fieldsync.server.hub import window_after

    recent = _entries(list(range(10, 21)))
    assert [e.seq for e in window_after(recent, 20, 12, 3) or []] == [13, 14, 15]
    assert window_after(recent, 20, 20, 5) == []
    assert window_after(recent, 20, 8, 5) is None
    assert [e.seq for e in window_after(recent, 20, 9, 2) or []] == [10, 11]


def test_window_after_steps_over_holes() -> None:
    """Holes in the window (an erased row's records deleted from the log) neither skip nor repeat entries."""
    from fieldsync.server.hub import window_after

    recent = _entries([10, 11, 14, 15, 16, 20, 21])
    assert [e.seq for e in window_after(recent, 21, 11, 10) or []] == [14, 15, 16, 20, 21]
    assert [e.seq for e in window_after(recent, 21, 12, 2) or []] == [14, 15]
    assert [e.seq for e in window_after(recent, 21, 15, 10) or []] == [16, 20, 21]
    assert [e.seq for e in window_after(recent, 21, 17, 10) or []] == [20, 21]


def test_a_push_the_database_refuses_gets_a_typed_retryable_error_and_applies_once_later(live_server: Any, raw_client: Any, tmp_path: Any) -> None:
    """When the store's transaction fails as a whole (here a trigger makes SQLite refuse every log insert), the
    device gets FS-9001 (retryable) and a clean close, nothing is stored; resent once the fault is gone, the same
    batch applies exactly once."""
    import sqlite3

    url = f"sqlite:///{tmp_path}/faulty.db"
    server = live_server(database_url=url)
    db = sqlite3.connect(f"{tmp_path}/faulty.db")
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON sync_changes BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
    db.commit()
    row = str(uuid.uuid4())

    async def scenario() -> None:
        a, _ = await raw_client.connect(server)
        await a.sync_to_done()
        change = a.change(row, "name", "Acme")
        await a.send({"type": "push", "batch": "b-1", "changes": [change]})
        err = await a.until("error")
        assert err["code"] == "FS-9001" and err["retryable"] is True
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await a.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code != 1011
        assert rows_of(server) == 0
        db.execute("DROP TRIGGER refuse")
        db.commit()
        b, _ = await raw_client.connect(server, site=a.site)
        await b.sync_to_done()
        for _ in range(2):  # the resend, then a duplicate of it
            ack = await b.push([change], batch="b-1")
            assert ack["accepted"] == 1
        assert rows_of(server) == 1
        await b.close()

    asyncio.run(scenario())
    db.close()
