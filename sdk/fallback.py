"""The HTTP fallback transport (docs/protocol.md §7), for networks where WebSockets fail.

It emulates the WebSocket frame stream so the session core stays the same:

* ``hello`` → ``GET {url}/info``; a ``welcome`` is synthesised from its
  ``server_time`` and ``seq``.
* ``push`` → ``POST {url}/push``; the answer (``ack`` or ``error``) is queued
  as the next received frame.
* receiving → ``POST {url}/pull`` with the cursor of the last checkpoint seen,
  again immediately while ``done`` is false, then every ``poll_interval``
  seconds (sooner after a push) when ``live``.

``url`` is the sync endpoint over HTTP, e.g. ``https://sync.example.com/v1/sync``.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from fieldsync.sdk.transport import Connection, ConnectFailed, ConnectionLost


def http_url_for(ws_url: str) -> str:
    """The HTTP form of a WebSocket sync URL (``ws`` → ``http``, ``wss`` → ``https``)."""
    if ws_url.startswith("wss://"):
        return "https://" + ws_url[len("wss://") :]
    if ws_url.startswith("ws://"):
        return "http://" + ws_url[len("ws://") :]
    return ws_url


@dataclass(slots=True)
class HttpTransport:
    """Push and pull over plain HTTP(S) with httpx."""

    url: str
    poll_interval: float = 2.0
    timeout: float = 30.0
    name: str = "http"

    async def connect(self) -> Connection:
        client = httpx.AsyncClient(timeout=self.timeout)
        conn = HttpConnection(client, self.url.rstrip("/"), poll_interval=self.poll_interval)
        try:
            await conn.fetch_info()
        except BaseException:
            await client.aclose()
            raise
        return conn


class HttpConnection:
    """A frame stream over request/response; see the module docstring."""

    def __init__(self, client: httpx.AsyncClient, url: str, *, poll_interval: float) -> None:
        self._client = client
        self._url = url
        self._poll_interval = poll_interval
        self._inbox: deque[str] = deque()
        self._info: dict[str, Any] = {}
        self._headers: dict[str, str] = {}
        self._cursor: str | None = None
        self._schema = 1
        self._live = True
        self._started = False
        self._done = False
        self._closed = False
        self._wake = asyncio.Event()

    async def fetch_info(self) -> None:
        try:
            response = await self._client.get(self._url + "/info")
            response.raise_for_status()
            info = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ConnectFailed(f"http fallback unavailable: {type(exc).__name__}: {exc}"[:300]) from exc
        if not isinstance(info, dict):
            raise ConnectFailed("http fallback: /info is not a JSON object")
        self._info = info

    async def send(self, text: str) -> None:
        if self._closed:
            raise ConnectionLost("connection closed")
        msg = json.loads(text)
        kind = msg.get("type")
        if kind == "hello":
            self._headers = {"Authorization": f"Bearer {msg['token']}"}
            self._cursor = msg.get("cursor")
            self._schema = int(msg.get("schema", 1))
            self._live = bool(msg.get("live", True))
            welcome = {
                "type": "welcome",
                "protocol": self._info.get("protocol", 1),
                "schema": self._info.get("schema", self._schema),
                "site": msg.get("site"),
                "session": "http",
                "seq": str(self._info.get("seq", "0")),
                "server_time": str(self._info.get("server_time", "0")),
                "mode": "snapshot" if self._cursor is None else "catchup",
            }
            self._inbox.append(json.dumps(welcome))
            self._started = True
        elif kind == "push":
            answer = await self._post("/push", text)
            self._inbox.append(json.dumps(answer, ensure_ascii=False))
            self._done = False  # pull again soon: our push may have raced other devices' changes
        self._wake.set()

    async def recv(self) -> str:
        while not self._inbox:
            if self._closed:
                raise ConnectionLost("connection closed")
            if not self._started:
                await self._sleep(None)
                continue
            if self._done:
                if not self._live:
                    raise ConnectionLost("pull finished")
                await self._sleep(self._poll_interval)
                if self._inbox or self._closed:
                    continue
            await self._pull()
        return self._inbox.popleft()

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        await self._client.aclose()

    async def _sleep(self, seconds: float | None) -> None:
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass

    async def _pull(self) -> None:
        body = json.dumps({"type": "pull", "cursor": self._cursor, "schema": self._schema})
        answer = await self._post("/pull", body)
        if answer.get("type") == "error":
            self._inbox.append(json.dumps(answer, ensure_ascii=False))
            return
        messages = answer.get("messages")
        if not isinstance(messages, list):
            raise ConnectionLost("malformed pull answer")
        for message in messages:
            if isinstance(message, dict) and message.get("type") == "checkpoint":
                self._cursor = message.get("cursor", self._cursor)
                self._done = bool(message.get("done", False))
            self._inbox.append(json.dumps(message, ensure_ascii=False, separators=(",", ":")))

    async def _post(self, path: str, body: str) -> dict[str, Any]:
        headers = {**self._headers, "Content-Type": "application/json"}
        try:
            response = await self._client.post(self._url + path, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise ConnectionLost(f"http {path} failed: {type(exc).__name__}") from exc
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            if response.status_code >= 500:
                raise ConnectionLost(f"http {path}: status {response.status_code}")
            answer = {"type": "error", "code": "FS-1001", "name": "malformed_message", "retryable": False,
                      "message": f"http {path}: status {response.status_code}"}
        elif response.status_code >= 400:
            answer = _error_body(answer, response.status_code)
        return dict(answer)


def _error_body(answer: dict[str, Any], status: int) -> dict[str, Any]:
    """An ``error`` frame from an error answer: ``{"error": {...}}``, a bare error or ``{"detail": {...}}``."""
    body: Any = answer
    for key in ("error", "detail"):
        if isinstance(answer.get(key), dict):
            body = answer[key]
            break
    code = str(body.get("code", "FS-9001" if status >= 500 else "FS-1001"))
    return {
        "type": "error",
        "code": code,
        "name": str(body.get("name", "http_error")),
        "retryable": bool(body.get("retryable", status >= 500 or status == 429)),
        "message": str(body.get("message", f"status {status}")),
    }


__all__ = ["HttpConnection", "HttpTransport", "http_url_for"]
