"""Faults customers report: from the portal (a signed-in contact; a work order at once) and
from a machine's QR label (anyone; a work order only once the emailed link is followed).

Every report arrives as a corrective work order in `new`, on the dispatcher's board, through
tickets.creation.work_order_create (`by` None: no office user made it); the FaultReport row
keeps the channel, the reporter and the photos. The reporter gets an email with its number.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
import secrets
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from assets.models import Equipment
from contracts.models import Priority
from fieldservice import clock, ranges
from fieldservice.errors import Conflict, Invalid, NotFound, TooLarge
from portal import limits
from portal.models import FaultPhoto, FaultReport, PortalAccess
from tickets.creation import work_order_create, work_order_create_check
from tickets.models import WorkOrder
from tickets.records.images import photo_as_jpeg

logger = logging.getLogger(__name__)

TITLE_LENGTH = 120  # of WorkOrder.title's 200: the symptom's first line, shortened


def fault_priority(*, line_stopped: bool | None) -> int:
    """The priority of a customer's fault report: P1 when the customer says the production
    line is stopped (the machine down is the plant down), else P3 (a fault to fix in the
    normal course). Customers do not choose P2 or P4: the dispatcher can re-grade on the desk."""
    return Priority.P1 if line_stopped else Priority.P3


def _title(symptom: str) -> str:
    first_line = symptom.strip().splitlines()[0] if symptom.strip() else ""
    return first_line if len(first_line) <= TITLE_LENGTH else first_line[: TITLE_LENGTH - 1] + "…"


def _description(*, symptom: str, name: str, email: str, phone: str) -> str:
    # Names and numbers only, no words in a language: the reader's page shows its own labels.
    who = " · ".join(part for part in (name, email, phone) if part)
    return f"{symptom.strip()}\n\n— {who}"


def _checked_text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(f"{field}: required.", code="required", details={"field": field})
    if len(value) > limit:
        raise Invalid(f"{field}: at most {limit} characters.", code="too_long", details={"field": field})
    return value


def photos_decoded(uploads: Sequence[UploadedFile]) -> list[bytes]:
    """Each photo checked as the technicians' are: over MAX_ATTACHMENT_BYTES → TooLarge (413),
    not an image → Invalid; decoded and re-encoded as JPEG (tickets.records.images). Before
    any write: a refusal leaves nothing behind."""
    if len(uploads) > settings.PORTAL_MAX_FAULT_PHOTOS:
        raise Invalid(
            f"photos: at most {settings.PORTAL_MAX_FAULT_PHOTOS}.",
            code="too_many_photos",
            details={"field": "photos", "limit": settings.PORTAL_MAX_FAULT_PHOTOS},
        )
    decoded = []
    for upload in uploads:
        size = upload.size or 0
        if size > settings.MAX_ATTACHMENT_BYTES:
            limit_mb = settings.MAX_ATTACHMENT_BYTES / 1024 / 1024
            raise TooLarge(f"photos: {size / 1024 / 1024:.1f} MB; the limit is {limit_mb:.0f} MB.")
        if size == 0:
            raise Invalid("photos: the file is empty.", code="empty_file", details={"field": "photos"})
        upload.seek(0)
        decoded.append(photo_as_jpeg(io.BytesIO(upload.read())))
    return decoded


@transaction.atomic
def fault_report_submit(
    *,
    access: PortalAccess,
    equipment: Equipment,
    symptom: str,
    line_stopped: bool,
    photos: Sequence[bytes] = (),
) -> FaultReport:
    """A signed-in contact's fault report on `equipment` (which the caller fetched through the
    contact's scope, portal.access): a work order in `new` at once, priority by
    `fault_priority`, the photos kept with the report (`photos_decoded` first), and an email
    back to the contact."""
    contact = access.contact
    symptom = _checked_text(symptom, field="symptom", limit=ranges.LONG_TEXT_LENGTH)
    work_order_create_check(site=equipment.site, equipment=equipment)
    work_order = work_order_create(
        site=equipment.site,
        equipment=equipment,
        kind=WorkOrder.Kind.CORRECTIVE,
        title=_title(symptom),
        description=_description(
            symptom=symptom, name=contact.name, email=contact.email, phone=contact.phone
        ),
        priority=fault_priority(line_stopped=line_stopped),
        by=None,
    )
    report = FaultReport.objects.create(
        channel=FaultReport.Channel.PORTAL,
        account_id=equipment.site.account_id,
        site=equipment.site,
        equipment=equipment,
        contact=contact,
        reporter_name=contact.name,
        reporter_email=contact.email,
        reporter_phone=contact.phone,
        symptom=symptom,
        line_stopped=line_stopped,
        created_at=work_order.created_at,
        confirmed_at=work_order.created_at,
        work_order=work_order,
    )
    for jpeg in photos:
        digest = hashlib.sha256(jpeg).hexdigest()
        photo = FaultPhoto(
            report=report, size_bytes=len(jpeg), sha256=digest, uploaded_at=work_order.created_at
        )
        photo.file.save(f"{work_order.number}-{digest[:16]}.jpg", ContentFile(jpeg), save=True)
    if contact.email:
        transaction.on_commit(
            functools.partial(_received_email, report_id=report.pk, language=contact.language)
        )
    return report


# --- from a QR label, without signing in -------------------------------------------------------------


def label_fault_request(
    *,
    equipment: Equipment,
    label: str,
    name: str,
    email: str,
    phone: str,
    symptom: str,
    client_ip: str,
    language: str,
) -> FaultReport:
    """Someone at the machine reports a fault from its label: counted per label, per email
    address and per client address (limits.Limited beyond), refused for decommissioned
    equipment (Invalid), then held until the emailed confirmation link is followed
    (`label_fault_confirm`). `label` is the label's token: what the per-label limit counts."""
    name = _checked_text(name, field="name", limit=ranges.NAME_LENGTH)
    email = _checked_text(email, field="email", limit=254)
    phone = _checked_text(phone, field="phone", limit=40, required=False)
    symptom = _checked_text(symptom, field="symptom", limit=ranges.LONG_TEXT_LENGTH)
    work_order_create_check(site=equipment.site, equipment=equipment)
    limits.count_or_refuse(
        {
            ("label", label): settings.PORTAL_LABEL_REPORTS_PER_LABEL,
            ("label-email", limits.email_key(email)): settings.PORTAL_LABEL_REPORTS_PER_EMAIL,
            ("label-client", client_ip): settings.PORTAL_LABEL_REPORTS_PER_CLIENT,
        }
    )
    token = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        report = FaultReport.objects.create(
            channel=FaultReport.Channel.LABEL,
            account_id=equipment.site.account_id,
            site=equipment.site,
            equipment=equipment,
            reporter_name=name,
            reporter_email=email,
            reporter_phone=phone,
            symptom=symptom,
            created_at=now,
            confirm_sha256=hashlib.sha256(token.encode()).hexdigest(),
            confirm_by=now + dt.timedelta(hours=settings.PORTAL_FAULT_CONFIRM_HOURS),
        )
        transaction.on_commit(
            functools.partial(_confirm_email, report_id=report.pk, token=token, language=language)
        )
    return report


def confirm_url(token: str) -> str:
    return settings.SITE_URL + reverse("portal:fault-confirm", args=[token])


def label_report_pending(*, token: str) -> FaultReport:
    """The label report a confirmation link names, if it may still be confirmed (or was);
    NotFound for an unknown link, Conflict once it has lapsed."""
    report = FaultReport.objects.filter(confirm_sha256=hashlib.sha256(token.encode()).hexdigest()).first()
    if report is None:
        raise NotFound("This confirmation link is unknown.", code="confirm_unknown")
    if report.confirmed_at is None and report.confirm_by is not None and report.confirm_by <= clock.now():
        raise Conflict("This confirmation link has expired.", code="confirm_expired")
    return report


@transaction.atomic
def label_fault_confirm(*, token: str, language: str) -> FaultReport:
    """Follow a label report's confirmation link: the first time within
    PORTAL_FAULT_CONFIRM_HOURS it becomes a work order in `new` (P3: nobody signed in said the
    line is stopped); again, it is the same report, and nothing more is created."""
    report = label_report_pending(token=token)
    now = clock.now()
    # Race: the link followed twice at once; the row count says which request confirms it.
    won = FaultReport.objects.filter(pk=report.pk, confirmed_at__isnull=True, confirm_by__gt=now).update(
        confirmed_at=now
    )
    if not won:
        return FaultReport.objects.select_related("work_order").get(pk=report.pk)
    equipment = Equipment.objects.select_related("site", "equipment_model").get(pk=report.equipment_id)
    work_order_create_check(site=equipment.site, equipment=equipment)  # decommissioned meanwhile
    work_order = work_order_create(
        site=equipment.site,
        equipment=equipment,
        kind=WorkOrder.Kind.CORRECTIVE,
        title=_title(report.symptom),
        description=_description(
            symptom=report.symptom,
            name=report.reporter_name,
            email=report.reporter_email,
            phone=report.reporter_phone,
        ),
        priority=fault_priority(line_stopped=None),
        by=None,
        at=now,
    )
    FaultReport.objects.filter(pk=report.pk).update(work_order=work_order)
    transaction.on_commit(functools.partial(_received_email, report_id=report.pk, language=language))
    return FaultReport.objects.select_related("work_order").get(pk=report.pk)


# --- emails -----------------------------------------------------------------------------------


def _send(subject: str, body: str, to: str, what: str) -> None:
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [to]).send()
    except OSError:  # the report is stored; the email is a courtesy that may be resent by hand
        logger.exception("%s not sent to %s", what, to)


def _received_email(*, report_id: int, language: str) -> None:
    report = FaultReport.objects.select_related("work_order").get(pk=report_id)
    work_order = report.work_order
    if work_order is None:
        return
    with translation.override(language):
        subject = _("We received your fault report: %(number)s") % {"number": work_order.number}
        body = _(
            "Hello %(name)s,\n\nYour fault report is now work order %(number)s (priority P%(priority)s) "
            "on our dispatchers' board. We will contact you to plan the visit.\n\nWhat you reported:\n"
            "%(symptom)s\n\nService desk: %(phone)s"
        ) % {
            "name": report.reporter_name,
            "number": work_order.number,
            "priority": work_order.priority,
            "symptom": report.symptom,
            "phone": settings.SERVICE_PHONE,
        }
    _send(subject, body, report.reporter_email, f"Fault report {report_id} receipt")


def _confirm_email(*, report_id: int, token: str, language: str) -> None:
    report = FaultReport.objects.get(pk=report_id)
    with translation.override(language):
        subject = _("Confirm your fault report")
        body = _(
            "Hello %(name)s,\n\nTo send your fault report to our service desk, open this link "
            "within %(hours)s hours:\n\n%(url)s\n\nIf you did not report a fault, ignore this email: "
            "nothing is sent without it."
        ) % {
            "name": report.reporter_name,
            "hours": settings.PORTAL_FAULT_CONFIRM_HOURS,
            "url": confirm_url(token),
        }
    _send(subject, body, report.reporter_email, f"Fault report {report_id} confirmation")
