"""The checker catches each kind of violation on hand-made plans."""

from __future__ import annotations

from dataclasses import replace

import pytest

from scheduling.solver import check_plan
from scheduling.solver.model import Kpis, Location, Plan, Problem, Route, SolverStats, Visit

from .helpers import LUNCH, job, problem, tech


def base_problem() -> Problem:
    return problem(
        [
            job("J1", 10, skills={"hvac": 1}),
            job("J2", 20, windows=((600, 900),), skills={"hvac": 2}),
            job("J3", 0, 10, service=30, skills={"cnc": 1}, pinned_technician="B"),
        ],
        [tech("A", {"hvac": 2}, lunch=LUNCH), tech("B", {"cnc": 1})],
    )


def route_a(**changes: object) -> Route:
    visits = [Visit("J1", 490, 490, 550, 10, 10.0), Visit("J2", 560, 600, 660, 10, 10.0)]
    route = Route("A", 0, 0, 480, 760, visits, 720, 20, 20.0)
    return replace(route, **changes)  # type: ignore[arg-type]


def route_b() -> Route:
    return Route("B", 0, 0, 480, 530, [Visit("J3", 490, 490, 520, 10, 10.0)], None, 10, 10.0)


def plan(*routes: Route) -> Plan:
    kpis = Kpis(0, 0.0, 0, 0, 0)
    return Plan(list(routes), [], kpis, SolverStats("hand", 0.0, None, None, "hand"))


def kinds(prob: Problem, bad: Plan) -> set[str]:
    return {v.kind for v in check_plan(prob, bad)}


def test_valid_plan_passes() -> None:
    assert check_plan(base_problem(), plan(route_a(), route_b())) == []


def test_skill() -> None:
    prob = base_problem()
    prob.jobs[0] = replace(prob.jobs[0], skills={"hvac": 3})
    assert kinds(prob, plan(route_a(), route_b())) == {"skill"}


def test_window() -> None:
    early = [route_a().visits[0], Visit("J2", 560, 570, 630, 10, 10.0)]
    assert "window" in kinds(base_problem(), plan(route_a(visits=early), route_b()))


def test_shift() -> None:
    assert kinds(base_problem(), plan(route_a(return_time=1100), route_b())) == {"shift"}


@pytest.mark.parametrize("break_start", [None, 700, 600])
def test_break(break_start: int | None) -> None:
    # None: missing; 700: before its window; 600: during J2's service.
    bad = plan(route_a(break_start=break_start), route_b())
    assert "break" in kinds(base_problem(), bad)


def test_break_that_squeezes_the_drive_home() -> None:
    # Lunch 720-750 sits in the return leg, but the route claims to be home at 745.
    squeezed = route_a(return_time=745)
    assert "break" in kinds(base_problem(), plan(squeezed, route_b()))


def test_travel_time() -> None:
    fast = [Visit("J1", 485, 485, 545, 10, 10.0), route_a().visits[1]]
    assert kinds(base_problem(), plan(route_a(visits=fast), route_b())) == {"travel_time"}


def test_overlap() -> None:
    prob = base_problem()
    prob.jobs[1] = replace(prob.jobs[1], windows=prob.jobs[0].windows)
    clash = [route_a().visits[0], Visit("J2", 540, 540, 600, 10, 10.0)]
    assert "overlap" in kinds(prob, plan(route_a(visits=clash), route_b()))


def test_pinned() -> None:
    prob = base_problem()
    prob.jobs[2] = replace(prob.jobs[2], pinned_technician="A")
    assert kinds(prob, plan(route_a(), route_b())) == {"pinned"}


def test_placed_twice() -> None:
    twice = Route(
        "B", 0, 0, 480, 560, [*route_b().visits, Visit("J1", 534, 534, 594, 15, 14.142)], None, 10, 10.0
    )
    assert "duplicate" in kinds(base_problem(), plan(route_a(), twice))


def test_missing() -> None:
    assert kinds(base_problem(), plan(route_a())) == {"missing"}


def test_pinned_position() -> None:
    prob = base_problem()
    prob.jobs[1] = replace(prob.jobs[1], pinned_position=0)
    assert kinds(prob, plan(route_a(), route_b())) == {"pinned"}


def test_a_shift_that_starts_elsewhere_is_driven_from_there() -> None:
    """B's shift starts 50 units away (its live position): the first drive is measured from
    there, not from home."""
    prob = base_problem()
    far_start = replace(prob.technicians[1].shifts[0], start_location=Location(50.0, 10.0))
    prob.technicians[1] = replace(prob.technicians[1], shifts=(far_start,))
    assert kinds(prob, plan(route_a(), route_b())) == {"travel_time"}
    from_there = Route("B", 0, 0, 480, 580, [Visit("J3", 530, 530, 560, 50, 50.0)], None, 10, 10.0)
    assert check_plan(prob, plan(route_a(), from_there)) == []
