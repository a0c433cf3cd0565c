"""A work order's SLA clocks: when they start, when they are due (from its contract's terms,
or the default ones), and their breaches, recorded once each whoever sees them first (the
sweep, or the service that stopped a clock late). The working-time arithmetic is tickets.sla's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from contracts.selectors import coverage_for
from fieldservice import clock
from tickets import sla
from tickets.events import event_record_many, sla_breach_event
from tickets.models import WorkOrder, WorkOrderEvent
from tickets.sla_breach import CLOCKS, breached_q, clock_breached

Status = WorkOrder.Status

# Preventive work and installations are planned, booked days ahead: due from their window.
PLANNED_KINDS = (WorkOrder.Kind.PREVENTIVE, WorkOrder.Kind.INSTALLATION)


def sla_calendar(work_order: WorkOrder) -> sla.Calendar:
    kind = work_order.contract.sla_calendar if work_order.contract else settings.DEFAULT_SLA_CALENDAR
    return sla.Calendar.for_site(kind=kind, time_zone=work_order.site.time_zone)


def sla_clock_start(work_order: WorkOrder) -> dt.datetime:
    """Repairs are due from when they are reported; planned work (preventive maintenance and
    installations, booked days ahead) from the start of its window, when it becomes due."""
    if work_order.kind in PLANNED_KINDS and work_order.earliest_start:
        return max(work_order.created_at, work_order.earliest_start)
    return work_order.created_at


def sla_due_set(work_order: WorkOrder, *, opened_at: dt.datetime) -> None:
    """Set the contract (if any), billability and the two SLA due times from its terms."""
    coverage = None
    response_hours: Decimal | int
    resolution_hours: Decimal | int
    if work_order.equipment_id:
        local_day = opened_at.astimezone(ZoneInfo(work_order.site.time_zone)).date()
        coverage = coverage_for(
            equipment_id=work_order.equipment_id, on=local_day, priority=work_order.priority
        )
    if coverage is None:
        response_hours, resolution_hours = settings.DEFAULT_SLA_HOURS[work_order.priority]
        work_order.contract = None
        work_order.billable = True
    else:
        response_hours, resolution_hours = coverage.response_hours, coverage.resolution_hours
        work_order.contract = coverage.contract
        work_order.billable = False
    calendar = sla_calendar(work_order)
    work_order.sla_response_due = sla.due_after(calendar, opened_at, response_hours)
    resolution_due = sla.due_after(calendar, opened_at, resolution_hours)
    work_order.sla_resolution_due = calendar.add(resolution_due, work_order.sla_paused_minutes)


def sla_breach_record_if_late(
    work_order: WorkOrder, which: str, *, due: dt.datetime | None, at: dt.datetime
) -> None:
    """A clock stopped after its due time is a breach, whether or not a sweep saw it running."""
    if due is None or at <= due:
        return
    event_record_many(
        [sla_breach_event(work_order_id=work_order.pk, clock=which, due=due)], ignore_conflicts=True
    )


def sla_breaches_record(*, now: dt.datetime | None = None) -> int:
    """Write one `sla_breached` event per breach (response, resolution) of open work orders.

    Safe to run often and concurrently: the event's idempotency key is unique per work order
    and clock, so a breach is recorded once however many sweeps see it.
    """
    now = now or clock.now()
    open_statuses = [s for s in WorkOrder.OPEN_STATUSES if s != Status.ON_HOLD]
    breaches = []
    for work_order in WorkOrder.objects.filter(status__in=open_statuses).filter(breached_q(as_of=now)):
        for which, (due_field, stopped_field) in zip(("response", "resolution"), CLOCKS, strict=True):
            due, stopped = getattr(work_order, due_field), getattr(work_order, stopped_field)
            if clock_breached(due, stopped, as_of=now):
                breaches.append(sla_breach_event(work_order_id=work_order.pk, clock=which, due=due))
    keys = [breach.idempotency_key for breach in breaches]
    recorded = set(
        WorkOrderEvent.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    new_breaches = [breach for breach in breaches if breach.idempotency_key not in recorded]
    # ignore_conflicts: a concurrent sweep may insert the same breach between our read and write.
    event_record_many(new_breaches, ignore_conflicts=True)
    return len(new_breaches)
