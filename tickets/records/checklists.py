"""Checklist answers recorded on site: pass/fail, a value, or text, one check at a time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from fieldservice import ranges
from fieldservice.errors import Invalid
from tickets.models import ChecklistItem, WorkOrder, WorkOrderEvent
from tickets.records.recording import check_length, lock_for_recording, on_site_event, record_time


@transaction.atomic
def checklist_answer(
    *,
    work_order: WorkOrder,
    position: int,
    by: User | None,
    result: str = "",
    value: Decimal | None = None,
    text: str = "",
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> ChecklistItem:
    """Answer one check: pass/fail/na for pass-fail items, a number for value items, text otherwise."""
    check_length(text, limit=ranges.LONG_TEXT_LENGTH, field="text")
    locked = lock_for_recording(work_order)
    when = record_time(locked, at, clock_skew)
    item = ChecklistItem.objects.filter(work_order=locked, position=position).first()
    if item is None:
        raise Invalid(f"{locked.number} has no checklist item {position}.", code="unknown_checklist_item")
    if item.kind == ChecklistItem.Kind.PASS_FAIL and result not in ChecklistItem.Result.values:
        raise Invalid(f"'{item.label}' needs a result: pass, fail or na.", code="checklist_result_required")
    if (
        item.kind == ChecklistItem.Kind.VALUE
        and value is None
        and result != ChecklistItem.Result.NOT_APPLICABLE
    ):
        raise Invalid(
            f"'{item.label}' needs a value in {item.unit or 'its unit'}.", code="checklist_value_required"
        )
    if (
        item.kind == ChecklistItem.Kind.TEXT
        and not text.strip()
        and result != ChecklistItem.Result.NOT_APPLICABLE
    ):
        raise Invalid(f"'{item.label}' needs a text answer.", code="checklist_text_required")
    item.result, item.value, item.text = result, value, text
    item.answered_at, item.answered_by = when.at, by
    item.save(update_fields=["result", "value", "text", "answered_at", "answered_by"])
    payload = {"position": position, "result": result, "value": value, "text": text}
    on_site_event(
        locked, WorkOrderEvent.Type.CHECKLIST_ANSWERED, by=by, when=when, payload=payload, key=idempotency_key
    )
    return item
