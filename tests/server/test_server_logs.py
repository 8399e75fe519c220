"""Structured logs carry the request id and the device."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx

from fieldsync.server import logs


def test_json_log_lines_carry_request_and_device_ids() -> None:
    """A record logged inside a request and device context is one JSON line with both ids."""
    record = logging.LogRecord("fieldsync.hub", logging.INFO, __file__, 1, "pushed %d changes", (3,), None)
    tokens = [logs.request_id.set("req-1"), logs.device.set("dev-7")]
    try:
        line = logs.JsonFormatter().format(record)
    finally:
        logs.device.reset(tokens[1])
        logs.request_id.reset(tokens[0])
    entry = json.loads(line)
    assert entry["msg"] == "pushed 3 changes" and entry["request_id"] == "req-1" and entry["device"] == "dev-7"
    assert entry["level"] == "info" and entry["ts"].endswith("Z")


def test_responses_echo_or_assign_a_request_id(live_server: Any) -> None:
    """A sane X-Request-ID is echoed back; otherwise the server assigns one."""
    server = live_server()
    assert httpx.get(server.http_url + "/health", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    assigned = httpx.get(server.http_url + "/health", headers={"X-Request-ID": "bad id with spaces"}).headers["x-request-id"]
    assert assigned != "bad id with spaces" and len(assigned) == 32
