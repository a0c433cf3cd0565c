"""The work order's lifecycle: its state machine, and the office's moves in it (schedule,
unschedule, dispatch, recall, close, cancel). The technician's moves, from setting off to
completion, are tickets.site_visit's.

    new → scheduled → dispatched → en_route → on_site → in_progress ⇄ on_hold → completed → closed
    any open state → cancelled;  scheduled → new (unassign);  dispatched → scheduled (recall)

Each service locks the work order row (`lock_at_version`, through tickets.events.lock_work_order)
so that two writers cannot both read version N and both write N+1; the caller's `version` must
match the row's, or the call is refused with a version conflict instead of silently overwriting.
Each records a WorkOrderEvent (the audit trail, through tickets.events) and schedules side
effects with transaction.on_commit. The lock order across the project is documented in
tickets.events.

One service per verb, each making its own moves; tickets.moves.work_order_move picks the verb
for a move (from, to), and every face moves work orders through it. A move's time is checked by
tickets.event_times.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict, Unpack

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import transaction

from fieldservice import clock, roles
from fieldservice.errors import Conflict, Invalid
from tickets.event_times import move_time
from tickets.events import event_record, lock_work_order
from tickets.models import WorkOrder, WorkOrderEvent

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


def lock_at_version(work_order: WorkOrder, version: int | None) -> WorkOrder:
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


def check_transition(work_order: WorkOrder, to: str) -> None:
    if to not in TRANSITIONS[work_order.status]:
        raise transition_refused(work_order, to)


def status_change(
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
    """Move the locked `work_order` to `to`, if its status allows: set `fields`, bump the version,
    save, and record the status change in its trail. Every move of every verb ends here."""
    check_transition(work_order, to)
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
    locked = lock_at_version(work_order, version)
    if locked.status not in (Status.NEW, Status.SCHEDULED, Status.DISPATCHED):
        raise Conflict(
            f"{locked.number} is {locked.status}: it can only be (re)scheduled before the technician leaves.",
            code="illegal_transition",
            details={"current": locked.status, "requested": Status.SCHEDULED},
        )
    at = move_time(locked, at, None).at
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
        status_change(locked, Status.SCHEDULED, by=by, at=at, fields=fields, payload=payload)
    return locked


@transaction.atomic
def work_order_unschedule(*, work_order: WorkOrder, by: User | None, version: int | None) -> WorkOrder:
    locked = lock_at_version(work_order, version)
    fields = {"assigned_technician": None, "planned_start": None, "planned_end": None}
    status_change(locked, Status.NEW, by=by, at=clock.now(), fields=fields)
    return locked


def require_from(work_order: WorkOrder, to: str, sources: tuple[str, ...]) -> None:
    """Each service makes one move; another legal move into the same state has its own
    service with its own bookkeeping (resume credits the hold, recall keeps the technician)."""
    if work_order.status not in sources:
        raise transition_refused(work_order, to)


class MoveContext(TypedDict, total=False):
    """When and where a face says a move happened (each optional): what every plain verb
    passes on to `plain_move` unchanged."""

    at: dt.datetime | None
    location: Point | None
    idempotency_key: str | None
    clock_skew: dt.timedelta | None


def plain_move(
    work_order: WorkOrder,
    to: str,
    *,
    sources: tuple[str, ...],
    by: User | None,
    version: int | None,
    stamp: tuple[str, ...] = (),
    **context: Unpack[MoveContext],
) -> WorkOrder:
    """The plain moves (no bookkeeping but their time): from `sources` to `to`, stamping the
    fields named in `stamp` with the move's time when they are still empty."""
    locked = lock_at_version(work_order, version)
    require_from(locked, to, sources)
    when = move_time(locked, context.get("at"), context.get("clock_skew"))
    status_change(
        locked,
        to,
        by=by,
        at=when.at,
        fields={name: when.at for name in stamp if getattr(locked, name) is None},
        location=context.get("location"),
        payload=when.payload,
        idempotency_key=context.get("idempotency_key"),
        flag_reason=when.flag_reason,
    )
    return locked


@transaction.atomic
def work_order_dispatch(
    *, work_order: WorkOrder, by: User | None, version: int | None, **context: Unpack[MoveContext]
) -> WorkOrder:
    """Send a scheduled job to its technician's app."""
    return plain_move(
        work_order, Status.DISPATCHED, sources=(Status.SCHEDULED,), by=by, version=version, **context
    )


@transaction.atomic
def work_order_recall(
    *, work_order: WorkOrder, by: User | None, version: int | None, **context: Unpack[MoveContext]
) -> WorkOrder:
    """Take a dispatched job back before the technician leaves; it keeps its technician and times."""
    return plain_move(
        work_order, Status.SCHEDULED, sources=(Status.DISPATCHED,), by=by, version=version, **context
    )


@transaction.atomic
def work_order_close(
    *, work_order: WorkOrder, by: User | None, version: int | None, **context: Unpack[MoveContext]
) -> WorkOrder:
    """The office closes a completed job."""
    return plain_move(
        work_order, Status.CLOSED, sources=(Status.COMPLETED,), by=by, version=version, **context
    )


@transaction.atomic
def work_order_cancel(
    *, work_order: WorkOrder, by: User | None, version: int | None, reason: str
) -> WorkOrder:
    locked = lock_at_version(work_order, version)
    status_change(
        locked,
        Status.CANCELLED,
        by=by,
        at=clock.now(),
        fields={"on_hold_since": None},
        payload={"reason": reason},
    )
    return locked
