"""Both OCR engines end to end on generated cards, and the engines' process-wide loading."""

from __future__ import annotations

import re
import threading
import unicodedata

import pytest

from bench.cardgen import Sample
from fieldsync.ocr import scan_card
from fieldsync.ocr.engines import get_engine


def _norm(value: object) -> str:
    return re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", str(value or "")).lower())


def _phones(items: list[dict[str, str]]) -> set[tuple[str, str]]:
    return {(p["number"], p["kind"]) for p in items}


@pytest.mark.parametrize("kind", ["zh", "en", "bi", "two_sided"])
def test_rapidocr_reads_photographed_cards(card_samples: dict[str, Sample], kind: str) -> None:
    """RapidOCR reads every field of a photographed card (tilted, lit unevenly, JPEG) as printed."""
    sample = card_samples[kind]
    got = scan_card(sample.front, back=sample.back, engine="rapidocr").to_json()
    truth = sample.truth
    for field in ("name", "title", "company", "department", "website", "address", "qq"):
        assert _norm(got[field]) == _norm(truth[field]), field
    assert _phones(got["phones"]) == _phones(truth["phones"])  # type: ignore[arg-type]
    assert got["emails"] == truth["emails"]
    assert set(got["confidence"]) >= {"name", "phones", "emails"}


@pytest.mark.parametrize("kind", ["en", "zh"])
def test_tesseract_reads_flat_cards(flat_samples: dict[str, Sample], kind: str) -> None:
    """Tesseract, the selectable baseline, reads the phones, emails and company of a flat render."""
    sample = flat_samples[kind]
    got = scan_card(sample.front, engine="tesseract").to_json()
    assert _phones(got["phones"]) == _phones(sample.truth["phones"])  # type: ignore[arg-type]
    assert got["emails"] == sample.truth["emails"]
    assert _norm(got["company"]) == _norm(sample.truth["company"])


def test_engines_load_once_per_process_across_threads() -> None:
    """Concurrent first calls get one shared engine instance; later calls reuse it."""
    seen: list[object] = []
    barrier = threading.Barrier(4)

    def grab() -> None:
        barrier.wait()
        seen.append(get_engine("rapidocr"))

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(e) for e in seen}) == 1
    assert get_engine(None) is seen[0]
    assert get_engine(" RapidOCR ") is seen[0]


def test_concurrent_scans_agree(card_samples: dict[str, Sample]) -> None:
    """Scans of the same card from several threads at once all return the same fields."""
    sample = card_samples["zh"]
    results: list[dict[str, object]] = []

    def scan() -> None:
        results.append(scan_card(sample.front, engine="rapidocr").to_json())

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and all(r == results[0] for r in results)


def test_sideways_photo_without_exif_is_read(flat_samples: dict[str, Sample]) -> None:
    """A card turned a quarter with no EXIF tag (chat apps strip it) is still read."""
    import io

    from PIL import Image

    sample = flat_samples["zh"]
    buf = io.BytesIO()
    Image.open(io.BytesIO(sample.front)).rotate(90, expand=True).save(buf, format="PNG")
    got = scan_card(buf.getvalue(), engine="rapidocr").to_json()
    assert got["name"] == sample.truth["name"]
    assert _phones(got["phones"]) == _phones(sample.truth["phones"])  # type: ignore[arg-type]


def test_missing_tesseract_binary_is_engine_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the tesseract binary cannot be run, building the engine raises FS-4005 ocr_engine_unavailable."""
    import pytesseract

    from fieldsync.ocr.engines import TesseractEngine
    from fieldsync.sync.errors import OCR_ENGINE_UNAVAILABLE, FieldSyncError

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(FieldSyncError) as info:
        TesseractEngine()
    assert info.value.code is OCR_ENGINE_UNAVAILABLE and info.value.code.http_status == 503
