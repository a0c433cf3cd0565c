"""Files recorded on site: photos and documents attached to a work order, and the customer's signature.

Each file's type is judged by its bytes, never by what the upload declares; images are
re-encoded by tickets.records.images before anything is stored, and a file is stored only
with its row (a refused row takes its file with it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile

from fieldservice import ranges
from fieldservice.errors import Conflict, Invalid, TooLarge
from tickets.models import Attachment, Signature, WorkOrder, WorkOrderEvent
from tickets.records.images import photo_as_jpeg, signature_as_png
from tickets.records.recording import check_length, lock_for_recording, on_site_event, record_time

# The first bytes that identify each accepted file type; the declared type is not trusted.
MAGIC_NUMBERS = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
SNIFF_BYTES = 16


def _sniff_type(head: bytes) -> str | None:
    for content_type, signatures in MAGIC_NUMBERS.items():
        if any(head.startswith(signature) for signature in signatures):
            if content_type == "image/webp" and head[8:12] != b"WEBP":
                continue
            return content_type
    return None


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
    re-encoded (see `photo_as_jpeg`), at most settings.MAX_PHOTOS_PER_WORK_ORDER per work
    order. Everything is checked before the file is written: nothing is kept of a refusal."""
    size = upload.size or 0
    if size > settings.MAX_ATTACHMENT_BYTES:
        limit_mb = settings.MAX_ATTACHMENT_BYTES / 1024 / 1024
        raise TooLarge(f"The file is {size / 1024 / 1024:.1f} MB; the limit is {limit_mb:.0f} MB.")
    if size == 0:
        raise Invalid("The file is empty.", code="empty_file")
    check_length(caption, limit=ranges.SHORT_TEXT_LENGTH, field="caption")
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
        kind, content, extension = Attachment.Kind.PHOTO, photo_as_jpeg(upload), "jpg"
        content_type = "image/jpeg"
    digest = hashlib.sha256(content).hexdigest()
    locked = lock_for_recording(work_order)
    when = record_time(locked, at, clock_skew)
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
        on_site_event(
            locked,
            WorkOrderEvent.Type.ATTACHMENT_ADDED,
            by=by,
            when=when,
            payload=payload,
            key=idempotency_key,
        )

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
    check_length(signer_name.strip(), limit=ranges.NAME_LENGTH, field="signer's name")
    if len(png) > settings.MAX_SIGNATURE_BYTES:
        raise TooLarge(f"The signature image is over {settings.MAX_SIGNATURE_BYTES // 1024} KB.")
    if _sniff_type(png[:SNIFF_BYTES]) != "image/png":
        raise Invalid("The signature must be a PNG image.", code="signature_not_png")
    image = signature_as_png(png)
    locked = lock_for_recording(work_order)
    when = record_time(locked, at, clock_skew)
    if Signature.objects.filter(work_order=locked).exists():
        raise Conflict(f"{locked.number} is already signed.", code="already_signed")
    signature = Signature(
        work_order=locked, signer_name=signer_name.strip(), signed_at=when.at, captured_by=by
    )

    def write_row() -> None:
        signature.save()
        payload = {"signer_name": signature.signer_name}
        on_site_event(
            locked, WorkOrderEvent.Type.SIGNED, by=by, when=when, payload=payload, key=idempotency_key
        )

    _saved(signature.image, f"{locked.number}.png", image, write_row)
    return signature
