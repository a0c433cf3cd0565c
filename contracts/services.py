"""Every write to a service contract's lifecycle.

    draft → active → renewed (a successor continues it) | expired (ended without one)
    draft | active → cancelled

Coverage follows the status: only an *active* contract covers its equipment
(contracts.selectors.contract_covering; tickets.pm uses the same rule), so SLA clocks and
preventive work follow these transitions.

A renewal agreed before the old contract ends (the auto-renewal at its notice deadline, or
a renewal won early) creates the successor at once, starting the day after the old end
date with its own number, while the old contract stays active to cover the rest of its
term; `contracts_close_renewed`, run daily by the renewal run, marks it renewed once its
end date has passed. Marking it renewed at once would leave its equipment uncovered for
the weeks between the agreement and the end date.

Every change, whoever makes it and through whichever door (`source`: the renewal run, a page,
the API, the back office), is recorded in the audit trail (fieldservice.audit) with its old and
new values, in the same transaction. Lock order across the project (tickets.events):
technician → work order → contract.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from assets.models import Equipment
from contracts.models import (
    ContractSLATerm,
    CoveredEquipment,
    RenewalOpportunity,
    ServiceContract,
)
from fieldservice import clock
from fieldservice.audit import Action, Image, Source, audit_entry, audit_record, changes_between, snapshot
from fieldservice.errors import Conflict
from fieldservice.models import AuditEntry

logger = logging.getLogger(__name__)

Status = ServiceContract.Status
CENT = Decimal("0.01")
ONE_DAY = dt.timedelta(days=1)
# A successor's number is the root number with this suffix and its version: SC-2026-0007-R2.
SUCCESSOR_SUFFIX = "-R"


def renewal_value(*, contract: ServiceContract) -> Decimal:
    """The renewed annual value: annual value × (1 + uplift %), rounded half up to cents."""
    factor = 1 + contract.uplift_percent / Decimal(100)
    return (contract.annual_value * factor).quantize(CENT, rounding=ROUND_HALF_UP)


def _lock(contract: ServiceContract) -> ServiceContract:
    return ServiceContract.objects.select_for_update(of=("self",)).get(pk=contract.pk)


def _require(contract: ServiceContract, *allowed: str, action: str) -> None:
    if contract.status not in allowed:
        raise Conflict(
            f"{contract.number} is {contract.status}: cannot {action} it.",
            code="contract_status",
            details={"status": contract.status, "allowed": list(allowed)},
        )


def contract_image(contract: ServiceContract) -> Image:
    """What the audit trail compares: the contract's own fields, its SLA terms and the
    equipment it covers, read from the database (not from what a form has cached)."""
    image = snapshot(contract)
    image["sla_terms"] = [
        f"P{priority}: {response} h / {resolution} h"
        for priority, response, resolution in ContractSLATerm.objects.filter(contract_id=contract.pk)
        .order_by("priority")
        .values_list("priority", "response_hours", "resolution_hours")
    ]
    image["coverage"] = [
        f"{serial} (#{equipment_id})"
        for equipment_id, serial in CoveredEquipment.objects.filter(contract_id=contract.pk)
        .order_by("equipment__serial_number", "equipment_id")
        .values_list("equipment_id", "equipment__serial_number")
    ]
    return image


def _set_status(
    contract: ServiceContract, status: str, *, by: User | None, source: str, note: str = ""
) -> None:
    previous = contract.status
    contract.status = status
    contract.save(update_fields=["status", "updated_at"])
    audit_record(
        obj=contract,
        action=Action.CHANGED,
        by=by,
        source=source,
        changes={"status": [previous, status]},
        note=note,
    )
    logger.info(
        "Contract %s (%s): %s → %s by %s", contract.number, contract.pk, previous, status, by or "system"
    )


def _close_opportunity(contract: ServiceContract, stage: str) -> None:
    """Close the renewal opportunity as won or lost, unless someone already closed it."""
    RenewalOpportunity.objects.filter(contract=contract).exclude(
        stage__in=RenewalOpportunity.CLOSED_STAGES
    ).update(stage=stage, closed_at=clock.now(), updated_at=clock.now())


@transaction.atomic
def contract_activate(
    *, contract: ServiceContract, by: User | None = None, source: str = Source.TASK
) -> ServiceContract:
    """Put a draft contract into force: from its start date it covers its equipment."""
    # Race: two people activating (or one activating while another cancels) the same draft.
    locked = _lock(contract)
    _require(locked, Status.DRAFT, action="activate")
    try:
        with transaction.atomic():
            _set_status(locked, Status.ACTIVE, by=by, source=source)
    except IntegrityError as error:
        raise Conflict(
            f"Another active contract already has the number {locked.number}.",
            code="contract_number_taken",
            details={"number": locked.number},
        ) from error
    return locked


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _successor_term(contract: ServiceContract) -> tuple[dt.date, dt.date]:
    """The next term: from the day after the end date, as long as this one.

    A term of whole years (1 Jan – 31 Dec, 15 Mar – 14 Mar two years on) stays whole years,
    whatever leap days it spans; any other term is repeated day for day.
    """
    start = contract.end_date + ONE_DAY
    years = contract.end_date.year - contract.start_date.year + 1
    for whole in (years - 1, years):
        if whole > 0 and _add_years(contract.start_date, whole) - ONE_DAY == contract.end_date:
            return start, _add_years(start, whole) - ONE_DAY
    return start, start + (contract.end_date - contract.start_date)


def _successor_number(contract: ServiceContract, version: int) -> str:
    root = contract.number
    suffix = f"{SUCCESSOR_SUFFIX}{contract.version}"
    if contract.version > 1 and root.endswith(suffix):
        root = root.removesuffix(suffix)
    return f"{root}{SUCCESSOR_SUFFIX}{version}"


@transaction.atomic
def contract_renew(
    *,
    contract: ServiceContract,
    today: dt.date | None = None,
    by: User | None = None,
    annual_value: Decimal | None = None,
    source: str = Source.TASK,
) -> ServiceContract:
    """Create the successor of an active contract and link it; returns the successor.

    The successor starts the day after the end date for a term as long, with the same SLA
    terms and the same covered equipment (less what was decommissioned since), at
    `annual_value` (default: the uplifted value, `renewal_value`). The old contract becomes
    renewed once its end date has passed (now, if it already has; otherwise by
    `contracts_close_renewed`). The renewal opportunity, if any, is won.
    """
    today = today or clock.today()
    # Race: the T0 auto-renewal and an account manager renewing by hand at the same moment
    # would both create a successor; the second waits here, then sees the first's.
    locked = _lock(contract)
    _require(locked, Status.ACTIVE, action="renew")
    if ServiceContract.objects.filter(predecessor=locked).exists():
        raise Conflict(f"{locked.number} has already been renewed.", code="contract_already_renewed")
    start, end = _successor_term(locked)
    version = locked.version + 1
    successor = ServiceContract.objects.create(
        number=_successor_number(locked, version),
        account_id=locked.account_id,
        start_date=start,
        end_date=end,
        annual_value=renewal_value(contract=locked) if annual_value is None else annual_value,
        currency=locked.currency,
        status=Status.ACTIVE,
        auto_renew=locked.auto_renew,
        notice_days=locked.notice_days,
        uplift_percent=locked.uplift_percent,
        sla_calendar=locked.sla_calendar,
        included_pm_visits_per_year=locked.included_pm_visits_per_year,
        requires_signature=locked.requires_signature,
        predecessor=locked,
        version=version,
    )
    ContractSLATerm.objects.bulk_create(
        ContractSLATerm(
            contract=successor,
            priority=term.priority,
            response_hours=term.response_hours,
            resolution_hours=term.resolution_hours,
        )
        for term in locked.sla_terms.order_by("priority")
    )
    CoveredEquipment.objects.bulk_create(
        CoveredEquipment(contract=successor, equipment_id=equipment_id, added_on=start)
        for equipment_id in locked.coverage.exclude(equipment__status=Equipment.Status.DECOMMISSIONED)
        .order_by("equipment_id")
        .values_list("equipment_id", flat=True)
    )
    _close_opportunity(locked, RenewalOpportunity.Stage.WON)
    audit_record(
        obj=successor,
        action=Action.CREATED,
        by=by,
        source=source,
        changes=changes_between(None, contract_image(successor)),
        note=f"Renewal of {locked.number}",
    )
    logger.info("Contract %s renewed as %s by %s", locked.number, successor.number, by or "system")
    if locked.end_date < today:
        _set_status(locked, Status.RENEWED, by=by, source=source, note=f"Continues as {successor.number}")
    return successor


@transaction.atomic
def contract_expire(
    *,
    contract: ServiceContract,
    today: dt.date | None = None,
    by: User | None = None,
    source: str = Source.TASK,
) -> ServiceContract:
    """End an active contract that reached its end date without a renewal.

    Refused while the contract still runs (today ≤ end date): it covers its last day.
    From then on its equipment gets no SLA terms and no preventive work orders.
    """
    today = today or clock.today()
    # Race: an expiry and a renewal of the same contract; whichever locks second sees the
    # other's outcome and is refused.
    locked = _lock(contract)
    _require(locked, Status.ACTIVE, action="expire")
    if locked.end_date >= today:
        raise Conflict(
            f"{locked.number} runs until {locked.end_date.isoformat()}.",
            code="contract_still_running",
            details={"end_date": locked.end_date.isoformat()},
        )
    if ServiceContract.objects.filter(predecessor=locked).exists():
        raise Conflict(f"{locked.number} has been renewed.", code="contract_already_renewed")
    _set_status(locked, Status.EXPIRED, by=by, source=source)
    _close_opportunity(locked, RenewalOpportunity.Stage.LOST)
    return locked


@transaction.atomic
def contract_cancel(
    *, contract: ServiceContract, by: User | None = None, reason: str = "", source: str = Source.TASK
) -> ServiceContract:
    """Cancel a draft or active contract now: its coverage stops today, not at its end date."""
    # Race: a cancellation and the renewal run's T0 (renew or expire) of the same contract.
    locked = _lock(contract)
    _require(locked, Status.DRAFT, Status.ACTIVE, action="cancel")
    if ServiceContract.objects.filter(predecessor=locked).exists():
        raise Conflict(
            f"{locked.number} has been renewed: cancel its successor instead.",
            code="contract_already_renewed",
        )
    _set_status(locked, Status.CANCELLED, by=by, source=source, note=reason)
    _close_opportunity(locked, RenewalOpportunity.Stage.LOST)
    if reason:
        logger.info("Contract %s cancelled: %s", locked.number, reason)
    return locked


@transaction.atomic
def contracts_close_renewed(*, today: dt.date | None = None) -> int:
    """Mark renewed every active contract whose end date has passed and whose successor
    exists. Returns how many. Safe to run any number of times."""
    today = today or clock.today()
    # Race: a cancel or expiry of one of these contracts at the same moment. The lock waits
    # for it, and PostgreSQL re-checks `status = active` on the locked row, so a contract
    # another transaction changed first is left out (and left alone).
    ending = list(
        ServiceContract.objects.select_for_update(of=("self",))
        .filter(
            Exists(ServiceContract.objects.filter(predecessor=OuterRef("pk"))),
            status=Status.ACTIVE,
            end_date__lt=today,
        )
        .order_by("pk")
    )
    if not ending:
        return 0
    ServiceContract.objects.filter(pk__in=[contract.pk for contract in ending]).update(
        status=Status.RENEWED, updated_at=clock.now()
    )
    AuditEntry.objects.bulk_create(
        audit_entry(
            obj=contract,
            action=Action.CHANGED,
            by=None,
            source=Source.TASK,
            changes={"status": [Status.ACTIVE, Status.RENEWED]},
            note="Ended; continues as its successor",
        )
        for contract in ending
    )
    logger.info("%s contract(s) ended and continue as their successors: marked renewed", len(ending))
    return len(ending)


# --- edits as a whole (the back office, imports) ------------------------------------------------------


@transaction.atomic
def contract_save(
    *,
    contract: ServiceContract,
    by: User | None,
    source: str,
    save_related: Callable[[], None] | None = None,
) -> ServiceContract:
    """Save a contract edited as a whole (the back office's form) and record what changed,
    SLA terms and coverage included: `save_related` writes the rows edited with it (the
    form's inlines) before the after-image is taken, so one entry holds the whole edit.

    The back office may correct any field, the status included; the lifecycle services
    above are the way for everyone else.
    """
    before = None
    if contract.pk is not None:
        # Race: two people saving the same contract; the second's before-image is the first's result.
        before = contract_image(_lock(contract))
    contract.save()
    if save_related is not None:
        save_related()
    audit_record(
        obj=contract,
        action=Action.CREATED if before is None else Action.CHANGED,
        by=by,
        source=source,
        changes=changes_between(before, contract_image(ServiceContract.objects.get(pk=contract.pk))),
    )
    return contract


@transaction.atomic
def contract_terms_change(
    *,
    contracts: Iterable[ServiceContract],
    by: User | None,
    source: str,
    change: Callable[[], None],
) -> None:
    """Change SLA terms or covered equipment on their own (the back office's lists of them)
    and record the difference under each contract concerned (a covered unit moved from one
    contract to another concerns both)."""
    locked = [_lock(contract) for contract in sorted({c.pk: c for c in contracts}.values(), key=_pk)]
    before = {contract.pk: contract_image(contract) for contract in locked}
    change()
    for contract in locked:
        audit_record(
            obj=contract,
            action=Action.CHANGED,
            by=by,
            source=source,
            changes=changes_between(before[contract.pk], contract_image(contract)),
        )


def _pk(contract: ServiceContract) -> int:
    return int(contract.pk)


@transaction.atomic
def contract_delete(*, contract: ServiceContract, by: User | None, source: str) -> None:
    """Delete a contract (the back office only), keeping in the audit trail what it was.
    A contract that work orders refer to cannot be deleted (ProtectedError): cancel it."""
    locked = _lock(contract)
    audit_record(
        obj=locked,
        action=Action.DELETED,
        by=by,
        source=source,
        changes=changes_between(contract_image(locked), None),
    )
    locked.delete()
