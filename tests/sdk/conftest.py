"""Fixtures for SDK tests: replica files under tmp_path, a real hub, tokens bound to replicas."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fieldsync.sdk import Replica
from fieldsync.sdk.testing import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    """A manual milliseconds clock starting at a fixed instant."""
    return FakeClock(1_764_000_000_000)


@pytest.fixture
def open_replica(tmp_path: Path) -> Iterator[Callable[..., Replica]]:
    """Factory: ``open_replica(name="a", **kw)`` opens ``tmp_path/<name>.db``; all are closed at teardown."""
    opened: list[Replica] = []

    def factory(name: str = "a", **kw: Any) -> Replica:
        replica = Replica.open(tmp_path / f"{name}.db", **kw)
        opened.append(replica)
        return replica

    yield factory
    for replica in opened:
        try:
            replica.close()
        except Exception:
            pass


class Hub:
    """A real server (uvicorn on 127.0.0.1:0) plus token issuing for replicas."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.user = str(uuid.uuid4())

    @property
    def ws_url(self) -> str:
        return str(self.server.ws_url)

    @property
    def http_sync_url(self) -> str:
        return f"{self.server.http_url}/v1/sync"

    def token(self, replica: Replica, *, user: str | None = None) -> str:
        """A device token for the replica's site (all replicas of one test share a user by default)."""
        return str(self.server.token(user_id=user or self.user, site=replica.site))


@pytest.fixture
def make_hub(live_server: Callable[..., Any]) -> Callable[..., Hub]:
    """Factory: ``make_hub(**settings_overrides)`` starts a hub on a fresh SQLite store."""
    return lambda **overrides: Hub(live_server(**overrides))


@pytest.fixture
def hub(make_hub: Callable[..., Hub]) -> Hub:
    """A running hub on a fresh SQLite store."""
    return make_hub()


def wait_until(predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll ``predicate`` until truthy; fail after ``timeout`` seconds (never asserts on timing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def until() -> Callable[..., Any]:
    """The ``wait_until`` helper as a fixture."""
    return wait_until
