"""Urgent insertion: one P1/P2 job placed into today's plan from the technicians' current
positions, moving as few other jobs as it can (the search is scheduling.solver.insert_job)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import URGENT_MAX_PRIORITY
from fieldservice import clock
from fieldservice.errors import Conflict, Invalid
from scheduling import locks, selectors
from scheduling.models import Technician, Territory
from scheduling.services import PlanInvalid, plan_violations
from scheduling.solver import insert_job
from scheduling.solver import model as solver
from tickets.models import WorkOrder
from tickets.moves import Assignment, work_order_move


@dataclass(frozen=True)
class _Move:
    work_order: WorkOrder
    technician: Technician
    planned_start: dt.datetime
    planned_end: dt.datetime


def _refuse_unless_insertable(work_order: WorkOrder) -> None:
    """Every face (the board, the API) gets its refusal from here."""
    if work_order.priority > URGENT_MAX_PRIORITY:
        raise Conflict(
            _("Only P1 and P2 jobs are inserted as urgent; run the optimizer for the rest."),
            code="not_urgent",
            details={"priority": work_order.priority, "urgent_max_priority": URGENT_MAX_PRIORITY},
        )
    if work_order.status != WorkOrder.Status.NEW:
        raise Conflict(
            f"{work_order.number} is {work_order.status}; only a new job can be inserted.", code="not_new"
        )


def schedule_insert(*, work_order: WorkOrder, by: User, now: dt.datetime | None = None) -> dict[str, Any]:
    """Place one urgent job into today's plan from the technicians' current positions,
    moving as few other jobs as it can. Raises Conflict `not_urgent` for a job below P2 and
    `not_new` for one already planned; a job that cannot be placed is an answer, with why."""
    began = time.perf_counter()
    now = now or clock.now()
    territory = Territory.objects.filter(boundary__intersects=work_order.site.location).order_by("pk").first()
    crew = Technician.objects.all() if territory is None else Technician.objects.filter(territory=territory)
    with transaction.atomic():
        # Every technician it plans with, before it reads their day, held through the search
        # and the writes (scheduling.locks: the order, and the race with a board move).
        locks.technicians_lock(technician_ids=crew.values_list("pk", flat=True))
        _refuse_unless_insertable(WorkOrder.objects.get(pk=work_order.pk))
        problem, context = selectors.build_problem(
            first_day=timezone.localdate(now), days=1, territory=territory, now=now
        )
        new_id = str(work_order.pk)
        new_job = next((job for job in problem.jobs if job.id == new_id), None)
        if new_job is None:
            raise Invalid(f"{work_order.number} has no window today.", code="no_window_today")
        others = [job for job in problem.jobs if job.id != new_id]
        accepted = _current_plan(problem, context, others)
        plan, moved = insert_job(
            solver.Problem(jobs=others, technicians=problem.technicians, travel=problem.travel),
            accepted,
            new_job,
        )
        violations = plan_violations(problem, plan)
        if violations:
            raise PlanInvalid(violations)
        placement = next(
            ((route, visit) for route in plan.routes for visit in route.visits if visit.job_id == new_id),
            None,
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
        moves = _moves(plan, context)
        displaced = _displaced(plan, context, accepted)
        locks.work_orders_lock(
            work_order_ids=[move.work_order.pk for move in moves] + [w.pk for w in displaced]
        )
        for move in moves:
            work_order_move(
                work_order=move.work_order,
                to=WorkOrder.Status.SCHEDULED,
                assignment=Assignment(
                    technician=move.technician.user,
                    planned_start=move.planned_start,
                    planned_end=move.planned_end,
                ),
                by=by,
                version=move.work_order.version,
                reason="urgent insertion",
            )
        # Left at their old times they would overlap the urgent job on the technician's day.
        for job in displaced:
            work_order_move(work_order=job, to=WorkOrder.Status.NEW, by=by, version=job.version)
    route, visit = placement
    return {
        "placed": True,
        "technician": str(context.technicians[route.technician_id]),
        "planned_start": context.moment(visit.start),
        "planned_end": context.moment(visit.end),
        "moved": moved,
        "changed_work_orders": [move.work_order.number for move in moves],
        "returned_to_queue": [job.number for job in displaced],
        "seconds": round(time.perf_counter() - began, 2),
    }


def _displaced(
    plan: solver.Plan, context: selectors.ProblemContext, accepted: solver.Plan
) -> list[WorkOrder]:
    """Scheduled jobs the urgent one pushed off the plan (no room left: reason "capacity"),
    which go back to the unassigned queue. A dispatched job is the technician's already: it
    is never displaced."""
    was_planned = accepted.job_route()
    displaced = []
    for unplaced in plan.unplaced:
        work_order = context.work_orders.get(unplaced.job_id)
        if (
            work_order is not None
            and unplaced.job_id in was_planned
            and unplaced.reason == "capacity"
            and work_order.status == WorkOrder.Status.SCHEDULED
        ):
            displaced.append(work_order)
    return displaced


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


def _moves(plan: solver.Plan, context: selectors.ProblemContext) -> list[_Move]:
    """The jobs the new plan puts on another technician or at another time; a dispatched job
    keeps its place in its technician's day."""
    moves = []
    for route in plan.routes:
        technician = context.technicians[route.technician_id]
        for visit in route.visits:
            work_order = context.work_orders[visit.job_id]
            start, end = context.moment(visit.start), context.moment(visit.end)
            same_technician = work_order.assigned_technician_id == technician.user_id
            if same_technician and (
                work_order.planned_start == start or work_order.status != WorkOrder.Status.SCHEDULED
            ):
                continue
            moves.append(_Move(work_order, technician, start, end))
    return moves
