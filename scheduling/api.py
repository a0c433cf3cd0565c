"""The dispatcher's scheduling API (`/api/v1/schedule`): runs, accepting a plan, urgent insertion."""

# No `from __future__ import annotations`: django-ninja reads these annotations at import time.

from typing import Any

from ninja import Router, Status

from fieldservice import roles
from fieldservice.api_common import ErrorOut
from fieldservice.auth import AuthedRequest
from fieldservice.errors import Forbidden, Invalid, NotFound
from scheduling import insertion, schemas, services
from scheduling.models import ScheduleRun, Territory
from scheduling.reasons import unplaced_text
from tickets.selectors import work_order_get

router = Router()
# 400: a body that is not JSON at all (ninja refuses it before validation); 413: a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE (fieldservice.api_common).
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422)}


def _require_planner(request: AuthedRequest) -> None:
    if not (roles.has_role(request.auth, roles.DISPATCHER) or roles.has_role(request.auth, roles.ADMIN)):
        raise Forbidden("Only dispatchers and admins may plan.")


def _run(run_id: int) -> ScheduleRun:
    run = ScheduleRun.objects.filter(pk=run_id).first()
    if run is None:
        raise NotFound(f"Schedule run {run_id} not found.")
    return run


@router.post("/runs", response={202: schemas.RunCreatedOut, **ERRORS})
def create_run(request: AuthedRequest, payload: schemas.RunIn) -> Status:
    """Start an optimizer run; poll `GET /runs/{id}` until it has succeeded or failed."""
    _require_planner(request)
    territory = None
    if payload.territory_id is not None:
        territory = Territory.objects.filter(pk=payload.territory_id).first()
        if territory is None:
            raise Invalid(f"Territory {payload.territory_id} does not exist.", code="unknown_territory")
    run = services.schedule_run_create(
        by=request.auth,
        first_day=payload.date,
        days=payload.days,
        territory=territory,
        time_limit_s=payload.time_limit_s,
    )
    return Status(202, {"id": run.pk, "status": run.status})


@router.get("/runs/{int:run_id}", response={200: schemas.RunOut, **ERRORS})
def get_run(request: AuthedRequest, run_id: int) -> Any:
    """Status, KPIs before and after, assignments with the reason for each, unplaced jobs with reasons."""
    _require_planner(request)
    run = _run(run_id)
    assignments = run.assignments.select_related("work_order", "technician__user").order_by(
        "technician_id", "sequence"
    )
    fields = {name: getattr(run, name) for name in schemas.RunOut.model_fields if name != "assignments"}
    return {**fields, "error": run.error_text, "assignments": list(assignments)}


@router.post("/runs/{int:run_id}/accept", response={200: schemas.AcceptOut, **ERRORS})
def accept_run(
    request: AuthedRequest, run_id: int, payload: schemas.AcceptIn | None = None
) -> dict[str, Any]:
    """Apply the plan to its work orders in one transaction; changed ones are reported as conflicts.

    A plan that places fewer P1/P2 jobs than are placed now is refused with 409
    `fewer_urgent_placed` unless the body says `{"confirm_fewer_urgent": true}`."""
    _require_planner(request)
    confirm = payload is not None and payload.confirm_fewer_urgent
    return services.schedule_run_accept(run=_run(run_id), by=request.auth, confirm_fewer_urgent=confirm)


@router.post("/insert", response={200: schemas.InsertOut, **ERRORS})
def insert(request: AuthedRequest, payload: schemas.InsertIn) -> dict[str, Any]:
    """Place one urgent new job into today's plan, moving as few other jobs as it can.

    Only a new P1 or P2 job is inserted: any other is refused with 409 `not_urgent` (below P2)
    or `not_new`, as on the dispatch board."""
    _require_planner(request)
    work_order = work_order_get(user=request.auth, work_order_id=payload.work_order_id)
    result = insertion.schedule_insert(work_order=work_order, by=request.auth)
    if not result["placed"]:
        result["message"] = unplaced_text(result["reason"], result["params"])
    return result
