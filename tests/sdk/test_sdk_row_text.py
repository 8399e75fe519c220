"""Feature ``row-text``: row states as lines of text after a ``changes`` frame's JSON object."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest

from fieldsync.sdk import Replica
from fieldsync.sdk.session import Applied, ClientSession, Failed, Welcomed
from fieldsync.sync import protocol as P
from fieldsync.sync.merge import dumps_state, loads_state

Open = Callable[..., Replica]


def opened(replica: Replica) -> ClientSession:
    session = ClientSession(replica, token="tok")
    session.start()
    session.data_to_send()
    welcome = P.welcome(site="x", session="s", server_seq=1, server_time_ms=1_764_000_005_000, schema=1, mode="snapshot")
    assert isinstance(session.receive(json.dumps(welcome))[0], Welcomed)
    return session


def text_page(states: list[str], cursor: str = "c:1") -> list[str]:
    """A hub's page of row states as text, and its checkpoint (the checksum covers the same texts as with objects)."""
    checksum = P.PageChecksum()
    checksum.add(P.page_payload(states, []), len(states))
    return [
        P.changes_frame(rows=states, text_rows=True),
        json.dumps(P.checkpoint(cursor=cursor, checksum=checksum.hexdigest(), count=checksum.count, done=True)),
    ]


def states_of(source: Replica, table: str = "accounts") -> list[str]:
    """The stored state texts of ``source``'s rows (as the hub stores and sends them)."""
    return [dumps_state(source._load_state(source.schema.table(table), r.id)) for r in source.query(table)]  # type: ignore[arg-type]


def test_frame_carries_states_after_its_json_and_nothing_escaped() -> None:
    """The frame is a compact JSON object announcing N states, then N lines that are the state texts themselves."""
    states = ['{"t":"accounts","r":"a","cl":1,"lv":{"1":"5"},"c":{"name":["say \\"hi\\"","5","d","0",1]}}', '{"t":"accounts","r":"b","cl":1,"lv":{"1":"6"},"c":{}}']
    frame = P.changes_frame(rows=states, text_rows=True)
    head, _, tail = frame.partition("\n")
    assert json.loads(head) == {"type": "changes", "rows": [], "changes": [], "states": 2}
    assert tail.split("\n") == states


def test_states_are_stored_as_received_and_read_back(open_replica: Open) -> None:
    """Rows new to the replica are stored from their texts: records, clock and cursor as with row objects."""
    source = open_replica("source")
    for i in range(3):
        source.insert("accounts", {"name": f"Acme {i}", "tier": "A"})
    states = states_of(source)
    target = open_replica("target")
    session = opened(target)
    session.receive(text_page(states)[0])
    [applied] = session.receive(text_page(states)[1])
    assert isinstance(applied, Applied) and applied.count == 3 and target.cursor == "c:1"
    assert sorted(r["name"] for r in target.query("accounts")) == ["Acme 0", "Acme 1", "Acme 2"]
    assert target.hlc.last >= max(loads_state(s).max_hlc for s in states)
    assert all(e.origin == "remote" and "name" in e.fields for e in applied.changes)


def test_a_state_for_a_row_held_here_is_merged_not_overwritten(open_replica: Open) -> None:
    """A state text for a row the replica already has (with an unsent local edit) is merged cell by cell."""
    source = open_replica("source")
    acct = source.insert("accounts", {"name": "Acme", "tier": "A"})
    target = open_replica("target")
    first = opened(target)
    for frame in text_page(states_of(source)):
        first.receive(frame)
    target.update("accounts", acct.id, {"phone": "+86 21 1234 5678"})  # local, not pushed yet
    source.update("accounts", acct.id, {"tier": "B"})
    again = opened(target)
    for frame in text_page(states_of(source), cursor="c:2"):
        again.receive(frame)
    record = target.get("accounts", acct.id)
    assert record is not None and (record["tier"], record["phone"]) == ("B", "+86 21 1234 5678")


def test_a_state_in_another_key_order_takes_the_general_path(open_replica: Open) -> None:
    """A state text the fast reader does not recognise (keys in another order) is parsed and merged like a row object."""
    source = open_replica("source")
    acct = source.insert("accounts", {"name": "Acme"})
    [state] = states_of(source)
    reordered = json.dumps(dict(reversed(list(json.loads(state).items()))), ensure_ascii=False, separators=(",", ":"))
    target = open_replica("target")
    session = opened(target)
    for frame in text_page([reordered]):
        session.receive(frame)
    record = target.get("accounts", acct.id)
    assert record is not None and record["name"] == "Acme"


@pytest.mark.parametrize("damage", ["count", "state"])
def test_a_damaged_frame_fails_the_session_and_applies_nothing(open_replica: Open, damage: str) -> None:
    """A frame whose line count differs from what it announces, or whose state is not JSON, ends the session typed; nothing is stored."""
    source = open_replica("source")
    source.insert("accounts", {"name": "Acme"})
    states = states_of(source)
    frame, checkpoint = text_page(states)
    if damage == "count":
        frame = frame.replace('"states":1', '"states":2')
    else:
        frame = frame.rsplit("\n", 1)[0] + "\n" + "{not json"
    target = open_replica("target")
    session = opened(target)
    events = session.receive(frame) + session.receive(checkpoint)
    assert any(isinstance(e, Failed) and e.code == "FS-1001" for e in events)
    assert target.count("accounts") == 0 and target.cursor is None


def test_the_hub_grants_row_text_only_to_clients_that_ask(live_server: Any, raw_client: Any) -> None:
    """welcome lists the features granted (unknown ones ignored); only such clients get rows as text."""
    import websockets

    server = live_server()

    async def scenario() -> None:
        writer, _ = await raw_client.connect(server)
        await writer.sync_to_done()
        await writer.push([writer.change("0192f4c8-0000-7000-8000-0000000000a1", "name", "Acme")])
        plain, welcome = await raw_client.connect(server)
        assert welcome["features"] == []
        items, _ = await plain.sync_to_done()
        assert [i["r"] for i in items if "lv" in i] == ["0192f4c8-0000-7000-8000-0000000000a1"]
        site = "dev-text"
        ws = await websockets.connect(server.ws_url)
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": server.token(site=site), "site": site, "live": False,
                                  "features": ["row-text", "teleport"]}))
        assert json.loads(await ws.recv())["features"] == ["row-text"]
        head, _, tail = (await ws.recv()).partition("\n")
        assert json.loads(head)["states"] == 1 and json.loads(tail)["r"] == "0192f4c8-0000-7000-8000-0000000000a1"
        await ws.close()
        await plain.close()
        await writer.close()

    asyncio.run(scenario())


@pytest.mark.parametrize("spread", [False, True])
def test_many_pulled_rows_find_the_ones_held_here(open_replica: Open, spread: bool) -> None:
    """Of 100 pulled rows, the 50 this replica holds (with local edits) are merged and the rest stored, whether the
    pulled ids lie together or spread across a table of 1,000 other rows (the id-range probe, then its fallback)."""
    source = open_replica("source")
    target = open_replica("target")
    shared = []
    for i in range(100):  # ids are time-ordered: interleaving creations interleaves the ids
        shared.append(source.insert("accounts", {"name": f"shared {i}", "tier": "A"}))
        if spread:
            with target.transaction():
                for j in range(10):
                    target.insert("accounts", {"name": f"local {i}.{j}"})
    held = {a.id for a in shared[:50]}
    first = opened(target)
    for frame in text_page([s for s in states_of(source) if json.loads(s)["r"] in held]):
        first.receive(frame)
    for acct in shared[:50]:
        target.update("accounts", acct.id, {"phone": "+86 21 0000 0000"})  # unsent local edits
        source.update("accounts", acct.id, {"tier": "B"})
    again = opened(target)
    for frame in text_page(states_of(source), cursor="c:2"):
        again.receive(frame)
    for i, acct in enumerate(shared):
        record = target.get("accounts", acct.id)
        assert record is not None and record["name"] == f"shared {i}"
        assert (record["tier"], record["phone"]) == (("B", "+86 21 0000 0000") if i < 50 else ("A", None))
    assert target.count("accounts") == (1100 if spread else 100)
