"""Solver behaviour: every plan passes the independent checker, and every `capacity` reason is
true (an independent search finds no room for the job); no input makes the model fail as a
whole."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.solver import check_plan, insert_job, solve
from scheduling.solver import planner as planner_module
from scheduling.solver.generator import generate
from scheduling.solver.instance import compile_problem
from scheduling.solver.model import (
    MINUTES_PER_DAY,
    Kpis,
    Location,
    Plan,
    Problem,
    Route,
    Shift,
    SolveParams,
    SolverStats,
    Visit,
)
from scheduling.solver.ortools_engine import Solved

from .helpers import DAY_END, DAY_START, LUNCH, false_capacity_claims, job, problem, tech

QUICK = SolveParams(time_limit_s=1.0)


def solved(prob: Problem, params: SolveParams = QUICK) -> Plan:
    plan = solve(prob, params)
    assert plan.stats.status not in ("NO_SOLUTION", "FAIL"), plan.stats
    assert check_plan(prob, plan) == []
    assert false_capacity_claims(prob, plan) == []
    return plan


def reasons(plan: Plan) -> dict[str, str]:
    return {u.job_id: u.reason for u in plan.unplaced}


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    jobs=st.integers(1, 40),
    technicians=st.integers(1, 6),
    days=st.integers(1, 2),
    seed=st.integers(0, 10_000),
    pinned_share=st.sampled_from([0.0, 0.2]),
)
def test_generated_plans_pass_the_checker(
    jobs: int, technicians: int, days: int, seed: int, pinned_share: float
) -> None:
    prob = generate(jobs, technicians, days, seed, pinned_share)
    plan = solved(prob)
    assert plan.kpis.placed + plan.kpis.unplaced == jobs


def test_skills_decide_the_technician() -> None:
    prob = problem([job("J", 5, skills={"cnc": 3})], [tech("near", {"cnc": 2}), tech("far", {"cnc": 3})])
    assert solved(prob).job_route() == {"J": ("far", 0)}


def test_windows_and_lunch_are_honoured() -> None:
    jobs = [job("AM", 10, windows=((DAY_START, 11 * 60),)), job("PM", 10, windows=((14 * 60, DAY_END),))]
    plan = solved(problem(jobs, [tech("A", lunch=LUNCH)]))
    (route,) = plan.routes
    assert [v.job_id for v in route.visits] == ["AM", "PM"]
    assert route.break_start is not None and 12 * 60 <= route.break_start <= 13 * 60 + 30


def test_multiple_windows_pick_the_open_one() -> None:
    windows = ((DAY_START, DAY_START + 5), (15 * 60, DAY_END))
    plan = solved(problem([job("J", 30, windows=windows)], [tech("A")]))
    assert plan.routes[0].visits[0].start >= 15 * 60


def test_pinned_technician_and_day() -> None:
    two_days = (Shift(DAY_START, DAY_END), Shift(MINUTES_PER_DAY + DAY_START, MINUTES_PER_DAY + DAY_END))
    wide = ((DAY_START, MINUTES_PER_DAY + DAY_END),)
    jobs = [job("J", 5, windows=wide, pinned_technician="far", pinned_day=1)]
    prob = problem(
        jobs, [tech("near", shifts=two_days), tech("far", home=job("x", 60).location, shifts=two_days)]
    )
    assert solved(prob).job_route() == {"J": ("far", 1)}


def test_pinned_position_overrides_the_natural_order() -> None:
    morning = ((DAY_START, DAY_START + 120),)
    free = [job("near", 5, windows=morning), job("far", 50)]
    assert [v.job_id for v in solved(problem(free, [tech("A")])).routes[0].visits] == ["near", "far"]
    pinned = [free[0], replace(free[1], pinned_position=0, priority=1)]
    plan = solved(problem(pinned, [tech("A")]))
    assert [v.job_id for v in plan.routes[0].visits] == ["far"]  # "near" no longer fits
    assert reasons(plan) == {"near": "capacity"}


def test_preferred_technician_wins_a_small_detour() -> None:
    other_home = job("x", 0, 3).location
    jobs = [job("J", 10, preferred_technicians=("B",))]
    prob = problem(jobs, [tech("A"), tech("B", home=other_home)])
    assert solved(prob).job_route() == {"J": ("B", 0)}


def test_capacity_drops_p4_and_keeps_p1() -> None:
    short_day = (Shift(DAY_START, DAY_START + 120),)
    jobs = [job("P4", 5, service=90, priority=4), job("P1", 5, service=90, priority=1)]
    plan = solved(problem(jobs, [tech("A", shifts=short_day)]))
    assert set(plan.job_route()) == {"P1"}
    assert reasons(plan) == {"P4": "capacity"}


def test_each_pre_check_reason() -> None:
    """Each reason on a case built for it, with its parameters (codes and numbers, no text)."""
    jobs = [
        job("skill", 5, skills={"smt": 1}),
        job("off_duty", 5, skills={"hvac": 2}),
        job("night", 5, windows=((20 * 60, 22 * 60),)),
        job("far", 300, windows=((DAY_START, DAY_START + 60),), service=30),
        job("ok", 5),
    ]
    # "B" holds hvac 2 but has no shift left (its day is over): the skill exists, the time does not.
    plan = solved(problem(jobs, [tech("A"), tech("B", {"hvac": 2}, shifts=())]))
    assert {u.job_id: (u.reason, u.params) for u in plan.unplaced} == {
        "skill": ("no_skilled_technician", {"skills": {"smt": 1}, "pinned": False}),
        "off_duty": ("no_shift_time", {"qualified": 1, "pinned": False}),
        "night": ("outside_all_shifts", {"service_minutes": 60}),
        "far": ("unreachable_in_window", {"service_minutes": 30}),
    }


def test_pinned_job_reasons_name_its_technician() -> None:
    jobs = [
        job("needs_cnc", 5, skills={"cnc": 1}, pinned_technician="A"),
        job("gone_home", 5, pinned_technician="B"),
    ]
    plan = solved(problem(jobs, [tech("A"), tech("B", shifts=()), tech("C", {"cnc": 1})]))
    assert {u.job_id: (u.reason, u.params["pinned"]) for u in plan.unplaced} == {
        "needs_cnc": ("no_skilled_technician", True),
        "gone_home": ("no_shift_time", True),
    }


def test_lunch_counts_when_a_job_alone_is_judged() -> None:
    """8:00-12:30 leaves 270 min; lunch (12:00-13:30 start) must fit too: a 270-min job cannot."""
    morning = (Shift(DAY_START, 12 * 60 + 30),)
    lunch = replace(LUNCH, latest_start=12 * 60)
    plan = solved(
        problem(
            [job("long", 0, service=270), job("short", 0, service=60)],
            [tech("A", shifts=morning, lunch=lunch)],
        )
    )
    assert reasons(plan) == {"long": "unreachable_in_window"}


def test_lateness_prefers_the_urgent_job_first() -> None:
    jobs = [job("late_ok", 5, priority=4), job("urgent", 5, priority=1, sla_due=DAY_START + 70)]
    plan = solved(problem(jobs, [tech("A")]))
    assert plan.routes[0].visits[0].job_id == "urgent"
    assert plan.kpis.lateness_minutes == 0


def test_insert_job_keeps_the_accepted_plan() -> None:
    prob = generate(40, 6, 1, seed=3)
    accepted = solved(prob)
    urgent = replace(prob.jobs[0], id="URGENT", priority=1, sla_due=None, preferred_technicians=())
    plan, moved = insert_job(prob, accepted, urgent, SolveParams(time_limit_s=1.0, engine="ortools"))
    extended = replace(prob, jobs=[*prob.jobs, urgent])
    assert check_plan(extended, plan) == []
    assert "URGENT" in plan.job_route()
    assert moved <= 2


def test_auto_engine_warm_starts_pure_vrptw() -> None:
    jobs = [job(f"J{i}", 3 * i, 2 * (i % 3)) for i in range(1, 9)]
    prob = problem(jobs, [tech("A"), tech("B")])
    plan = solved(prob, SolveParams(time_limit_s=1.5, engine="auto"))
    assert plan.stats.engine == "pyvrp+ortools"
    assert plan.kpis.placed == len(jobs)


def test_insert_job_displaces_the_lowest_priority() -> None:
    short_day = (Shift(DAY_START, DAY_START + 200),)
    prob = problem(
        [job("P3", 5, service=90, priority=3), job("P4", 5, service=90, priority=4)],
        [tech("A", shifts=short_day)],
    )
    accepted = solved(prob)
    assert set(accepted.job_route()) == {"P3", "P4"}
    urgent = job("URGENT", 5, service=90, priority=1)
    plan, moved = insert_job(prob, accepted, urgent, SolveParams(time_limit_s=0.5, engine="ortools"))
    assert check_plan(replace(prob, jobs=[*prob.jobs, urgent]), plan) == []
    assert set(plan.job_route()) == {"URGENT", "P3"}
    assert moved == 1
    assert {u.job_id: u.reason for u in plan.unplaced} == {"P4": "capacity"}


def test_insert_job_leaves_an_accepted_job_the_model_cannot_take() -> None:
    """The plan on the board may hold a job the model finds out of reach on its own (planned
    by hand, or the day has gone on): it stays where it is, reported with its reason, and
    nothing new goes on that technician's day."""
    prob = problem(
        [job("FAR", 500, priority=3), job("NEAR", 5, priority=3), job("B1", 10, priority=3)],
        [tech("A"), tech("B")],
    )

    def route(tech_id: str, visits: list[Visit]) -> Route:
        return Route(tech_id, 0, 0, DAY_START, DAY_END, visits, None, 0, 0.0)

    accepted = Plan(
        [
            route("A", [Visit("FAR", 540, 540, 600, 0, 0.0), Visit("NEAR", 660, 660, 720, 0, 0.0)]),
            route("B", [Visit("B1", 540, 540, 600, 0, 0.0)]),
        ],
        [],
        Kpis(0, 0.0, 0, 3, 0),
        SolverStats("current", 0.0, None, None, "accepted"),
    )
    urgent = job("URGENT", 5, service=30, priority=1)
    plan, moved = insert_job(prob, accepted, urgent, SolveParams(time_limit_s=0.5, engine="ortools"))
    assert check_plan(replace(prob, jobs=[*prob.jobs, urgent]), plan) == []
    assert reasons(plan) == {"FAR": "unreachable_in_window"}
    assert plan.job_route() == {"NEAR": ("A", 0), "B1": ("B", 0), "URGENT": ("B", 0)}
    assert moved == 0


def test_solver_package_never_imports_django() -> None:
    import pathlib
    import re

    import scheduling.solver as package

    django_import = re.compile(r"^\s*(from|import)\s+django\b", re.MULTILINE)
    for source in pathlib.Path(package.__file__).parent.glob("*.py"):
        assert not django_import.search(source.read_text()), source.name


def test_duplicate_job_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        solve(problem([job("J", 1), job("J", 2)], [tech("A")]), QUICK)


# --- the model never fails as a whole ---------------------------------------------------------------


def test_a_technician_day_that_cannot_get_home_in_its_shift_is_left_out() -> None:
    """The issue's Hangzhou-Jiaxing day: one technician's live position is in Beijing, so
    the drive home alone is longer than the shift. The model used to be infeasible as a whole
    (NO_SOLUTION, nothing placed); that day is left out and the others are planned."""
    beijing = Location(2000.0, 0.0)  # on the plane: 2,000 min away, the shift is 540
    stranded = tech("far", {"cnc": 1}, shifts=(Shift(DAY_START, DAY_END, start_location=beijing),))
    prob = problem([job("J1", 5), job("J2", 10), job("CNC", 15, skills={"cnc": 1})], [stranded, tech("near")])
    plan = solved(prob)
    assert set(plan.job_route()) == {"J1", "J2"}
    assert reasons(plan) == {"CNC": "unreachable_in_window"}


def test_a_day_too_short_for_the_drive_home_and_lunch_is_left_out() -> None:
    """The drive home (520 min) fits the 540-min shift, but not with lunch, which cannot be
    taken after the return (13:30 is its latest start): that day is no vehicle."""
    far_home = tech("A", lunch=LUNCH)
    far_home = replace(far_home, end_location=Location(520.0, 0.0))
    plan = solved(problem([job("J", 1, service=10)], [far_home, tech("B", lunch=LUNCH)]))
    assert plan.job_route() == {"J": ("B", 0)}
    assert len(compile_problem(problem([job("J", 1)], [far_home])).vehicles) == 0


def test_a_preference_no_one_can_meet_does_not_make_the_plan_infeasible() -> None:
    """OR-Tools 9.15: a job that costs extra on every vehicle of a per-vehicle dimension can no
    longer be left unperformed. X and Y prefer a technician not in the plan and only A can do
    them, but not both: the whole model was infeasible (NO_SOLUTION); now one is left out."""
    prob = problem(
        [
            job("X", 10, service=300, skills={"cnc": 1}, priority=3, preferred_technicians=("Z",)),
            job("Y", 20, service=300, skills={"cnc": 1}, priority=4, preferred_technicians=("Z",)),
            job("W", 5, priority=4, preferred_technicians=("A",)),
        ],
        [tech("A", {"cnc": 1}), tech("B")],
    )
    plan = solved(prob)
    assert plan.job_route() == {"X": ("A", 0), "W": ("A", 0)}  # W prefers A
    assert reasons(plan) == {"Y": "capacity"}


def test_a_pinned_position_no_route_can_hold_leaves_that_job_out() -> None:
    plan = solved(problem([job("J", 5, pinned_position=3), job("K", 6)], [tech("A")]))
    assert set(plan.job_route()) == {"K"} and reasons(plan) == {"J": "capacity"}


def test_jobs_the_search_left_out_are_fitted_into_the_routes() -> None:
    """A search that ends with every job unperformed (the last-resort construction with no
    time left) used to report them all as `capacity` with every technician idle, as on the
    board in the issue; each is fitted where it still goes."""
    prob = problem(
        [job(f"J{i}", 5 * i, service=60, priority=1 + i % 4) for i in range(1, 7)],
        [tech("A", lunch=LUNCH), tech("B")],
    )
    inst = compile_problem(prob)
    nothing = Solved(
        routes=[[] for _ in inst.vehicles],
        starts=[[] for _ in inst.vehicles],
        departures=[v.start for v in inst.vehicles],
        returns=[v.start for v in inst.vehicles],
        break_starts=[None for _ in inst.vehicles],
        objective=0,
        status="SUCCESS",
        first_solution_at=None,
    )
    plan = planner_module.build_plan(inst, nothing, "ortools", 0.0)
    assert check_plan(prob, plan) == []
    assert false_capacity_claims(prob, plan) == []
    assert plan.kpis.placed == 6 and plan.stats.repaired == 6


def test_an_engine_that_finds_nothing_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(planner_module, "run_ortools", lambda *args: None)
    prob = problem([job("J", 5), job("smt", 5, skills={"smt": 1})], [tech("A")])
    plan = solve(prob, QUICK)
    assert plan.stats.status == "NO_SOLUTION" and plan.routes == []
    assert reasons(plan) == {"J": "no_plan", "smt": "no_skilled_technician"}
    assert check_plan(prob, plan) == []


def test_a_shift_starts_where_it_says_and_later_days_from_home() -> None:
    """Today's shift starts from the live position; tomorrow's from home."""
    two_days = (
        Shift(DAY_START, DAY_END, start_location=Location(100.0, 0.0)),
        Shift(MINUTES_PER_DAY + DAY_START, MINUTES_PER_DAY + DAY_END),
    )
    wide = ((DAY_START, MINUTES_PER_DAY + DAY_END),)
    jobs = [
        job("today", 100, windows=((DAY_START, DAY_END),)),
        job("tomorrow", 0, windows=wide, pinned_day=1),
    ]
    plan = solved(problem(jobs, [tech("A", shifts=two_days)]))
    first = {r.day: r.visits[0] for r in plan.routes}
    assert first[0].job_id == "today" and first[0].travel_minutes == 0
    assert first[1].job_id == "tomorrow" and first[1].travel_minutes == 0
