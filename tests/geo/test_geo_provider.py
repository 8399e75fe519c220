"""Road matrices from OSRM and Valhalla, against tiny fake servers on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from fieldsync.geo import plan_day
from fieldsync.geo.datum import Datum, Point, distance_m
from fieldsync.geo.provider import provider_for
from fieldsync.geo.testing import random_day_request
from fieldsync.geo.travel import TravelModel
from fieldsync.sync.errors import FieldSyncError

ROAD = 1.5  # the fake road network is 1.5 x the straight line, at 10 m/s


class _Fake(BaseHTTPRequestHandler):
    mode = "ok"
    calls: list[str] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # OSRM /table/v1/{profile}/{lon,lat;...}
        url = urlsplit(self.path)
        type(self).calls.append(url.path)
        if self.mode == "error":
            return self._send(500, {"code": "InternalError"})
        coords = [tuple(map(float, c.split(","))) for c in url.path.split("/")[-1].split(";")]
        q = parse_qs(url.query)
        src = [int(i) for i in q["sources"][0].split(";")]
        dst = [int(i) for i in q["destinations"][0].split(";")]
        metres = [[ROAD * distance_m(Point(coords[i][1], coords[i][0]), Point(coords[j][1], coords[j][0])) for j in dst] for i in src]
        durations: list[list[float | None]] = [[m / 10.0 for m in row] for row in metres]
        if self.mode == "holes" and len(durations) > 1 and len(durations[0]) > 1:
            durations[0][1] = None
        self._send(200, {"code": "Ok", "durations": durations, "distances": metres})

    def do_POST(self) -> None:  # Valhalla /sources_to_targets
        type(self).calls.append(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        rows = [[{"distance": ROAD * distance_m(Point(s["lat"], s["lon"]), Point(t["lat"], t["lon"])) / 1000.0,
                  "time": ROAD * distance_m(Point(s["lat"], s["lon"]), Point(t["lat"], t["lon"])) / 10.0}
                 for t in body["targets"]] for s in body["sources"]]
        self._send(200, {"sources_to_targets": rows})


@pytest.fixture
def fake() -> Iterator[tuple[str, type[_Fake]]]:
    handler = type("Handler", (_Fake,), {"mode": "ok", "calls": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler
    finally:
        server.shutdown()
        server.server_close()


POINTS = [Point(31.23, 121.47), Point(31.25, 121.50, Datum.GCJ02), Point(31.20, 121.44), Point(31.27, 121.41)]


@pytest.mark.parametrize("engine", ["osrm", "valhalla"])
def test_matrix_comes_from_the_road_engine(fake: tuple[str, type[_Fake]], engine: str) -> None:
    """Both engines' answers become the integer matrix, in WGS-84, in blocks when the table is large."""
    url, handler = fake
    provider = provider_for(f"{engine}+{url}")
    assert provider is not None
    provider = type(provider)(provider.engine, provider.base_url, block=3)
    matrix = provider(POINTS, TravelModel())
    expected = ROAD * distance_m(POINTS[0], POINTS[1])
    assert matrix.source == engine and abs(int(matrix.metres[0, 1]) - expected) <= 1
    assert abs(int(matrix.seconds[0, 1]) - expected / 10.0) <= 1
    assert len(handler.calls) == 4  # 4 places in blocks of 3: 2 x 2 requests


def test_unroutable_cells_fall_back_with_a_warning(fake: tuple[str, type[_Fake]]) -> None:
    """A null cell in the engine's table uses the great-circle estimate and says so."""
    url, handler = fake
    handler.mode = "holes"
    matrix = provider_for(url)(POINTS, TravelModel())  # type: ignore[misc]
    assert matrix.warnings and matrix.seconds[0, 1] > 0


def test_engine_failure_is_typed_or_falls_back(fake: tuple[str, type[_Fake]]) -> None:
    """A failing engine raises distance_provider_failed, or with fallback plans on great-circle times with a warning."""
    url, handler = fake
    handler.mode = "error"
    req = random_day_request(2, 6, time_limit_s=0.2)
    with pytest.raises(FieldSyncError) as err:
        plan_day(req, provider=provider_for(url))
    assert err.value.code.name == "distance_provider_failed" and err.value.retryable
    plan = plan_day(req, provider=provider_for(url, fallback=True))
    assert plan.travel_source == "great_circle_fallback" and plan.warnings


def test_unreachable_engine_is_typed() -> None:
    """A provider URL nobody listens on fails fast with distance_provider_failed."""
    with pytest.raises(FieldSyncError) as err:
        provider_for("osrm+http://127.0.0.1:9", timeout_s=2.0)(POINTS, TravelModel())  # type: ignore[misc]
    assert err.value.code.code == "FS-5005"


def test_plan_with_road_matrix(fake: tuple[str, type[_Fake]]) -> None:
    """A day planned on the fake road network reports the engine as its travel source."""
    url, _ = fake
    plan = plan_day(random_day_request(8, 8, time_limit_s=0.2), provider=provider_for(url))
    assert plan.travel_source == "osrm" and plan.stops


def test_bad_provider_url_is_refused() -> None:
    """An unknown engine prefix is refused; an empty URL means the great-circle default."""
    assert provider_for(None) is None and provider_for("") is None
    with pytest.raises(FieldSyncError):
        provider_for("graphhopper+http://x")
