"""One way to move a work order: `work_order_move` takes the move (from the status the caller
saw, to the status it asks for) and calls the service of its verb. The faces go through it:
the dispatchers' API (`/transition`, `/cancel`) and the technician app's (mobile_api.services,
by the steps of mobile_api.steps). The back office offers no moves.

Each legal move of tickets.lifecycle.TRANSITIONS has exactly one verb here (MOVES), so a move
the lifecycle allows is never routed to a service that refuses it (a recall from `dispatched`
used to be taken for a reassignment, and could not be made at all). Assigning a technician is
the one verb that is not a move between two states: on a scheduled or dispatched job it
reassigns (a dispatched job goes back to scheduled, as the new technician has not received
it). It is asked for with an `assignment`.

The verb's service locks the work order and checks, under the lock, that the move is still
legal from the state the row is in: `from` picks the verb, it does not vouch for the row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from django.contrib.auth.models import User
from django.contrib.gis.geos import Point

from fieldservice.errors import Invalid
from tickets import lifecycle, site_visit
from tickets.models import WorkOrder

Status = WorkOrder.Status


@dataclass(frozen=True)
class Assignment:
    """Who does the job, and when."""

    technician: User
    planned_start: dt.datetime
    planned_end: dt.datetime


@dataclass(frozen=True, kw_only=True)
class Move:
    """What a face asks of a move, as each verb's service takes it; a verb uses what it needs
    (a reason to hold or cancel, a resolution to complete) and nothing else."""

    by: User | None
    version: int | None
    at: dt.datetime | None = None
    location: Point | None = None
    idempotency_key: str | None = None
    clock_skew: dt.timedelta | None = None
    reason: str = ""
    resolution: str = ""
    resolution_code: str = ""
    assignment: Assignment | None = None


def _schedule(work_order: WorkOrder, move: Move) -> WorkOrder:
    if move.assignment is None:
        raise Invalid(
            "Scheduling needs technician, planned_start and planned_end.",
            code="missing_fields",
            details={"fields": ["technician", "planned_start", "planned_end"]},
        )
    return lifecycle.work_order_schedule(
        work_order=work_order,
        technician=move.assignment.technician,
        planned_start=move.assignment.planned_start,
        planned_end=move.assignment.planned_end,
        by=move.by,
        version=move.version,
        at=move.at,
        reason=move.reason,
    )


def _unschedule(work_order: WorkOrder, move: Move) -> WorkOrder:
    return lifecycle.work_order_unschedule(work_order=work_order, by=move.by, version=move.version)


def _hold(work_order: WorkOrder, move: Move) -> WorkOrder:
    return site_visit.work_order_hold(
        work_order=work_order,
        by=move.by,
        version=move.version,
        reason=move.reason,
        at=move.at,
        idempotency_key=move.idempotency_key,
        clock_skew=move.clock_skew,
    )


def _resume(work_order: WorkOrder, move: Move) -> WorkOrder:
    return site_visit.work_order_resume(
        work_order=work_order,
        by=move.by,
        version=move.version,
        at=move.at,
        idempotency_key=move.idempotency_key,
        clock_skew=move.clock_skew,
    )


def _arrive(work_order: WorkOrder, move: Move) -> WorkOrder:
    return site_visit.work_order_arrive(
        work_order=work_order,
        by=move.by,
        version=move.version,
        at=move.at,
        location=move.location,
        idempotency_key=move.idempotency_key,
        clock_skew=move.clock_skew,
    )


def _complete(work_order: WorkOrder, move: Move) -> WorkOrder:
    return site_visit.work_order_complete(
        work_order=work_order,
        by=move.by,
        version=move.version,
        resolution=move.resolution,
        resolution_code=move.resolution_code,
        at=move.at,
        location=move.location,
        idempotency_key=move.idempotency_key,
        clock_skew=move.clock_skew,
    )


def _cancel(work_order: WorkOrder, move: Move) -> WorkOrder:
    return lifecycle.work_order_cancel(
        work_order=work_order, by=move.by, version=move.version, reason=move.reason
    )


class _PlainService(Protocol):
    """The services of the verbs that take only the common arguments (dispatch, recall, start
    travel, start work, close)."""

    def __call__(
        self,
        *,
        work_order: WorkOrder,
        by: User | None,
        version: int | None,
        at: dt.datetime | None = None,
        location: Point | None = None,
        idempotency_key: str | None = None,
        clock_skew: dt.timedelta | None = None,
    ) -> WorkOrder: ...


def _plain(service: _PlainService) -> Callable[[WorkOrder, Move], WorkOrder]:

    def verb(work_order: WorkOrder, move: Move) -> WorkOrder:
        return service(
            work_order=work_order,
            by=move.by,
            version=move.version,
            at=move.at,
            location=move.location,
            idempotency_key=move.idempotency_key,
            clock_skew=move.clock_skew,
        )

    return verb


# Any open work order may be cancelled.
_CANCEL_FROM = WorkOrder.OPEN_STATUSES
# Every legal move (tickets.lifecycle.TRANSITIONS, which tests/tickets/test_moves.py holds
# this to) and the verb that makes it.
MOVES: dict[tuple[str, str], Callable[[WorkOrder, Move], WorkOrder]] = {
    (Status.NEW, Status.SCHEDULED): _schedule,
    (Status.SCHEDULED, Status.NEW): _unschedule,
    (Status.SCHEDULED, Status.DISPATCHED): _plain(lifecycle.work_order_dispatch),
    (Status.DISPATCHED, Status.SCHEDULED): _plain(lifecycle.work_order_recall),
    (Status.DISPATCHED, Status.EN_ROUTE): _plain(site_visit.work_order_start_travel),
    (Status.EN_ROUTE, Status.ON_SITE): _arrive,
    (Status.ON_SITE, Status.IN_PROGRESS): _plain(site_visit.work_order_start_work),
    (Status.IN_PROGRESS, Status.ON_HOLD): _hold,
    (Status.ON_HOLD, Status.IN_PROGRESS): _resume,
    (Status.IN_PROGRESS, Status.COMPLETED): _complete,
    (Status.COMPLETED, Status.CLOSED): _plain(lifecycle.work_order_close),
    **{(status, Status.CANCELLED): _cancel for status in _CANCEL_FROM},
}


def work_order_move(
    *,
    work_order: WorkOrder,
    to: str,
    by: User | None,
    version: int | None,
    at: dt.datetime | None = None,
    location: Point | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
    reason: str = "",
    resolution: str = "",
    resolution_code: str = "",
    assignment: Assignment | None = None,
) -> WorkOrder:
    """Move `work_order` from its status (as the caller read it) to `to`, through the verb's
    service, and return it as moved. With an `assignment`, `to` must be `scheduled`: the job is
    (re)assigned from any state that allows it. Raises Conflict (illegal_transition) for a move
    the lifecycle does not have, and whatever the verb's service refuses."""
    move = Move(
        by=by,
        version=version,
        at=at,
        location=location,
        idempotency_key=idempotency_key,
        clock_skew=clock_skew,
        reason=reason,
        resolution=resolution,
        resolution_code=resolution_code,
        assignment=assignment,
    )
    if assignment is not None:
        if to != Status.SCHEDULED:
            raise Invalid(
                f"A technician and planned times go with a move to scheduled, not to {to}.",
                code="assignment_not_allowed",
                details={"requested": to},
            )
        return _schedule(work_order, move)
    verb = MOVES.get((work_order.status, to))
    if verb is None:
        raise lifecycle.transition_refused(work_order, to)
    return verb(work_order, move)
