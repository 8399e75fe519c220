"""Word error rate of the default recogniser on synthesised memos: ``python -m bench.wer [--limit N]``.

Sentences are the English memos of ``bench/data/memos_en.jsonl`` that a
speech synthesiser reads unambiguously (no digits, currency signs or
all-capital acronyms, so the reference words are the spoken words). Each is
spoken by espeak-ng (``--voice``, ``--speed``), decoded through the same path
as an upload (``fieldsync.voice.transcribe``: ffmpeg, 16 kHz, PocketSphinx),
and compared with the text after lower-casing, dropping punctuation and
spelling out titles (Mr. -> mister).

Printed: corpus WER (all edits / all reference words), the median and
p10-p90 of per-sentence WER, the share of reference words missing from the
recogniser's dictionary (customer names mostly: they cannot be recognised),
how often the memo still yields a task of the same kind from the recognised
text as from the written one, and the real-time factor (decode seconds per
audio second, wall clock and this process's CPU; noisy: the machine is
shared with other engineers).

Synthetic speech is not a phone recording in a car park: these figures say
how the pipeline behaves, not what a rep will get in the field.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from fieldsync.voice import extract_tasks, transcribe

DATA = Path(__file__).parent / "data" / "memos_en.jsonl"
_TITLES = {"mr.": "mister", "mrs.": "missus", "ms.": "miss", "dr.": "doctor"}


def words(text: str) -> list[str]:
    """Normalised words of a sentence: lower case, titles spelt out, punctuation dropped."""
    out = []
    for token in text.lower().split():
        token = _TITLES.get(token, token)
        token = re.sub(r"[^a-z']+", "", token).strip("'")
        if token:
            out.append(token)
    return out


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Word-level Levenshtein distance (substitutions, insertions, deletions)."""
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]


def speakable(text: str) -> bool:
    """True when espeak-ng reads the text as exactly its words (no digits, symbols or acronyms)."""
    return not re.search(r"[\d$€£¥%&@]|\b[A-Z]{2,}\b", text)


def sentences(limit: int) -> list[dict[str, str]]:
    """Up to ``limit`` speakable English memos with their recording times."""
    import json

    memos = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [m for m in memos if speakable(m["text"])][:limit]


def dictionary() -> set[str]:
    """The words the default PocketSphinx model can recognise."""
    import os

    import pocketsphinx

    path = os.path.join(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")
    with open(path, encoding="utf-8") as f:
        return {line.split()[0].split("(")[0] for line in f if line.strip()}


def synthesise(text: str, *, voice: str, speed: int) -> bytes:
    """WAV bytes of espeak-ng reading ``text``."""
    done = subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
                          capture_output=True, check=True)
    return done.stdout


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.wer", description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=25, help="number of memos (default 25)")
    parser.add_argument("--voice", default="en-us", help="espeak-ng voice (default en-us)")
    parser.add_argument("--speed", type=int, default=140, help="words per minute (default 140)")
    parser.add_argument("--show", action="store_true", help="print each reference and hypothesis")
    args = parser.parse_args(argv)
    if shutil.which("espeak-ng") is None:
        print("espeak-ng is not installed (scripts/system-deps.sh)", file=sys.stderr)
        return 2

    vocab = dictionary()
    total_edits = total_words = oov = same_task = has_task = 0
    per_sentence: list[float] = []
    rtf: list[float] = []
    cpu_rtf: list[float] = []
    memos = sentences(args.limit)
    for memo in memos:
        wav = synthesise(memo["text"], voice=args.voice, speed=args.speed)
        started, cpu_started = time.perf_counter(), time.process_time()
        heard = transcribe(wav, lang="en")
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        ref, hyp = words(memo["text"]), words(heard.text)
        edits = edit_distance(ref, hyp)
        total_edits += edits
        total_words += len(ref)
        oov += sum(w not in vocab for w in ref)
        per_sentence.append(edits / len(ref))
        rtf.append(elapsed / max(heard.seconds, 1e-6))
        cpu_rtf.append(cpu / max(heard.seconds, 1e-6))
        recorded_at = datetime.fromisoformat(memo["recorded_at"])
        written = extract_tasks(memo["text"], recorded_at=recorded_at, lang="en")
        spoken = extract_tasks(heard.text, recorded_at=recorded_at, lang="en") if heard.text else []
        if written:
            has_task += 1
            same_task += bool(spoken) and spoken[0].kind == written[0].kind
        if args.show:
            print(f"REF {' '.join(ref)}\nHYP {' '.join(hyp)}\n    WER {edits / len(ref):.2f}")

    deciles = statistics.quantiles(per_sentence, n=10)
    rtf_deciles = statistics.quantiles(rtf, n=10)
    print(f"== PocketSphinx (bundled en-us model) on espeak-ng voice {args.voice} at {args.speed} wpm")
    print(f"  memos {len(memos)}, reference words {total_words}")
    print(f"  corpus WER {100.0 * total_edits / total_words:.1f} %")
    print(f"  per-memo WER median {100 * statistics.median(per_sentence):.1f} %, "
          f"p10 {100 * deciles[0]:.1f} %, p90 {100 * deciles[-1]:.1f} %")
    print(f"  reference words not in the recogniser's dictionary {100.0 * oov / total_words:.1f} %")
    print(f"  memos whose first task keeps its kind after recognition {same_task}/{has_task}")
    print(f"  real-time factor (wall) median {statistics.median(rtf):.2f}, p10 {rtf_deciles[0]:.2f}, "
          f"p90 {rtf_deciles[-1]:.2f}; (CPU of this process) median {statistics.median(cpu_rtf):.2f} "
          "(shared machine: noisy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
