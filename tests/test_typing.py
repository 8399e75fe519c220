"""The pure engine and the SDK type-check under ``mypy --strict`` (STYLE.md), as the installed ``fieldsync.*`` packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PARTS = ("sync", "sdk", "server", "geo", "voice", "ocr")  # sync and sdk are checked; the others are imported by them

pytestmark = pytest.mark.timeout(300)


def test_sync_and_sdk_are_strictly_typed(tmp_path: Path) -> None:
    """mypy --strict finds no error in fieldsync.sync and fieldsync.sdk."""
    package = tmp_path / "fieldsync"
    package.mkdir()
    for part in PARTS:
        (package / part).symlink_to(ROOT / part)
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--namespace-packages", "--explicit-package-bases",
         "--follow-imports=silent", "--no-incremental", "-p", "fieldsync.sync", "-p", "fieldsync.sdk"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
