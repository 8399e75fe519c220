"""Run a real FieldSync server inside the current process, for tests, examples and benchmarks.

    with running_server(Settings(database_url="sqlite:///demo.db")) as srv:
        token = srv.token(user_id=..., site="dev-1")
        SyncClient(srv.ws_url, replica=replica, token=token).sync_once()

The server is the real app under uvicorn on 127.0.0.1 (port 0: a free one),
in a background thread.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from fieldsync.server.app import create_app
from fieldsync.server.auth.tokens import issue_token
from fieldsync.server.settings import Settings
from fieldsync.server.wsproto import uvicorn_ws_options


@dataclass
class LiveServer:
    """A running server: its URLs, settings and the thread running it."""

    settings: Settings
    host: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread
    app: Any

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}/v1/sync"

    def token(self, user_id: str | None = None, site: str | None = None, department_id: str | None = None, **kw: Any) -> str:
        """A device token signed with this server's secret."""
        return issue_token(
            self.settings.secret_key,
            user_id=user_id or str(uuid.uuid4()),
            site=site or "site-" + uuid.uuid4().hex[:8],
            department_id=department_id,
            **kw,
        )

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def auth_header(settings: Settings, *, user_id: str | None = None, site: str = "test-device") -> dict[str, str]:
    """An ``Authorization`` header with a device token valid for ``settings`` (for TestClient)."""
    token = issue_token(settings.secret_key, user_id=user_id or str(uuid.uuid4()), site=site)
    return {"Authorization": f"Bearer {token}"}


def start_server(settings: Settings, port: int = 0) -> LiveServer:
    """Start the real app under uvicorn in a thread and wait until it listens."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        **uvicorn_ws_options(settings),
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fieldsync-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return LiveServer(settings, "127.0.0.1", bound, server, thread, app)


@contextmanager
def running_server(settings: Settings, port: int = 0) -> Iterator[LiveServer]:
    """A context manager around ``start_server``."""
    srv = start_server(settings, port)
    try:
        yield srv
    finally:
        srv.stop()


__all__ = ["LiveServer", "auth_header", "running_server", "start_server"]
