"""What every on-site record shares: its work order locked for recording, its time, its event.

Each write locks its work order, so nothing is added to a job while it is being completed,
and records an event in the audit trail.

Each record's time is the device's, checked as the lifecycle's are (tickets.event_times.
event_time): not before the visit's arrival, not in the future, and a device whose clock is
wrong has its records stamped with our time and flagged.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User

from fieldservice.errors import Conflict, Invalid
from tickets.event_times import EventTime, event_time
from tickets.events import event_record, lock_work_order
from tickets.models import WorkOrder

Status = WorkOrder.Status
# Records belong to the visit: from arrival until completion.
RECORDING_STATUSES = (Status.ON_SITE, Status.IN_PROGRESS, Status.ON_HOLD)


def lock_for_recording(work_order: WorkOrder) -> WorkOrder:
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


def record_time(locked: WorkOrder, at: dt.datetime | None, clock_skew: dt.timedelta | None) -> EventTime:
    """Records belong to the visit: none before the arrival."""
    return event_time(
        work_order=locked,
        at=at,
        after=locked.arrived_at or locked.created_at,
        after_what="the arrival on site",
        clock_skew=clock_skew,
    )


def on_site_event(
    work_order: WorkOrder,
    type: str,
    *,
    by: User | None,
    when: EventTime,
    payload: dict,
    key: str | None,
    flag_reason: str = "",
) -> None:
    """The record's event in the audit trail, at the record's time (and flagged as it is)."""
    event_record(
        work_order=work_order,
        type=type,
        by=by,
        at=when.at,
        payload={**payload, **when.payload},
        idempotency_key=key,
        flag_reason=when.flag_reason or flag_reason,
    )


def check_length(value: str, *, limit: int, field: str) -> None:
    """What the schemas bound, checked again where a face without one (a form, a script)
    would otherwise reach the database with it and fail there."""
    if len(value) > limit:
        raise Invalid(
            f"The {field} is {len(value)} characters long; at most {limit} are kept.",
            code="too_long",
            details={"field": field, "limit": limit},
        )
