"""Every write of a case: opening it, moving it along its lifecycle, notes, the customer's
answer, and the sweep that closes what the customer never answered. (Escalations are in
cases.escalation.) Each service is one transaction that records its timeline event.

Callers: the dispatcher API (cases.api), the back office (cases.admin), the customer portal,
the survey signal and the periodic tasks; every one gets the same answers from here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from assets.models import Account, Contact
from cases.clocks import case_clocks
from cases.events import Actor, case_event_record, lock_case
from cases.models import CASE_NUMBER_SEQUENCE, Case, CaseEvent
from fieldservice import clock
from fieldservice.errors import Conflict, Invalid
from tickets.models import Survey, WorkOrder

logger = logging.getLogger(__name__)

Status = Case.Status
EventType = CaseEvent.Type


def _next_number(at: dt.datetime) -> str:
    """CASE-<the company's year at `at`>-<sequence>, as work orders are numbered."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [CASE_NUMBER_SEQUENCE])
        (sequence_value,) = cursor.fetchone()
    return f"CASE-{timezone.localtime(at).year}-{sequence_value:06d}"


def case_open_check(
    *,
    account: Account,
    kind: str,
    severity: int,
    channel: str,
    title: str,
    contact: Contact | None = None,
    work_orders: Iterable[WorkOrder] = (),
) -> None:
    """Raise Invalid for what case_open refuses, writing nothing (a form asks first)."""
    if kind not in Case.Kind.values:
        raise Invalid(gettext("Unknown kind of case."), code="invalid_kind", details={"field": "kind"})
    if severity not in Case.Severity.values:
        raise Invalid(
            gettext("Severity must be 1, 2 or 3."), code="invalid_severity", details={"field": "severity"}
        )
    if channel not in Case.Channel.values:
        raise Invalid(gettext("Unknown channel."), code="invalid_channel", details={"field": "channel"})
    if not title.strip():
        raise Invalid(gettext("A case needs a title."), code="title_required", details={"field": "title"})
    if contact is not None and contact.account_id != account.pk:
        raise Invalid(
            gettext("The contact belongs to another account."),
            code="contact_other_account",
            details={"field": "contact_id"},
        )
    foreign = sorted(wo.number for wo in work_orders if wo.account_id != account.pk)
    if foreign:
        raise Invalid(
            gettext("These work orders belong to another account: %(numbers)s.")
            % {"numbers": ", ".join(foreign)},
            code="work_order_other_account",
            details={"field": "work_order_ids", "numbers": foreign},
        )


@transaction.atomic
def case_open(
    *,
    account: Account,
    kind: str,
    severity: int,
    channel: str,
    title: str,
    by: User | None,
    description: str = "",
    contact: Contact | None = None,
    work_orders: Iterable[WorkOrder] = (),
    owner: User | None = None,
    survey: Survey | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """Open a case: its number, owner (by default the account's manager), its two clocks (from
    the account's contract or the defaults: cases.clocks) and the first timeline event.

    `by` is the member of staff who logged it, or None (the customer through the portal, a
    survey, an integration's system user is a User). `contact` must belong to `account`, as
    must every linked work order; refused with Invalid (422) otherwise."""
    at = at or clock.now()
    work_orders = list(work_orders)
    case_open_check(
        account=account,
        kind=kind,
        severity=severity,
        channel=channel,
        title=title,
        contact=contact,
        work_orders=work_orders,
    )
    clocks = case_clocks(account=account, contact=contact, severity=severity, opened_at=at)
    case = Case.objects.create(
        number=_next_number(at),
        kind=kind,
        severity=severity,
        channel=channel,
        account=account,
        contact=contact,
        owner=owner if owner is not None else account.account_manager,
        title=title.strip(),
        description=description.strip(),
        response_due=clocks.response_due,
        resolution_due=clocks.resolution_due,
        clock_source=clocks.source,
        contract=clocks.contract,
        survey=survey,
        created_at=at,
        created_by=by if by is not None and by.is_authenticated else None,
    )
    if work_orders:
        case.work_orders.set(work_orders)
    case_event_record(
        case=case,
        type=EventType.CREATED,
        by=by,
        at=at,
        to_status=case.status,
        customer_visible=True,
        payload={"kind": kind, "severity": severity, "channel": channel, "clock_source": clocks.source},
    )
    return case


def lock_at_version(case: Case, version: int | None) -> Case:
    """Re-read the case under its lock and check the caller saw the latest version (None: the
    caller acts on whatever it is now: the customer's answer, a sweep).

    Race: the owner resolving while the customer's portal answers or a colleague moves it; the
    lock serialises them and the version tells the later one it acted on stale data."""
    locked = lock_case(case.pk)
    if version is not None and locked.version != version:
        raise Conflict(
            gettext(
                "%(number)s was changed by someone else: it is at version %(current)s, you sent "
                "%(sent)s. Reload it and try again."
            )
            % {"number": locked.number, "current": locked.version, "sent": version},
            code="version_conflict",
            details={"current_version": locked.version, "status": locked.status},
        )
    return locked


def _refused(case: Case, to: str) -> Conflict:
    return Conflict(
        gettext("%(number)s cannot go from %(current)s to %(requested)s.")
        % {"number": case.number, "current": case.get_status_display(), "requested": Status(to).label},
        code="illegal_transition",
        details={"current": case.status, "requested": to, "allowed": list(case.next_statuses)},
    )


def _move(
    case: Case,
    *,
    to: str,
    by: Actor,
    at: dt.datetime,
    changes: dict[str, Any],
    payload: dict[str, Any] | None = None,
) -> Case:
    """Move a locked case to `to`, set `changes`, bump its version, record the event."""
    if to not in case.next_statuses:
        raise _refused(case, to)
    from_status = case.status
    case.status = to
    for name, value in changes.items():
        setattr(case, name, value)
    case.version += 1
    case.save(update_fields=["status", "version", "updated_at", *changes])
    case_event_record(
        case=case,
        type=EventType.STATUS_CHANGED,
        by=by,
        at=at,
        from_status=from_status,
        to_status=to,
        customer_visible=True,
        payload=payload,
    )
    return case


@transaction.atomic
def case_acknowledge(*, case: Case, by: Actor, version: int | None = None) -> Case:
    """The owner has told the customer the case is in hand: the response clock stops."""
    at = clock.now()
    locked = lock_at_version(case, version)
    return _move(locked, to=Status.ACKNOWLEDGED, by=by, at=at, changes={"acknowledged_at": at})


@transaction.atomic
def case_start(*, case: Case, by: Actor, version: int | None = None) -> Case:
    locked = lock_at_version(case, version)
    return _move(locked, to=Status.IN_PROGRESS, by=by, at=clock.now(), changes={})


@transaction.atomic
def case_resolve(*, case: Case, by: Actor, resolution: str = "", version: int | None = None) -> Case:
    """Resolved: the resolution clock stops and the customer is asked "was this resolved for
    you?" (case_confirm); unanswered for CASE_CONFIRM_DAYS, it closes unconfirmed."""
    at = clock.now()
    locked = lock_at_version(case, version)
    return _move(
        locked,
        to=Status.RESOLVED,
        by=by,
        at=at,
        changes={"resolved_at": at, "resolution": resolution.strip()},
    )


@transaction.atomic
def case_confirm(
    *, case: Case, resolved: bool, by: Actor, comment: str = "", version: int | None = None
) -> Case:
    """The customer's answer to "was this resolved for you?": yes → confirmed (closed); no →
    re-opened, back in progress (counted in `reopened_count`; the resolution clock runs on
    from its first due time). Only a resolved case asks the question (409 otherwise)."""
    at = clock.now()
    locked = lock_at_version(case, version)
    if locked.status != Status.RESOLVED:
        raise Conflict(
            gettext("%(number)s is not waiting for the customer's answer.") % {"number": locked.number},
            code="not_awaiting_answer",
            details={"current": locked.status},
        )
    case_event_record(
        case=locked,
        type=EventType.CUSTOMER_ANSWER,
        by=by,
        at=at,
        text=comment.strip(),
        customer_visible=True,
        payload={"resolved": resolved},
    )
    if resolved:
        return _move(locked, to=Status.CONFIRMED, by=by, at=at, changes={"closed_at": at})
    return _move(
        locked,
        to=Status.IN_PROGRESS,
        by=by,
        at=at,
        changes={"resolved_at": None, "reopened_count": locked.reopened_count + 1},
        payload={"reopened": True},
    )


@transaction.atomic
def case_note(*, case: Case, by: Actor, text: str, customer_visible: bool = False) -> CaseEvent:
    """Something said or done, on the timeline; `customer_visible` shows it in the portal."""
    if not text.strip():
        raise Invalid(gettext("A note needs some text."), code="text_required", details={"field": "text"})
    locked = lock_case(case.pk)  # the timeline in the order things happened
    return case_event_record(
        case=locked,
        type=EventType.NOTE,
        by=by,
        at=clock.now(),
        text=text.strip(),
        customer_visible=customer_visible,
    )


def cases_close_unconfirmed(*, now: dt.datetime | None = None) -> int:
    """Close every case resolved CASE_CONFIRM_DAYS ago or more that the customer never
    answered. Safe to run twice: a closed case no longer matches."""
    now = now or clock.now()
    cutoff = now - dt.timedelta(days=settings.CASE_CONFIRM_DAYS)
    with transaction.atomic():
        # skip_locked: a case the customer is answering right now is left to that answer.
        stale = Case.objects.filter(status=Status.RESOLVED, resolved_at__lte=cutoff)
        stale = stale.select_for_update(of=("self",), no_key=True, skip_locked=True).order_by("pk")
        closed = 0
        for case in stale:
            _move(
                case,
                to=Status.CLOSED_UNCONFIRMED,
                by=None,
                at=now,
                changes={"closed_at": now},
                payload={"confirm_days": settings.CASE_CONFIRM_DAYS},
            )
            closed += 1
    return closed


# --- a detractor's survey ------------------------------------------------------------------------


def is_detractor(survey: Survey) -> bool:
    """NPS ≤ CASE_DETRACTOR_NPS_MAX or CSAT ≤ CASE_DETRACTOR_CSAT_MAX."""
    return (survey.nps is not None and survey.nps <= settings.CASE_DETRACTOR_NPS_MAX) or (
        survey.csat is not None and survey.csat <= settings.CASE_DETRACTOR_CSAT_MAX
    )


def case_open_from_survey(*, survey: Survey) -> Case | None:
    """Open one complaint for a detractor's survey: at most one per survey, hence per work
    order (Case.survey is unique), however many times it is asked."""
    if not is_detractor(survey):
        return None
    existing = Case.objects.filter(survey=survey).first()
    if existing is not None:
        return existing
    work_order = WorkOrder.objects.select_related("account__account_manager").get(pk=survey.work_order_id)
    # The primary contact of the visited site, else of the account: whom the case answers.
    primary = Contact.objects.filter(account_id=work_order.account_id, is_primary=True).order_by("pk")
    contact = primary.filter(site_id=work_order.site_id).first() or primary.first()
    scores = " · ".join(
        f"{name} {value}" for name, value in (("NPS", survey.nps), ("CSAT", survey.csat)) if value is not None
    )
    try:
        with transaction.atomic():
            return case_open(
                account=work_order.account,
                kind=Case.Kind.COMPLAINT,
                severity=settings.CASE_SURVEY_SEVERITY,
                channel=Case.Channel.SURVEY,
                # Numbers only: a stored title in no one's language (the kind says complaint).
                title=f"{work_order.number} · {scores}",
                description=survey.comment,
                contact=contact,
                work_orders=[work_order],
                survey=survey,
                by=None,
            )
    except IntegrityError:
        # Race: the signal and a retry at once; the other one opened it.
        return Case.objects.get(survey=survey)


def case_open_from_survey_signal(sender: object, survey: Survey, **kwargs: object) -> None:
    """tickets.signals.survey_submitted's receiver (connected in cases.apps)."""
    case_open_from_survey(survey=survey)


# --- one entry for a move by its target status (the API, the back office, the desk) --------------


@transaction.atomic
def case_move(
    *, case: Case, to: str, by: Actor, version: int | None, resolution: str = "", comment: str = ""
) -> Case:
    """Move the case to `to` through the service of that step: acknowledged, in progress
    (from acknowledged; from resolved it is the customer saying "no": re-opened), resolved,
    confirmed (the customer saying "yes"). Closing unconfirmed is the sweep's alone."""
    locked = lock_at_version(case, version)
    if to not in locked.next_statuses or to == Status.CLOSED_UNCONFIRMED:
        raise _refused(locked, to)
    if to == Status.ACKNOWLEDGED:
        return case_acknowledge(case=locked, by=by)
    if to == Status.RESOLVED:
        return case_resolve(case=locked, by=by, resolution=resolution)
    if to == Status.CONFIRMED or (to == Status.IN_PROGRESS and locked.status == Status.RESOLVED):
        return case_confirm(case=locked, resolved=to == Status.CONFIRMED, by=by, comment=comment)
    return case_start(case=locked, by=by)
