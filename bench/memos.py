"""Score task extraction on the memo test set: ``python -m bench.memos [--lang en|zh] [--failures]``.

The set is ``bench/data/memos_en.jsonl`` and ``memos_zh.jsonl``: memos written
for this benchmark (one JSON object a line: id, split, lang, recorded_at,
time_zone, text, expected tasks). Every memo is read against the account book
below. ``split`` is ``dev`` (101 en / 100 zh memos, the ones the extractor's
rules were tuned on while it was built) or ``holdout`` (30 + 30 memos written
afterwards and not tuned on); the holdout figures are the honest ones.

Per language it prints, over expected tasks:

* field accuracy: action kind, due, customer (account id), amount (value and
  currency), each counted on the predicted task aligned with the expected one
  (a missing prediction counts as wrong on every field);
* whole-task exact: all four fields right;
* task precision / recall (were the right number of tasks suggested?) and the
  share of memos whose task list is exactly right, empty lists included;
* extraction time per memo (median and p10-p90). The machine is shared with
  other engineers, so timings are noisy; the accuracy figures are exact.

A due written as a date (``2026-11-24``) is compared by date, one written
with a time (``2026-11-24T15:00``) to the minute and must not be all-day.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fieldsync.voice import SuggestedTask, extract_tasks

DATA = Path(__file__).parent / "data"
FIELDS = ("action", "due", "customer", "amount")

ACCOUNTS: list[dict[str, Any]] = [
    {"id": "acc-acme", "name": "Acme Corporation", "aliases": ["ACME"],
     "contacts": [{"id": "con-dmiller", "name": "David Miller"}, {"id": "con-sjohnson", "name": "Sarah Johnson"}]},
    {"id": "acc-globex", "name": "Globex Industries Ltd.",
     "contacts": [{"id": "con-tbaker", "name": "Tom Baker"}, {"id": "con-lwong", "name": "Lisa Wong"}]},
    {"id": "acc-initech", "name": "Initech LLC",
     "contacts": [{"id": "con-pgibbons", "name": "Peter Gibbons"}, {"id": "con-mbolton", "name": "Michael Bolton"}]},
    {"id": "acc-umbrella", "name": "Umbrella Medical Supplies Inc.", "aliases": ["Umbrella Medical"],
     "contacts": [{"id": "con-acarter", "name": "Alice Carter"}]},
    {"id": "acc-stark", "name": "Stark Logistics", "contacts": [{"id": "con-jrhodes", "name": "James Rhodes"}]},
    {"id": "acc-wayne", "name": "Wayne Foods Group", "contacts": [{"id": "con-rdawes", "name": "Rachel Dawes"}]},
    {"id": "acc-northwind", "name": "Northwind Traders",
     "contacts": [{"id": "con-ndavolio", "name": "Nancy Davolio"}, {"id": "con-afuller", "name": "Andrew Fuller"}]},
    {"id": "acc-contoso", "name": "Contoso Pharmaceuticals", "aliases": ["Contoso Pharma"],
     "contacts": [{"id": "con-wzhang", "name": "Zhang Wei"}]},
    {"id": "acc-huadong", "name": "上海华东电气设备有限公司", "aliases": ["Huadong Electric"],
     "contacts": [{"id": "con-wangjg", "name": "王建国"}, {"id": "con-zhaomin", "name": "赵敏"}]},
    {"id": "acc-hengrui", "name": "江苏恒瑞医药股份有限公司", "short_names": ["恒瑞"],
     "contacts": [{"id": "con-liuyang", "name": "刘洋"}]},
    {"id": "acc-meida", "name": "广东美达电器有限公司",
     "contacts": [{"id": "con-chenjing", "name": "陈静"}, {"id": "con-huanglei", "name": "黄磊"}]},
    {"id": "acc-xinda", "name": "杭州鑫达科技有限公司",
     "contacts": [{"id": "con-liming", "name": "李明"}, {"id": "con-zhouting", "name": "周婷"}]},
    {"id": "acc-zhongyuan", "name": "河南中原重工机械股份有限公司", "contacts": [{"id": "con-sunhao", "name": "孙浩"}]},
    {"id": "acc-lvyuan", "name": "北京绿源环保工程有限公司",
     "contacts": [{"id": "con-wufang", "name": "吴芳"}, {"id": "con-zhengwei", "name": "郑伟"}]},
    {"id": "acc-haitian", "name": "宁波海天塑料制品有限公司", "short_names": ["海天塑料", "海天"],
     "contacts": [{"id": "con-machao", "name": "马超"}]},
    {"id": "acc-jinqiao", "name": "苏州金桥物流有限公司", "contacts": [{"id": "con-yangfan", "name": "杨帆"}]},
    {"id": "acc-tianyi", "name": "深圳天翼通信技术有限公司", "short_names": ["天翼"],
     "contacts": [{"id": "con-xuqiang", "name": "许强"}]},
    {"id": "acc-ruifeng", "name": "成都瑞丰食品有限公司",
     "contacts": [{"id": "con-heli", "name": "何丽"}, {"id": "con-fengtao", "name": "冯涛"}]},
]


@dataclass
class Score:
    """Running totals for one language."""

    expected: int = 0
    predicted: int = 0
    matched: int = 0
    fields: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    exact: int = 0
    memos: int = 0
    memos_exact_count: int = 0
    memos_all_right: int = 0
    seconds: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def load(lang: str) -> list[dict[str, Any]]:
    """The memos of one language."""
    path = DATA / f"memos_{lang}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def observed(task: SuggestedTask) -> dict[str, Any]:
    """A predicted task in the test set's terms."""
    return {
        "action": task.kind.value,
        "due": task.due_at,
        "all_day": task.all_day,
        "customer": task.account_id,
        "amount": (str(task.amount) if task.amount is not None else None, task.currency),
    }


def field_ok(name: str, expected: dict[str, Any], got: dict[str, Any] | None) -> bool:
    """Whether one field of an aligned prediction is right."""
    if got is None:
        return False
    if name == "due":
        want = expected["due"]
        if want is None or got["due"] is None:
            return want is None and got["due"] is None
        if "T" in want:
            return not got["all_day"] and got["due"].strftime("%Y-%m-%dT%H:%M") == want
        return bool(got["due"].date().isoformat() == want)
    if name == "amount":
        return bool(got["amount"] == (expected["amount"], expected["currency"]))
    return bool(got[name] == expected[name])


def align(expected: Sequence[dict[str, Any]], got: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """For each expected task, the unused prediction agreeing on most fields (action counts double)."""
    free = list(range(len(got)))
    out: list[dict[str, Any] | None] = []
    for want in expected:
        if not free:
            out.append(None)
            continue
        best = max(free, key=lambda i: (sum(field_ok(f, want, got[i]) for f in FIELDS)
                                         + field_ok("action", want, got[i]), -i))
        free.remove(best)
        out.append(got[best])
    return out


def score(lang: str, *, repeat: int = 1, split: str | None = None) -> Score:
    """Run the extractor over one language's memos (of one split, or all) and count."""
    result = Score()
    for memo in load(lang):
        if split is not None and memo.get("split", "dev") != split:
            continue
        recorded_at = datetime.fromisoformat(memo["recorded_at"])
        started = time.perf_counter()
        for _ in range(repeat):
            tasks = extract_tasks(memo["text"], recorded_at=recorded_at, lang=memo["lang"], accounts=ACCOUNTS,
                                  time_zone=memo.get("time_zone"))
        result.seconds.append((time.perf_counter() - started) / repeat)
        got = [observed(t) for t in tasks]
        expected = memo["expected"]
        aligned = align(expected, got)
        result.memos += 1
        result.expected += len(expected)
        result.predicted += len(got)
        result.matched += sum(a is not None for a in aligned)
        result.memos_exact_count += len(got) == len(expected)
        all_right = len(got) == len(expected)
        for want, have in zip(expected, aligned, strict=True):
            oks = {f: field_ok(f, want, have) for f in FIELDS}
            for f, ok in oks.items():
                result.fields[f] += ok
            result.exact += all(oks.values())
            all_right = all_right and all(oks.values())
            if not all(oks.values()):
                result.failures.append(f"{memo['id']} {memo['text']}\n    want {want}\n    got  {_show(have)}")
        if len(got) > len(expected):
            result.failures.append(f"{memo['id']} {memo['text']}\n    {len(got) - len(expected)} extra task(s): "
                                   + "; ".join(_show(g) for g in got))
        result.memos_all_right += all_right
    return result


def _show(got: dict[str, Any] | None) -> str:
    if got is None:
        return "(nothing)"
    due = got["due"].strftime("%Y-%m-%d" if got["all_day"] else "%Y-%m-%dT%H:%M") if got["due"] else None
    return f"{got['action']} due={due} customer={got['customer']} amount={got['amount']}"


def pct(n: int, d: int) -> str:
    """``n`` of ``d`` as a percentage, aligned."""
    return f"{100.0 * n / d:5.1f} %" if d else "  n/a"


def report(title: str, s: Score) -> None:
    """Print one language's figures."""
    print(f"== {title}: {s.memos} memos, {s.expected} expected tasks, {s.predicted} suggested")
    for f in FIELDS:
        print(f"  {f:<10} {pct(s.fields[f], s.expected)}")
    print(f"  {'task exact':<10} {pct(s.exact, s.expected)}  (action, due, customer and amount all right)")
    print(f"  task recall {pct(s.matched, s.expected)}   precision {pct(s.matched, s.predicted)}")
    print(f"  memos with the right number of tasks {pct(s.memos_exact_count, s.memos)}; "
          f"memos entirely right {pct(s.memos_all_right, s.memos)}")
    ms = sorted(1000 * x for x in s.seconds)
    deciles = statistics.quantiles(ms, n=10) if len(ms) >= 2 else [ms[0]] * 9
    print(f"  time per memo: median {statistics.median(ms):.2f} ms, p10 {deciles[0]:.2f} ms, p90 {deciles[-1]:.2f} ms "
          "(shared machine: timings are noisy)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memos", description=__doc__.splitlines()[0])
    parser.add_argument("--lang", choices=("en", "zh"), action="append")
    parser.add_argument("--failures", action="store_true", help="print every task that is not exactly right")
    parser.add_argument("--repeat", type=int, default=3, help="extractions per memo for the timing (default 3)")
    parser.add_argument("--split", choices=("dev", "holdout", "all"), action="append",
                        help="which memos (default: dev, then holdout)")
    args = parser.parse_args(argv)
    for lang in args.lang or ["en", "zh"]:
        for split in args.split or ["dev", "holdout"]:
            result = score(lang, repeat=max(1, args.repeat), split=None if split == "all" else split)
            report(f"{lang} / {split}", result)
            if args.failures:
                print("\n".join(result.failures) or "  no failures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
