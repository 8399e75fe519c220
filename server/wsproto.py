"""The WebSocket protocol the hub runs under uvicorn: permessage-deflate that sends small frames as they are.

Theory of operation
-------------------
The SDK negotiates permessage-deflate (RFC 7692): a snapshot page of 500 rows
shrinks about tenfold, which matters on a phone's weak signal. With context
takeover each connection has its own compressor, so the server deflates every
frame once per device. For a live frame of one change (~250 bytes) that costs
more CPU than the frame is worth: ``bench.hub --deflate`` measured fan-out to
1,000 devices at p50 24.3 ms with every frame deflated, against 9.2 ms without
compression, and the deflated frame saves about 150 bytes.

RFC 7692 lets a sender leave any message uncompressed (RSV1 unset); the
receiver's window only ever sees the compressed ones, so both ends stay in
step. ``PlainBelow`` wraps the negotiated extension and passes single-frame
messages shorter than ``Settings.ws_deflate_min_bytes`` through untouched;
everything longer (snapshot pages, large batches of changes) is deflated as
before, and decoding is unchanged. ``uvicorn_ws_options`` is what both
``fieldsync serve`` and the test server give uvicorn.

The protocol also offers the app a synchronous ``send_now`` (ASGI scope
extension ``DIRECT_SEND``): the same frame bytes the ASGI ``send`` would
write, without the coroutine layers of Starlette and the ASGI message. Fan-out
uses it for idle, caught-up devices; when the socket must drain (or the
connection is closing) it answers False and the caller takes the ordinary
path, which waits.

``send_now`` takes an ``OutFrame``: a message with its uncompressed frame
bytes built once. A server's frames are unmasked, so a message that goes
uncompressed (no deflate negotiated, or shorter than the threshold) is the
same bytes on every connection: fan-out serialises a live frame once per
view class and writes those bytes to each socket, instead of building the
frame again per device. Longer messages on deflate connections still go
through the connection's own compressor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.protocol import State
from websockets.typing import ExtensionParameter

from fieldsync.server.settings import Settings

_DATA = (Opcode.TEXT, Opcode.BINARY)
#: ASGI scope extension under which the protocol offers ``send_now`` (see ``Hub._write_now``).
DIRECT_SEND = "fieldsync.send_now"


class OutFrame:
    """A text message for many connections, with its uncompressed frame bytes built once."""

    __slots__ = ("data", "plain", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.data = text.encode()
        self.plain = Frame(Opcode.TEXT, self.data).serialize(mask=False, extensions=[])


class PlainBelow(Extension):
    """A negotiated permessage-deflate that sends single-frame messages under ``min_bytes`` uncompressed."""

    def __init__(self, inner: Extension, min_bytes: int) -> None:
        self.inner, self.min_bytes = inner, min_bytes
        self.name = inner.name

    def decode(self, frame: Frame, *, max_size: int | None = None) -> Frame:
        return self.inner.decode(frame, max_size=max_size)

    def sends_plain(self, size: int) -> bool:
        """A single-frame message of ``size`` bytes goes uncompressed."""
        return size < self.min_bytes

    def encode(self, frame: Frame) -> Frame:
        if frame.fin and frame.opcode in _DATA and self.sends_plain(len(frame.data)):
            return frame  # RSV1 stays unset: the peer reads it as an uncompressed message
        return self.inner.encode(frame)


class PlainBelowFactory(ServerPerMessageDeflateFactory):
    """uvicorn's permessage-deflate parameters, with ``PlainBelow`` around what is negotiated."""

    def __init__(self, min_bytes: int) -> None:
        super().__init__(server_max_window_bits=12, client_max_window_bits=12, compress_settings={"memLevel": 5})
        self.min_bytes = min_bytes

    def process_request_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> tuple[list[ExtensionParameter], Any]:
        response, extension = super().process_request_params(params, accepted_extensions)
        return response, PlainBelow(extension, self.min_bytes)


def protocol_for(settings: Settings) -> type[WebSocketsSansIOProtocol]:
    """uvicorn's sans-I/O WebSocket protocol class, negotiating ``PlainBelowFactory`` for ``settings``."""
    min_bytes = settings.ws_deflate_min_bytes

    class HubWebSocketProtocol(WebSocketsSansIOProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if self.config.ws_per_message_deflate:
                self.conn.available_extensions = [PlainBelowFactory(min_bytes)]

        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            if getattr(self, "scope", None) is not None:  # accepted: the app may write frames directly
                self.scope["extensions"][DIRECT_SEND] = self.send_now  # type: ignore[index]

        def send_now(self, frame: OutFrame) -> bool:
            """Write ``frame`` now, as ``send`` would, if that needs no waiting; False: use the ASGI ``send``."""
            conn = self.conn
            if (not self.handshake_complete or self.close_sent or self.disconnected or self.initial_response is not None
                    or not self.writable.is_set() or self.transport.is_closing() or conn.state is not State.OPEN):
                return False
            extensions = conn.extensions
            only = extensions[0] if len(extensions) == 1 else None
            if not extensions or (isinstance(only, PlainBelow) and only.sends_plain(len(frame.data))):
                self.transport.write(frame.plain)  # what send_text would write: no extension touches it
            else:
                conn.send_text(frame.data)
                self.transport.write(b"".join(conn.data_to_send()))
            return True

    return HubWebSocketProtocol


def uvicorn_ws_options(settings: Settings) -> dict[str, Any]:
    """The WebSocket keyword arguments for ``uvicorn.run`` / ``uvicorn.Config``."""
    return {"ws": protocol_for(settings), "ws_per_message_deflate": True, "ws_max_size": settings.max_frame_bytes}


__all__ = ["DIRECT_SEND", "OutFrame", "PlainBelow", "PlainBelowFactory", "protocol_for", "uvicorn_ws_options"]
