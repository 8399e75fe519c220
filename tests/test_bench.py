"""The sync benchmarks still run end to end (at toy sizes): they produce figures, whatever those are."""

from __future__ import annotations

import pytest

from bench import pushcost
from bench.hub import bench_fanout, bench_ingest, run_async, server

pytestmark = pytest.mark.timeout(180)


def test_pushcost_measures_the_push_path(capsys: pytest.CaptureFixture[str]) -> None:
    """bench.pushcost applies its frames to a real store and prints a per-change figure."""
    assert pushcost.main(["--runs", "1", "--batches", "2"]) == 0
    assert "push path, CPU per field change" in capsys.readouterr().out


def test_pushcost_busy_compares_against_an_idle_run(capsys: pytest.CaptureFixture[str]) -> None:
    """bench.pushcost --busy prints the idle figure and the busy-GIL figure with their ratio."""
    assert pushcost.main(["--runs", "1", "--batches", "2", "--busy"]) == 0
    out = capsys.readouterr().out
    assert "push path, wall per change, GIL busy" in out and "ratio" in out


def test_hub_benchmarks_push_and_fan_out_against_a_real_server() -> None:
    """bench.hub's ingest acks every change it pushes, and every receiver gets every fanned-out change."""
    with server(None) as (base, proc):
        rate = run_async(lambda: bench_ingest([base], pushers=2, batches=2, rows_per_batch=10))
        assert rate > 0
        windowed = run_async(lambda: bench_ingest([base], pushers=2, batches=3, rows_per_batch=10, in_flight=2))
        assert windowed > 0  # every push of both devices acked with two outstanding at a time (else it waits forever)
        assert run_async(lambda: bench_ingest([base], pushers=2, batches=2, rows_per_batch=10, random_ids=True)) > 0
        latencies, _ = run_async(lambda: bench_fanout([base], [proc.pid], receivers=3, pushes=2))
        assert len(latencies) == 6 and all(lat >= 0 for lat in latencies)


def test_sdk_benchmark_syncs_a_replica_and_reconnects(capsys: pytest.CaptureFixture[str]) -> None:
    """bench.sdk fills a server, syncs a fresh replica to the last row, edits it offline and pushes every edit."""
    from bench import sdk

    assert sdk.main(["--rows", "300", "--edits", "20", "--runs", "1"]) == 0
    assert "first sync of 300 rows into a replica" in capsys.readouterr().out


@pytest.mark.postgres
def test_hub_benchmark_runs_every_figure_on_two_postgresql_hubs(capsys: pytest.CaptureFixture[str]) -> None:
    """bench.hub --pg --hubs 2 prints every figure, each benchmark on a fresh schema (receivers start from an empty log)."""
    from bench import hub

    assert hub.main(["--pg", "--hubs", "2", "--runs", "1", "--devices", "3", "--rows", "50"]) == 0
    out = capsys.readouterr().out
    for figure in ("ingest (4 devices", "fan-out p99, 3 devices", "initial sync of 50 rows (wire only)"):
        assert figure in out
    assert "for 50 rows" in out  # the initial-sync schema held the preloaded rows only, not the ingest's
