"""Schedule runs: create, solve (per territory, in parallel), accept.

The solver runs outside any transaction (it takes seconds); its answer is written in one
short transaction. Accepting a plan goes through the work-order services, so every change
is versioned and audited; a work order changed since the run read it is left alone and
reported as a conflict. Urgent insertion is scheduling.insertion, a manual move on the
board scheduling.moves; the locks every one of them takes, and in which order, are
scheduling.locks.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError as BrokerUnavailable

from fieldservice import clock
from fieldservice.errors import Conflict, DomainError, Invalid
from scheduling import locks, reasons, selectors
from scheduling.models import Assignment, ScheduleRun, Territory
from scheduling.plan_kpis import PlannedVisit, kpis_sum, plan_kpis, solved_plan_kpis
from scheduling.solver import check_plan, solve
from scheduling.solver import model as solver
from scheduling.solver.travel import provider_for
from tickets import moves as work_order_moves
from tickets.models import WorkOrder
from tickets.moves import work_order_move

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


def plan_violations(problem: solver.Problem, plan: solver.Plan) -> list[str]:
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
        violations = plan_violations(problem, plan)
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
    parts[part] = {"stats": asdict(plan.stats), "after": solved_plan_kpis(plan, problem), "before": before}
    run.parts_done = F("parts_done") + 1
    run.save(update_fields=["unplaced", "solver_stats", "parts_done"])
    run.refresh_from_db(fields=["parts_done"])
    if run.parts_done >= run.parts_total:
        run.kpis = {
            "before": kpis_sum(p["before"] for p in parts.values()),
            "after": kpis_sum(p["after"] for p in parts.values()),
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
    travel_minutes, travel_km = 0, 0.0
    visits = []
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
        for job in jobs:
            planned_end = context.work_orders[job.id].planned_end
            end = context.minutes(planned_end) if planned_end else None
            visits.append(PlannedVisit(job, end, job.service_minutes))
    return plan_kpis(problem, visits, travel_minutes=travel_minutes, travel_km=travel_km)


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
        # The technicians the plan gives work to or takes it from, then its work orders, before
        # their days are compared with the plan (scheduling.locks: the order every writer keeps).
        planned = list(locked.assignments.values_list("technician_id", "work_order_id"))
        unplaced_ids = [entry["work_order_id"] for entry in locked.unplaced]
        work_order_ids = [work_order_id for _technician_id, work_order_id in planned] + unplaced_ids
        locks.technicians_lock(
            technician_ids=[technician_id for technician_id, _work_order_id in planned],
            user_ids=WorkOrder.objects.filter(pk__in=work_order_ids).values_list(
                "assigned_technician_id", flat=True
            ),
        )
        locks.work_orders_lock(work_order_ids=work_order_ids)
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
                    work_order_move,
                    work_order=work_order,
                    to=WorkOrder.Status.SCHEDULED,
                    assignment=work_order_moves.Assignment(
                        technician=assignment.technician.user,
                        planned_start=assignment.planned_start,
                        planned_end=assignment.planned_end,
                    ),
                    by=by,
                    version=assignment.work_order_version,
                    reason=f"schedule run {run.pk}",
                ),
            )
        for work_order in WorkOrder.objects.filter(pk__in=unplaced_ids, status=WorkOrder.Status.SCHEDULED):
            _apply_or_report(
                work_order,
                applied,
                conflicts,
                partial(
                    work_order_move,
                    work_order=work_order,
                    to=WorkOrder.Status.NEW,
                    by=by,
                    version=work_order.version,
                ),
            )
        result = {"applied": len(applied), "unchanged": len(unchanged), "conflicts": conflicts}
        locked.status, locked.accepted_at, locked.accepted_by = RunStatus.ACCEPTED, clock.now(), by
        locked.kpis = {**locked.kpis, "accept": result}
        locked.save(update_fields=["status", "accepted_at", "accepted_by", "kpis"])
    return result
