"""What the technician records on site: checklist answers, parts, photos, the signature,
meter readings. Each write locks its work order, so nothing is added to a job while it is
being completed, and records an event in the audit trail.

Each record's time is the device's, checked as the lifecycle's are (tickets.event_times.
event_time): not before the visit's arrival, not in the future, and a device whose clock is
wrong has its records stamped with our time and flagged. Images (photos, the signature) are
decoded here, once, under a pixel cap, and stored re-encoded at a bounded size: nothing
decodes an image of unknown size later (the service report did, with 750 MB for one PNG).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import warnings
from decimal import Decimal
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from PIL import Image, ImageOps

from assets.models import Equipment, MeterReading
from fieldservice import ranges
from fieldservice.errors import Conflict, Invalid, TooLarge
from tickets.event_times import EventTime, event_time
from tickets.events import event_record, lock_work_order
from tickets.models import Attachment, ChecklistItem, PartUsage, Signature, WorkOrder, WorkOrderEvent

# Pillow refuses an image of more than twice this anywhere in the process (the service
# report's renderer included): the cap below is checked before decoding, this backs it up.
Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS

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
# The EXIF tags kept when a photo is re-encoded: when it was taken (and the zone of that time).
EXIF_IFD = 0x8769
DATETIME = 0x0132
CAPTURE_TAGS = (0x9003, 0x9004, 0x9010, 0x9011, 0x9012)  # DateTimeOriginal, -Digitized, OffsetTime*
SECONDS_PER_DAY = Decimal(24 * 60 * 60)
# A daily usage measured over less than this is noise (two reads minutes apart, a typo put
# right), and can be too large for Equipment.average_daily_usage: the average stays as it was.
MIN_USAGE_SPAN = dt.timedelta(days=1)
_usage_field = Equipment._meta.get_field("average_daily_usage")
USAGE_CEILING = Decimal(10) ** (_usage_field.max_digits - _usage_field.decimal_places)

logger = logging.getLogger(__name__)


def _lock_for_recording(work_order: WorkOrder) -> WorkOrder:
    """The work order, locked: race with its completion (and with other records, which keeps
    the photo count exact)."""
    locked = lock_work_order(work_order.pk)
    if locked.status not in RECORDING_STATUSES:
        raise Conflict(
            f"{locked.number} is {locked.status}: "
            "on-site records can be added between arrival and completion.",
            code="not_on_site",
            details={"current": locked.status},
        )
    return locked


def _record_time(locked: WorkOrder, at: dt.datetime | None, clock_skew: dt.timedelta | None) -> EventTime:
    """Records belong to the visit: none before the arrival."""
    return event_time(
        work_order=locked,
        at=at,
        after=locked.arrived_at or locked.created_at,
        after_what="the arrival on site",
        clock_skew=clock_skew,
    )


def _event(
    work_order: WorkOrder,
    type: str,
    *,
    by: User | None,
    when: EventTime,
    payload: dict,
    key: str | None,
    flag_reason: str = "",
) -> None:
    event_record(
        work_order=work_order,
        type=type,
        by=by,
        at=when.at,
        payload={**payload, **when.payload},
        idempotency_key=key,
        flag_reason=when.flag_reason or flag_reason,
    )


def _check_length(value: str, *, limit: int, field: str) -> None:
    """What the schemas bound, checked again where a face without one (a form, a script)
    would otherwise reach the database with it and fail there."""
    if len(value) > limit:
        raise Invalid(
            f"The {field} is {len(value)} characters long; at most {limit} are kept.",
            code="too_long",
            details={"field": field, "limit": limit},
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
    clock_skew: dt.timedelta | None = None,
) -> ChecklistItem:
    """Answer one check: pass/fail/na for pass-fail items, a number for value items, text otherwise."""
    _check_length(text, limit=ranges.LONG_TEXT_LENGTH, field="text")
    locked = _lock_for_recording(work_order)
    when = _record_time(locked, at, clock_skew)
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
    item.answered_at, item.answered_by = when.at, by
    item.save(update_fields=["result", "value", "text", "answered_at", "answered_by"])
    payload = {"position": position, "result": result, "value": value, "text": text}
    _event(locked, EventType.CHECKLIST_ANSWERED, by=by, when=when, payload=payload, key=idempotency_key)
    return item


@transaction.atomic
def part_record(
    *,
    work_order: WorkOrder,
    part_number: str,
    quantity: Decimal,
    by: User | None,
    unit_cost: Decimal | None = None,
    description: str = "",
    currency: str = "CNY",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> PartUsage:
    """A part used on the visit. Its price is the office's to set (the dispatcher, the admin;
    a parts catalogue once there is one), never the technician app's, which sends none: a part
    without one is printed unpriced on the customer's report, not at 0.00."""
    if not 0 < quantity <= ranges.MAX_QUANTITY:
        raise Invalid(
            f"The quantity must be more than zero and at most {ranges.MAX_QUANTITY}.",
            code="quantity_out_of_range",
        )
    if unit_cost is not None and not 0 <= unit_cost <= ranges.MAX_MONEY:
        raise Invalid(f"The unit cost must be between 0 and {ranges.MAX_MONEY}.", code="cost_out_of_range")
    _check_length(part_number, limit=ranges.CODE_LENGTH, field="part number")
    _check_length(description, limit=ranges.SHORT_TEXT_LENGTH, field="description")
    locked = _lock_for_recording(work_order)
    when = _record_time(locked, at, clock_skew)
    part = PartUsage.objects.create(
        work_order=locked,
        part_number=part_number,
        description=description,
        quantity=quantity,
        unit_cost=unit_cost,
        currency=currency,
        recorded_at=when.at,
        recorded_by=by,
    )
    payload = {"part_number": part_number, "quantity": quantity, "unit_cost": unit_cost}
    _event(locked, EventType.PART_USED, by=by, when=when, payload=payload, key=idempotency_key)
    return part


def _sniff_type(head: bytes) -> str | None:
    for content_type, signatures in MAGIC_NUMBERS.items():
        if any(head.startswith(signature) for signature in signatures):
            if content_type == "image/webp" and head[8:12] != b"WEBP":
                continue
            return content_type
    return None


# --- images ----------------------------------------------------------------------------------------


def _opened(data: IO[bytes], *, max_pixels: int) -> Image.Image:
    """The image in `data` with its size read from its header and checked before any pixel
    is decoded: a small file can hold a huge image (a PNG of one colour compresses 1000:1)."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above its limit (and refuses above twice it): over ours, refused below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(data)
    except Image.DecompressionBombError:
        raise _too_many_pixels(None, max_pixels) from None
    except (OSError, SyntaxError, ValueError):
        raise _unreadable() from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _too_many_pixels((width, height), max_pixels)
    return image


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> Invalid:
    megapixels = f"{max_pixels / 1_000_000:g}"
    shown = f"{size[0]} × {size[1]} pixels" if size else "too large"
    return Invalid(
        f"The image is {shown}; at most {megapixels} megapixels are accepted.",
        code="too_many_pixels",
        details={"max_pixels": max_pixels, "size": size},
    )


def _unreadable() -> Invalid:
    return Invalid("The image could not be read: it is damaged or cut short.", code="unreadable_image")


def _fitted(size: tuple[int, int], longest: int) -> tuple[int, int]:
    scale = min(1.0, longest / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with anything transparent laid on white (as the photo or signature is printed)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _capture_time(source: Image.Exif) -> bytes:
    """The EXIF of a re-encoded photo: only when it was taken, from the original's. Its
    orientation is applied to the pixels, and the rest (the place, the phone) is not kept."""
    kept = Image.Exif()
    if isinstance(source.get(DATETIME), str):
        kept[DATETIME] = source[DATETIME]
    original = source.get_ifd(EXIF_IFD)
    for tag in CAPTURE_TAGS:
        if isinstance(original.get(tag), str):
            kept.get_ifd(EXIF_IFD)[tag] = original[tag]
    return kept.tobytes() if len(kept) or kept.get_ifd(EXIF_IFD) else b""


def _photo_as_jpeg(data: IO[bytes]) -> bytes:
    """The photo decoded once, under settings.MAX_IMAGE_PIXELS, turned upright (its EXIF
    orientation), at most settings.PHOTO_MAX_SIDE_PX on its long side, as a JPEG that keeps
    its capture time. A phone's 12-MP photo becomes ~0.1-0.4 MB that the report decodes quickly.

    Only the decoded original is ever held at full size: it is shrunk in place first, then
    turned (a PNG or WebP has no draft mode, and each full-size copy of a 48-MP one is 150 MB)."""
    longest = settings.PHOTO_MAX_SIDE_PX
    with _opened(data, max_pixels=settings.MAX_IMAGE_PIXELS) as image:
        try:
            exif = _capture_time(image.getexif())
            # A JPEG decodes straight to a fraction of its size (1/2, 1/4, 1/8): much faster.
            image.draft("RGB", _fitted(image.size, longest))
            # A palette or 1-bit image would be shrunk by nearest pixel: it is made RGB first.
            shrunk = _on_white(image) if image.mode in ("1", "P") else image
            shrunk.thumbnail((longest, longest))
            ImageOps.exif_transpose(shrunk, in_place=True)
            out = io.BytesIO()
            _on_white(shrunk).save(
                out, format="JPEG", quality=settings.PHOTO_JPEG_QUALITY, optimize=True, exif=exif
            )
        except Image.DecompressionBombError:
            raise _too_many_pixels(image.size, settings.MAX_IMAGE_PIXELS) from None
        except (OSError, SyntaxError, ValueError):
            raise _unreadable() from None
    return out.getvalue()


def _signature_as_png(png: bytes) -> bytes:
    """The signature decoded under settings.SIGNATURE_MAX_PIXELS and stored as a grey PNG on
    white, at most settings.SIGNATURE_MAX_SIDE_PX wide: what the report prints, and small."""
    with _opened(io.BytesIO(png), max_pixels=settings.SIGNATURE_MAX_PIXELS) as image:
        if image.format != "PNG":
            raise Invalid("The signature must be a PNG image.", code="signature_not_png")
        try:
            flat = _on_white(image)
            flat.thumbnail((settings.SIGNATURE_MAX_SIDE_PX, settings.SIGNATURE_MAX_SIDE_PX))
            out = io.BytesIO()
            flat.convert("L").save(out, format="PNG", optimize=True)
        except (OSError, SyntaxError, ValueError):
            raise _unreadable() from None
    return out.getvalue()


def _saved(field: FieldFile, name: str, content: bytes, write_row: Any) -> None:
    """Store the file, then write its row with `write_row()`; a row refused after the file was
    written (by the database, or a later check) takes the file with it: no orphan files."""
    field.save(name, ContentFile(content), save=False)
    try:
        write_row()
    except Exception:
        field.delete(save=False)
        raise


@transaction.atomic
def attachment_add(
    *,
    work_order: WorkOrder,
    upload: UploadedFile,
    by: User | None,
    caption: str = "",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> Attachment:
    """Store a photo or document. Over settings.MAX_ATTACHMENT_BYTES → 413; a type not in
    ATTACHMENT_CONTENT_TYPES (judged by the file's bytes) → 422; a photo is decoded and stored
    re-encoded (see `_photo_as_jpeg`), at most settings.MAX_PHOTOS_PER_WORK_ORDER per work
    order. Everything is checked before the file is written: nothing is kept of a refusal."""
    size = upload.size or 0
    if size > settings.MAX_ATTACHMENT_BYTES:
        limit_mb = settings.MAX_ATTACHMENT_BYTES / 1024 / 1024
        raise TooLarge(f"The file is {size / 1024 / 1024:.1f} MB; the limit is {limit_mb:.0f} MB.")
    if size == 0:
        raise Invalid("The file is empty.", code="empty_file")
    _check_length(caption, limit=ranges.SHORT_TEXT_LENGTH, field="caption")
    upload.seek(0)
    content_type = _sniff_type(upload.read(SNIFF_BYTES))
    if content_type is None or content_type not in settings.ATTACHMENT_CONTENT_TYPES:
        allowed = ", ".join(settings.ATTACHMENT_CONTENT_TYPES)
        raise Invalid(f"This kind of file is not accepted. Accepted: {allowed}.", code="unsupported_type")
    upload.seek(0)
    if content_type == "application/pdf":
        kind, content, extension = Attachment.Kind.DOCUMENT, upload.read(), "pdf"
    else:
        # Decoded before the lock: it takes a while on a big photo.
        kind, content, extension = Attachment.Kind.PHOTO, _photo_as_jpeg(upload), "jpg"
        content_type = "image/jpeg"
    digest = hashlib.sha256(content).hexdigest()
    locked = _lock_for_recording(work_order)
    when = _record_time(locked, at, clock_skew)
    if kind == Attachment.Kind.PHOTO:
        photos = Attachment.objects.filter(work_order=locked, kind=Attachment.Kind.PHOTO).count()
        if photos >= settings.MAX_PHOTOS_PER_WORK_ORDER:
            raise Invalid(
                f"{locked.number} has {photos} photos, the most a job keeps.",
                code="too_many_photos",
                details={"limit": settings.MAX_PHOTOS_PER_WORK_ORDER},
            )
    attachment = Attachment(
        work_order=locked,
        kind=kind,
        content_type=content_type,
        size_bytes=len(content),
        sha256=digest,
        caption=caption,
        uploaded_at=when.at,
        uploaded_by=by,
    )

    def write_row() -> None:
        attachment.save()
        payload = {"attachment_id": attachment.pk, "content_type": content_type, "size_bytes": len(content)}
        _event(locked, EventType.ATTACHMENT_ADDED, by=by, when=when, payload=payload, key=idempotency_key)

    # Named by the work order and the content, never by the upload: a phone's file name can
    # be longer than the column, or say anything.
    _saved(attachment.file, f"{locked.number}-{digest[:16]}.{extension}", content, write_row)
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
    clock_skew: dt.timedelta | None = None,
) -> Signature:
    """The customer's signature as a PNG image with the signer's name; one per work order."""
    if not signer_name.strip():
        raise Invalid("The signer's name is required.", code="signer_name_required")
    _check_length(signer_name.strip(), limit=ranges.NAME_LENGTH, field="signer's name")
    if len(png) > settings.MAX_SIGNATURE_BYTES:
        raise TooLarge(f"The signature image is over {settings.MAX_SIGNATURE_BYTES // 1024} KB.")
    if _sniff_type(png[:SNIFF_BYTES]) != "image/png":
        raise Invalid("The signature must be a PNG image.", code="signature_not_png")
    image = _signature_as_png(png)
    locked = _lock_for_recording(work_order)
    when = _record_time(locked, at, clock_skew)
    if Signature.objects.filter(work_order=locked).exists():
        raise Conflict(f"{locked.number} is already signed.", code="already_signed")
    signature = Signature(
        work_order=locked, signer_name=signer_name.strip(), signed_at=when.at, captured_by=by
    )

    def write_row() -> None:
        signature.save()
        payload = {"signer_name": signature.signer_name}
        _event(locked, EventType.SIGNED, by=by, when=when, payload=payload, key=idempotency_key)

    _saved(signature.image, f"{locked.number}.png", image, write_row)
    return signature


# --- meter readings ---------------------------------------------------------------------------------


def _most_a_meter_can_run(kind: str, *, since: dt.datetime, until: dt.datetime) -> Decimal:
    """The most a meter of `kind` can advance between two readings: its machine running flat
    out the whole time (settings.METER_MAX_RATE_PER_HOUR), plus the grace for readings that
    carry a day rather than a time."""
    hours = Decimal(max(0.0, (until - since).total_seconds())) / 3600 + settings.METER_JUMP_GRACE_HOURS
    return (Decimal(settings.METER_MAX_RATE_PER_HOUR[kind]) * hours).quantize(Decimal("0.01"))


def _implausible_jump(
    equipment: Equipment, kind: str, value: Decimal, at: dt.datetime, previous: MeterReading | None
) -> dict[str, Any] | None:
    """What makes `value` more than the machine could have run since the last reading (or,
    for its first, since it was installed), or None if it could have."""
    if previous is not None:
        since, start = previous.read_at, previous.value
        baseline = {"value": previous.value, "read_at": previous.read_at}
    elif equipment.install_date is not None:
        zone = ZoneInfo(equipment.site.time_zone)
        since, start = dt.datetime.combine(equipment.install_date, dt.time.min, tzinfo=zone), Decimal(0)
        baseline = {"value": Decimal(0), "installed_on": equipment.install_date}
    else:
        # Installed we do not know when, but not before the earliest date kept here: a typo in a
        # first reading would otherwise be the baseline every later reading is refused against.
        since, start = ranges.EARLIEST_DATETIME, Decimal(0)
        baseline = {"value": Decimal(0), "installed_by": ranges.EARLIEST_DATE}
    most = start + _most_a_meter_can_run(kind, since=since, until=at)
    return None if value <= most else {"previous": baseline, "most": most}


@transaction.atomic
def meter_reading_record(
    *,
    work_order: WorkOrder,
    kind: str,
    value: Decimal,
    by: User | None,
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> MeterReading | None:
    """A meter read on site; meters only go up, and the equipment's daily usage is refreshed.

    A reading higher than the machine could have run since the last one (a typo, a meter
    swapped) is held for review: kept in the audit trail as a flagged `meter_read` event and
    not stored as a reading, so it is not the baseline later readings must exceed. None then.
    """
    if not 0 <= value <= ranges.MAX_METER_VALUE:
        raise Invalid(
            f"A meter reading is between 0 and {ranges.MAX_METER_VALUE}.", code="meter_out_of_range"
        )
    locked = _lock_for_recording(work_order)
    when = _record_time(locked, at, clock_skew)
    at = when.at
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
    equipment = Equipment.objects.select_related("site").get(pk=locked.equipment_id)
    jump = _implausible_jump(equipment, kind, value, at, previous)
    if jump is not None:
        logger.warning(
            "Meter reading %s %s of unit %s held for review: more than %s possible",
            kind,
            value,
            locked.equipment_id,
            jump["most"],
        )
        payload = {"kind": kind, "value": value, "held": True, **jump}
        _event(
            locked,
            EventType.METER_READ,
            by=by,
            when=when,
            payload=payload,
            key=idempotency_key,
            flag_reason=WorkOrderEvent.FlagReason.METER_JUMP,
        )
        return None
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
    _event(locked, EventType.METER_READ, by=by, when=when, payload=payload, key=idempotency_key)
    return reading
