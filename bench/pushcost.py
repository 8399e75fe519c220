"""The push path's cost per field change, in-process: validation and the store's group apply.

    python -m bench.pushcost                  # CPU microseconds per change, median and spread of --runs
    python -m bench.pushcost --instructions   # instructions per change under valgrind (deterministic)
    python -m bench.pushcost --busy           # wall time per change while another thread runs Python

No network, no event loop: each run parses and validates push frames of 100
new rows x 5 fields (``push_request``) and applies them two at a time, as a
group, to a fresh SQLite store (``apply_batches``), with synchronous=NORMAL and
the background checkpointer stopped, so the figure is the server's own work
on a push. ``--instructions`` runs the workload under ``valgrind --tool=callgrind``
twice (2 and 12 batches) and divides the difference by the changes between
them: start-up cancels out, and the count does not depend on what else the
machine is doing, which makes it the figure to compare versions with.
``--busy`` runs the same pushes while a second thread keeps the GIL busy, as
the hub's event loop does while it validates the next push, and prints the
wall time per change beside an idle run: every GIL release the writer makes
(one per SQLite step) can cost it a switch interval to win the GIL back.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

FIELDS = ("name", "industry", "tier", "phone", "address")
ROWS_PER_BATCH = 100


def frames(count: int) -> list[str]:
    """``count`` push frames of new rows, the same every time (seeded)."""
    from fieldsync.sync.hlc import pack

    rnd = random.Random(7)
    ms = 1_764_000_000_000
    out = []
    for b in range(count):
        changes = []
        for _ in range(ROWS_PER_BATCH):
            row = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            for f in FIELDS:
                ms += 1
                changes.append({"t": "accounts", "r": row, "f": f, "v": f"{f} {row[:8]}", "h": str(pack(ms, 0)), "s": "bench-1", "c": 1, "b": "0"})
        out.append(json.dumps({"type": "push", "batch": f"b{b}", "changes": changes}))
    return out


def apply(batches: int, total: int, *, busy: bool = False) -> float:
    """Apply the first ``batches`` of ``total`` frames to a fresh store; returns the CPU seconds the applying took
    (with ``busy``: the wall seconds, while another thread runs Python)."""
    from fieldsync.server.push import push_request
    from fieldsync.server.store import open_store
    from fieldsync.server.store.base import Principal
    from fieldsync.sync import protocol as P
    from fieldsync.sync.crm import CRM_SCHEMA

    texts = frames(total)
    store = open_store(f"sqlite:///{tempfile.mkdtemp(prefix='fspush-')}/push.db", CRM_SCHEMA, synchronous="normal")
    if store._checkpointer is not None:  # its timing varies from run to run: not part of the push
        store._checkpointer.stop()
        store._checkpointer = None
    who = Principal("00000000-0000-4000-8000-000000000001", None, "bench-1")
    now = 1_764_000_000_000 + 10**9
    if busy:
        requests = [push_request(CRM_SCHEMA, who, P.parse_client_message(t, max_changes=5000), now_ms=now) for t in texts[:batches]]
        stop = threading.Event()
        burner = threading.Thread(target=_burn, args=(stop,), daemon=True)
        burner.start()
        start = time.perf_counter()
        for i in range(0, batches, 2):
            store.apply_batches(requests[i : i + 2])
        spent = time.perf_counter() - start
        stop.set()
        burner.join()
    else:
        start = time.process_time()
        for i in range(0, batches, 2):  # groups of two pushes, as under load
            store.apply_batches([push_request(CRM_SCHEMA, who, P.parse_client_message(t, max_changes=5000), now_ms=now) for t in texts[i : i + 2]])
        spent = time.process_time() - start
    store.close()
    return spent


def _burn(stop: threading.Event) -> None:
    """Python work that holds the GIL until ``stop`` is set."""
    while not stop.is_set():
        sum(range(1000))


def instructions(batches: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-m", "bench.pushcost", "--child", str(batches)],
        capture_output=True, text=True, check=True,
    )
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None:
        raise SystemExit("valgrind printed no instruction count")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--instructions", action="store_true", help="count instructions under valgrind")
    parser.add_argument("--busy", action="store_true", help="wall time per change while another thread runs Python")
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        apply(args.child, 12)
        return 0
    per_batch = ROWS_PER_BATCH * len(FIELDS)
    if args.instructions:
        low, high = instructions(2), instructions(12)
        print(f"{'push path, instructions per field change':<44} {(high - low) / (10 * per_batch):,.0f}  (valgrind, 12 minus 2 batches)")
        return 0
    if args.busy:
        idle = [apply(args.batches, args.batches) / (args.batches * per_batch) * 1e6 for _ in range(args.runs)]
        busy = [apply(args.batches, args.batches, busy=True) / (args.batches * per_batch) * 1e6 for _ in range(args.runs)]
        print(f"{'push path, CPU per field change, idle':<44} median {statistics.median(idle):,.1f} us  spread {min(idle):,.1f}..{max(idle):,.1f}")
        print(
            f"{'push path, wall per change, GIL busy':<44} median {statistics.median(busy):,.1f} us  spread {min(busy):,.1f}..{max(busy):,.1f}"
            f"  ratio {statistics.median(busy) / statistics.median(idle):.1f}x"
        )
        return 0
    costs = [apply(args.batches, args.batches) / (args.batches * per_batch) * 1e6 for _ in range(args.runs)]
    print(f"{'push path, CPU per field change':<44} median {statistics.median(costs):,.1f} us  spread {min(costs):,.1f}..{max(costs):,.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
