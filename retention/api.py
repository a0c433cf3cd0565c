"""The account manager's API (`/api/v1/`): renewals pipeline, tasks, risk ranking, 360° view.

An account manager sees only the accounts they manage; admins see all; other roles get 403.
"""

# No `from __future__ import annotations`: django-ninja reads these annotations at import time.

from typing import Any

from django.http import FileResponse
from ninja import Query, Router

from assets import visibility
from contracts.models import AccountTask, HealthScore, RenewalOpportunity
from fieldservice import clock, roles
from fieldservice.api_common import ErrorOut
from fieldservice.auth import AuthedRequest
from fieldservice.errors import Forbidden, NotFound
from fieldservice.ranges import Id
from retention import account360, schemas, selectors, services
from retention.health import accounts_by_risk

router = Router()
# 400: a body that is not JSON at all (ninja refuses it before validation); 413: a body over
# DATA_UPLOAD_MAX_MEMORY_SIZE (fieldservice.api_common).
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422)}


def _require_account_manager(request: AuthedRequest) -> None:
    if not roles.user_roles(request.auth) & {roles.ACCOUNT_MANAGER, roles.ADMIN}:
        raise Forbidden("Only account managers and admins may see renewals and accounts.")


def _opportunity(request: AuthedRequest, opportunity_id: int) -> RenewalOpportunity:
    found = (
        selectors.opportunities_visible_to(request.auth)
        .select_related("contract__account", "owner")
        .filter(pk=opportunity_id)
        .first()
    )
    if found is None:
        raise NotFound(f"Renewal {opportunity_id} not found.")
    return found


@router.get("/renewals", response={200: list[schemas.RenewalOut], **ERRORS}, tags=["renewals"])
def renewals(
    request: AuthedRequest,
    owner_id: Id | None = None,
    stage: Query[list[RenewalOpportunity.Stage] | None] = None,
    max_days: int | None = Query(None, ge=0, le=3650, description="Key date within this many days"),
    band: Query[list[HealthScore.Band] | None] = None,
) -> list[dict[str, Any]]:
    """Open renewals I may see, nearest key date first, with stage, value and health band."""
    _require_account_manager(request)
    return account360.renewals_pipeline(
        user=request.auth,
        today=clock.today(),
        owner_id=owner_id,
        stages=stage,
        max_days=max_days,
        bands=band,
    )


@router.post(
    "/renewals/{int:opportunity_id}/stage", response={200: schemas.RenewalOut, **ERRORS}, tags=["renewals"]
)
def move_renewal(request: AuthedRequest, opportunity_id: int, payload: schemas.StageIn) -> dict[str, Any]:
    _require_account_manager(request)
    opportunity = _opportunity(request, opportunity_id)
    moved = services.opportunity_stage_set(
        opportunity=opportunity, stage=payload.stage, by=request.auth, proposed_value=payload.proposed_value
    )
    return account360.renewal_row(moved, today=clock.today())


@router.get("/renewals/{int:opportunity_id}/quote.pdf", response={200: None, **ERRORS}, tags=["renewals"])
def renewal_quote(request: AuthedRequest, opportunity_id: int) -> FileResponse:
    _require_account_manager(request)
    opportunity = _opportunity(request, opportunity_id)
    if not opportunity.quote_pdf:
        raise NotFound("No quote has been drafted for this renewal yet (it is drafted at T−60).")
    return FileResponse(
        opportunity.quote_pdf.open("rb"),
        content_type="application/pdf",
        filename=f"quote-{opportunity.contract.number}.pdf",
    )


@router.get("/tasks", response={200: list[schemas.TaskOut], **ERRORS}, tags=["renewals"])
def my_tasks(request: AuthedRequest, status: schemas.TaskStatus = AccountTask.Status.OPEN) -> Any:
    """My tasks (open by default), soonest due first."""
    _require_account_manager(request)
    return (
        selectors.tasks_visible_to(request.auth)
        .filter(status=status)
        .select_related("account")
        .order_by("due_date", "pk")
    )


@router.patch("/tasks/{int:task_id}", response={200: schemas.TaskOut, **ERRORS}, tags=["renewals"])
def update_task(request: AuthedRequest, task_id: int, payload: schemas.TaskIn) -> AccountTask:
    _require_account_manager(request)
    task = selectors.tasks_visible_to(request.auth).select_related("account").filter(pk=task_id).first()
    if task is None:
        raise NotFound(f"Task {task_id} not found.")
    return services.task_set_status(task=task, status=payload.status, by=request.auth)


@router.get("/accounts/at-risk", response={200: list[schemas.RiskOut], **ERRORS}, tags=["accounts"])
def accounts_at_risk(request: AuthedRequest, limit: int = Query(20, ge=1, le=500)) -> list[Any]:
    """My accounts ranked by risk: (100 − health) × annual value × urgency of the key date."""
    _require_account_manager(request)
    mine = set(visibility.accounts_visible_to(request.auth).values_list("pk", flat=True))
    return [row for row in accounts_by_risk(today=clock.today()) if row.account_id in mine][:limit]


@router.get("/accounts/{int:account_id}", response={200: schemas.Account360Out, **ERRORS}, tags=["accounts"])
def account_view(request: AuthedRequest, account_id: int) -> dict[str, Any]:
    """One account whole: contacts, sites, equipment with coverage, contracts, work, health and
    its 12-month trend, and the renewal under way."""
    _require_account_manager(request)
    return account360.account_360(user=request.auth, account_id=account_id, today=clock.today())
