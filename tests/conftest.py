"""Fixtures shared by the whole suite: real servers, real databases.

* ``live_server``: a factory that starts the real app under uvicorn on
  127.0.0.1:0 in a background thread and returns its base URLs.
* ``pg_url``: a PostgreSQL URL (localhost:5432, database ``test``) whose
  ``search_path`` is a fresh schema, dropped after the test.
* ``store_url``: parametrised over SQLite and PostgreSQL, for contract tests.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fieldsync.server.settings import Settings
from fieldsync.server.testing import LiveServer, start_server

PG_BASE = os.environ.get("FIELDSYNC_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SECRET = "test-secret-" + "x" * 32


@pytest.fixture
def live_server(tmp_path: Any) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``live_server(database_url=None, **settings)`` -> a running ``LiveServer``."""
    started: list[LiveServer] = []

    def factory(database_url: str | None = None, port: int = 0, **overrides: Any) -> LiveServer:
        url = database_url or f"sqlite:///{tmp_path}/server.db"
        settings = Settings(database_url=url, secret_key=SECRET, attachments_dir=tmp_path / "attachments", **overrides)
        srv = start_server(settings, port)
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        srv.stop()


def _pg_admin() -> Any:
    from sqlalchemy import create_engine

    return create_engine(PG_BASE, isolation_level="AUTOCOMMIT")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL on a fresh schema of database ``test``."""
    from sqlalchemy import text

    name = "fs_" + uuid.uuid4().hex[:12]
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    yield f"{PG_BASE}?options=-csearch_path%3D{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: Any, tmp_path: Any) -> str:
    """A fresh store URL: SQLite file or PostgreSQL schema (contract tests run on both)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/store.db"
    return str(request.getfixturevalue("pg_url"))


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> Any:
    """Poll until ``predicate()`` is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(coro: Any) -> Any:
    """Run a coroutine to completion in a fresh event loop (sync tests driving async clients)."""
    return asyncio.run(coro)
