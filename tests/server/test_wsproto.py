"""The hub's permessage-deflate: small frames travel uncompressed, large ones deflated, and the peer reads both."""

from __future__ import annotations

import json

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame
from websockets.server import ServerProtocol
from websockets.uri import parse_uri

from fieldsync.server.wsproto import OutFrame, PlainBelowFactory


def _pair(min_bytes: int, *, deflate: bool = True) -> tuple[ServerProtocol, ClientProtocol]:
    """A server and a client that negotiated permessage-deflate (or, with ``deflate=False``, no extension),
    handshake done in memory."""
    server = ServerProtocol(extensions=[PlainBelowFactory(min_bytes)])
    client = ClientProtocol(parse_uri("ws://127.0.0.1/v1/sync"), extensions=[ClientPerMessageDeflateFactory()] if deflate else None)
    client.send_request(client.connect())
    for data in client.data_to_send():
        server.receive_data(data)
    [request] = server.events_received()
    server.send_response(server.accept(request))
    for data in server.data_to_send():
        client.receive_data(data)
    client.events_received()
    assert [e.name for e in server.extensions] == [e.name for e in client.extensions] == (["permessage-deflate"] if deflate else [])
    return server, client


def _deliver(server: ServerProtocol, client: ClientProtocol, texts: list[str]) -> list[tuple[bool, str]]:
    """Send ``texts`` from the server; (compressed on the wire, text read by the client) for each."""
    wire: list[bytes] = []
    for text in texts:
        server.send_text(text.encode())
        wire.extend(d for d in server.data_to_send() if d)
    rsv1 = [bool(chunk[0] & 0x40) for chunk in wire]  # one frame per send here: its first byte carries RSV1
    for chunk in wire:
        client.receive_data(chunk)
    read = [e.data.decode() for e in client.events_received() if isinstance(e, Frame)]
    return list(zip(rsv1, read))


def test_small_frames_go_uncompressed_and_large_ones_deflated_on_one_connection() -> None:
    """Below the threshold a frame keeps RSV1 unset (sent as is); above it is deflated; the client reads every text
    in order, the deflated ones after plain ones included (the compression window skips plain messages)."""
    server, client = _pair(min_bytes=1024)
    live = json.dumps({"type": "changes", "rows": [], "changes": [{"t": "accounts", "r": "a" * 36, "f": "name", "v": "华东"}], "seq": "c:7"})
    page = json.dumps({"type": "changes", "rows": [{"id": str(i), "name": "华东电气 " * 5} for i in range(200)], "seq": "c:8"})
    texts = [live, page, live, page, live]
    got = _deliver(server, client, texts)
    assert [text for _, text in got] == texts
    assert [compressed for compressed, _ in got] == [False, True, False, True, False]


def test_a_threshold_of_zero_deflates_every_frame() -> None:
    """ws_deflate_min_bytes = 0 restores uvicorn's behaviour: every data frame deflated."""
    server, client = _pair(min_bytes=0)
    got = _deliver(server, client, ["{}", "x" * 5000])
    assert got == [(True, "{}"), (True, "x" * 5000)]


def test_an_out_frame_is_the_bytes_the_protocol_writes_for_a_small_message() -> None:
    """OutFrame.plain is byte for byte what a deflate connection writes for a message under the threshold (and what a
    connection without extensions writes), whatever its length class -- so fan-out may write it to every socket."""
    server, _ = _pair(min_bytes=70_000)
    plain, _ = _pair(min_bytes=0, deflate=False)
    for text in ["{}", "华东" * 40, "x" * 125, "x" * 126, "y" * 65_535 + "z"]:
        server.send_text(text.encode())
        plain.send_text(text.encode())
        assert b"".join(server.data_to_send()) == OutFrame(text).plain
        assert b"".join(plain.data_to_send()) == OutFrame(text).plain
