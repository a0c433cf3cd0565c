"""Schedule runs: create, solve (per territory, in parallel), accept, and urgent insertion.

The solver runs outside any transaction (it takes seconds); its answer is written in one
short transaction. Accepting a plan goes through the work-order services, so every change
is versioned and audited; a work order changed since the run read it is left alone and
reported as a conflict. Lock order: technician → work order → contract.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerUnavailable

from fieldservice import clock
from fieldservice.errors import Conflict, DomainError, Invalid
from scheduling import board, reasons, selectors
from scheduling.models import Assignment, ScheduleRun, Technician, Territory
from scheduling.solver import check_plan, insert_job, solve
from scheduling.solver import model as solver
from scheduling.solver.travel import provider_for
from tickets import services as work_orders
from tickets.models import WorkOrder

logger = logging.getLogger(__name__)

RunStatus = ScheduleRun.Status
ALL_TERRITORIES = "all"
MAX_DAYS = 14
MAX_TIME_LIMIT_S = 300
QUEUE_UNAVAILABLE = "The task queue is unavailable; start the run again in a moment."


class PlanInvalid(Exception):
    """The independent checker refused a plan: a solver bug, never shown as a plan."""

    def __init__(self, violations: list[str]) -> None:
        super().__init__("; ".join(violations))
        self.violations = violations


def _violations(problem: solver.Problem, plan: solver.Plan) -> list[str]:
    return [f"{v.kind} {v.subject}: {v.message}" for v in check_plan(problem, plan)[:5]]


def _fail(run_id: int, code: str, params: dict[str, Any], detail: str) -> None:
    """End the run as failed: a code and parameters for its readers, the detail for the logs."""
    ScheduleRun.objects.filter(pk=run_id).update(
        status=RunStatus.FAILED, error_code=code, error_params=params, error=detail, finished_at=clock.now()
    )


# --- creating and solving a run ------------------------------------------------------------------


def schedule_run_create(
    *,
    by: User | None,
    first_day: dt.date,
    days: int = 1,
    territory: Territory | None = None,
    time_limit_s: int | None = None,
    enqueue: bool = True,
) -> ScheduleRun:
    if not 1 <= days <= MAX_DAYS:
        raise Invalid(f"A run covers 1 to {MAX_DAYS} days.", code="bad_days")
    time_limit_s = time_limit_s or settings.SCHEDULING_DEFAULT_TIME_LIMIT_S
    if not 1 <= time_limit_s <= MAX_TIME_LIMIT_S:
        raise Invalid(f"The time limit is 1 to {MAX_TIME_LIMIT_S} seconds.", code="bad_time_limit")
    parts = 1 if territory is not None else max(1, Territory.objects.count())
    run = ScheduleRun.objects.create(
        created_by=by,
        horizon_start=first_day,
        days=days,
        territory=territory,
        parameters={"time_limit_s": time_limit_s},
        parts_total=parts,
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue(run))
    return run


def _enqueue(run: ScheduleRun) -> None:
    from scheduling.tasks import schedule_run_solve_part

    try:
        for part in run_parts(run):
            schedule_run_solve_part.delay(run.pk, part)
    except BrokerUnavailable:
        # Redis is down: the run would stay "queued" for ever. It fails now, visibly, and
        # the dispatcher starts another; parts already queued find it failed and stop.
        logger.exception("Schedule run %s not queued: the broker is unavailable", run.pk)
        run.status, run.error, run.finished_at = RunStatus.FAILED, QUEUE_UNAVAILABLE, clock.now()
        run.error_code = reasons.QUEUE_UNAVAILABLE
        ScheduleRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(
            status=run.status, error=run.error, error_code=run.error_code, finished_at=run.finished_at
        )


def run_parts(run: ScheduleRun) -> list[str]:
    """A part is a territory id (as text), or "all" when there is nothing to split by."""
    if run.territory_id is not None:
        return [str(run.territory_id)]
    territory_ids = [str(pk) for pk in Territory.objects.order_by("pk").values_list("pk", flat=True)]
    return territory_ids or [ALL_TERRITORIES]


def schedule_run_solve_part(*, run_id: int, part: str) -> None:
    """Solve one territory of a run and store it; safe to run twice (a redelivered task)."""
    claimed = ScheduleRun.objects.filter(pk=run_id, status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).update(
        status=RunStatus.RUNNING, started_at=clock.now()
    )
    run = ScheduleRun.objects.get(pk=run_id)
    if not claimed or part in run.solver_stats.get("parts", {}):
        return
    territory = None if part == ALL_TERRITORIES else Territory.objects.get(pk=int(part))
    where = {"territory": territory.name if territory else None}
    try:
        problem, context = selectors.build_problem(
            first_day=run.horizon_start, days=run.days, territory=territory
        )
        before = plan_kpis_before(problem, context)
        plan = solve(problem, solver.SolveParams(time_limit_s=run.parameters.get("time_limit_s", 20)))
        violations = _violations(problem, plan)
        if violations:
            raise PlanInvalid(violations)
    except PlanInvalid as error:
        _fail(run_id, reasons.PLAN_INVALID, {**where, "violations": error.violations}, f"{part}: {error}")
        raise
    except Exception as error:  # the run must end as failed, with the reason, whatever broke
        _fail(run_id, reasons.ERROR, {**where, "error": str(error)}, f"{part}: {error!r}")
        raise
    if plan.stats.status == solver.STATUS_NO_SOLUTION:
        # The engine found no plan at all: storing one would unassign the day. The run fails,
        # saying so, and nothing can be accepted.
        logger.error("Schedule run %s part %s: no plan found (%s)", run_id, part, asdict(plan.stats))
        params = {**where, "status": plan.stats.status, "jobs": len(problem.jobs)}
        _fail(run_id, reasons.NO_PLAN, params, f"{part}: solver status {plan.stats.status}")
        return
    _store_part(run_id, part, problem, context, plan, before)


@transaction.atomic
def _store_part(
    run_id: int,
    part: str,
    problem: solver.Problem,
    context: selectors.ProblemContext,
    plan: solver.Plan,
    before: dict[str, Any],
) -> None:
    # Race: parts finishing together; the row lock makes exactly one of them the last.
    run = ScheduleRun.objects.select_for_update().get(pk=run_id)
    if part in run.solver_stats.get("parts", {}) or run.status != RunStatus.RUNNING:
        return
    jobs = {job.id: job for job in problem.jobs}
    Assignment.objects.bulk_create(
        Assignment(
            run=run,
            work_order=context.work_orders[visit.job_id],
            technician=context.technicians[route.technician_id],
            sequence=sequence,
            planned_start=context.moment(visit.start),
            planned_end=context.moment(visit.end),
            travel_minutes=visit.travel_minutes,
            travel_km=Decimal(str(round(visit.travel_km, 2))),
            reason={"code": reasons.ASSIGNED, "params": _reason_params(jobs[visit.job_id], route, visit)},
            work_order_version=context.work_orders[visit.job_id].version,
        )
        for route in plan.routes
        for sequence, visit in enumerate(route.visits)
    )
    run.unplaced += [
        {
            "work_order_id": int(u.job_id),
            "number": context.work_orders[u.job_id].number,
            "reason": u.reason,
            "params": u.params,
        }
        for u in plan.unplaced
    ]
    parts = run.solver_stats.setdefault("parts", {})
    parts[part] = {"stats": asdict(plan.stats), "after": _plan_kpis(plan, problem), "before": before}
    run.parts_done = F("parts_done") + 1
    run.save(update_fields=["unplaced", "solver_stats", "parts_done"])
    run.refresh_from_db(fields=["parts_done"])
    if run.parts_done >= run.parts_total:
        run.kpis = {
            "before": _sum_kpis(p["before"] for p in parts.values()),
            "after": _sum_kpis(p["after"] for p in parts.values()),
        }
        run.status, run.finished_at = RunStatus.SUCCEEDED, clock.now()
        run.save(update_fields=["kpis", "status", "finished_at"])


def _reason_params(job: solver.Job, route: solver.Route, visit: solver.Visit) -> dict[str, Any]:
    """Why this technician, and what it costs (rendered by scheduling.reasons.assignment_text)."""
    return {
        "skills": dict(sorted(job.skills.items())),
        "preferred": route.technician_id in job.preferred_technicians,
        "travel_minutes": visit.travel_minutes,
        "late_minutes": None if job.sla_due is None else max(0, visit.end - job.sla_due),
    }


def _plan_kpis(plan: solver.Plan, problem: solver.Problem) -> dict[str, Any]:
    shift_minutes = sum(shift.end - shift.start for tech in problem.technicians for shift in tech.shifts)
    service_minutes = sum(visit.end - visit.start for route in plan.routes for visit in route.visits)
    jobs = {job.id: job for job in problem.jobs}
    late = [
        visit.job_id
        for route in plan.routes
        for visit in route.visits
        if (due := jobs[visit.job_id].sla_due) is not None and visit.end > due
    ]
    at_risk = len(late) + sum(1 for u in plan.unplaced if jobs[u.job_id].priority <= 2)
    return {
        "jobs": len(problem.jobs),
        "placed": plan.kpis.placed,
        "unplaced": plan.kpis.unplaced,
        "travel_minutes": plan.kpis.travel_minutes,
        "travel_km": round(plan.kpis.travel_km, 1),
        "service_minutes": service_minutes,
        "shift_minutes": shift_minutes,
        "sla_at_risk": at_risk,
    }


def plan_kpis_before(problem: solver.Problem, context: selectors.ProblemContext) -> dict[str, Any]:
    """The same figures for the plan as it stands (scheduled and dispatched jobs in their
    planned order), so the dispatcher sees what the optimizer changes."""
    provider = provider_for(problem.travel)
    routes: dict[tuple[str, int], list[solver.Job]] = {}
    technician_of_user = {tech.user_id: tech_id for tech_id, tech in context.technicians.items()}
    for job in problem.jobs:
        work_order = context.work_orders[job.id]
        tech_id = technician_of_user.get(work_order.assigned_technician_id or 0)
        if work_order.planned_start is None or tech_id is None:
            continue
        day = context.minutes(work_order.planned_start) // solver.MINUTES_PER_DAY
        routes.setdefault((tech_id, day), []).append(job)
    technicians = {tech.id: tech for tech in problem.technicians}
    travel_minutes, travel_km, placed, at_risk = 0, 0.0, 0, 0
    for (tech_id, day), jobs in routes.items():
        jobs.sort(key=lambda job: context.work_orders[job.id].planned_start)  # type: ignore[arg-type, return-value]
        tech = technicians[tech_id]
        # From where that day's shift starts (today's: the live position), else from home.
        starts = [shift.start_location for shift in tech.shifts if shift.day == day and shift.start_location]
        stops = [
            starts[0] if starts else tech.start_location,
            *(job.location for job in jobs),
            tech.end_location,
        ]
        minutes, km = provider.matrices(stops)
        travel_minutes += int(sum(minutes[i][i + 1] for i in range(len(stops) - 1)))
        travel_km += float(sum(km[i][i + 1] for i in range(len(stops) - 1)))
        placed += len(jobs)
        for job in jobs:
            planned_end = context.work_orders[job.id].planned_end
            if job.sla_due is not None and planned_end and context.minutes(planned_end) > job.sla_due:
                at_risk += 1
    planned_ids = {job.id for jobs in routes.values() for job in jobs}
    # As after a run: urgent work left without a technician is at risk too.
    at_risk += sum(1 for job in problem.jobs if job.id not in planned_ids and job.priority <= 2)
    shift_minutes = sum(shift.end - shift.start for tech in problem.technicians for shift in tech.shifts)
    service_minutes = sum(job.service_minutes for jobs in routes.values() for job in jobs)
    return {
        "jobs": len(problem.jobs),
        "placed": placed,
        "unplaced": len(problem.jobs) - placed,
        "travel_minutes": travel_minutes,
        "travel_km": round(travel_km, 1),
        "service_minutes": service_minutes,
        "shift_minutes": shift_minutes,
        "sla_at_risk": at_risk,
    }


def _sum_kpis(parts: Any) -> dict[str, Any]:
    total: dict[str, Any] = {}
    for kpis in parts:
        for key, value in kpis.items():
            total[key] = total.get(key, 0) + value
    total["travel_km"] = round(total.get("travel_km", 0), 1)
    shift = total.get("shift_minutes", 0)
    total["utilisation"] = round(total.get("service_minutes", 0) / shift, 3) if shift else 0.0
    return total


# --- accepting a plan ---------------------------------------------------------------------------------


def _apply_or_report(
    work_order: WorkOrder, applied: list[str], conflicts: list[dict[str, Any]], change: Callable[[], Any]
) -> None:
    """Make one change of an accepted plan in its own savepoint; a refusal (the work order
    moved on since the run read it) is reported, not raised, and the rest goes on."""
    try:
        with transaction.atomic():
            change()
        applied.append(work_order.number)
    except DomainError as error:
        conflicts.append(
            {
                "work_order_id": work_order.pk,
                "number": work_order.number,
                "code": error.code,
                "message": error.message,
            }
        )


def schedule_run_accept(
    *, run: ScheduleRun, by: User | None, confirm_fewer_urgent: bool = False
) -> dict[str, Any]:
    """Apply the run's plan to its work orders in one transaction. Each work order changed
    since the run read it is reported as a conflict and left as it is.

    A plan that places fewer P1/P2 jobs than are placed now is refused (Conflict,
    `fewer_urgent_placed`) unless `confirm_fewer_urgent`: accepting it unassigns urgent work.
    """
    with transaction.atomic():
        locked = ScheduleRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != RunStatus.SUCCEEDED:
            raise Conflict(
                f"Run {run.pk} is {locked.status}; only a finished run can be accepted.", code="not_ready"
            )
        urgent = selectors.run_urgent_placed(run=locked)
        if urgent.fewer and not confirm_fewer_urgent:
            raise Conflict(
                _(
                    "This plan places %(plan)s P1/P2 jobs; %(now)s are placed now. Accepting it "
                    "would unassign urgent work: confirm to accept it anyway."
                )
                % {"plan": urgent.by_plan, "now": urgent.now},
                code="fewer_urgent_placed",
                details={"urgent_placed_now": urgent.now, "urgent_placed_by_plan": urgent.by_plan},
            )
        applied: list[str] = []
        unchanged: list[str] = []
        conflicts: list[dict[str, Any]] = []
        assignments = locked.assignments.select_related("work_order", "technician__user").order_by("pk")
        for assignment in assignments:
            work_order = assignment.work_order
            same = (
                work_order.assigned_technician_id == assignment.technician.user_id
                and work_order.planned_start == assignment.planned_start
                and work_order.status in (WorkOrder.Status.SCHEDULED, WorkOrder.Status.DISPATCHED)
            )
            if same:
                unchanged.append(work_order.number)
                continue
            _apply_or_report(
                work_order,
                applied,
                conflicts,
                partial(
                    work_orders.work_order_schedule,
                    work_order=work_order,
                    technician=assignment.technician.user,
                    planned_start=assignment.planned_start,
                    planned_end=assignment.planned_end,
                    by=by,
                    version=assignment.work_order_version,
                    reason=f"schedule run {run.pk}",
                ),
            )
        unplaced_ids = [entry["work_order_id"] for entry in locked.unplaced]
        for work_order in WorkOrder.objects.filter(pk__in=unplaced_ids, status=WorkOrder.Status.SCHEDULED):
            _apply_or_report(
                work_order,
                applied,
                conflicts,
                partial(
                    work_orders.work_order_unschedule,
                    work_order=work_order,
                    by=by,
                    version=work_order.version,
                ),
            )
        result = {"applied": len(applied), "unchanged": len(unchanged), "conflicts": conflicts}
        locked.status, locked.accepted_at, locked.accepted_by = RunStatus.ACCEPTED, clock.now(), by
        locked.kpis = {**locked.kpis, "accept": result}
        locked.save(update_fields=["status", "accepted_at", "accepted_by", "kpis"])
    return result


# --- urgent insertion --------------------------------------------------------------------------------


def schedule_insert(*, work_order: WorkOrder, by: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Place one urgent job into today's plan from the technicians' current positions,
    moving as few other jobs as it can."""
    began = time.perf_counter()
    now = now or clock.now()
    if work_order.status != WorkOrder.Status.NEW:
        raise Conflict(
            f"{work_order.number} is {work_order.status}; only a new job can be inserted.", code="not_new"
        )
    territory = Territory.objects.filter(boundary__intersects=work_order.site.location).order_by("pk").first()
    today = timezone.localdate(now)
    problem, context = selectors.build_problem(first_day=today, days=1, territory=territory, now=now)
    new_id = str(work_order.pk)
    new_job = next((job for job in problem.jobs if job.id == new_id), None)
    if new_job is None:
        raise Invalid(f"{work_order.number} has no window today.", code="no_window_today")
    others = [job for job in problem.jobs if job.id != new_id]
    accepted = _current_plan(problem, context, others)
    plan, moved = insert_job(
        solver.Problem(jobs=others, technicians=problem.technicians, travel=problem.travel), accepted, new_job
    )
    violations = _violations(problem, plan)
    if violations:
        raise PlanInvalid(violations)
    placement = next(
        ((route, visit) for route in plan.routes for visit in route.visits if visit.job_id == new_id), None
    )
    if placement is None:
        reason = next(u for u in plan.unplaced if u.job_id == new_id)  # the checker saw to it
        return {
            "placed": False,
            "reason": reason.reason,
            "params": reason.params,
            "moved": 0,
            "seconds": round(time.perf_counter() - began, 2),
        }
    with transaction.atomic():
        changed = _apply_moves(plan, context, by=by)
        returned = _return_displaced(plan, context, accepted, by=by)
    route, visit = placement
    return {
        "placed": True,
        "technician": str(context.technicians[route.technician_id]),
        "planned_start": context.moment(visit.start),
        "planned_end": context.moment(visit.end),
        "moved": moved,
        "changed_work_orders": changed,
        "returned_to_queue": returned,
        "seconds": round(time.perf_counter() - began, 2),
    }


def _return_displaced(
    plan: solver.Plan, context: selectors.ProblemContext, accepted: solver.Plan, *, by: User
) -> list[str]:
    """Scheduled jobs the urgent one pushed off the plan (no room left: reason "capacity")
    go back to the unassigned queue; left at their old times they would overlap it on the
    technician's day. A dispatched job is the technician's already: it is never displaced."""
    was_planned = accepted.job_route()
    returned = []
    for unplaced in plan.unplaced:
        work_order = context.work_orders.get(unplaced.job_id)
        if (
            work_order is None
            or unplaced.job_id not in was_planned
            or unplaced.reason != "capacity"
            or work_order.status != WorkOrder.Status.SCHEDULED
        ):
            continue
        work_orders.work_order_unschedule(work_order=work_order, by=by, version=work_order.version)
        returned.append(work_order.number)
    return returned


def _current_plan(
    problem: solver.Problem, context: selectors.ProblemContext, jobs: list[solver.Job]
) -> solver.Plan:
    """Today's plan as it stands, in the solver's terms (routes in planned order)."""
    technician_of_user = {tech.user_id: tech_id for tech_id, tech in context.technicians.items()}
    # A technician with no shift time left today (the shift is over) has no route to hold
    # the jobs still planned on it: those are outside the plan, like unassigned ones.
    on_shift = {tech.id for tech in problem.technicians if tech.shifts}
    routes: dict[str, list[solver.Visit]] = {}
    unplaced = []
    for job in jobs:
        work_order = context.work_orders[job.id]
        tech_id = technician_of_user.get(work_order.assigned_technician_id or 0)
        if tech_id not in on_shift or work_order.planned_start is None or work_order.planned_end is None:
            unplaced.append(solver.Unplaced(job.id, "capacity"))
            continue
        start, end = context.minutes(work_order.planned_start), context.minutes(work_order.planned_end)
        routes.setdefault(tech_id, []).append(solver.Visit(job.id, start, start, end, 0, 0.0))
    plan_routes = []
    for tech in problem.technicians:
        visits = sorted(routes.get(tech.id, []), key=lambda visit: visit.start)
        if visits and tech.shifts:
            shift = tech.shifts[0]
            plan_routes.append(
                solver.Route(tech.id, shift.day, 0, shift.start, shift.end, visits, None, 0, 0.0)
            )
    kpis = solver.Kpis(0, 0.0, 0, sum(len(r.visits) for r in plan_routes), len(unplaced))
    return solver.Plan(
        plan_routes, unplaced, kpis, solver.SolverStats("current", 0.0, None, None, "accepted")
    )


def _apply_moves(plan: solver.Plan, context: selectors.ProblemContext, *, by: User) -> list[str]:
    changed = []
    for route in plan.routes:
        technician = context.technicians[route.technician_id]
        for visit in route.visits:
            work_order = context.work_orders[visit.job_id]
            start, end = context.moment(visit.start), context.moment(visit.end)
            same_technician = work_order.assigned_technician_id == technician.user_id
            if same_technician and (
                work_order.planned_start == start or work_order.status != WorkOrder.Status.SCHEDULED
            ):
                continue  # a dispatched job keeps its place in the technician's day
            work_orders.work_order_schedule(
                work_order=work_order,
                technician=technician.user,
                planned_start=start,
                planned_end=end,
                by=by,
                version=work_order.version,
                reason="urgent insertion",
            )
            changed.append(work_order.number)
    return changed


# --- manual moves on the dispatch board ------------------------------------------------------------


def work_order_reassign(
    *,
    work_order: WorkOrder,
    technician: Technician,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    by: User,
    version: int,
) -> list[str]:
    """Check a manual move and make it through tickets.services.work_order_schedule with the
    version the dispatcher saw; returns the warnings. Raises Invalid with the refusals, or
    Conflict (version_conflict) if the work order changed meanwhile."""
    with transaction.atomic():
        # Race: two dispatchers moving different jobs onto the same gap of one technician's
        # day. The technician row lock (first in the project's lock order) serialises them,
        # so the overlap check sees the other move once it is committed.
        Technician.objects.select_for_update(of=("self",)).filter(pk=technician.pk).first()
        # A stale board is reported as such before anything is checked against it.
        current = WorkOrder.objects.filter(pk=work_order.pk).values_list("number", "version").first()
        if current is not None and current[1] != version:
            raise Conflict(
                _(
                    "%(number)s was changed by someone else (it is at version %(current)s, "
                    "you saw %(seen)s). Reload the board and try again."
                )
                % {"number": current[0], "current": current[1], "seen": version},
                code="version_conflict",
                details={"current_version": current[1]},
            )
        verdict = board.reassignment_problems(
            work_order=work_order, technician=technician, planned_start=planned_start, planned_end=planned_end
        )
        if verdict.refusals:
            raise Invalid(" ".join(verdict.refusals), code="reassignment_refused", details=verdict.refusals)
        work_orders.work_order_schedule(
            work_order=work_order,
            technician=technician.user,
            planned_start=planned_start,
            planned_end=planned_end,
            by=by,
            version=version,
            reason="moved on the dispatch board",
        )
    return verdict.warnings
