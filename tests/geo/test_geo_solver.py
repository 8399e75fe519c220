"""The engine module: plain problems in, plain routes out; VRPLIB instances on the DIMACS convention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fieldsync.geo import solver

SOLOMON = Path("/work/shared/bench-data/vrptw/solomon")


def _line(n: int) -> np.ndarray:
    x = np.arange(n)
    return (np.abs(x[:, None] - x[None, :]) * 100).astype(np.int64)


def test_group_variant_with_higher_prize_wins() -> None:
    """Of two variants of one account the solver takes the one with the higher prize when travel is equal."""
    m = _line(2)
    nodes = (solver.Node(1, 10, 500, 600, prize=1800, required=False, group=0),
             solver.Node(1, 10, 0, 10_000, prize=0, required=False, group=0))
    out = solver.solve(solver.Problem(m, m, nodes, (solver.Vehicle(0, 0, 0, 10_000),), (True,)), solver.Budget(seconds=0.2))
    assert out.feasible and out.routes == ((0,),)


def test_impossible_required_node_is_reported_infeasible() -> None:
    """A required node whose window closes before it can be reached yields feasible=False, not a route."""
    m = _line(3)
    nodes = (solver.Node(2, 10, 0, 50),)
    out = solver.solve(solver.Problem(m, m, nodes, (solver.Vehicle(0, 0, 0, 10_000),)), solver.Budget(seconds=0.2))
    assert not out.feasible


def test_optional_node_is_skipped_when_not_worth_it() -> None:
    """An optional node whose prize is below its round trip stays out; a richer one is visited."""
    m = _line(3)
    nodes = (solver.Node(2, 0, 0, 10_000, prize=100, required=False), solver.Node(1, 0, 0, 10_000, prize=1_000, required=False))
    out = solver.solve(solver.Problem(m, m, nodes, (solver.Vehicle(0, 0, 0, 10_000),)), solver.Budget(seconds=0.2))
    assert out.routes == ((1,),)


@pytest.mark.skipif(not (SOLOMON / "C101.vrp").exists(), reason="benchmark data not present")
def test_solomon_c101_is_solved_feasibly_and_not_below_the_optimum() -> None:
    """C101 in one second gives a feasible 10-route plan whose DIMACS distance is not below the proven optimum 827.3."""
    res = solver.solve_vrplib(SOLOMON / "C101.vrp", seconds=1.0, seed=1)
    assert res.feasible and res.routes <= 10
    assert res.objective >= 827.3 - 1e-6
