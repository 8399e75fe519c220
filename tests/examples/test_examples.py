"""The runnable examples run and end as they say."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_three_reps_example_converges(capsys: pytest.CaptureFixture[str]) -> None:
    """Three reps offline with conflicting edits end identical to each other and the server."""
    module = runpy.run_path(str(ROOT / "examples" / "three_reps.py"))
    assert module["main"]() == 0
    out = capsys.readouterr().out
    assert "all three replicas and the server identical: True" in out
    assert "tier=A" in out and "visits=3" in out
    assert "Wants samples" in out and "Urgent" in out
    assert "task       exists=False" in out and "account 4  exists=True" in out
