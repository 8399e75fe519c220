"""The error catalogue is well-formed and docs/errors.md lists it."""

from __future__ import annotations

import re
from pathlib import Path

from fieldsync.sync.errors import CATALOGUE, ErrorCode, error_for, ws_close_code
from fieldsync.sync.errors_doc import render

ROOT = Path(__file__).resolve().parents[2]


def test_codes_have_the_stable_format_and_are_unique() -> None:
    """Every code is FS-NNNN, names are unique snake_case, HTTP statuses are errors."""
    names = [e.name for e in CATALOGUE.values()]
    assert len(set(names)) == len(names)
    for code, entry in CATALOGUE.items():
        assert isinstance(entry, ErrorCode) and entry.code == code
        assert re.fullmatch(r"FS-[1-9]\d{3}", code)
        assert re.fullmatch(r"[a-z][a-z0-9_]+", entry.name)
        assert 400 <= entry.http_status <= 599
        assert entry.doc.endswith(".")


def test_close_codes_are_in_the_private_range_and_distinct() -> None:
    """WebSocket close codes derived from error codes stay in 4000-4999 and never collide."""
    closes = [ws_close_code(e) for e in CATALOGUE.values()]
    assert all(4000 <= c <= 4999 for c in closes)
    assert len(set(closes)) == len(closes)


def test_error_for_picks_the_family_class() -> None:
    """error_for builds the subclass matching the code's family."""
    for entry in CATALOGUE.values():
        err = error_for(entry, "m")
        assert err.to_wire()["code"] == entry.code and err.retryable == entry.retryable


def test_errors_doc_is_current() -> None:
    """docs/errors.md is exactly what the catalogue renders."""
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == render()
