"""``POST /v1/cards`` through the real app: raw and multipart uploads, query overrides, typed errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bench.cardgen import Sample
from fieldsync.ocr.fields import FIELD_NAMES
from fieldsync.server.app import create_app
from fieldsync.server.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/t.db", max_card_image_bytes=2 * 1024 * 1024)
    from fieldsync.server.testing import auth_header

    with TestClient(create_app(settings), headers=auth_header(settings)) as c:
        yield c


def _error(response: object, status: int, code: str) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = response.json()["error"]  # type: ignore[attr-defined]
    assert body["code"] == code and set(body) >= {"code", "name", "retryable", "message"}


def test_raw_body_upload(client: TestClient, card_samples: dict[str, Sample]) -> None:
    """A raw JPEG body returns 200 with the card's fields in the wire shape."""
    sample = card_samples["en"]
    response = client.post("/v1/cards", content=sample.front, headers={"content-type": "image/jpeg"})
    assert response.status_code == 200, response.text
    data = response.json()
    assert list(data) == [*FIELD_NAMES, "confidence"]
    assert data["name"] == sample.truth["name"] and data["emails"] == sample.truth["emails"]


def test_multipart_upload_with_back_side(client: TestClient, card_samples: dict[str, Sample]) -> None:
    """A multipart ``file`` plus ``back`` part is read as one two-sided card."""
    sample = card_samples["two_sided"]
    files = {"file": ("front.jpg", sample.front, "image/jpeg"), "back": ("back.jpg", sample.back or b"", "image/jpeg")}
    response = client.post("/v1/cards", files=files)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["name"] == sample.truth["name"]
    assert {p["number"] for p in data["phones"]} == {p["number"] for p in sample.truth["phones"]}  # type: ignore[attr-defined]


def test_query_selects_engine_and_region(client: TestClient, flat_samples: dict[str, Sample]) -> None:
    """``?engine=tesseract&region=US`` is honoured: +86 numbers printed with a country code stay +86."""
    sample = flat_samples["en"]
    response = client.post("/v1/cards?engine=tesseract&region=US", content=sample.front, headers={"content-type": "image/png"})
    assert response.status_code == 200, response.text
    assert all(p["number"].startswith(("+86", "+1")) for p in response.json()["phones"])


def test_empty_body_is_400(client: TestClient) -> None:
    """An empty body is 400 FS-4002."""
    _error(client.post("/v1/cards", content=b"", headers={"content-type": "image/jpeg"}), 400, "FS-4002")


def test_not_an_image_is_415(client: TestClient) -> None:
    """Text posted as an image is 415 FS-4001."""
    _error(client.post("/v1/cards", content=b"hello", headers={"content-type": "image/jpeg"}), 415, "FS-4001")


def test_oversized_body_is_413(client: TestClient) -> None:
    """A body over the configured limit is 413 FS-4003, raw or multipart."""
    big = b"\xff\xd8" + bytes(3 * 1024 * 1024)
    _error(client.post("/v1/cards", content=big, headers={"content-type": "image/jpeg"}), 413, "FS-4003")
    _error(client.post("/v1/cards", files={"file": ("big.jpg", big, "image/jpeg")}), 413, "FS-4003")


def test_oversized_body_without_length_is_413(client: TestClient) -> None:
    """A chunked body with no Content-Length is cut off at the limit as it streams in."""

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield bytes(128 * 1024)

    _error(client.post("/v1/cards", content=chunks(), headers={"content-type": "image/jpeg"}), 413, "FS-4003")


def test_decompression_bomb_is_413(client: TestClient, bomb_png: Callable[[int, int], bytes]) -> None:
    """A tiny PNG declaring 900 megapixels is 413 FS-4003."""
    _error(client.post("/v1/cards", content=bomb_png(30_000, 30_000), headers={"content-type": "image/png"}), 413, "FS-4003")


def test_blank_image_is_422_no_text(client: TestClient, blank_png: bytes) -> None:
    """A photo with no text is 422 FS-4004 no_text_found."""
    _error(client.post("/v1/cards", content=blank_png, headers={"content-type": "image/png"}), 422, "FS-4004")


def test_unknown_engine_and_region_are_422(client: TestClient, blank_png: bytes) -> None:
    """An unknown engine is 422 FS-4006 and an unknown region 422 FS-4007."""
    _error(client.post("/v1/cards?engine=abbyy", content=blank_png), 422, "FS-4006")
    _error(client.post("/v1/cards?region=XX", content=blank_png), 422, "FS-4007")


def test_multipart_without_file_part_is_400(client: TestClient) -> None:
    """A multipart body with no ``file`` part is 400 FS-4002."""
    _error(client.post("/v1/cards", data={"note": "hello"}, files={"other": ("x.txt", b"x", "text/plain")}), 400, "FS-4002")


def test_server_still_answers_after_bad_uploads(client: TestClient, card_samples: dict[str, Sample]) -> None:
    """Refused uploads harm nothing: the next good card is read normally."""
    client.post("/v1/cards", content=b"junk")
    client.post("/v1/cards", content=b"")
    response = client.post("/v1/cards", content=card_samples["zh"].front)
    assert response.status_code == 200 and response.json()["name"] == card_samples["zh"].truth["name"]
