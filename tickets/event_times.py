"""When something happened on a work order: the time an event is recorded at.

A move's time may come from a technician's phone, hours late: `event_time` keeps it from
preceding the work order's previous move and from the future, and does not trust a phone
whose clock is wrong, so no face can rewrite the SLA history with a backdated event. The
lifecycle's moves (`move_time`), the on-site records (tickets.records) and the technician
app (mobile_api.services) all take their times from here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from fieldservice import clock
from fieldservice.errors import Invalid
from tickets.models import WorkOrder, WorkOrderEvent

EventType = WorkOrderEvent.Type


@dataclass(frozen=True)
class EventTime:
    """The time an event is recorded at, and why it is flagged (with what the device said)
    when that is not the time the device reported."""

    at: dt.datetime
    flag_reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


def clock_skew_allowance() -> dt.timedelta:
    return dt.timedelta(minutes=settings.MOBILE_EVENT_MAX_CLOCK_SKEW_MINUTES)


def event_time(
    *,
    work_order: WorkOrder,
    at: dt.datetime | None,
    after: dt.datetime,
    after_what: str,
    clock_skew: dt.timedelta | None = None,
) -> EventTime:
    """When to record an event that a device reports at `at` (None: now, by our clock) on a
    work order whose previous event (its creation, dispatch, last move, or the arrival for
    on-site records) was at `after`. Every face (the app, the APIs, the admin) goes through
    here, so a backdated event cannot rewrite the SLA history:

    * A device whose clock was further from ours than MOBILE_EVENT_MAX_CLOCK_SKEW_MINUTES when
      it sent the event (`clock_skew`: its clock minus ours) is not trusted. The event is
      recorded at the time we received it, which it cannot have happened after, and flagged
      for review with what the device said: a wrong clock never moves an SLA result.
    * Otherwise the time must not be before `after` nor after now, each by more than the same
      allowance (Invalid). Within the allowance, a time before `after` is recorded at `after`:
      the timeline stays in order, and a start never follows its end.
    """
    now = clock.now()
    allowance = clock_skew_allowance()
    if clock_skew is not None and abs(clock_skew) > allowance:
        said = {"at": at, "skew_minutes": round(clock_skew.total_seconds() / 60)}
        return EventTime(
            max(now, after),
            flag_reason=WorkOrderEvent.FlagReason.DEVICE_CLOCK,
            payload={"device_clock": said},
        )
    if at is None:
        return EventTime(max(now, after))
    if at > now + allowance:
        raise Invalid(
            f"The time {at.isoformat()} is in the future: check the phone's clock.",
            code="implausible_time",
            details={"at": at, "latest": now + allowance},
        )
    if at < after - allowance:
        raise Invalid(
            f"{work_order.number}: the time {at.isoformat()} is before {after_what} "
            f"({after.isoformat()}). Check the phone's clock.",
            code="event_out_of_order",
            details={"at": at, "earliest": after - allowance, "previous": {"what": after_what, "at": after}},
        )
    if at < after:
        return EventTime(after, payload={"device_at": at})
    return EventTime(at)


def _last_move(work_order: WorkOrder) -> tuple[dt.datetime, str]:
    """When the work order was created or last changed status, and which it was: what the next
    move may not precede. Edits and reassignments are not moves: a dispatcher's change of
    title while the technician is offline must not make the technician's actions late."""
    latest = (
        WorkOrderEvent.objects.filter(
            work_order_id=work_order.pk, type__in=(EventType.CREATED, EventType.STATUS_CHANGED)
        )
        .order_by("-at", "-pk")
        .values_list("at", "type", "to_status")
        .first()
    )
    if latest is None or latest[0] < work_order.created_at:
        return work_order.created_at, "its creation"
    at, type, status = latest
    return at, "its creation" if type == EventType.CREATED else f"its move to {status}"


def move_time(work_order: WorkOrder, at: dt.datetime | None, clock_skew: dt.timedelta | None) -> EventTime:
    """When to record the next move of `work_order`, reported at `at` (None: now)."""
    after, what = _last_move(work_order)
    return event_time(work_order=work_order, at=at, after=after, after_what=what, clock_skew=clock_skew)
