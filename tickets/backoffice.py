"""What the back office (the Django admin) does to work orders that no other door does.

Everything else goes through the services every door uses (tickets.admin: work_order_create,
work_order_update), and what was recorded on a visit is not edited there. What is left:

- pricing a part used on a visit: the technician app sends no price, the office sets it
  (tickets.models.PartUsage.unit_cost), recorded in fieldservice's audit trail;
- deleting a whole work order (admins only): its events go with it, so what it was, and who
  deleted it, is kept in fieldservice's audit trail.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from fieldservice import ranges
from fieldservice.audit import Action, Image, Source, audit_record, changes_between, snapshot
from fieldservice.errors import Invalid
from tickets.events import lock_work_order
from tickets.models import ChecklistItem, PartUsage, WorkOrder


def work_order_image(work_order: WorkOrder) -> Image:
    """The work order's fields, its checklist and its parts, from the database."""
    image = snapshot(work_order)
    image.pop("version", None)  # bookkeeping, not what the work order was
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
def part_usage_price_set(*, part: PartUsage, unit_cost: Decimal | None, by: User | None) -> PartUsage:
    """Set (or clear) the price of a part used on a visit, at any stage of its work order: a
    part is printed unpriced ("—") on the report until the office prices it."""
    if unit_cost is not None and not 0 <= unit_cost <= ranges.MAX_MONEY:
        raise Invalid(f"The unit cost must be between 0 and {ranges.MAX_MONEY}.", code="cost_out_of_range")
    # Lock order: the work order, then its records (tickets.events; as tickets.records,
    # nothing is recorded on the job while it is priced).
    lock_work_order(part.work_order_id)
    stored = PartUsage.objects.select_for_update().get(pk=part.pk)
    if stored.unit_cost == unit_cost:
        return stored
    previous = stored.unit_cost
    stored.unit_cost = unit_cost
    stored.save(update_fields=["unit_cost"])
    audit_record(
        obj=stored,
        action=Action.CHANGED,
        by=by,
        source=Source.ADMIN,
        changes=changes_between({"unit_cost": previous}, {"unit_cost": unit_cost}),
    )
    return stored


@transaction.atomic
def work_order_backoffice_delete(*, work_order: WorkOrder, by: User | None) -> None:
    """Delete a work order (admins only). Its events go with it, so what it was, and who
    deleted it, is kept in fieldservice's audit trail."""
    # Race: a technician's event or a dispatcher's edit arriving while the admin deletes.
    locked = lock_work_order(work_order.pk)
    audit_record(
        obj=locked,
        action=Action.DELETED,
        by=by,
        source=Source.ADMIN,
        changes=changes_between(work_order_image(locked), None),
    )
    locked.delete()
