"""A plan's figures: one pure definition for the plan as it stands and the optimizer's."""

from __future__ import annotations

from scheduling.plan_kpis import PlannedVisit, kpis_sum, plan_kpis
from tests.solver.helpers import DAY_END, DAY_START, job, problem, tech

LATE_DUE = DAY_START + 60


def test_late_placed_and_urgent_unplaced_jobs_are_at_risk() -> None:
    late = job("late", 10, priority=3, sla_due=LATE_DUE)
    on_time = job("on-time", 20, priority=1, sla_due=DAY_END)
    no_end = job("no-end", 25, priority=3, sla_due=LATE_DUE)
    urgent_left = job("urgent-left", 30, priority=2)
    routine_left = job("routine-left", 40, priority=4)
    day = problem([late, on_time, no_end, urgent_left, routine_left], [tech("a"), tech("b")])
    visits = [
        PlannedVisit(late, LATE_DUE + 1, 60),
        PlannedVisit(on_time, DAY_START + 200, 45),
        PlannedVisit(no_end, None, 30),  # the plan does not say when it ends: never late
    ]

    kpis = plan_kpis(day, visits, travel_minutes=95, travel_km=41.26)

    assert kpis == {
        "jobs": 5,
        "placed": 3,
        "unplaced": 2,
        "travel_minutes": 95,
        "travel_km": 41.3,
        "service_minutes": 135,
        "shift_minutes": 2 * (DAY_END - DAY_START),
        "sla_at_risk": 2,  # "late", and the P2 left without a technician
    }


def test_a_runs_figures_add_its_parts_and_give_the_utilisation() -> None:
    parts = [
        {"placed": 2, "travel_km": 10.04, "service_minutes": 120, "shift_minutes": 540},
        {"placed": 1, "travel_km": 5.03, "service_minutes": 60, "shift_minutes": 0},
    ]
    assert kpis_sum(parts) == {
        "placed": 3,
        "travel_km": 15.1,
        "service_minutes": 180,
        "shift_minutes": 540,
        "utilisation": 0.333,
    }
    assert kpis_sum([])["utilisation"] == 0.0
