"""The service report: render it once, store it, email it once to the customer.

`service_report_create` runs in a Celery task (acks_late) after a work order completes, so
it must be safe to run twice, including concurrently and after a crash half-way:

* one report per work order, in one file: a run first claims the work order's report by
  inserting its ServiceReport row (a OneToOne), then writes the file under a name fixed by
  the work order, then commits. A concurrent run waits on that INSERT and then uses the
  winner's row, so only the claim holder writes the file; a run killed after writing it and
  before committing leaves a file that the rerun overwrites, not a second copy;
* one email: a run sends only after claiming the send with a conditional UPDATE
  (`emailed_at IS NULL` → now) whose row count is 1. The claim is committed before the
  mail goes out, so delivery is at most once: a worker killed between the claim and the
  send leaves `emailed_at` set with no `report_sent` event, which is how to find such a
  report and resend it by hand. If sending raises, the claim is released so a retry sends;
* one `report_sent` event: its idempotency key is unique.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from assets.models import Contact
from fieldservice import clock
from fieldservice.errors import Conflict
from tickets.events import event_record
from tickets.models import ServiceReport, WorkOrder, WorkOrderEvent
from tickets.pdf import render_service_report
from tickets.survey import survey_token_for

logger = logging.getLogger(__name__)

EMAIL_LANGUAGES = {"en", "zh-hans"}
# The sweep looks for completions older than the grace (their task may simply be waiting in
# the queue or running) and newer than the window (older ones predate it, or were imported
# without reports; a longer broker outage needs `service_report_generate` run by hand).
REPORT_SWEEP_GRACE = dt.timedelta(minutes=10)
REPORT_SWEEP_WINDOW = dt.timedelta(days=2)


def report_recipient(work_order: WorkOrder) -> Contact | None:
    """Who receives the report: the site's primary contact if they have an email, else
    another contact of the account with one (people at this site first, then primaries)."""
    at_site = When(site_id=work_order.site_id, then=Value(0))
    return (
        Contact.objects.filter(account_id=work_order.account_id)
        .exclude(email="")
        .annotate(at_site=Case(at_site, default=Value(1), output_field=IntegerField()))
        .order_by("at_site", "-is_primary", "pk")
        .first()
    )


def survey_url(work_order: WorkOrder) -> str:
    return settings.SITE_URL + reverse("survey", args=[survey_token_for(work_order)])


def report_file_name(work_order: WorkOrder) -> str:
    """Where the work order's report is stored: the same name on every run (see above)."""
    month = timezone.localtime(work_order.completed_at or work_order.created_at)
    return f"reports/{month:%Y/%m}/{work_order.number}.pdf"


def _report_stored(work_order: WorkOrder, *, language: str) -> ServiceReport:
    existing = ServiceReport.objects.filter(work_order_id=work_order.pk).first()
    if existing is not None:
        return existing
    pdf = render_service_report(work_order, language=language)
    name = report_file_name(work_order)
    try:
        with transaction.atomic():
            # Race: a concurrent run (a redelivered task, someone opening the report) waits
            # on this INSERT until we commit, then fails it and keeps our row and file.
            report = ServiceReport.objects.create(work_order=work_order, pdf=name, generated_at=clock.now())
            # The claim is ours, so a file already there is a killed run's leftover.
            default_storage.delete(name)
            stored = default_storage.save(name, ContentFile(pdf))
            if stored != name:  # the storage normalised the name
                report.pdf.name = stored
                report.save(update_fields=["pdf"])
    except IntegrityError:
        return ServiceReport.objects.get(work_order_id=work_order.pk)
    return report


def _email_message(
    report: ServiceReport, work_order: WorkOrder, recipient: Contact, *, language: str
) -> EmailMessage:
    context = {
        "company_name": settings.COMPANY_NAME,
        "contact": recipient,
        "wo": work_order,
        "survey_url": survey_url(work_order),
    }
    with translation.override(language):
        subject = render_to_string(f"tickets/email/service_report_subject.{language}.txt", context)
        body = render_to_string(f"tickets/email/service_report_body.{language}.txt", context)
    message = EmailMessage(
        subject=" ".join(subject.split()),  # a header: one line
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[recipient.email],
    )
    with report.pdf.open("rb") as stored:
        message.attach(f"{work_order.number}.pdf", stored.read(), "application/pdf")
    return message


def _report_emailed(
    report: ServiceReport, work_order: WorkOrder, recipient: Contact, *, language: str
) -> None:
    message = _email_message(report, work_order, recipient, language=language)
    claimed_at = clock.now()
    # Claim the send. Race: two runs of the task (a retry after a lost ack, a duplicate
    # delivery); PostgreSQL serialises the two UPDATEs on the row and the second one sees
    # emailed_at already set, matches no row, and sends nothing.
    claimed = ServiceReport.objects.filter(pk=report.pk, emailed_at__isnull=True).update(
        emailed_at=claimed_at, emailed_to=recipient.email
    )
    if claimed != 1:
        return
    try:
        message.send()
    except Exception:
        # Not sent: give the claim back so the task's retry sends it, then let it fail.
        ServiceReport.objects.filter(pk=report.pk, emailed_at=claimed_at).update(
            emailed_at=None, emailed_to=""
        )
        raise
    report.emailed_at, report.emailed_to = claimed_at, recipient.email
    try:
        with transaction.atomic():
            event_record(
                work_order=work_order,
                type=WorkOrderEvent.Type.REPORT_SENT,
                by=None,
                at=claimed_at,
                payload={"to": recipient.email, "language": language, "report": report.pdf.name},
                idempotency_key=f"report-sent:{work_order.pk}",
            )
    except IntegrityError:
        # Already recorded for an earlier send (someone cleared emailed_at to resend by hand).
        logger.info("report_sent already recorded for work order %s", work_order.pk)


def _reportable(work_order: WorkOrder) -> None:
    if work_order.status not in WorkOrder.DONE_STATUSES:
        raise Conflict(
            f"{work_order.number} is {work_order.status}: a service report needs a completed work order.",
            code="not_completed",
            details={"status": work_order.status},
        )


def _report_language(recipient: Contact | None) -> str:
    language = recipient.language if recipient is not None else settings.LANGUAGE_CODE
    return language if language in EMAIL_LANGUAGES else settings.LANGUAGE_CODE


def service_report_create(*, work_order_id: int) -> ServiceReport:
    """Render and store the service report of a completed (or closed) work order and email
    it, with the survey link, to the customer contact. Safe to run more than once."""
    work_order = WorkOrder.objects.select_related("account", "site").get(pk=work_order_id)
    _reportable(work_order)
    recipient = report_recipient(work_order)
    language = _report_language(recipient)
    report = _report_stored(work_order, language=language)
    if recipient is None:
        logger.warning(
            "Service report for %s stored but not emailed: no contact of account %s has an email",
            work_order.number,
            work_order.account_id,
        )
        return report
    _report_emailed(report, work_order, recipient, language=language)
    return report


def reports_missing(*, now: dt.datetime) -> list[int]:
    """Work orders completed within the sweep window that have no report: their task was
    lost (the broker was down when they completed) or failed before storing it."""
    return list(
        WorkOrder.objects.filter(
            status__in=WorkOrder.DONE_STATUSES,
            completed_at__gte=now - REPORT_SWEEP_WINDOW,
            completed_at__lte=now - REPORT_SWEEP_GRACE,
            service_report__isnull=True,
        )
        .order_by("completed_at", "pk")
        .values_list("pk", flat=True)
    )


def service_report_ensure(*, work_order: WorkOrder) -> ServiceReport:
    """The stored report of a completed work order, rendering it now if it has none, without
    emailing anyone: for reading a report (history, a report the task has not made yet)."""
    _reportable(work_order)
    return _report_stored(work_order, language=_report_language(report_recipient(work_order)))
