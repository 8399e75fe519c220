"""The memo test set is well formed and the extractor keeps its measured accuracy on it."""

from __future__ import annotations

import importlib.util
import sys
from datetime import datetime
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "memos.py"
KINDS = {"call", "visit", "email", "message", "send_quote", "send", "meeting", "demo", "contract",
         "collect_payment", "follow_up"}


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fieldsync_bench_memos", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    """bench/memos.py loaded from its file."""
    return _bench()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_memo_set_is_well_formed(bench: ModuleType, lang: str) -> None:
    """At least 100 memos per language, unique ids, aware times, known kinds and accounts."""
    memos = bench.load(lang)
    assert len(memos) >= 100
    assert len({m["id"] for m in memos}) == len(memos)
    known = {a["id"] for a in bench.ACCOUNTS}
    for memo in memos:
        assert memo["lang"] == lang and memo["split"] in {"dev", "holdout"}
        assert datetime.fromisoformat(memo["recorded_at"]).utcoffset() is not None
        for task in memo["expected"]:
            assert task["action"] in KINDS
            assert task["customer"] is None or task["customer"] in known
            assert (task["amount"] is None) == (task["currency"] is None) or lang == "en"
    assert sum(not m["expected"] for m in memos) >= 5  # memos that must give no task at all
    assert sum(len(m["expected"]) > 1 for m in memos) >= 15  # memos with several tasks


@pytest.mark.parametrize(("lang", "split", "floor"), [("en", "dev", 0.95), ("zh", "dev", 0.95),
                                                      ("en", "holdout", 0.80), ("zh", "holdout", 0.85)])
def test_whole_task_accuracy_does_not_regress(bench: ModuleType, lang: str, split: str, floor: float) -> None:
    """Whole-task exact accuracy stays at or above the floor measured when the set was written."""
    score = bench.score(lang, split=split)
    assert score.exact / score.expected >= floor
