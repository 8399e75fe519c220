"""``fieldsync card scan``: JSON and text output, engines, exit codes for refused and missing files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cardgen import Sample
from fieldsync.cli import main
from fieldsync.ocr.fields import FIELD_NAMES


def test_scan_prints_the_fields_as_json(tmp_path: Path, card_samples: dict[str, Sample], capsys: pytest.CaptureFixture[str]) -> None:
    """``card scan IMAGE --json`` prints exactly the wire keys with the card's fields and exits 0."""
    sample = card_samples["zh"]
    image = tmp_path / "card.jpg"
    image.write_bytes(sample.front)
    assert main(["card", "scan", str(image), "--json", "--region", "CN"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == [*FIELD_NAMES, "confidence"]
    assert data["name"] == sample.truth["name"]
    assert data["emails"] == sample.truth["emails"]


def test_scan_two_sided_with_tesseract(tmp_path: Path, flat_samples: dict[str, Sample], capsys: pytest.CaptureFixture[str]) -> None:
    """``--back`` adds the back side and ``--engine tesseract`` selects the other engine."""
    sample = flat_samples["two_sided"]
    front, back = tmp_path / "front.png", tmp_path / "back.png"
    front.write_bytes(sample.front)
    back.write_bytes(sample.back or b"")
    assert main(["card", "scan", str(front), "--back", str(back), "--engine", "tesseract", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {p["number"] for p in data["phones"]} >= {sample.truth["phones"][0]["number"]}  # type: ignore[index]


def test_scan_text_output(tmp_path: Path, card_samples: dict[str, Sample], capsys: pytest.CaptureFixture[str]) -> None:
    """Without ``--json`` each field is printed on its own line with its confidence."""
    image = tmp_path / "card.jpg"
    image.write_bytes(card_samples["en"].front)
    assert main(["card", "scan", str(image)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("name ")
    assert "(mobile)" in out and "[0." in out


def test_refused_image_exits_1_with_typed_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not an image exits 1 and prints the typed error as JSON on stderr."""
    bad = tmp_path / "notes.txt"
    bad.write_text("not a card")
    assert main(["card", "scan", str(bad), "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert json.loads(captured.err)["error"]["code"] == "FS-4001"


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A path that does not exist exits 2 with a message naming it."""
    assert main(["card", "scan", str(tmp_path / "nope.jpg")]) == 2
    assert "nope.jpg" in capsys.readouterr().err


def test_unknown_engine_is_a_usage_error(tmp_path: Path) -> None:
    """``--engine`` only accepts the installed engine names."""
    with pytest.raises(SystemExit) as info:
        main(["card", "scan", str(tmp_path / "x.jpg"), "--engine", "abbyy"])
    assert info.value.code == 2


def test_engine_default_comes_from_the_environment(
    tmp_path: Path, blank_png: bytes, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no ``--engine``, FIELDSYNC_OCR_ENGINE chooses (an unknown one is reported as FS-4006)."""
    monkeypatch.setenv("FIELDSYNC_OCR_ENGINE", "nonesuch")
    image = tmp_path / "blank.png"
    image.write_bytes(blank_png)
    assert main(["card", "scan", str(image)]) == 1
    assert json.loads(capsys.readouterr().err)["error"]["code"] == "FS-4006"
