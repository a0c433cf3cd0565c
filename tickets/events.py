"""The work order's audit trail and its row lock: the one writer of WorkOrderEvent, and the one
way to lock a work order. Every module that writes either goes through here.

Lock order across the project: technician → work order → contract → the work order's records
(its parts, checklist items). Work orders are taken in pk order when several are locked at
once (`lock_work_orders`). A writer takes only the locks it needs, but never one that comes
earlier in this order after one that comes later: two writers that did would each wait for the
other. The scheduling floor locks the technician (its day's plan) before it moves the technician's
work orders (scheduling.locks: which writers take which technicians, and why); tickets.backoffice
locks the work order before the part it prices.

The work order lock is the no-key kind (SELECT ... FOR NO KEY UPDATE): it excludes the other
writers of the row, but not the foreign-key checks of rows inserted elsewhere that point at it
(its events, its records), which a plain FOR UPDATE would block until commit, and which
deadlocked under load.

Events: a writer that changes the work order holds its lock while it appends the event, so the
trail is in the order of the changes. An append that reads nothing of the row (an SLA breach,
a report sent, a technician's late event kept as a note) takes no lock: its idempotency key
makes it happen once. Who did it (`by`) is filled in one way for every writer: a user, or
nobody (the system, or an anonymous user); an event is flagged exactly when it has a reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.gis.geos import Point
from django.db.models import QuerySet

from tickets.models import WorkOrder, WorkOrderEvent

# Who did it: a user, a user's id (all a bulk load knows), or None for the system.
Actor = User | AnonymousUser | int | None
# A bulk insert that takes the model and its rows keyed by attname (the demo's COPY).
RowWriter = Callable[[type[WorkOrderEvent], Iterable[Mapping[str, Any]]], int]


# --- the lock -------------------------------------------------------------------------------------


def lock_work_orders(work_orders: QuerySet[WorkOrder]) -> QuerySet[WorkOrder]:
    """These work orders, to be locked as the query runs, in pk order: two writers that lock
    overlapping sets take the rows in the same order, so neither holds one the other waits for."""
    return work_orders.select_for_update(of=("self",), no_key=True).order_by("pk")


def lock_work_order(pk: int) -> WorkOrder:
    """Work order `pk`, re-read under its row lock (with its site and contract, not locked),
    to be held until the transaction ends. Call it inside `transaction.atomic`."""
    return lock_work_orders(WorkOrder.objects.filter(pk=pk)).select_related("site", "contract").get()


# --- the writer -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class NewEvent:
    """One event for `event_record_many`: what `event_record` takes, by ids."""

    work_order_id: int
    type: str
    at: dt.datetime
    by: Actor = None
    from_status: str = ""
    to_status: str = ""
    # A point, or EWKT text (`SRID=4326;POINT(lon lat)`), which PostGIS reads as well.
    location: Point | str | None = None
    distance_from_site_m: float | None = None
    payload: dict[str, Any] | None = None
    idempotency_key: str | None = None
    flag_reason: str = ""
    # A load of history (the demo) chooses the ids and says when each row was stored; only a
    # `write` that inserts rows as given keeps them (bulk_create stamps `recorded_at` now).
    id: int | None = None
    recorded_at: dt.datetime | None = None


def sla_breach_event(*, work_order_id: int, clock: str, due: dt.datetime) -> NewEvent:
    """The breach of a work order's `clock` ("response", "resolution"), at its due time. Its
    key makes it happen once, whoever sees it first: the sweep, the service that stopped the
    clock late, or the demo's history."""
    return NewEvent(
        work_order_id=work_order_id,
        type=WorkOrderEvent.Type.SLA_BREACHED,
        at=due,
        payload={"clock": clock, "due": due.isoformat()},
        idempotency_key=f"sla-breach:{work_order_id}:{clock}",
    )


def _by_id(by: Actor) -> int | None:
    if by is None or isinstance(by, int):
        return by
    return by.pk if by.is_authenticated else None


def _columns(event: NewEvent) -> dict[str, Any]:
    """The row, by attname, as every entry here writes it."""
    row: dict[str, Any] = {
        "work_order_id": event.work_order_id,
        "type": event.type,
        "at": event.at,
        "by_id": _by_id(event.by),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "location": event.location,
        "distance_from_site_m": event.distance_from_site_m,
        "payload": event.payload or {},
        "idempotency_key": event.idempotency_key,
        "flagged": bool(event.flag_reason),
        "flag_reason": event.flag_reason,
    }
    if event.id is not None:
        row["id"] = event.id
    if event.recorded_at is not None:
        row["recorded_at"] = event.recorded_at
    return row


def event_record(
    *,
    work_order: WorkOrder,
    type: str,
    by: Actor,
    at: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    location: Point | None = None,
    distance_from_site_m: float | None = None,
    payload: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    flag_reason: str = "",
) -> WorkOrderEvent:
    """Append one event to the work order's trail (a duplicate idempotency key raises
    IntegrityError: the caller decides whether that is a replay or a bug)."""
    row = _columns(
        NewEvent(
            work_order_id=work_order.pk,
            type=type,
            at=at,
            by=by,
            from_status=from_status,
            to_status=to_status,
            location=location,
            distance_from_site_m=distance_from_site_m,
            payload=payload,
            idempotency_key=idempotency_key,
            flag_reason=flag_reason,
        )
    )
    del row["work_order_id"]
    return WorkOrderEvent.objects.create(work_order=work_order, **row)


def event_record_many(
    events: Iterable[NewEvent], *, ignore_conflicts: bool = False, write: RowWriter | None = None
) -> int:
    """Append many events in one statement (the SLA sweep) or one stream (`write`: the demo's
    COPY, which the demo passes down, as this floor does not import it). `ignore_conflicts`:
    an event whose idempotency key is already recorded is skipped, not an error. Returns how
    many rows were sent, which with `ignore_conflicts` may include some already there."""
    rows: Iterator[dict[str, Any]] = (_columns(event) for event in events)
    if write is not None:
        if ignore_conflicts:
            raise ValueError("A stream of rows cannot skip conflicts: write them with bulk_create.")
        return write(WorkOrderEvent, rows)
    created = WorkOrderEvent.objects.bulk_create(
        [WorkOrderEvent(**row) for row in rows], ignore_conflicts=ignore_conflicts
    )
    return len(created)
