"""The technician's visit, in the lifecycle of tickets.lifecycle: setting off, arriving (which
meets the response SLA), starting the work, holding and resuming it (the resolution clock
pauses), and completing it (the clock stops; the service report is sent after commit).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Unpack

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

from assets.models import Site
from fieldservice.errors import Invalid
from tickets.event_times import move_time
from tickets.lifecycle import (
    MoveContext,
    check_transition,
    lock_at_version,
    plain_move,
    require_from,
    status_change,
)
from tickets.models import WorkOrder, WorkOrderEvent
from tickets.sla_clocks import sla_breach_record_if_late, sla_calendar

logger = logging.getLogger(__name__)

Status = WorkOrder.Status


@transaction.atomic
def work_order_start_travel(
    *, work_order: WorkOrder, by: User | None, version: int | None, **context: Unpack[MoveContext]
) -> WorkOrder:
    """The technician sets off for the site."""
    return plain_move(
        work_order,
        Status.EN_ROUTE,
        sources=(Status.DISPATCHED,),
        by=by,
        version=version,
        **context,
    )


@transaction.atomic
def work_order_arrive(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    location: Point | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """The technician is on site, which meets the response SLA (an on-site promise). An
    arrival reported far from the site (PostGIS distance) is accepted but flagged."""
    locked = lock_at_version(work_order, version)
    require_from(locked, Status.ON_SITE, (Status.EN_ROUTE,))
    when = move_time(locked, at, clock_skew)
    fields = {"arrived_at": when.at, "responded_at": locked.responded_at or when.at}
    metres = None
    flag_reason = when.flag_reason
    if location is not None:
        metres = (
            Site.objects.filter(pk=locked.site_id)
            .annotate(distance=Distance("location", location))
            .values_list("distance", flat=True)
            .get()
            .m
        )
        if metres > settings.ARRIVAL_MAX_DISTANCE_M and not flag_reason:
            flag_reason = WorkOrderEvent.FlagReason.FAR_FROM_SITE
    status_change(
        locked,
        Status.ON_SITE,
        by=by,
        at=when.at,
        fields=fields,
        location=location,
        distance_from_site_m=metres,
        payload=when.payload,
        idempotency_key=idempotency_key,
        flag_reason=flag_reason,
    )
    sla_breach_record_if_late(locked, "response", due=locked.sla_response_due, at=fields["responded_at"])
    return locked


@transaction.atomic
def work_order_start_work(
    *, work_order: WorkOrder, by: User | None, version: int | None, **context: Unpack[MoveContext]
) -> WorkOrder:
    """The technician starts the work on site: `actual_start` is stamped the first time."""
    return plain_move(
        work_order,
        Status.IN_PROGRESS,
        sources=(Status.ON_SITE,),
        by=by,
        version=version,
        stamp=("actual_start",),
        **context,
    )


@transaction.atomic
def work_order_hold(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    reason: str,
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """Pause the work (waiting for parts, customer): the resolution clock stops."""
    locked = lock_at_version(work_order, version)
    check_transition(locked, Status.ON_HOLD)
    when = move_time(locked, at, clock_skew)
    status_change(
        locked,
        Status.ON_HOLD,
        by=by,
        at=when.at,
        fields={"on_hold_since": when.at},
        payload={"reason": reason, **when.payload},
        idempotency_key=idempotency_key,
        flag_reason=when.flag_reason,
    )
    return locked


@transaction.atomic
def work_order_resume(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """Resume after a hold: the resolution due time moves by the working time spent on hold."""
    locked = lock_at_version(work_order, version)
    require_from(locked, Status.IN_PROGRESS, (Status.ON_HOLD,))
    when = move_time(locked, at, clock_skew)
    fields: dict[str, Any] = {"on_hold_since": None}
    if locked.on_hold_since is not None and locked.sla_resolution_due is not None:
        calendar = sla_calendar(locked)
        paused = calendar.minutes_between(locked.on_hold_since, when.at)
        fields["sla_paused_minutes"] = locked.sla_paused_minutes + round(paused)
        fields["sla_resolution_due"] = calendar.add(locked.sla_resolution_due, paused)
    status_change(
        locked,
        Status.IN_PROGRESS,
        by=by,
        at=when.at,
        fields=fields,
        payload=when.payload,
        idempotency_key=idempotency_key,
        flag_reason=when.flag_reason,
    )
    return locked


def completion_missing(work_order: WorkOrder, *, resolution: str) -> list[dict[str, str]]:
    """What still stands between this work order and completion, one entry per gap. Reads the
    checklist through `.all()`, so a list that prefetched it (the technician app's) asks nothing."""
    missing = [
        {"field": f"checklist[{item.position}]", "message": f"Required check not answered: {item.label}"}
        for item in work_order.checklist.all()
        if item.required and not item.result and item.value is None and not item.text
    ]
    requires_signature = work_order.contract is not None and work_order.contract.requires_signature
    if requires_signature and not hasattr(work_order, "signature"):
        missing.append({"field": "signature", "message": "The contract requires the customer's signature."})
    if not resolution.strip():
        missing.append({"field": "resolution", "message": "Describe what was done."})
    return missing


@transaction.atomic
def work_order_complete(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    resolution: str,
    resolution_code: str = "",
    at: dt.datetime | None = None,
    location: Point | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """Finish the job. Refused with the list of what is missing; on success the service
    report is generated and sent after the transaction commits."""
    locked = lock_at_version(work_order, version)
    check_transition(locked, Status.COMPLETED)
    when = move_time(locked, at, clock_skew)
    at = when.at
    missing = completion_missing(locked, resolution=resolution)
    if missing:
        raise Invalid(
            f"{locked.number} cannot be completed yet: {len(missing)} item(s) missing.",
            code="completion_incomplete",
            details={"missing": missing},
        )
    fields = {
        "resolution": resolution,
        "resolution_code": resolution_code,
        "completed_at": at,
        "actual_end": at,
        "first_time_fix": True if locked.kind in WorkOrder.REPAIR_KINDS else None,
    }
    status_change(
        locked,
        Status.COMPLETED,
        by=by,
        at=at,
        fields=fields,
        location=location,
        payload=when.payload,
        idempotency_key=idempotency_key,
        flag_reason=when.flag_reason,
    )
    sla_breach_record_if_late(locked, "resolution", due=locked.sla_resolution_due, at=at)
    transaction.on_commit(lambda: _enqueue_service_report(locked.pk))
    return locked


def _enqueue_service_report(work_order_id: int) -> None:
    from tickets.tasks import service_report_generate

    try:
        service_report_generate.delay(work_order_id)
    except BrokerUnavailable:
        # Redis is down. The completion is committed, so failing the request would only make
        # the app retry a done completion; the report is not lost either: the periodic
        # tickets.tasks.service_reports_sweep queues it once the broker is back.
        logger.exception(
            "Service report of work order %s not queued: the broker is unavailable", work_order_id
        )
