"""What the technician records on site: checklist answers, parts, photos, the signature,
meter readings. Each write locks its work order, so nothing is added to a job while it is
being completed, and records an event in the audit trail."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from assets.models import Equipment, MeterReading
from fieldservice import clock
from fieldservice.errors import Conflict, Invalid, TooLarge
from tickets.models import Attachment, ChecklistItem, PartUsage, Signature, WorkOrder, WorkOrderEvent

Status = WorkOrder.Status
EventType = WorkOrderEvent.Type
# Records belong to the visit: from arrival until completion.
RECORDING_STATUSES = (Status.ON_SITE, Status.IN_PROGRESS, Status.ON_HOLD)
# The first bytes that identify each accepted file type; the declared type is not trusted.
MAGIC_NUMBERS = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
SNIFF_BYTES = 16
SECONDS_PER_DAY = Decimal(24 * 60 * 60)
# A daily usage measured over less than this is noise (two reads minutes apart, a typo put
# right), and can be too large for Equipment.average_daily_usage: the average stays as it was.
MIN_USAGE_SPAN = dt.timedelta(days=1)
_usage_field = Equipment._meta.get_field("average_daily_usage")
USAGE_CEILING = Decimal(10) ** (_usage_field.max_digits - _usage_field.decimal_places)

logger = logging.getLogger(__name__)


def _lock_for_recording(work_order: WorkOrder) -> WorkOrder:
    locked = WorkOrder.objects.select_for_update(of=("self",), no_key=True).get(pk=work_order.pk)
    if locked.status not in RECORDING_STATUSES:
        raise Conflict(
            f"{locked.number} is {locked.status}: "
            "on-site records can be added between arrival and completion.",
            code="not_on_site",
            details={"current": locked.status},
        )
    return locked


def _event(
    work_order: WorkOrder, type: str, *, by: User | None, at: dt.datetime, payload: dict, key: str | None
) -> None:
    WorkOrderEvent.objects.create(
        work_order=work_order, type=type, by=by, at=at, payload=payload, idempotency_key=key
    )


@transaction.atomic
def checklist_answer(
    *,
    work_order: WorkOrder,
    position: int,
    by: User | None,
    result: str = "",
    value: Decimal | None = None,
    text: str = "",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> ChecklistItem:
    """Answer one check: pass/fail/na for pass-fail items, a number for value items, text otherwise."""
    at = at or clock.now()
    locked = _lock_for_recording(work_order)
    item = ChecklistItem.objects.filter(work_order=locked, position=position).first()
    if item is None:
        raise Invalid(f"{locked.number} has no checklist item {position}.", code="unknown_checklist_item")
    if item.kind == ChecklistItem.Kind.PASS_FAIL and result not in ChecklistItem.Result.values:
        raise Invalid(f"'{item.label}' needs a result: pass, fail or na.", code="checklist_result_required")
    if (
        item.kind == ChecklistItem.Kind.VALUE
        and value is None
        and result != ChecklistItem.Result.NOT_APPLICABLE
    ):
        raise Invalid(
            f"'{item.label}' needs a value in {item.unit or 'its unit'}.", code="checklist_value_required"
        )
    if (
        item.kind == ChecklistItem.Kind.TEXT
        and not text.strip()
        and result != ChecklistItem.Result.NOT_APPLICABLE
    ):
        raise Invalid(f"'{item.label}' needs a text answer.", code="checklist_text_required")
    item.result, item.value, item.text = result, value, text
    item.answered_at, item.answered_by = at, by
    item.save(update_fields=["result", "value", "text", "answered_at", "answered_by"])
    payload = {"position": position, "result": result, "value": value, "text": text}
    _event(locked, EventType.CHECKLIST_ANSWERED, by=by, at=at, payload=payload, key=idempotency_key)
    return item


@transaction.atomic
def part_record(
    *,
    work_order: WorkOrder,
    part_number: str,
    quantity: Decimal,
    unit_cost: Decimal,
    by: User | None,
    description: str = "",
    currency: str = "CNY",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> PartUsage:
    at = at or clock.now()
    if quantity <= 0:
        raise Invalid("The quantity must be more than zero.", code="quantity_not_positive")
    if unit_cost < 0:
        raise Invalid("The unit cost cannot be negative.", code="cost_negative")
    locked = _lock_for_recording(work_order)
    part = PartUsage.objects.create(
        work_order=locked,
        part_number=part_number,
        description=description,
        quantity=quantity,
        unit_cost=unit_cost,
        currency=currency,
        recorded_at=at,
        recorded_by=by,
    )
    payload = {"part_number": part_number, "quantity": quantity, "unit_cost": unit_cost}
    _event(locked, EventType.PART_USED, by=by, at=at, payload=payload, key=idempotency_key)
    return part


def _sniff_type(head: bytes) -> str | None:
    for content_type, signatures in MAGIC_NUMBERS.items():
        if any(head.startswith(signature) for signature in signatures):
            if content_type == "image/webp" and head[8:12] != b"WEBP":
                continue
            return content_type
    return None


@transaction.atomic
def attachment_add(
    *,
    work_order: WorkOrder,
    upload: UploadedFile,
    by: User | None,
    caption: str = "",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> Attachment:
    """Store a photo or document. Over settings.MAX_ATTACHMENT_BYTES → 413; a type not in
    ATTACHMENT_CONTENT_TYPES (judged by the file's bytes) → 422."""
    at = at or clock.now()
    size = upload.size or 0
    if size > settings.MAX_ATTACHMENT_BYTES:
        limit_mb = settings.MAX_ATTACHMENT_BYTES / 1024 / 1024
        raise TooLarge(f"The file is {size / 1024 / 1024:.1f} MB; the limit is {limit_mb:.0f} MB.")
    if size == 0:
        raise Invalid("The file is empty.", code="empty_file")
    upload.seek(0)
    content_type = _sniff_type(upload.read(SNIFF_BYTES))
    if content_type is None or content_type not in settings.ATTACHMENT_CONTENT_TYPES:
        allowed = ", ".join(settings.ATTACHMENT_CONTENT_TYPES)
        raise Invalid(f"This kind of file is not accepted. Accepted: {allowed}.", code="unsupported_type")
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    locked = _lock_for_recording(work_order)
    kind = Attachment.Kind.DOCUMENT if content_type == "application/pdf" else Attachment.Kind.PHOTO
    attachment = Attachment(
        work_order=locked,
        kind=kind,
        content_type=content_type,
        size_bytes=size,
        sha256=digest.hexdigest(),
        caption=caption,
        uploaded_at=at,
        uploaded_by=by,
    )
    attachment.file.save(upload.name or "upload", upload, save=False)
    attachment.save()
    payload = {"attachment_id": attachment.pk, "content_type": content_type, "size_bytes": size}
    _event(locked, EventType.ATTACHMENT_ADDED, by=by, at=at, payload=payload, key=idempotency_key)
    return attachment


@transaction.atomic
def signature_capture(
    *,
    work_order: WorkOrder,
    png: bytes,
    signer_name: str,
    by: User | None,
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> Signature:
    """The customer's signature as a PNG image with the signer's name; one per work order."""
    at = at or clock.now()
    if not signer_name.strip():
        raise Invalid("The signer's name is required.", code="signer_name_required")
    if len(png) > settings.MAX_SIGNATURE_BYTES:
        raise TooLarge(f"The signature image is over {settings.MAX_SIGNATURE_BYTES // 1024} KB.")
    if _sniff_type(png[:SNIFF_BYTES]) != "image/png":
        raise Invalid("The signature must be a PNG image.", code="signature_not_png")
    locked = _lock_for_recording(work_order)
    if Signature.objects.filter(work_order=locked).exists():
        raise Conflict(f"{locked.number} is already signed.", code="already_signed")
    signature = Signature(work_order=locked, signer_name=signer_name.strip(), signed_at=at, captured_by=by)
    signature.image.save(f"{locked.number}.png", ContentFile(png), save=False)
    signature.save()
    _event(
        locked,
        EventType.SIGNED,
        by=by,
        at=at,
        payload={"signer_name": signature.signer_name},
        key=idempotency_key,
    )
    return signature


@transaction.atomic
def meter_reading_record(
    *,
    work_order: WorkOrder,
    kind: str,
    value: Decimal,
    by: User | None,
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
) -> MeterReading:
    """A meter read on site; meters only go up, and the equipment's daily usage is refreshed."""
    at = at or clock.now()
    locked = _lock_for_recording(work_order)
    if locked.equipment_id is None:
        raise Invalid(f"{locked.number} is not about a piece of equipment.", code="no_equipment")
    if kind not in MeterReading.Kind.values:
        raise Invalid(f"Unknown meter kind {kind!r}.", code="unknown_meter_kind")
    same_moment = MeterReading.objects.filter(equipment_id=locked.equipment_id, kind=kind, read_at=at).first()
    if same_moment is not None:
        raise Conflict(
            f"A {kind} reading of {same_moment.value} is already recorded at {at:%Y-%m-%d %H:%M}.",
            code="meter_reading_exists",
        )
    previous = (
        MeterReading.objects.filter(equipment_id=locked.equipment_id, kind=kind, read_at__lt=at)
        .order_by("-read_at")
        .first()
    )
    if previous is not None and value < previous.value:
        raise Invalid(
            f"The meter read {previous.value} on {previous.read_at:%Y-%m-%d}; it cannot go down to {value}.",
            code="meter_went_down",
            details={"previous": {"kind": kind, "value": previous.value, "read_at": previous.read_at}},
        )
    # A reading sent late (queued offline) lands between readings already stored: it must not
    # exceed the one taken after it either.
    following = (
        MeterReading.objects.filter(equipment_id=locked.equipment_id, kind=kind, read_at__gt=at)
        .order_by("read_at")
        .first()
    )
    if following is not None and value > following.value:
        raise Invalid(
            f"The meter read {following.value} later, on {following.read_at:%Y-%m-%d}; "
            f"a reading taken before that cannot be {value}.",
            code="meter_above_later_reading",
            details={"next": {"kind": kind, "value": following.value, "read_at": following.read_at}},
        )
    reading = MeterReading.objects.create(
        equipment_id=locked.equipment_id,
        kind=kind,
        value=value,
        read_at=at,
        recorded_by=by,
        source=MeterReading.Source.TECHNICIAN,
    )
    window_start = at - dt.timedelta(days=settings.PM_USAGE_WINDOW_DAYS)
    oldest_in_window = (
        MeterReading.objects.filter(equipment_id=locked.equipment_id, kind=kind, read_at__gte=window_start)
        .exclude(pk=reading.pk)
        .order_by("read_at")
        .first()
    ) or previous
    if oldest_in_window is not None and at - oldest_in_window.read_at >= MIN_USAGE_SPAN:
        days = Decimal((at - oldest_in_window.read_at).total_seconds()) / SECONDS_PER_DAY
        daily_usage = round((value - oldest_in_window.value) / days, 2)
        if daily_usage < USAGE_CEILING:
            Equipment.objects.filter(pk=locked.equipment_id).update(average_daily_usage=daily_usage)
        else:
            logger.warning(
                "Meter reading %s of unit %s implies %s per day: implausible, average kept",
                value,
                locked.equipment_id,
                daily_usage,
            )
    payload = {"kind": kind, "value": value}
    _event(locked, EventType.METER_READ, by=by, at=at, payload=payload, key=idempotency_key)
    return reading
