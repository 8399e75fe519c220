"""Hostile input at every HTTP and WebSocket endpoint: typed errors, a server that stays up, stored data unchanged.

"Unchanged" is checked on a dump of every table, except two columns that exist
to record hostile traffic: ``audit_log`` (each failed login is audited) and
``org_devices.last_seen_ms``. Pushes carrying a valid token are always made
unparseable (the empty batch id), so a fuzzed request can never be a legal
write.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed, InvalidMessage
from websockets.sync.client import connect

from fieldsync.server.auth.tokens import issue_token

from .conftest import DemoOrg, build_demo_org, dump_db

pytestmark = pytest.mark.timeout(240)
CODE = re.compile(r"^FS-\d{4}$")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
                database=None, derandomize=True)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)
hostile_text = st.sampled_from([
    "", "null", "[]", "{", '{"type":', "\x00\x01\x02", "💥" * 50, "A" * 70_000, '{"type":"hello"}', '{"type":"push","batch":""}',
    '{"type":"push","batch":"","changes":[]}', "NaN", "1e999999", '{"__proto__": {"admin": true}}', "' OR 1=1 --",
])


def stable_dump(org: DemoOrg) -> str:
    lines = []
    for line in dump_db(org.server).splitlines():
        name, _, body = line.partition(":")
        if name == "audit_log":
            continue
        if name == "org_devices":
            body = json.dumps([r[:4] + r[5:] for r in json.loads(body)])  # column 4 is last_seen_ms
        lines.append(name + ":" + body)
    return "\n".join(lines)


@pytest.fixture
def fuzz_org(live_server: Any) -> Iterator[tuple[DemoOrg, str]]:
    server = live_server(org_poll_s=0.05, max_frame_bytes=64 * 1024, max_batch_changes=50)
    org = build_demo_org(server)
    token = server.token(user_id=org.user["rep_e1"], site="fuzz-site")
    with connect(server.ws_url) as ws:  # register the device before the "before" dump
        ws.send(json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": token, "site": "fuzz-site", "cursor": None, "live": True}))
        while not json.loads(ws.recv(timeout=10)).get("done"):
            pass
    yield org, stable_dump(org)


def assert_typed(resp: httpx.Response) -> None:
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert CODE.match(resp.json()["error"]["code"]), resp.text


def tokens(org: DemoOrg) -> list[str | None]:
    key = org.server.settings.secret_key
    good = org.server.token(user_id=org.user["rep_e1"], site="fuzz-site")
    return [
        None, "garbage", good + "x", good.split(".")[0] + ".AAAA", issue_token("wrong" * 10, user_id=org.user["rep_e1"], site="fuzz-site"),
        issue_token(key, user_id=org.user["rep_e1"], site="fuzz-site", ttl_s=1, now=time.time() - 60),
        issue_token(key, user_id="not-a-user", site="x" * 64), issue_token(key, user_id=org.user["rep_e2"], site="fuzz-site"), good,
    ]


ENDPOINTS = [
    ("POST", "/v1/sync/push"), ("POST", "/v1/sync/pull"), ("GET", "/v1/sync/info"), ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"), ("POST", "/v1/auth/totp/enroll"), ("POST", "/v1/auth/totp/confirm"), ("GET", "/v1/auth/devices"),
    ("POST", "/v1/auth/devices/{x}/revoke"), ("POST", "/v1/records/{t}/{x}/assign"), ("GET", "/v1/records/{t}/{x}/conflicts"),
    ("POST", "/v1/admin/erase"), ("GET", "/v1/admin/audit"),
]


def test_http_endpoints_answer_hostile_input_with_typed_errors(fuzz_org: tuple[DemoOrg, str]) -> None:
    """Random bodies, paths and tokens at every HTTP endpoint get typed 4xx errors and change no stored data."""
    org, before = fuzz_org
    toks = tokens(org)
    client = httpx.Client(base_url=org.server.http_url, timeout=30)

    @FUZZ
    @given(
        endpoint=st.sampled_from(ENDPOINTS),
        token_index=st.integers(0, len(toks) - 1),
        body=json_values | hostile_text,
        raw=st.booleans(),
        segment=st.sampled_from(["accounts", "planets", "..", "%00", "x" * 300, "fuzz-site", "0192f4c8-0000-7000-8000-000000000000"]),
    )
    def probe(endpoint: tuple[str, str], token_index: int, body: Any, raw: bool, segment: str) -> None:
        method, path = endpoint
        path = path.replace("{t}", segment if segment != "fuzz-site" else "accounts").replace("{x}", segment)
        token = toks[token_index]
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        if isinstance(body, dict) and path == "/v1/sync/push":
            body = {**body, "type": "push", "batch": ""}  # never a legal write, whatever else it holds
        if isinstance(body, dict) and path == "/v1/admin/erase":
            body = {**body, "user_id": org.user["boss"]}  # the admin cannot erase themselves; nobody else may erase
        if isinstance(body, dict) and path.endswith("/assign"):
            body = {**body, "owner_id": "not-a-uuid"}
        if token == toks[-1] and (path.endswith("/revoke") or path.endswith("/enroll")):
            return  # legal requests of a signed-in user (revoke their device, start enrolment), not hostile input
        content = body if isinstance(body, str) and raw else json.dumps(body)
        if method == "GET":
            resp = client.get(path, headers=headers, params={"subject": str(body)[:100]})
        else:
            resp = client.post(path, headers={**headers, "Content-Type": "application/json"}, content=content.encode("utf-8", "surrogatepass"))
        if segment in ("..", "%00") and resp.status_code == 404 and resp.json() == {"detail": "Not Found"}:
            return  # the URL normalises to no route at all: the router's own 404, before any endpoint runs
        assert_typed(resp)

    probe()
    assert client.get("/health").json() == {"status": "ok"}
    client.close()
    after = stable_dump(org)
    changed = [(a[:300], b[:300]) for a, b in zip(before.splitlines(), after.splitlines()) if a != b]
    assert changed == []


ws_frames = st.one_of(
    hostile_text,
    json_values.map(json.dumps),
    st.builds(lambda c: json.dumps({"type": "push", "batch": "", "changes": c}), st.lists(json_values, max_size=60)),
    st.builds(lambda c: json.dumps({"type": "push", "batch": "b" * 65, "changes": c}), st.lists(json_values, max_size=3)),
    st.builds(lambda s, cur: json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": "x", "site": s, "cursor": cur}),
              st.text(max_size=80), st.text(max_size=600) | st.none()),
    st.binary(max_size=100),
)


def test_websocket_survives_hostile_frames(fuzz_org: tuple[DemoOrg, str]) -> None:
    """Malformed, oversized, binary and forged frames before and after hello get typed errors or a typed close; nothing stored changes."""
    org, before = fuzz_org
    toks = tokens(org)

    @settings(FUZZ, max_examples=120)
    @given(token_index=st.integers(0, len(toks) - 1), site=st.sampled_from(["fuzz-site", "forged-site", ""]),
           hello_first=st.booleans(), frames=st.lists(ws_frames, min_size=1, max_size=6))
    def probe(token_index: int, site: str, hello_first: bool, frames: list[Any]) -> None:
        try:
            ws = connect(org.server.ws_url, max_size=16 * 1024 * 1024, open_timeout=10)
        except InvalidMessage:
            raise AssertionError("the server stopped answering") from None
        with ws:
            try:
                if hello_first:
                    ws.send(json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": toks[token_index], "site": site,
                                        "cursor": None, "live": True}))
                for frame in frames:
                    ws.send(frame)
                while True:
                    msg = json.loads(ws.recv(timeout=1))
                    assert msg["type"] in {"welcome", "changes", "checkpoint", "error", "purge", "ack", "evict"}
                    if msg["type"] == "error":
                        assert CODE.match(msg["code"])
                    if msg["type"] == "ack":
                        raise AssertionError(f"a fuzzed push was accepted: {msg}")
            except TimeoutError:
                pass  # the server waits for more input: fine
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else 1006
                assert code in (1000, 1006, 1009) or 4000 <= code < 5000

    probe()
    assert httpx.get(org.server.http_url + "/health", timeout=10).status_code == 200
    assert stable_dump(org) == before
