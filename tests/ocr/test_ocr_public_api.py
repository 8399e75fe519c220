"""The public surface of ``fieldsync.ocr`` is small and pinned, and its error codes stay in range."""

from __future__ import annotations

import fieldsync.ocr as ocr
from fieldsync.sync.errors import CATALOGUE


def test_all_is_pinned() -> None:
    """``fieldsync.ocr.__all__`` lists exactly the documented names, and each exists."""
    assert sorted(ocr.__all__) == [
        "CardFields",
        "DuplicateCandidate",
        "Phone",
        "PhoneKind",
        "TextLine",
        "card_to_contact",
        "find_duplicates",
        "parse_card",
        "scan_card",
    ]
    assert all(hasattr(ocr, name) for name in ocr.__all__)


def test_card_error_codes_are_in_the_fs4_range() -> None:
    """Every business-card error code is FS-4xxx, 4xx/5xx HTTP and documented."""
    codes = [c for c in CATALOGUE.values() if c.code.startswith("FS-4")]
    assert {c.name for c in codes} >= {
        "not_an_image", "empty_upload", "image_too_large", "no_text_found",
        "ocr_engine_unavailable", "unknown_ocr_engine", "invalid_region",
    }
    assert all(400 <= c.http_status < 600 and c.doc for c in codes)
