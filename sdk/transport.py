"""Transports: how frames reach the hub. The WebSocket one, the seam, and backoff.

A transport makes connections; a connection sends and receives text frames
(one JSON message each). The session core (``session.py``) never sees
which transport carries its frames: the HTTP fallback (``http.py``) emulates
a frame stream over ``POST /v1/sync/push`` and ``/v1/sync/pull``, and the
fakes in ``testing.py`` run in memory.

Foreign exceptions (websockets, OSError, timeouts) are translated here, at
the edge, into ``ConnectFailed`` (no connection could be made: counts toward
falling back to HTTP) and ``ConnectionLost`` (an open connection ended).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

#: Maximum frame size (docs/protocol.md §2).
MAX_FRAME_BYTES = 8 * 1024 * 1024


class TransportError(Exception):
    """A connection could not be made or was lost. ``code``: an ``FS-`` code if the server named one."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class ConnectFailed(TransportError):
    """No connection could be established (refused, handshake failed, timed out)."""


class ConnectionLost(TransportError):
    """An established connection ended."""


class Connection(Protocol):
    """One open connection carrying text frames."""

    async def send(self, text: str) -> None: ...

    async def recv(self) -> str:
        """The next frame; raises ``ConnectionLost`` when the connection ends."""
        ...

    async def close(self) -> None: ...


class Transport(Protocol):
    """Makes connections to the hub. ``name`` shows in ``SyncStatus.transport``."""

    name: str

    async def connect(self) -> Connection:
        """Open a connection; raises ``ConnectFailed``."""
        ...


def fs_code_from_close(close_code: int | None) -> str | None:
    """The ``FS-`` code behind a hub close code ``4000 + 100 × family + number`` (e.g. 4305 → FS-3005)."""
    if close_code is None or not 4000 <= close_code <= 4999:
        return None
    family, number = divmod(close_code - 4000, 100)
    return f"FS-{family}{number:03d}"


class WebSocketConnection:
    """A ``websockets`` client connection behind the ``Connection`` seam."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws

    async def send(self, text: str) -> None:
        try:
            await self._ws.send(text)
        except ConnectionClosed as exc:
            raise _lost(exc) from exc

    async def recv(self) -> str:
        try:
            data = await self._ws.recv()
        except ConnectionClosed as exc:
            raise _lost(exc) from exc
        return data if isinstance(data, str) else data.decode()

    async def close(self) -> None:
        await self._ws.close()


def _lost(exc: ConnectionClosed) -> ConnectionLost:
    code = exc.rcvd.code if exc.rcvd is not None else None
    return ConnectionLost(f"connection closed ({code})", code=fs_code_from_close(code))


@dataclass(slots=True)
class WebSocketTransport:
    """WebSocket to ``url`` (``ws://`` or ``wss://``) with permessage-deflate and keep-alive pings.

    A ping every 20 s; no pong within ``ping_timeout`` closes the connection,
    so a client that hears nothing for about a minute reconnects.
    """

    url: str
    max_size: int = MAX_FRAME_BYTES
    ping_interval: float = 20.0
    ping_timeout: float = 40.0
    open_timeout: float = 10.0
    name: str = "websocket"

    async def connect(self) -> Connection:
        try:
            ws = await connect(
                self.url,
                compression="deflate",
                max_size=self.max_size,
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                open_timeout=self.open_timeout,
                close_timeout=5,
            )
        except (InvalidHandshake, InvalidURI, OSError, TimeoutError) as exc:
            raise ConnectFailed(f"websocket connect failed: {type(exc).__name__}: {exc}"[:300]) from exc
        return WebSocketConnection(ws)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter, capped: delay n is uniform in ``[0, min(cap, base × 2ⁿ)]``.

    ``jitter`` is the random source (a seeded ``random.Random().random`` in
    tests). Full jitter spreads the reconnect storm after a hub restart.
    """

    base: float = 0.5
    cap: float = 30.0
    factor: float = 2.0
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
        ceiling = min(self.cap, self.base * self.factor ** min(attempt, 64))
        return ceiling * self.jitter()


__all__ = [
    "MAX_FRAME_BYTES",
    "Backoff",
    "ConnectFailed",
    "Connection",
    "ConnectionLost",
    "Transport",
    "TransportError",
    "WebSocketConnection",
    "WebSocketTransport",
    "fs_code_from_close",
]
