"""Corrections made in the back office (the Django admin) to a work order and to what was
recorded on it, each written to the work order's audit trail as an `updated` event with the
old and new values and `"source": "admin"`.

The lifecycle services (tickets.services) stay the way to move a work order; the admin
keeps status, version and SLA clocks read-only and may only correct the rest. A deleted work
order takes its events with it, so its deletion is kept in fieldservice's audit trail.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import User
from django.db import models, transaction
from django.db.models import F

from fieldservice import clock
from fieldservice.audit import Action, Image, Source, audit_record, changes_between, snapshot
from tickets.models import ChecklistItem, PartUsage, WorkOrder, WorkOrderEvent

EventType = WorkOrderEvent.Type


def _lock(work_order_id: int) -> WorkOrder:
    # Race: a technician's event or a dispatcher's edit arriving while the admin saves; as in
    # tickets.services, the no-key lock does not block their events' foreign-key checks.
    return WorkOrder.objects.select_for_update(of=("self",), no_key=True).get(pk=work_order_id)


def _event(work_order: WorkOrder, *, by: User | None, payload: dict[str, object]) -> WorkOrderEvent:
    return WorkOrderEvent.objects.create(
        work_order=work_order,
        type=EventType.UPDATED,
        at=clock.now(),
        by=by if by is not None and by.is_authenticated else None,
        payload={"source": Source.ADMIN.value, **payload},
    )


def work_order_image(work_order: WorkOrder) -> Image:
    """The work order's fields and the records its admin page edits inline, from the database."""
    image = snapshot(work_order)
    image.pop("version", None)  # bumped by the save itself, not a correction
    image["checklist"] = [
        f"{position}. {label}: {result or '—'} {value if value is not None else ''} {text}".strip()
        for position, label, result, value, text in ChecklistItem.objects.filter(work_order_id=work_order.pk)
        .order_by("position")
        .values_list("position", "label", "result", "value", "text")
    ]
    image["parts"] = [
        f"{quantity} × {number} @ {cost} {currency}"
        for number, quantity, cost, currency in PartUsage.objects.filter(work_order_id=work_order.pk)
        .order_by("recorded_at", "pk")
        .values_list("part_number", "quantity", "unit_cost", "currency")
    ]
    return image


@transaction.atomic
def work_order_backoffice_save(
    *, work_order: WorkOrder, by: User | None, save_related: Callable[[], None] | None = None
) -> WorkOrder:
    """Save a work order edited in the admin, with the checklist and parts edited on the same
    page (`save_related`), and record one event with everything that changed. A change bumps
    the version, so that an app or a dispatcher holding the older one is told (409).

    Only corrections: a new work order is opened by tickets.services.work_order_create, which
    gives it its number, contract and SLA clocks (a plain save would give it none)."""
    if work_order.pk is None:
        raise ValueError("A new work order is opened with tickets.services.work_order_create.")
    locked = _lock(work_order.pk)
    before = work_order_image(locked)
    work_order.version = locked.version  # read-only in the admin; never the form's stale copy
    work_order.save()
    if save_related is not None:
        save_related()
    changes = changes_between(before, work_order_image(WorkOrder.objects.get(pk=work_order.pk)))
    if changes:
        WorkOrder.objects.filter(pk=work_order.pk).update(version=F("version") + 1)
        work_order.refresh_from_db(fields=["version"])
        _event(work_order, by=by, payload={"changed": changes})
    return work_order


@transaction.atomic
def work_order_record_backoffice_change(
    *,
    record: models.Model,
    work_order_ids: set[int],
    by: User | None,
    change: Callable[[], None],
    deleting: bool = False,
) -> None:
    """Add, correct or delete one record of a work order (a checklist answer, a part, a photo,
    the signature, the survey, the report) in the admin, and record it on the work order(s)
    it belongs to (a record moved to another work order belongs to both)."""
    locked = [_lock(pk) for pk in sorted(work_order_ids)]
    model = type(record)
    stored = model._default_manager.filter(pk=record.pk).first() if record.pk is not None else None
    before = snapshot(stored) if stored is not None else None
    change()
    after = None if deleting else snapshot(model._default_manager.get(pk=record.pk))
    changes = changes_between(before, after)
    if not changes:
        return
    action = Action.DELETED if deleting else Action.CREATED if before is None else Action.CHANGED
    label = f"{model._meta.verbose_name} #{record.pk if stored is None else stored.pk}"
    for work_order in locked:
        _event(work_order, by=by, payload={"record": label, "action": action.value, "changed": changes})


@transaction.atomic
def work_order_backoffice_delete(*, work_order: WorkOrder, by: User | None) -> None:
    """Delete a work order (admins only). Its events go with it, so what it was, and who
    deleted it, is kept in fieldservice's audit trail."""
    locked = _lock(work_order.pk)
    audit_record(
        obj=locked,
        action=Action.DELETED,
        by=by,
        source=Source.ADMIN,
        changes=changes_between(work_order_image(locked), None),
    )
    locked.delete()
