"""Business-card OCR accuracy and speed on the generated evaluation set.

    python -m bench.cards [--n 60] [--seed 7] [--engine all|rapidocr|tesseract] [--difficulty D] [--flat]

Renders ``n`` cards with ``bench.cardgen`` (photographed synthetically unless
``--flat``), scans each with every engine through ``fieldsync.ocr.scan_card``,
and prints per-field precision and recall, the whole-card exact rate and the
time per card (median and spread). Text fields are compared after NFKC,
lower-casing and removing spaces and punctuation (``Co., Ltd.`` == ``Co Ltd``);
phones compare as (E.164, kind) pairs, emails as lower-cased sets.

Timings come from a shared 2-core machine and are noisy; compare engines run
in the same invocation, not across runs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.cardgen import Sample, generate
from fieldsync.ocr import scan_card
from fieldsync.ocr.engines import ENGINE_NAMES
from fieldsync.sync.errors import FieldSyncError

SCALARS = ("name", "title", "company", "department", "website", "address", "wechat", "qq")
SETS = ("phones", "emails")
FIELDS = ("name", "title", "company", "department", "phones", "emails", "website", "address", "wechat", "qq")


def norm(value: Any) -> str:
    """Comparison form of a text field."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).lower()
    return re.sub(r"[\W_]+", "", text)


def items(fieldname: str, value: Any) -> set[str]:
    if fieldname == "phones":
        return {f"{p['number']}/{p['kind']}" for p in value or ()}
    return {str(v).lower() for v in value or ()}


@dataclass(slots=True)
class Tally:
    """True/false positives and false negatives per field, exact cards and times."""

    tp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    fp: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    fn: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    exact: int = 0
    cards: int = 0
    errors: int = 0
    seconds: list[float] = field(default_factory=list)
    misses: list[tuple[int, str, Any, Any]] = field(default_factory=list)
    by_kind: dict[str, list[int]] = field(default_factory=dict)  # kind -> [exact, cards]

    def add(self, index: int, truth: dict[str, Any], got: dict[str, Any], kind: str = "card") -> None:
        self.cards += 1
        all_right = True
        for f in SCALARS:
            t, g = norm(truth.get(f)), norm(got.get(f))
            if g and g == t:
                self.tp[f] += 1
            else:
                self.fp[f] += bool(g)
                self.fn[f] += bool(t)
            if g != t:
                all_right = False
                self.misses.append((index, f, truth.get(f), got.get(f)))
        for f in SETS:
            t_items, g_items = items(f, truth.get(f)), items(f, got.get(f))
            self.tp[f] += len(t_items & g_items)
            self.fp[f] += len(g_items - t_items)
            self.fn[f] += len(t_items - g_items)
            if t_items != g_items:
                all_right = False
                self.misses.append((index, f, sorted(t_items), sorted(g_items)))
        self.exact += all_right
        counts = self.by_kind.setdefault(kind, [0, 0])
        counts[0] += all_right
        counts[1] += 1

    def precision(self, f: str) -> float:
        return self.tp[f] / (self.tp[f] + self.fp[f]) if self.tp[f] + self.fp[f] else 1.0

    def recall(self, f: str) -> float:
        return self.tp[f] / (self.tp[f] + self.fn[f]) if self.tp[f] + self.fn[f] else 1.0


def evaluate(engine: str, samples: Iterable[Sample], *, region: str = "CN") -> Tally:
    """Scan every sample with ``engine`` and score it against the ground truth."""
    tally = Tally()
    for sample in samples:
        start = time.perf_counter()
        try:
            got = scan_card(sample.front, back=sample.back, engine=engine, region=region).to_json()
        except FieldSyncError:
            tally.errors += 1
            got = {}
        tally.seconds.append(time.perf_counter() - start)
        tally.add(sample.index, sample.truth, got, sample.kind)
    return tally


def report(engine: str, tally: Tally, *, out: Any = sys.stdout) -> None:
    print(f"\n== {engine}: {tally.cards} cards, {tally.errors} refused", file=out)
    print(f"{'field':<11} {'precision':>9} {'recall':>7}", file=out)
    for f in FIELDS:
        print(f"{f:<11} {tally.precision(f):>9.3f} {tally.recall(f):>7.3f}", file=out)
    macro_p = statistics.mean(tally.precision(f) for f in FIELDS)
    macro_r = statistics.mean(tally.recall(f) for f in FIELDS)
    print(f"{'(mean)':<11} {macro_p:>9.3f} {macro_r:>7.3f}", file=out)
    print(f"whole-card exact: {tally.exact}/{tally.cards} = {tally.exact / max(tally.cards, 1):.1%}", file=out)
    print("  by kind: " + ", ".join(f"{k} {e}/{n}" for k, (e, n) in tally.by_kind.items()), file=out)
    s = sorted(tally.seconds)
    if s:
        q = statistics.quantiles(s, n=10) if len(s) >= 2 else [s[0]] * 9
        print(f"time per card: median {statistics.median(s):.2f} s, p10 {q[0]:.2f} s, p90 {q[-1]:.2f} s, "
              f"min {s[0]:.2f} s, max {s[-1]:.2f} s (first call includes model load)", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cards", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", default="all", choices=("all", *ENGINE_NAMES))
    parser.add_argument("--difficulty", type=float, default=None, help="fix the photo difficulty (0 flat .. 1 hard)")
    parser.add_argument("--flat", action="store_true", help="score the flat renders, not the photos")
    parser.add_argument("--misses", action="store_true", help="list every wrong field")
    args = parser.parse_args(argv)
    engines = ENGINE_NAMES if args.engine == "all" else (args.engine,)
    samples = list(generate(args.n, seed=args.seed, difficulty=args.difficulty, photo=not args.flat))
    print(f"{len(samples)} generated cards (seed {args.seed}; kinds zh/en/bi/two-sided in turn over five layouts; "
          f"{'flat renders' if args.flat else 'synthetic photos'})")
    for engine in engines:
        tally = evaluate(engine, samples)
        report(engine, tally)
        if args.misses:
            for index, f, truth, got in tally.misses:
                print(f"  #{index} {f}: expected {truth!r} got {got!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
