"""Solomon reader, verifier and a short solve."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduling.solver import check_plan, solve
from scheduling.solver.model import SolveParams
from scheduling.solver.solomon import read_solomon, to_problem, total_distance, verify
from scheduling.solver.travel import GreatCircleProvider

DATA = Path("/work/shared/data/vrptw/solomon")
C101 = DATA / "C101.txt"

needs_data = pytest.mark.skipif(not C101.exists(), reason="Solomon data not present")


@needs_data
@pytest.mark.parametrize("engine", ["ortools", "auto"])
def test_short_solve_passes_the_solomon_verifier(engine: str) -> None:
    inst = read_solomon(C101)
    prob = to_problem(inst)
    plan = solve(prob, SolveParams(time_limit_s=2.0, engine=engine))  # type: ignore[arg-type]
    routes = [[int(v.job_id) for v in r.visits] for r in plan.routes]
    assert verify(inst, routes) == []
    assert check_plan(prob, plan) == []
    assert total_distance(inst, routes) < 1.1 * 828.94


@needs_data
def test_verifier_rejects_bad_routes() -> None:
    inst = read_solomon(C101)
    everyone = list(range(1, inst.n_customers + 1))
    assert any("exactly once" in e for e in verify(inst, [everyone[:-1]]))
    assert any("capacity" in e for e in verify(inst, [everyone]))


def test_great_circle_shanghai_hangzhou() -> None:
    from scheduling.solver.model import Location

    minutes, km = GreatCircleProvider(detour_factor=1.0, speed_kmh=60).matrices(
        [Location(31.23, 121.47), Location(30.27, 120.15)]
    )
    assert 160 < km[0, 1] < 170
    assert minutes[0, 1] == int(-(-km[0, 1] // 1))  # ceiled minutes at 60 km/h
    assert minutes[0, 0] == 0
