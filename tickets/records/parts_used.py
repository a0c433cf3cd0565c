"""Parts used on a visit, as the technician records them (unpriced: the office prices them)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from fieldservice import ranges
from fieldservice.errors import Invalid
from tickets.models import PartUsage, WorkOrder, WorkOrderEvent
from tickets.records.recording import check_length, lock_for_recording, on_site_event, record_time


@transaction.atomic
def part_record(
    *,
    work_order: WorkOrder,
    part_number: str,
    quantity: Decimal,
    by: User | None,
    unit_cost: Decimal | None = None,
    description: str = "",
    currency: str = "CNY",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> PartUsage:
    """A part used on the visit. Its price is the office's to set (the dispatcher, the admin;
    a parts catalogue once there is one), never the technician app's, which sends none: a part
    without one is printed unpriced on the customer's report, not at 0.00."""
    if not 0 < quantity <= ranges.MAX_QUANTITY:
        raise Invalid(
            f"The quantity must be more than zero and at most {ranges.MAX_QUANTITY}.",
            code="quantity_out_of_range",
        )
    if unit_cost is not None and not 0 <= unit_cost <= ranges.MAX_MONEY:
        raise Invalid(f"The unit cost must be between 0 and {ranges.MAX_MONEY}.", code="cost_out_of_range")
    check_length(part_number, limit=ranges.CODE_LENGTH, field="part number")
    check_length(description, limit=ranges.SHORT_TEXT_LENGTH, field="description")
    locked = lock_for_recording(work_order)
    when = record_time(locked, at, clock_skew)
    part = PartUsage.objects.create(
        work_order=locked,
        part_number=part_number,
        description=description,
        quantity=quantity,
        unit_cost=unit_cost,
        currency=currency,
        recorded_at=when.at,
        recorded_by=by,
    )
    payload = {"part_number": part_number, "quantity": quantity, "unit_cost": unit_cost}
    on_site_event(
        locked, WorkOrderEvent.Type.PART_USED, by=by, when=when, payload=payload, key=idempotency_key
    )
    return part
