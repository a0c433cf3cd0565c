"""Every write to a work order: creation, edits, and the lifecycle state machine.

    new → scheduled → dispatched → en_route → on_site → in_progress ⇄ on_hold → completed → closed
    any open state → cancelled;  scheduled → new (unassign);  dispatched → scheduled (recall)

Each service locks the work order row (tickets.events.lock_work_order) so that two writers
cannot both read version N and both write N+1; the caller's `version` must match the row's, or the
call is refused with a version conflict instead of silently overwriting. Each records a
WorkOrderEvent (the audit trail, through tickets.events) and schedules side effects with
transaction.on_commit. The lock order across the project is documented in tickets.events.

One service per verb, each making its own moves; tickets.moves.work_order_move picks the verb
for a move (from, to), and every face moves work orders through it.

A move's time may come from a technician's phone, hours late: `event_time` keeps it from
preceding the work order's previous move and from the future, and does not trust a phone
whose clock is wrong, so no face can rewrite the SLA history with a backdated event.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from assets.models import Equipment, MaintenancePlan, Site
from contracts.selectors import coverage_for
from fieldservice import clock, roles
from fieldservice.errors import Conflict, Invalid
from tickets import sla
from tickets.events import (
    event_record,
    event_record_many,
    lock_work_order,
    lock_work_orders,
    sla_breach_event,
)
from tickets.models import WORK_ORDER_NUMBER_SEQUENCE, ChecklistItem, WorkOrder, WorkOrderEvent

logger = logging.getLogger(__name__)

Status = WorkOrder.Status
EventType = WorkOrderEvent.Type

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.SCHEDULED, Status.CANCELLED}),
    Status.SCHEDULED: frozenset({Status.NEW, Status.DISPATCHED, Status.CANCELLED}),
    Status.DISPATCHED: frozenset({Status.SCHEDULED, Status.EN_ROUTE, Status.CANCELLED}),
    Status.EN_ROUTE: frozenset({Status.ON_SITE, Status.CANCELLED}),
    Status.ON_SITE: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.ON_HOLD, Status.COMPLETED, Status.CANCELLED}),
    Status.ON_HOLD: frozenset({Status.IN_PROGRESS, Status.CANCELLED}),
    Status.COMPLETED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}
# First-time fix is measured on repair visits; preventive work is planned, not a fix.
REPAIR_KINDS = (WorkOrder.Kind.CORRECTIVE, WorkOrder.Kind.EMERGENCY)
PLANNED_KINDS = (WorkOrder.Kind.PREVENTIVE, WorkOrder.Kind.INSTALLATION)
EDITABLE_FIELDS = frozenset(
    {
        "title",
        "description",
        "priority",
        "estimated_minutes",
        "required_skills",
        "earliest_start",
        "latest_end",
    }
)


def _next_number(at: dt.datetime) -> str:
    """WO-<the company's year at `at`>-<sequence>: `at` is aware and may be in UTC, where the
    first eight hours of 1 January in Shanghai are still the old year."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [WORK_ORDER_NUMBER_SEQUENCE])
        (sequence_value,) = cursor.fetchone()
    return f"WO-{timezone.localtime(at).year}-{sequence_value:06d}"


def _sla_calendar(work_order: WorkOrder) -> sla.Calendar:
    kind = work_order.contract.sla_calendar if work_order.contract else settings.DEFAULT_SLA_CALENDAR
    return sla.Calendar.for_site(kind=kind, time_zone=work_order.site.time_zone)


def _sla_clock_start(work_order: WorkOrder) -> dt.datetime:
    """Repairs are due from when they are reported; planned work (preventive maintenance and
    installations, booked days ahead) from the start of its window, when it becomes due."""
    if work_order.kind in PLANNED_KINDS and work_order.earliest_start:
        return max(work_order.created_at, work_order.earliest_start)
    return work_order.created_at


def _set_sla_due(work_order: WorkOrder, *, opened_at: dt.datetime) -> None:
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
    calendar = _sla_calendar(work_order)
    work_order.sla_response_due = sla.due_after(calendar, opened_at, response_hours)
    resolution_due = sla.due_after(calendar, opened_at, resolution_hours)
    work_order.sla_resolution_due = calendar.add(resolution_due, work_order.sla_paused_minutes)


# --- when something happened ------------------------------------------------------------------


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


def _move_time(work_order: WorkOrder, at: dt.datetime | None, clock_skew: dt.timedelta | None) -> EventTime:
    after, what = _last_move(work_order)
    return event_time(work_order=work_order, at=at, after=after, after_what=what, clock_skew=clock_skew)


def _lock(work_order: WorkOrder, version: int | None) -> WorkOrder:
    """Re-read the row under a lock and check the caller saw the latest version.

    Race: a dispatcher reassigning while the technician's app posts an event; the lock
    serialises them and the version tells the later one it acted on stale data.
    """
    locked = lock_work_order(work_order.pk)
    if version is not None and locked.version != version:
        raise Conflict(
            f"{locked.number} was changed by someone else: it is at version {locked.version}, "
            f"you sent {version}. Reload it and try again.",
            code="version_conflict",
            details={"current_version": locked.version, "status": locked.status},
        )
    return locked


def transition_refused(work_order: WorkOrder, to: str) -> Conflict:
    """The refusal of a move the work order cannot make from its status."""
    return Conflict(
        f"{work_order.number} cannot go from {work_order.status} to {to}.",
        code="illegal_transition",
        details={"current": work_order.status, "requested": to},
    )


def _check_transition(work_order: WorkOrder, to: str) -> None:
    if to not in TRANSITIONS[work_order.status]:
        raise transition_refused(work_order, to)


def _move(
    work_order: WorkOrder,
    to: str,
    *,
    by: User | None,
    at: dt.datetime,
    fields: dict[str, Any] | None = None,
    location: Point | None = None,
    distance_from_site_m: float | None = None,
    payload: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    flag_reason: str = "",
) -> WorkOrderEvent:
    _check_transition(work_order, to)
    from_status = work_order.status
    for name, value in (fields or {}).items():
        setattr(work_order, name, value)
    work_order.status = to
    work_order.version += 1
    work_order.save(update_fields=[*(fields or {}), "status", "version", "updated_at"])
    return event_record(
        work_order=work_order,
        type=EventType.STATUS_CHANGED,
        by=by,
        at=at,
        from_status=from_status,
        to_status=to,
        location=location,
        distance_from_site_m=distance_from_site_m,
        payload=payload,
        idempotency_key=idempotency_key,
        flag_reason=flag_reason,
    )


# --- creation and edits ---------------------------------------------------------------------


def work_order_create_check(
    *,
    site: Site,
    equipment: Equipment | None,
    earliest_start: dt.datetime | None = None,
    latest_end: dt.datetime | None = None,
) -> None:
    """Raise Invalid for what work_order_create refuses, without writing anything: a form
    (the back office's intake) asks first, to show the refusal beside its field."""
    if equipment is not None and equipment.site_id != site.pk:
        raise Invalid("The equipment is not installed at this site.", code="equipment_not_at_site")
    if equipment is not None and equipment.status == Equipment.Status.DECOMMISSIONED:
        raise Invalid("The equipment is decommissioned.", code="equipment_decommissioned")
    if earliest_start and latest_end and latest_end <= earliest_start:
        raise Invalid("The latest end must be after the earliest start.", code="window_ordered")


@transaction.atomic
def work_order_create(
    *,
    site: Site,
    kind: str,
    title: str,
    by: User | None,
    priority: int = 3,
    equipment: Equipment | None = None,
    description: str = "",
    required_skills: dict[str, int] | None = None,
    estimated_minutes: int | None = None,
    earliest_start: dt.datetime | None = None,
    latest_end: dt.datetime | None = None,
    maintenance_plan: MaintenancePlan | None = None,
    pm_due_date: dt.date | None = None,
    checklist: Iterable[dict[str, Any]] = (),
    at: dt.datetime | None = None,
) -> WorkOrder:
    """Open a work order: number, contract and SLA clocks, required skills, checklist."""
    at = at or clock.now()
    work_order_create_check(
        site=site, equipment=equipment, earliest_start=earliest_start, latest_end=latest_end
    )
    if required_skills is None:
        required_skills = (
            {equipment.equipment_model.required_skill: equipment.equipment_model.required_skill_level}
            if equipment is not None
            else {}
        )
    work_order = WorkOrder(
        number=_next_number(at),
        kind=kind,
        priority=priority,
        title=title,
        description=description,
        account_id=site.account_id,
        site=site,
        equipment=equipment,
        maintenance_plan=maintenance_plan,
        pm_due_date=pm_due_date,
        required_skills=required_skills,
        estimated_minutes=estimated_minutes or settings.DEFAULT_ESTIMATED_MINUTES,
        earliest_start=earliest_start,
        latest_end=latest_end,
        created_at=at,
        created_by=by if by is not None and by.is_authenticated else None,
    )
    _set_sla_due(work_order, opened_at=_sla_clock_start(work_order))
    work_order.save()
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            work_order=work_order,
            position=position,
            label=item["label"],
            kind=item.get("kind", ChecklistItem.Kind.PASS_FAIL),
            unit=item.get("unit", ""),
            required=item.get("required", True),
        )
        for position, item in enumerate(checklist, start=1)
    )
    event_record(
        work_order=work_order,
        type=EventType.CREATED,
        by=by,
        at=at,
        to_status=work_order.status,
        payload={"kind": kind},
    )
    if kind in REPAIR_KINDS and equipment is not None:
        _mark_earlier_visits_not_fixed(work_order, equipment=equipment, at=at, by=by)
    return work_order


def _mark_earlier_visits_not_fixed(
    work_order: WorkOrder, *, equipment: Equipment, at: dt.datetime, by: User | None
) -> None:
    """A repair visit within the window of a completed one: that one did not fix it first time."""
    window_start = at - dt.timedelta(days=settings.FIRST_TIME_FIX_WINDOW_DAYS)
    earlier = lock_work_orders(
        WorkOrder.objects.filter(
            equipment=equipment,
            kind__in=REPAIR_KINDS,
            status__in=(Status.COMPLETED, Status.CLOSED),
            completed_at__gte=window_start,
            completed_at__lte=at,
        ).exclude(first_time_fix=False)
    )
    for visit in earlier:
        visit.first_time_fix = False
        visit.version += 1
        visit.save(update_fields=["first_time_fix", "version", "updated_at"])
        event_record(
            work_order=visit,
            type=EventType.UPDATED,
            by=by,
            at=at,
            payload={"first_time_fix": False, "repeat": work_order.number},
        )


@transaction.atomic
def work_order_update(*, work_order: WorkOrder, by: User | None, version: int, **changes: Any) -> WorkOrder:
    """Change the editable fields; a new priority or window re-derives the SLA clocks."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise Invalid(f"These fields cannot be edited: {', '.join(sorted(unknown))}.", code="not_editable")
    locked = _lock(work_order, version)
    if not locked.is_open:
        raise Conflict(f"{locked.number} is {locked.status} and can no longer be edited.", code="closed")
    changed = {name: value for name, value in changes.items() if getattr(locked, name) != value}
    if not changed:
        return locked
    for name, value in changed.items():
        setattr(locked, name, value)
    if locked.earliest_start and locked.latest_end and locked.latest_end <= locked.earliest_start:
        raise Invalid("The latest end must be after the earliest start.", code="window_ordered")
    update_fields = [*changed, "version", "updated_at"]
    if "priority" in changed:
        _set_sla_due(locked, opened_at=_sla_clock_start(locked))
        update_fields += ["sla_response_due", "sla_resolution_due", "contract", "billable"]
    locked.version += 1
    locked.save(update_fields=update_fields)
    event_record(
        work_order=locked, type=EventType.UPDATED, by=by, at=clock.now(), payload={"changed": changed}
    )
    return locked


# --- the lifecycle ----------------------------------------------------------------------------


def _technician_user(user: User) -> User:
    if not roles.has_role(user, roles.TECHNICIAN):
        raise Invalid(f"{user} is not a technician.", code="not_a_technician")
    return user


@transaction.atomic
def work_order_schedule(
    *,
    work_order: WorkOrder,
    technician: User,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    reason: str = "",
) -> WorkOrder:
    """Assign a technician and planned times. On a scheduled or dispatched job it reassigns:
    a dispatched job goes back to scheduled, since the new technician has not received it."""
    if planned_end <= planned_start:
        raise Invalid("The planned end must be after the planned start.", code="planned_ordered")
    locked = _lock(work_order, version)
    if locked.status not in (Status.NEW, Status.SCHEDULED, Status.DISPATCHED):
        raise Conflict(
            f"{locked.number} is {locked.status}: it can only be (re)scheduled before the technician leaves.",
            code="illegal_transition",
            details={"current": locked.status, "requested": Status.SCHEDULED},
        )
    at = _move_time(locked, at, None).at
    fields = {
        "assigned_technician": _technician_user(technician),
        "planned_start": planned_start,
        "planned_end": planned_end,
    }
    payload = {"technician": technician.get_username(), "planned_start": planned_start, "reason": reason}
    if locked.status == Status.SCHEDULED:
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.version += 1
        locked.save(update_fields=[*fields, "version", "updated_at"])
        event_record(work_order=locked, type=EventType.ASSIGNED, by=by, at=at, payload=payload)
    else:
        _move(locked, Status.SCHEDULED, by=by, at=at, fields=fields, payload=payload)
    return locked


@transaction.atomic
def work_order_unschedule(*, work_order: WorkOrder, by: User | None, version: int | None) -> WorkOrder:
    locked = _lock(work_order, version)
    fields = {"assigned_technician": None, "planned_start": None, "planned_end": None}
    _move(locked, Status.NEW, by=by, at=clock.now(), fields=fields)
    return locked


def _require_from(work_order: WorkOrder, to: str, sources: tuple[str, ...]) -> None:
    """Each service makes one move; another legal move into the same state has its own
    service with its own bookkeeping (resume credits the hold, recall keeps the technician)."""
    if work_order.status not in sources:
        raise transition_refused(work_order, to)


def _step(
    work_order: WorkOrder,
    to: str,
    *,
    sources: tuple[str, ...],
    by: User | None,
    version: int | None,
    at: dt.datetime | None,
    location: Point | None,
    idempotency_key: str | None,
    clock_skew: dt.timedelta | None,
    stamp: tuple[str, ...] = (),
) -> WorkOrder:
    """The plain moves (no bookkeeping but their time): from `sources` to `to`, stamping the
    fields named in `stamp` with the move's time when they are still empty."""
    locked = _lock(work_order, version)
    _require_from(locked, to, sources)
    when = _move_time(locked, at, clock_skew)
    _move(
        locked,
        to,
        by=by,
        at=when.at,
        fields={name: when.at for name in stamp if getattr(locked, name) is None},
        location=location,
        payload=when.payload,
        idempotency_key=idempotency_key,
        flag_reason=when.flag_reason,
    )
    return locked


@transaction.atomic
def work_order_dispatch(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    location: Point | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """Send a scheduled job to its technician's app."""
    return _step(
        work_order,
        Status.DISPATCHED,
        sources=(Status.SCHEDULED,),
        by=by,
        version=version,
        at=at,
        location=location,
        idempotency_key=idempotency_key,
        clock_skew=clock_skew,
    )


@transaction.atomic
def work_order_recall(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    location: Point | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """Take a dispatched job back before the technician leaves; it keeps its technician and times."""
    return _step(
        work_order,
        Status.SCHEDULED,
        sources=(Status.DISPATCHED,),
        by=by,
        version=version,
        at=at,
        location=location,
        idempotency_key=idempotency_key,
        clock_skew=clock_skew,
    )


@transaction.atomic
def work_order_start_travel(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    location: Point | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """The technician sets off for the site."""
    return _step(
        work_order,
        Status.EN_ROUTE,
        sources=(Status.DISPATCHED,),
        by=by,
        version=version,
        at=at,
        location=location,
        idempotency_key=idempotency_key,
        clock_skew=clock_skew,
    )


@transaction.atomic
def work_order_start_work(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    location: Point | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """The technician starts the work on site: `actual_start` is stamped the first time."""
    return _step(
        work_order,
        Status.IN_PROGRESS,
        sources=(Status.ON_SITE,),
        by=by,
        version=version,
        at=at,
        location=location,
        idempotency_key=idempotency_key,
        clock_skew=clock_skew,
        stamp=("actual_start",),
    )


@transaction.atomic
def work_order_close(
    *,
    work_order: WorkOrder,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    location: Point | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> WorkOrder:
    """The office closes a completed job."""
    return _step(
        work_order,
        Status.CLOSED,
        sources=(Status.COMPLETED,),
        by=by,
        version=version,
        at=at,
        location=location,
        idempotency_key=idempotency_key,
        clock_skew=clock_skew,
    )


def _record_breach_if_late(
    work_order: WorkOrder, which: str, *, due: dt.datetime | None, at: dt.datetime
) -> None:
    """A clock stopped after its due time is a breach, whether or not a sweep saw it running."""
    if due is None or at <= due:
        return
    event_record_many(
        [sla_breach_event(work_order_id=work_order.pk, clock=which, due=due)], ignore_conflicts=True
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
    locked = _lock(work_order, version)
    _require_from(locked, Status.ON_SITE, (Status.EN_ROUTE,))
    when = _move_time(locked, at, clock_skew)
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
    _move(
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
    _record_breach_if_late(locked, "response", due=locked.sla_response_due, at=fields["responded_at"])
    return locked


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
    locked = _lock(work_order, version)
    _check_transition(locked, Status.ON_HOLD)
    when = _move_time(locked, at, clock_skew)
    _move(
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
    locked = _lock(work_order, version)
    _require_from(locked, Status.IN_PROGRESS, (Status.ON_HOLD,))
    when = _move_time(locked, at, clock_skew)
    fields: dict[str, Any] = {"on_hold_since": None}
    if locked.on_hold_since is not None and locked.sla_resolution_due is not None:
        calendar = _sla_calendar(locked)
        paused = calendar.minutes_between(locked.on_hold_since, when.at)
        fields["sla_paused_minutes"] = locked.sla_paused_minutes + round(paused)
        fields["sla_resolution_due"] = calendar.add(locked.sla_resolution_due, paused)
    _move(
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
    locked = _lock(work_order, version)
    _check_transition(locked, Status.COMPLETED)
    when = _move_time(locked, at, clock_skew)
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
        "first_time_fix": True if locked.kind in REPAIR_KINDS else None,
    }
    _move(
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
    _record_breach_if_late(locked, "resolution", due=locked.sla_resolution_due, at=at)
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


@transaction.atomic
def work_order_cancel(
    *, work_order: WorkOrder, by: User | None, version: int | None, reason: str
) -> WorkOrder:
    locked = _lock(work_order, version)
    _move(
        locked,
        Status.CANCELLED,
        by=by,
        at=clock.now(),
        fields={"on_hold_since": None},
        payload={"reason": reason},
    )
    return locked


# --- SLA breaches -------------------------------------------------------------------------------


def sla_breaches_record(*, now: dt.datetime | None = None) -> int:
    """Write one `sla_breached` event per breach (response, resolution) of open work orders.

    Safe to run often and concurrently: the event's idempotency key is unique per work order
    and clock, so a breach is recorded once however many sweeps see it.
    """
    now = now or clock.now()
    open_statuses = [s for s in WorkOrder.OPEN_STATUSES if s != Status.ON_HOLD]
    response_late = Q(sla_response_due__lt=now) & (
        Q(responded_at__isnull=True) | Q(responded_at__gt=F("sla_response_due"))
    )
    resolution_late = Q(sla_resolution_due__lt=now)
    breaches = []
    for work_order in WorkOrder.objects.filter(status__in=open_statuses).filter(
        response_late | resolution_late
    ):
        for which, due in (
            ("response", work_order.sla_response_due),
            ("resolution", work_order.sla_resolution_due),
        ):
            if due is None or due >= now:
                continue
            if which == "response" and work_order.responded_at and work_order.responded_at <= due:
                continue
            breaches.append(sla_breach_event(work_order_id=work_order.pk, clock=which, due=due))
    keys = [breach.idempotency_key for breach in breaches]
    recorded = set(
        WorkOrderEvent.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", flat=True)
    )
    new_breaches = [breach for breach in breaches if breach.idempotency_key not in recorded]
    # ignore_conflicts: a concurrent sweep may insert the same breach between our read and write.
    event_record_many(new_breaches, ignore_conflicts=True)
    return len(new_breaches)
