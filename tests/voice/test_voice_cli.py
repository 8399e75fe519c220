"""`fieldsync memo extract` from the command line: text, audio, accounts file, JSON, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fieldsync.cli import main


def test_extract_chinese_text_as_json(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                      accounts: list[dict[str, Any]]) -> None:
    """The issue's command prints JSON with the call due next Tuesday 15:00 for 华东电气's 王总."""
    book = tmp_path / "accounts.json"
    book.write_text(json.dumps(accounts, ensure_ascii=False), encoding="utf-8")
    code = main(["memo", "extract", "--text", "下周二下午三点给华东电气的王总回电话，报价改成二十万",
                 "--at", "2026-11-22T17:05:00+08:00", "--lang", "zh", "--accounts", str(book), "--json"])
    assert code == 0
    body = json.loads(capsys.readouterr().out)
    (task,) = body["tasks"]
    assert task["kind"] == "call" and task["due_at"] == "2026-11-24T15:00:00+08:00"
    assert task["account_id"] == "acc-huadong" and task["amount"] == "200000"


def test_extract_prints_a_readable_list(capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json the tasks are printed one per entry with due, customer and amount."""
    code = main(["memo", "extract", "--text", "Call Acme tomorrow and email the quote to Globex by Friday, $5k",
                 "--at", "2026-11-22T17:05:00+08:00"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1. [call]" in out and "2. [send_quote]" in out
    assert "due 2026-11-23" in out and "amount 5000 USD" in out


def test_extract_audio_file(capsys: pytest.CaptureFixture[str], tmp_path: Path, audio: Any) -> None:
    """--audio runs the recording through the default engine and prints its transcript and tasks."""
    path = tmp_path / "memo.wav"
    path.write_bytes(audio.espeak("Call the customer tomorrow"))
    code = main(["memo", "extract", "--audio", str(path), "--at", "2026-11-22T17:05:00+08:00", "--json"])
    body = json.loads(capsys.readouterr().out)
    assert code == 0
    assert body["transcript"]["engine"] == "pocketsphinx" and body["transcript"]["text"]
    assert len(body["tasks"]) >= 1


def test_refused_memo_exits_1_with_typed_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A file that is not audio exits 1 and prints the FS-6001 error as JSON."""
    path = tmp_path / "notes.txt"
    path.write_text("call acme tomorrow")
    code = main(["memo", "extract", "--audio", str(path), "--at", "2026-11-22T17:05:00+08:00", "--json"])
    assert code == 1
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "FS-6001"


def test_unsupported_language_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    """A French transcript exits 1 naming unsupported_language on stderr."""
    code = main(["memo", "extract", "--text", "Il faut appeler le client demain pour le devis",
                 "--at", "2026-11-22T17:05:00+08:00"])
    assert code == 1
    assert "FS-6004" in capsys.readouterr().err


def test_bad_time_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """An --at that is not ISO 8601 exits 2 with a message."""
    assert main(["memo", "extract", "--text", "Call Acme", "--at", "tomorrow"]) == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_missing_source_is_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Neither --text nor --audio is an argparse error (exit 2)."""
    with pytest.raises(SystemExit) as exit_info:
        main(["memo", "extract", "--at", "2026-11-22T17:05:00+08:00"])
    assert exit_info.value.code == 2
    capsys.readouterr()


def test_bare_memo_command_prints_usage(capsys: pytest.CaptureFixture[str]) -> None:
    """`fieldsync memo` without an action prints help and exits 2."""
    assert main(["memo"]) == 2
    assert "extract" in capsys.readouterr().err
