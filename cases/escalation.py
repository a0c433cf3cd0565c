"""Escalations: a case whose response or resolution clock is past due and still running gets
one escalation per clock, to the owner's manager (StaffProfile.reports_to), else to every
active admin.

**Event, exactly once.** `case_escalations_record` appends one `escalated` event per clock,
its dedupe key the case and the clock (unique): a rerun, a concurrent sweep or a case that
is re-opened and runs late again inserts nothing more.

**Email, at most once, retried until sent.** `case_escalations_email` claims each unsent
escalation by a conditional UPDATE (`emailed_at IS NULL` → now, row count 1, autocommit)
before its email goes, as retention.health_alerts does; a failed send gives the claim back,
so the next run sends it, and the failures are raised after the others had their turn.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, gettext_lazy

from cases.events import NewCaseEvent, case_event_record_many
from cases.models import CLOCKS, Case, CaseEvent, overdue_q
from fieldservice import clock
from fieldservice.people import escalation_recipients, staff_language

logger = logging.getLogger(__name__)

CLOCK_NAMES = {"response": gettext_lazy("response (acknowledge)"), "resolution": gettext_lazy("resolution")}


class CaseEscalationsFailed(Exception):
    """Some escalation emails were not sent; they stay unsent and the next run retries."""


def _dedupe_key(case_id: int, clock_name: str) -> str:
    return f"case-escalation:{case_id}:{clock_name}"


def case_escalations_record(*, now: dt.datetime | None = None) -> int:
    """One `escalated` event per overdue clock of every open case; returns how many were new."""
    now = now or clock.now()
    events = []
    for clock_name, due_field, _stopped in CLOCKS:
        overdue = (
            Case.objects.filter(status__in=Case.OPEN_STATUSES)
            .filter(overdue_q(clock_name, as_of=now))
            .select_related("owner__profile__reports_to")
            .order_by("pk")
        )
        keys = {case.pk: _dedupe_key(case.pk, clock_name) for case in overdue}
        recorded = set(
            CaseEvent.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True)
        )
        for case in overdue:
            if keys[case.pk] in recorded:
                continue
            events.append(
                NewCaseEvent(
                    case_id=case.pk,
                    type=CaseEvent.Type.ESCALATED,
                    at=now,
                    payload={
                        "clock": clock_name,
                        "due": getattr(case, due_field).isoformat(),
                        "owner": case.owner_id,
                        "recipients": [person.pk for person in escalation_recipients(case.owner)],
                    },
                    dedupe_key=keys[case.pk],
                )
            )
    with transaction.atomic():
        return case_event_record_many(events)


def _message(event: CaseEvent) -> EmailMessage | None:
    """The escalation's email to its recipients who have an address, in the first one's
    language; None when none has one."""
    ids = event.payload.get("recipients", [])
    people = list(User.objects.filter(pk__in=ids, is_active=True).exclude(email="").select_related("profile"))
    if not people:
        return None
    case = event.case
    due = dt.datetime.fromisoformat(event.payload["due"])
    with translation.override(staff_language(people[0])):
        params = {
            "number": case.number,
            "title": case.title,
            "account": case.account.name,
            "clock": CLOCK_NAMES.get(event.payload["clock"], event.payload["clock"]),
            "due": formats.date_format(timezone.localtime(due), "DATETIME_FORMAT"),
            "owner": case.owner.get_full_name() or case.owner.username if case.owner else gettext("nobody"),
            "company": settings.COMPANY_NAME,
        }
        subject = gettext("Case %(number)s escalated: %(clock)s overdue") % params
        body = (
            gettext(
                'Case %(number)s of %(account)s, "%(title)s", has passed its %(clock)s due time '
                "(%(due)s) and is still open.\n\nOwner: %(owner)s\n\n— %(company)s"
            )
            % params
        )
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, to=[person.email for person in people])


def _send(event: CaseEvent) -> bool:
    """Claim, send, or give the claim back; False when another run had claimed it."""
    claimed_at = clock.now()
    # Two runs at once: PostgreSQL serialises the UPDATEs of the row; the later one matches
    # nothing and leaves the email to the first.
    claimed = CaseEvent.objects.filter(pk=event.pk, emailed_at__isnull=True).update(emailed_at=claimed_at)
    if claimed != 1:
        return False
    message = _message(event)
    if message is None:  # nobody with an address: nothing to retry (the event stays on the timeline)
        return False
    try:
        message.send()
    except Exception:
        CaseEvent.objects.filter(pk=event.pk, emailed_at=claimed_at).update(emailed_at=None)
        raise
    return True


def case_escalations_email() -> int:
    """Email every escalation not emailed yet; returns how many were sent."""
    unsent = (
        CaseEvent.objects.filter(type=CaseEvent.Type.ESCALATED, emailed_at__isnull=True)
        .select_related("case__account", "case__owner")
        .order_by("pk")
    )
    sent, failures = 0, []
    for event in unsent:
        try:
            sent += _send(event)
        except Exception as error:  # the others still get theirs; raised below
            logger.exception("Case escalation %s not emailed", event.pk)
            failures.append(f"event {event.pk}: {error}")
    if failures:
        raise CaseEscalationsFailed("; ".join(failures))
    return sent
