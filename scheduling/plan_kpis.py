"""A plan's figures, the one definition: what a run shows before (the plan as it stands) and
after (the optimizer's), summed over the run's parts. Pure: solver dataclasses in, a dict out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from contracts.models import URGENT_MAX_PRIORITY
from scheduling.solver import model as solver


@dataclass(frozen=True)
class PlannedVisit:
    """One job placed in a plan: when its work ends (minutes, the problem's clock; None when
    the plan does not say, which is never late) and how long the work takes."""

    job: solver.Job
    end: int | None
    service_minutes: int


def plan_kpis(
    problem: solver.Problem, visits: Sequence[PlannedVisit], *, travel_minutes: int, travel_km: float
) -> dict[str, Any]:
    """Jobs, placed and unplaced, travel, service and shift minutes, and SLA at risk: placed
    jobs that end after their SLA due time, and urgent jobs left without a technician."""
    placed = {visit.job.id for visit in visits}
    late = sum(1 for v in visits if v.job.sla_due is not None and v.end is not None and v.end > v.job.sla_due)
    urgent_unplaced = sum(
        1 for job in problem.jobs if job.id not in placed and job.priority <= URGENT_MAX_PRIORITY
    )
    return {
        "jobs": len(problem.jobs),
        "placed": len(placed),
        "unplaced": len(problem.jobs) - len(placed),
        "travel_minutes": int(travel_minutes),
        "travel_km": round(travel_km, 1),
        "service_minutes": sum(visit.service_minutes for visit in visits),
        "shift_minutes": sum(s.end - s.start for tech in problem.technicians for s in tech.shifts),
        "sla_at_risk": late + urgent_unplaced,
    }


def solved_plan_kpis(plan: solver.Plan, problem: solver.Problem) -> dict[str, Any]:
    """The figures of the optimizer's plan."""
    jobs = {job.id: job for job in problem.jobs}
    visits = [
        PlannedVisit(jobs[visit.job_id], visit.end, visit.end - visit.start)
        for route in plan.routes
        for visit in route.visits
    ]
    return plan_kpis(problem, visits, travel_minutes=plan.kpis.travel_minutes, travel_km=plan.kpis.travel_km)


def kpis_sum(parts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The figures of a run from those of its parts, with the utilisation they make."""
    total: dict[str, Any] = {}
    for kpis in parts:
        for key, value in kpis.items():
            total[key] = total.get(key, 0) + value
    total["travel_km"] = round(total.get("travel_km", 0), 1)
    shift = total.get("shift_minutes", 0)
    total["utilisation"] = round(total.get("service_minutes", 0) / shift, 3) if shift else 0.0
    return total
