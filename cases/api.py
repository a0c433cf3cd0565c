"""Cases for dispatchers, account managers and integrations (`/api/v1/cases`).

Dispatchers and admins work every case; an account manager the cases of their accounts
(another's is 404); technicians none (403). Create takes an optional `Idempotency-Key`: a
retry with the same key returns the first answer and opens nothing more.
"""

# No `from __future__ import annotations` here: django-ninja reads the handlers' annotations
# at import time to build the request parsers and the OpenAPI schema.

from typing import Any

from django.contrib.auth.models import User
from django.http import JsonResponse
from django.utils.translation import gettext
from ninja import Query, Router, Status
from ninja.pagination import paginate

from assets.models import Contact
from cases import schemas, selectors, services
from cases.models import Case
from fieldservice.api_common import ErrorOut
from fieldservice.auth import AuthedRequest
from fieldservice.errors import Forbidden, Invalid
from fieldservice.pagination import LimitOffset
from mobile_api import idempotency
from tickets.models import WorkOrder

router = Router()
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 422)}
IDEMPOTENCY_KEY = {**idempotency.OPENAPI_PARAMETER, "required": False}


def _require_case_worker(user: Any) -> None:
    if not selectors.works_cases(user):
        raise Forbidden(gettext("Only dispatchers, account managers and admins work cases."))


def _unknown(field: str, code: str, message: str) -> Invalid:
    return Invalid(message, code=code, details={"field": field})


def _open(user: User, payload: schemas.CaseIn) -> Case:
    """Resolve the payload's ids (each unknown or unseen one refused, naming its field)."""
    account = selectors.case_accounts(user).filter(pk=payload.account_id).first()
    if account is None:
        message = gettext("Account %(id)s does not exist.") % {"id": payload.account_id}
        raise _unknown("account_id", "unknown_account", message)
    contact = None
    if payload.contact_id is not None:
        contact = Contact.objects.filter(pk=payload.contact_id).first()
        if contact is None:
            message = gettext("Contact %(id)s does not exist.") % {"id": payload.contact_id}
            raise _unknown("contact_id", "unknown_contact", message)
    work_orders = list(WorkOrder.objects.filter(pk__in=payload.work_order_ids))
    missing = sorted(set(payload.work_order_ids) - {wo.pk for wo in work_orders})
    if missing:
        message = gettext("Work orders %(ids)s do not exist.") % {"ids": ", ".join(map(str, missing))}
        raise _unknown("work_order_ids", "unknown_work_order", message)
    owner = None
    if payload.owner is not None:
        owner = User.objects.filter(username=payload.owner, is_active=True).first()
        if owner is None:
            raise _unknown(
                "owner", "unknown_owner", gettext("No active user %(name)s.") % {"name": payload.owner}
            )
    return services.case_open(
        account=account,
        contact=contact,
        kind=payload.kind,
        severity=payload.severity,
        channel=payload.channel,
        title=payload.title,
        description=payload.description,
        work_orders=work_orders,
        owner=owner,
        by=user,
    )


@router.get("", response={200: list[schemas.CaseOut], **ERRORS})
@paginate(LimitOffset)
def list_cases(request: AuthedRequest, query: Query[schemas.CaseQuery]) -> Any:
    """Cases you may see, newest first, filtered (`status`, `account_id`, `breached`) and
    paginated (`limit`, `offset`)."""
    _require_case_worker(request.auth)
    filters = selectors.CaseFilters(**query.dict(exclude_none=True))
    return selectors.case_list(user=request.auth, filters=filters)


@router.post(
    "",
    response={201: schemas.CaseDetailOut, **ERRORS},
    openapi_extra={"parameters": [IDEMPOTENCY_KEY]},
)
def create_case(request: AuthedRequest, payload: schemas.CaseIn) -> Status | JsonResponse:
    """Open a case; its clocks come from the account's contract (severity 1–3 → P1–P3 terms)
    or the default hours (`clock_source` says which)."""
    _require_case_worker(request.auth)
    user = request.auth

    if not request.META.get(idempotency.HEADER, "").strip():
        case = _open(user, payload)
        return Status(201, selectors.case_get(user=user, case_id=case.pk))

    def handler() -> tuple[int, Any]:
        case = _open(user, payload)
        detail = selectors.case_get(user=user, case_id=case.pk)
        return 201, schemas.CaseDetailOut.from_orm(detail).model_dump(mode="json", by_alias=False)

    # The stored answer is JSON already, the first time and on a replay: sent as it is.
    status, body = idempotency.run_once(request, user, handler)
    return JsonResponse(body, status=status)


@router.get("/{int:case_id}", response={200: schemas.CaseDetailOut, **ERRORS})
def get_case(request: AuthedRequest, case_id: int) -> Case:
    _require_case_worker(request.auth)
    return selectors.case_get(user=request.auth, case_id=case_id)


@router.post("/{int:case_id}/transition", response={200: schemas.CaseDetailOut, **ERRORS})
def transition_case(request: AuthedRequest, case_id: int, payload: schemas.CaseTransitionIn) -> Case:
    """Move the case: `acknowledged`, `in_progress`, `resolved` (with a `resolution`), and the
    customer's answer relayed: `confirmed`, or `in_progress` from resolved (re-opened, with
    the customer's `comment`). Another step is 409 `illegal_transition`; a stale `version`
    409 `version_conflict`. `next_statuses` lists the steps open now."""
    _require_case_worker(request.auth)
    case = selectors.case_get(user=request.auth, case_id=case_id)
    services.case_move(
        case=case,
        to=payload.to,
        by=request.auth,
        version=payload.version,
        resolution=payload.resolution,
        comment=payload.comment,
    )
    return selectors.case_get(user=request.auth, case_id=case_id)


@router.post("/{int:case_id}/notes", response={201: schemas.CaseDetailOut, **ERRORS})
def add_note(request: AuthedRequest, case_id: int, payload: schemas.CaseNoteIn) -> Status:
    """Add what was said or done to the timeline (`customer_visible`: shown in the portal)."""
    _require_case_worker(request.auth)
    case = selectors.case_get(user=request.auth, case_id=case_id)
    services.case_note(
        case=case, by=request.auth, text=payload.text, customer_visible=payload.customer_visible
    )
    return Status(201, selectors.case_get(user=request.auth, case_id=case_id))
