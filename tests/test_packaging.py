"""A plain (non-editable) install of the distribution works on its own."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.timeout(300)
def test_wheel_installs_and_migrates_without_the_checkout(tmp_path: Path) -> None:
    """The built wheel holds every part and the Alembic revisions, and migrates a database from outside the checkout."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), str(ROOT)],
        check=True,
        cwd=tmp_path,
        capture_output=True,
    )
    wheel = next((tmp_path / "dist").glob("fieldsync-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for part in ("cli", "sync", "server", "sdk", "ocr", "geo", "voice"):
        assert f"fieldsync/{part}/__init__.py" in names
    assert any(n.startswith("fieldsync/server/migrations/versions/0001") for n in names)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = (
        "import fieldsync.sync, fieldsync.server.app, fieldsync.sdk, fieldsync.ocr, fieldsync.geo, fieldsync.voice;"
        "assert fieldsync.sync.__file__.startswith(%r);"
        "from fieldsync.cli import main; raise SystemExit(main(['migrate', '--database-url', 'sqlite:///%s']))"
    ) % (str(target), tmp_path / "db.sqlite")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "migrated" in done.stdout
