"""Work orders for dispatchers and integrations (`/api/v1/work-orders`)."""

# No `from __future__ import annotations` here: django-ninja reads the handlers' annotations
# at import time to build the request parsers and the OpenAPI schema.

from typing import Any

from django.contrib.auth.models import User
from django.http import FileResponse
from ninja import File, Form, Query, Router, Status
from ninja.files import UploadedFile
from ninja.pagination import paginate

from assets.models import Equipment, Site
from fieldservice import roles
from fieldservice.api_common import ErrorOut
from fieldservice.auth import AuthedRequest
from fieldservice.errors import Forbidden, Invalid, NotFound
from fieldservice.pagination import LimitOffset
from fieldservice.ranges import ShortText
from tickets import creation, moves, schemas, selectors
from tickets.models import Attachment, WorkOrder
from tickets.records import files

router = Router()
WorkOrderStatus = WorkOrder.Status
ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 403, 404, 409, 413, 422)}


def _require_planner(user: Any) -> None:
    if not (roles.has_role(user, roles.DISPATCHER) or roles.has_role(user, roles.ADMIN)):
        raise Forbidden("Only dispatchers and admins may change work orders.")


@router.get("", response={200: list[schemas.WorkOrderOut], **ERRORS})
@paginate(LimitOffset)
def list_work_orders(request: AuthedRequest, query: Query[schemas.WorkOrderQuery]) -> Any:
    """Work orders you may see, newest first, filtered and paginated (`limit`, `offset`)."""
    boundary = None
    if query.territory_id is not None:
        from scheduling.models import Territory

        territory = Territory.objects.filter(pk=query.territory_id).first()
        if territory is None:
            raise NotFound(f"Territory {query.territory_id} not found.")
        boundary = territory.boundary
    filters = selectors.WorkOrderFilters(
        **query.dict(exclude={"territory_id"}, exclude_none=True), territory_boundary=boundary
    )
    return selectors.work_order_list(user=request.auth, filters=filters).order_by("-created_at", "-pk")


@router.post("", response={201: schemas.WorkOrderDetailOut, **ERRORS})
def create_work_order(request: AuthedRequest, payload: schemas.WorkOrderIn) -> Status:
    _require_planner(request.auth)
    site = Site.objects.filter(pk=payload.site_id).first()
    if site is None:
        raise Invalid(f"Site {payload.site_id} does not exist.", code="unknown_site")
    equipment = None
    if payload.equipment_id is not None:
        equipment = (
            Equipment.objects.select_related("equipment_model").filter(pk=payload.equipment_id).first()
        )
        if equipment is None:
            raise Invalid(f"Equipment {payload.equipment_id} does not exist.", code="unknown_equipment")
    created = creation.work_order_create(
        site=site, equipment=equipment, by=request.auth, **payload.dict(exclude={"site_id", "equipment_id"})
    )
    return Status(201, selectors.work_order_get(user=request.auth, work_order_id=created.pk))


@router.get("/{int:work_order_id}", response={200: schemas.WorkOrderDetailOut, **ERRORS})
def get_work_order(request: AuthedRequest, work_order_id: int) -> WorkOrder:
    return selectors.work_order_get(user=request.auth, work_order_id=work_order_id)


@router.patch("/{int:work_order_id}", response={200: schemas.WorkOrderDetailOut, **ERRORS})
def update_work_order(
    request: AuthedRequest, work_order_id: int, payload: schemas.WorkOrderPatch
) -> WorkOrder:
    work_order = selectors.work_order_get(user=request.auth, work_order_id=work_order_id)
    _require_planner(request.auth)
    changes = payload.dict(exclude={"version"}, exclude_unset=True)
    creation.work_order_update(work_order=work_order, by=request.auth, version=payload.version, **changes)
    return selectors.work_order_get(user=request.auth, work_order_id=work_order_id)


def _assignment(payload: schemas.TransitionIn) -> moves.Assignment | None:
    """The technician and planned times, when the call gives them; all three or none."""
    given = (payload.technician, payload.planned_start, payload.planned_end)
    if not any(given):
        return None
    if not (payload.technician and payload.planned_start and payload.planned_end):
        raise Invalid(
            "Scheduling needs technician, planned_start and planned_end.",
            code="missing_fields",
            details={"fields": ["technician", "planned_start", "planned_end"]},
        )
    technician = User.objects.filter(username=payload.technician, is_active=True).first()
    if technician is None:
        raise Invalid(f"No active user {payload.technician!r}.", code="unknown_technician")
    return moves.Assignment(
        technician=technician, planned_start=payload.planned_start, planned_end=payload.planned_end
    )


@router.post("/{int:work_order_id}/transition", response={200: schemas.WorkOrderDetailOut, **ERRORS})
def transition_work_order(
    request: AuthedRequest, work_order_id: int, payload: schemas.TransitionIn
) -> WorkOrder:
    """Move the work order along its lifecycle. `scheduled` with `technician`, `planned_start`
    and `planned_end` (re)assigns it, from `new`, `scheduled` or `dispatched`; `scheduled`
    without them recalls a dispatched job (it keeps its technician and times). `on_hold` and
    `cancelled` take a `reason`; `completed` a `resolution`."""
    work_order = selectors.work_order_get(user=request.auth, work_order_id=work_order_id)
    _require_planner(request.auth)
    moves.work_order_move(
        work_order=work_order,
        to=payload.to,
        by=request.auth,
        version=payload.version,
        reason=payload.reason,
        resolution=payload.resolution,
        resolution_code=payload.resolution_code,
        assignment=_assignment(payload),
    )
    return selectors.work_order_get(user=request.auth, work_order_id=work_order_id)


@router.post("/{int:work_order_id}/cancel", response={200: schemas.WorkOrderDetailOut, **ERRORS})
def cancel_work_order(request: AuthedRequest, work_order_id: int, payload: schemas.CancelIn) -> WorkOrder:
    work_order = selectors.work_order_get(user=request.auth, work_order_id=work_order_id)
    _require_planner(request.auth)
    moves.work_order_move(
        work_order=work_order,
        to=WorkOrderStatus.CANCELLED,
        by=request.auth,
        version=payload.version,
        reason=payload.reason,
    )
    return selectors.work_order_get(user=request.auth, work_order_id=work_order_id)


@router.get("/{int:work_order_id}/attachments", response={200: list[schemas.AttachmentOut], **ERRORS})
def list_attachments(request: AuthedRequest, work_order_id: int) -> list[Attachment]:
    work_order = selectors.work_order_get(user=request.auth, work_order_id=work_order_id)
    return list(work_order.attachments.order_by("uploaded_at", "pk"))


@router.post("/{int:work_order_id}/attachments", response={201: schemas.AttachmentOut, **ERRORS})
def upload_attachment(
    request: AuthedRequest, work_order_id: int, file: File[UploadedFile], caption: ShortText = Form("")
) -> Status:
    """Add a photo (JPEG, PNG, WebP) or PDF while the job is on site; over the size limit → 413."""
    work_order = selectors.work_order_get(user=request.auth, work_order_id=work_order_id)
    _require_planner(request.auth)
    attachment = files.attachment_add(work_order=work_order, upload=file, caption=caption, by=request.auth)
    return Status(201, attachment)


@router.get("/{int:work_order_id}/attachments/{int:attachment_id}", response={200: None, **ERRORS})
def download_attachment(request: AuthedRequest, work_order_id: int, attachment_id: int) -> FileResponse:
    """The file itself, only to users who may see the work order."""
    work_order = selectors.work_order_get(user=request.auth, work_order_id=work_order_id)
    attachment = work_order.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFound(f"Attachment {attachment_id} not found.")
    return FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)


@router.get("/{int:work_order_id}/report.pdf", response={200: None, **ERRORS})
def service_report_pdf(request: AuthedRequest, work_order_id: int) -> FileResponse:
    """The service report of a completed work order (rendered on first request if needed)."""
    from tickets.reports import service_report_ensure

    work_order = selectors.work_order_get(user=request.auth, work_order_id=work_order_id)
    report = service_report_ensure(work_order=work_order)
    return FileResponse(
        report.pdf.open("rb"), content_type="application/pdf", filename=f"{work_order.number}.pdf"
    )
