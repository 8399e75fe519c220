"""SDK benchmarks against a real server process: first sync into a replica, reconnect after offline edits.

    python -m bench.sdk [--rows 100000] [--edits 1000] [--runs 3] [--busy]

* first sync: a fresh device's ``Replica`` + ``SyncClient.sync_once()`` until the final checkpoint, with every
  row merged and written into the device's SQLite file (the whole cost a phone pays);
* reconnect: a device that already holds the data makes ``--edits`` edits offline, then syncs: time until
  its outbox is acknowledged and it has caught up.

``--busy`` runs both beside a thread that keeps running Python, as an app's own threads do (UI logic, a
scheduler): every time the SDK's SQLite driver releases the GIL -- it does so at every step of a statement --
it may wait up to a switch interval (5 ms) to get it back.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench.hub import SECRET, preload, server, summary
from fieldsync.sdk import Replica, SyncClient
from fieldsync.server.auth.tokens import issue_token


def fresh_sync(base: str, folder: Path) -> tuple[float, int, Replica, SyncClient]:
    replica = Replica.open(folder / f"{uuid.uuid4().hex}.db")
    token = issue_token(SECRET, user_id=str(uuid.uuid4()), site=replica.site)
    client = SyncClient(base.replace("http", "ws") + "/v1/sync", replica=replica, token=token)
    start = time.perf_counter()
    client.sync_once(timeout=600)
    return time.perf_counter() - start, replica.count("accounts"), replica, client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--edits", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--busy", action="store_true", help="a thread in the app keeps running Python meanwhile")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="fsbench-sdk-"))
    print(f"FieldSync SDK benchmarks; rows={args.rows:,} edits={args.edits:,} runs={args.runs}")
    with server(args.database_url) as (base, _):
        t0 = time.perf_counter()
        asyncio.run(preload(base, args.rows))
        print(f"{'preload':<44} {time.perf_counter() - t0:,.1f} s")
        times, reconnects = [], []
        stop = threading.Event()
        if args.busy:
            threading.Thread(target=_burn, args=(stop,), daemon=True).start()
        for run in range(args.runs):
            elapsed, count, replica, client = fresh_sync(base, folder)
            assert count == args.rows, (count, args.rows)
            times.append(elapsed)
            ids = [r.id for r in replica.query("accounts", limit=args.edits)]
            for i, row_id in enumerate(ids):
                replica.update("accounts", row_id, {"tier": f"R{run}-{i % 5}", "phone": f"+86138{run}{i:07d}"})
            pending = replica.pending_count
            assert pending == 2 * len(ids), pending  # two fields per edited row
            start = time.perf_counter()
            client.sync_once(timeout=300)
            reconnects.append(time.perf_counter() - start)
            assert replica.pending_count == 0, replica.pending_count
            client.stop()
            replica.close()
        stop.set()
        busy = ", app thread busy" if args.busy else ""
        print(summary(f"first sync of {args.rows:,} rows into a replica{busy}", times, "s"))
        print(summary(f"reconnect with {args.edits:,} offline edits ({pending:,} changes){busy}", reconnects, "s"))
        print(f"{'rows per second (first sync)':<44} {args.rows / statistics.median(times):,.0f}")
    return 0


def _burn(stop: threading.Event) -> None:
    """Python work that holds the GIL until ``stop`` is set."""
    while not stop.is_set():
        sum(range(1000))


if __name__ == "__main__":
    sys.exit(main())
