"""Many cheap WebSocket receivers in one process, for measuring fan-out.

A real device has its own CPU; a benchmark that runs 1,000 "devices" in
one Python process does not. If every receiver parsed each frame as it
arrived, the last of 1,000 would report the time the load generator took to
get to it, not the time the server took to deliver. So a ``Receiver``
records only the arrival time of each chunk of bytes (``data_received``,
a few microseconds) and keeps the bytes; frames are parsed after the
measurement, each stamped with the arrival time of the chunk that completed
it. The handshake and the initial sync are parsed as they come (they are
not measured).

The protocol is the ``websockets`` sans-I/O client on a bare asyncio
protocol, with or without permessage-deflate (``compression``): the SDK
negotiates it, so with it the figure includes the server compressing each
frame once per connection.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri


class Receiver(asyncio.Protocol):
    """One device connection that stamps arriving bytes (see module docstring)."""

    def __init__(self, url: str, *, compression: bool = False) -> None:
        extensions = [ClientPerMessageDeflateFactory()] if compression else None
        self.proto = ClientProtocol(parse_uri(url), max_size=64 * 1024 * 1024, extensions=extensions)
        self.transport: asyncio.Transport | None = None
        self.recording = False
        self.chunks: list[tuple[float, bytes]] = []
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.opened = asyncio.get_running_loop().create_future()

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.proto.send_request(self.proto.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        if self.recording:
            self.chunks.append((time.perf_counter(), data))
            return
        self._feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError("closed during the handshake"))

    # --- driving ------------------------------------------------------------------------

    def _flush(self) -> None:
        for data in self.proto.data_to_send():
            if data and self.transport is not None:
                self.transport.write(data)

    def _feed(self, data: bytes, stamp: float | None = None) -> list[tuple[float | None, dict[str, Any]]]:
        self.proto.receive_data(data)
        out = []
        for event in self.proto.events_received():
            if isinstance(event, Response):
                if not self.opened.done():
                    self.opened.set_result(None)
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                msg = json.loads(event.data)
                out.append((stamp, msg))
                if stamp is None:
                    self.frames.put_nowait(msg)
        self._flush()  # pongs, close frames
        return out

    def send(self, obj: dict[str, Any]) -> None:
        self.proto.send_text(json.dumps(obj).encode())
        self._flush()

    async def until(self, kind: str, **match: Any) -> dict[str, Any]:
        while True:
            msg = await asyncio.wait_for(self.frames.get(), 120)
            if msg["type"] == kind and all(msg.get(k) == v for k, v in match.items()):
                return msg

    def recorded(self) -> list[tuple[float, dict[str, Any]]]:
        """Stop recording; the frames received while recording, each with its arrival time."""
        self.recording = False
        out: list[tuple[float, dict[str, Any]]] = []
        for stamp, data in self.chunks:
            out.extend((s, m) for s, m in self._feed(data, stamp) if s is not None)
        self.chunks = []
        return out

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_receiver(base: str, hello: dict[str, Any], *, compression: bool = False) -> Receiver:
    """Connect, send ``hello``, and read until its initial sync is done."""
    url = base.replace("http", "ws") + "/v1/sync"
    uri = parse_uri(url)
    loop = asyncio.get_running_loop()
    _, receiver = await loop.create_connection(lambda: Receiver(url, compression=compression), uri.host, uri.port)
    await asyncio.wait_for(receiver.opened, 60)
    receiver.send(hello)
    await receiver.until("checkpoint", done=True)
    return receiver


__all__ = ["Receiver", "open_receiver"]
