"""Sync hub benchmarks: ingest, fan-out latency, initial sync, bytes per change, server memory.

Run from the repository root::

    python -m bench.hub                       # everything, SQLite store
    python -m bench.hub --only ingest --runs 5
    python -m bench.hub --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

The server runs as a separate ``fieldsync serve`` process (as in production);
the load comes from this process over loopback WebSockets speaking the wire
protocol directly. Every figure is printed as median and spread (min..max)
over ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any, Iterator

import httpx
import uvloop
import websockets

from bench.receivers import Receiver, open_receiver
from fieldsync.server.auth.tokens import issue_token
from fieldsync.sdk.ids import uuid7
from fieldsync.sync.hlc import pack

SECRET = "bench-secret-" + "y" * 32
FIELDS = ("name", "industry", "tier", "phone", "address")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(database_url: str | None, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A ``fieldsync serve`` process on a free port; yields (base URL, process)."""
    tmp = tempfile.mkdtemp(prefix="fsbench-")
    port = free_port()
    environ = {
        **os.environ,
        "FIELDSYNC_SECRET_KEY": SECRET,
        "FIELDSYNC_DATABASE_URL": database_url or f"sqlite:///{tmp}/bench.db",
        "FIELDSYNC_ATTACHMENTS_DIR": f"{tmp}/att",
        **env,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "fieldsync.cli", "serve", "--port", str(port), "--log-level", "warning"], env=environ
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("server did not start")
        time.sleep(0.1)
    try:
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def servers(database_url: str | None, count: int) -> Iterator[list[tuple[str, subprocess.Popen[bytes]]]]:
    """``count`` hub processes sharing one store (an SQLite file or PostgreSQL), each on its own port."""
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield [stack.enter_context(server(database_url)) for _ in range(count)]


@contextmanager
def pg_schema(base: str = "postgresql+psycopg://postgres@127.0.0.1:5432/test") -> Iterator[str]:
    """A URL on a fresh PostgreSQL schema, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = "fsbench_" + uuid.uuid4().hex[:10]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield f"{base}?options=-csearch_path%3D{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Device:
    """A wire-level device connection."""

    def __init__(self, ws: Any, site: str) -> None:
        self.ws, self.site = ws, site
        self.ms = int(time.time() * 1000)

    @classmethod
    async def open(cls, base: str, *, cursor: str | None = None, live: bool = True, compression: bool = True) -> Device:
        site = "bench-" + uuid.uuid4().hex[:10]
        token = issue_token(SECRET, user_id=str(uuid.uuid4()), site=site)
        ws = await websockets.connect(
            base.replace("http", "ws") + "/v1/sync",
            max_size=64 * 1024 * 1024,
            compression="deflate" if compression else None,
            open_timeout=60,
            ping_interval=None,
        )
        await ws.send(json.dumps({"type": "hello", "protocol": 1, "schema": 1, "token": token, "site": site, "cursor": cursor, "live": live}))
        return cls(ws, site)

    async def until_done(self) -> tuple[int, int, str]:
        """Read until the final checkpoint: (items, bytes, cursor)."""
        items = size = 0
        while True:
            raw = await self.ws.recv()
            size += len(raw)
            msg = json.loads(raw)
            if msg["type"] == "changes":
                items += len(msg["rows"]) + len(msg["changes"])
            elif msg["type"] == "checkpoint" and msg["done"]:
                return items, size, msg["cursor"]

    def changes(self, rows: int, new_id: Callable[[], str] = uuid7) -> list[dict[str, Any]]:
        """Field changes creating ``rows`` new rows; ids as the SDK makes them (UUIDv7) unless ``new_id`` says."""
        out = []
        for _ in range(rows):
            row = new_id()
            for f in FIELDS:
                self.ms += 1
                out.append({"t": "accounts", "r": row, "f": f, "v": f"{f} {row[:8]}", "h": str(pack(self.ms, 0)), "s": self.site, "c": 1, "b": "0"})
        return out

    async def push(self, changes: list[dict[str, Any]]) -> dict[str, Any]:
        return await self.push_frame(*push_frame(changes))

    async def push_frame(self, batch: str, frame: str) -> dict[str, Any]:
        """Send an encoded push frame and wait for its ack."""
        await self.ws.send(frame)
        while True:
            msg = json.loads(await self.ws.recv())
            if msg["type"] == "ack" and msg["batch"] == batch:
                return msg


def push_frame(changes: list[dict[str, Any]]) -> tuple[str, str]:
    """(batch id, encoded push frame) for ``changes``."""
    batch = str(uuid.uuid4())
    return batch, json.dumps({"type": "push", "batch": batch, "changes": changes})


def summary(name: str, values: list[float], unit: str, baseline: float | None = None) -> str:
    med = statistics.median(values)
    text = f"{name:<44} median {med:>12,.1f} {unit:<10} spread {min(values):,.1f}..{max(values):,.1f}"
    if baseline:
        text += f"  ratio {med / baseline:.2f}x"
    return text


async def bench_ingest(
    bases: list[str], *, pushers: int, batches: int, rows_per_batch: int, in_flight: int = 1, random_ids: bool = False
) -> float:
    """Field changes per second through the hub(s) (acked = durable); pushers spread over the hubs.

    Each device keeps up to ``in_flight`` pushes unacknowledged, as ``SyncClient(max_in_flight=...)`` does (the
    SDK's default is 2): the next push goes out when an ack comes back. New rows get UUIDv7 ids, as the SDK
    makes them; ``random_ids`` uses random (v4) ids instead, as an import from another system might.
    """
    devices = [await Device.open(bases[i % len(bases)], live=False) for i in range(pushers)]
    for d in devices:
        await d.until_done()
    # Frames are encoded before the clock starts: a phone encodes on its own CPU, not the server's.
    new_id = (lambda: str(uuid.uuid4())) if random_ids else uuid7
    payloads = [[push_frame(d.changes(rows_per_batch, new_id)) for _ in range(batches)] for d in devices]
    start = time.perf_counter()

    async def run(d: Device, frames: list[tuple[str, str]]) -> int:
        n = 0
        queue = iter(frames)
        pending: set[str] = set()

        async def send_next() -> None:
            nxt = next(queue, None)
            if nxt is not None:
                pending.add(nxt[0])
                await d.ws.send(nxt[1])

        for _ in range(in_flight):
            await send_next()
        while pending:
            msg = json.loads(await d.ws.recv())
            if msg["type"] == "ack" and msg["batch"] in pending:
                pending.discard(msg["batch"])
                n += msg["accepted"]
                await send_next()
        return n

    counts = await asyncio.gather(*(run(d, p) for d, p in zip(devices, payloads)))
    elapsed = time.perf_counter() - start
    for d in devices:
        await d.ws.close()
    return sum(counts) / elapsed


async def bench_fanout(
    bases: list[str], pids: list[int], *, receivers: int, pushes: int, ready: Callable[[], Any] | None = None,
    compression: bool = False,
) -> tuple[list[float], float]:
    """Push-to-arrival latency (ms) on every other connected device (receivers spread over the hubs).

    Receivers stamp bytes as they arrive and parse later (``bench/receivers.py``), so the figure is the
    server's delivery time, not the load generator's. Also returns the hubs' memory per connection (KB),
    from RSS before and after connecting.
    """
    sender = await Device.open(bases[0])
    await sender.until_done()
    before = sum(rss_mb(pid) for pid in pids)
    devices: list[Receiver] = []
    for i in range(0, receivers, 50):
        devices.extend(
            await asyncio.gather(*(open_receiver(bases[(i + k) % len(bases)], hello(), compression=compression) for k in range(min(50, receivers - i))))
        )
    sent_at: dict[str, float] = {}
    for d in devices:
        d.recording = True
    if ready is not None:  # a profiler attaches here, to the pushes alone
        ready()
    for _ in range(pushes):
        row = str(uuid.uuid4())
        sender.ms += 1
        change = {"t": "accounts", "r": row, "f": "name", "v": "x", "h": str(pack(sender.ms, 0)), "s": sender.site, "c": 1, "b": "0"}
        sent_at[row] = time.perf_counter()
        await sender.push([change])
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # the last frames arrive
    latencies: list[float] = []
    for d in devices:
        got = 0
        for stamp, msg in d.recorded():
            for c in msg.get("changes", []) if msg["type"] == "changes" else []:
                if c["s"] == sender.site and c["r"] in sent_at:
                    latencies.append((stamp - sent_at[c["r"]]) * 1000)
                    got += 1
        if got != pushes:
            raise RuntimeError(f"a receiver got {got} of {pushes} pushes")
    per_conn_kb = (sum(rss_mb(pid) for pid in pids) - before) * 1024 / receivers
    await sender.ws.close()
    for d in devices:
        d.close()
    return latencies, per_conn_kb


def hello(cursor: str | None = None) -> dict[str, Any]:
    """A device's hello with a fresh site and token."""
    site = "bench-" + uuid.uuid4().hex[:10]
    token = issue_token(SECRET, user_id=str(uuid.uuid4()), site=site)
    return {"type": "hello", "protocol": 1, "schema": 1, "token": token, "site": site, "cursor": cursor, "live": True}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def preload(base: str, rows: int) -> None:
    d = await Device.open(base, live=False)
    await d.until_done()
    for i in range(0, rows, 1000):
        await d.push(d.changes(min(1000, rows - i)))
    await d.ws.close()


async def bench_initial_sync(base: str) -> tuple[float, int, int]:
    """Seconds, rows and bytes for a fresh device's whole initial sync (wire only)."""
    start = time.perf_counter()
    d = await Device.open(base, live=False)
    items, size, _ = await d.until_done()
    elapsed = time.perf_counter() - start
    await d.ws.close()
    return elapsed, items, size


def bytes_per_change() -> tuple[float, float]:
    """Encoded bytes of one field change on the wire, raw and deflated in a 500-change frame."""
    d = Device(None, "bench-site-0001")
    frame = json.dumps({"type": "push", "batch": str(uuid.uuid4()), "changes": d.changes(100)}, separators=(",", ":"))
    return len(frame) / 500, len(zlib.compress(frame.encode(), 6)) / 500


def run_async(fn: Callable[[], Awaitable[Any]]) -> Any:
    """Run a load generator on uvloop (the cheapest event loop: the load generator shares the server's cores)."""
    return uvloop.run(fn())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--pg", action="store_true", help="use a fresh schema on the local PostgreSQL")
    parser.add_argument("--hubs", type=int, default=1, help="hub processes sharing the store (an SQLite file or PostgreSQL)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["ingest", "fanout", "initial", "bytes"], default=None)
    parser.add_argument("--rows", type=int, default=100_000, help="rows for the initial-sync benchmark")
    parser.add_argument("--devices", default="100,1000", help="receiver counts for fan-out")
    parser.add_argument("--deflate", action="store_true", help="fan-out receivers negotiate permessage-deflate, as the SDK does")
    args = parser.parse_args(argv)
    if args.pg and args.database_url is None:
        return run_all(args, "PostgreSQL", pg_schema)
    if args.database_url is not None:
        store = "PostgreSQL" if args.database_url.startswith("postgresql") else "SQLite (WAL)"
        return run_all(args, store, lambda: nullcontext(args.database_url))
    return run_all(args, "SQLite (WAL)", sqlite_file)


@contextmanager
def sqlite_file() -> Iterator[str]:
    """A URL on a new SQLite file (shared by every hub process of a benchmark)."""
    tmp = tempfile.mkdtemp(prefix="fsbench-")
    try:
        yield f"sqlite:///{tmp}/bench.db"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_all(args: argparse.Namespace, store: str, fresh: Callable[[], AbstractContextManager[str | None]]) -> int:
    """Each benchmark on a store of its own from ``fresh()`` (a new SQLite file or PostgreSQL schema), so that
    fan-out receivers do not first download what the ingest benchmark wrote."""
    print(f"FieldSync hub benchmarks; store: {store}; hubs: {args.hubs}; {os.cpu_count()} CPUs; runs={args.runs}")

    if args.only in (None, "bytes"):
        raw, deflated = bytes_per_change()
        print(f"{'bytes per field change on the wire':<44} raw {raw:,.0f} B, deflated {deflated:,.0f} B (500-change push frame)")

    if args.only in (None, "ingest"):
        for window, random_ids in ((1, False), (2, False), (1, True)):  # each on a fresh store: equal footing
            with fresh() as url, servers(url, args.hubs) as hubs:
                bases = [b for b, _ in hubs]
                rates = [
                    run_async(lambda: bench_ingest(bases, pushers=4, batches=25, rows_per_batch=100, in_flight=window, random_ids=random_ids))
                    for _ in range(args.runs)
                ]
                ids = ", random ids" if random_ids else ""
                print(summary(f"ingest (4 devices, 500-change batches, {window} in flight{ids})", rates, "changes/s"))
                rss = sum(rss_mb(p.pid) for _, p in hubs)
        print(f"{'hub RSS after ingest':<44} {rss:,.0f} MB over {args.hubs} process(es)")

    if args.only in (None, "fanout"):
        for n in [int(x) for x in args.devices.split(",")]:
            with fresh() as url, servers(url, args.hubs) as hubs:
                bases, pids = [b for b, _ in hubs], [p.pid for _, p in hubs]
                p50s, p99s, per_conn = [], [], []
                for _ in range(args.runs):
                    lat, kb = run_async(lambda: bench_fanout(bases, pids, receivers=n, pushes=20, compression=args.deflate))
                    p50s.append(pct(lat, 0.50))
                    p99s.append(pct(lat, 0.99))
                    per_conn.append(kb)
                how = ", deflate" if args.deflate else ""
                print(summary(f"fan-out p50, {n} devices{how}", p50s, "ms"))
                print(summary(f"fan-out p99, {n} devices{how}", p99s, "ms"))
                print(summary(f"hub memory per connection, {n} devices", per_conn, "KB"))
                print(f"{'hub RSS with ' + str(n) + ' connections (after)':<44} {sum(rss_mb(p) for p in pids):,.0f} MB")

    if args.only in (None, "initial"):
        with fresh() as url, servers(url, args.hubs) as hubs:
            base, proc = hubs[0]
            t0 = time.perf_counter()
            run_async(lambda: preload(base, args.rows))
            print(f"{'preload ' + format(args.rows, ',') + ' rows':<44} {time.perf_counter() - t0:,.1f} s")
            results = [run_async(lambda: bench_initial_sync(hubs[-1][0])) for _ in range(args.runs)]
            print(summary(f"initial sync of {args.rows:,} rows (wire only)", [r[0] for r in results], "s"))
            print(f"{'initial sync bytes (uncompressed frames)':<44} {results[0][2] / 1e6:,.1f} MB for {results[0][1]:,} rows")
            print(f"{'hub RSS after initial syncs':<44} {rss_mb(proc.pid):,.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
