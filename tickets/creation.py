"""Opening a work order (its number, contract, SLA clocks, required skills and checklist) and
editing its details afterwards. Its status changes only through tickets.lifecycle.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from assets.models import Equipment, MaintenancePlan, Site
from fieldservice import clock
from fieldservice.errors import Conflict, Invalid
from tickets.events import event_record, lock_work_orders
from tickets.lifecycle import lock_at_version
from tickets.models import WORK_ORDER_NUMBER_SEQUENCE, ChecklistItem, WorkOrder, WorkOrderEvent
from tickets.sla_clocks import sla_clock_start, sla_due_set

Status = WorkOrder.Status
EventType = WorkOrderEvent.Type

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
    sla_due_set(work_order, opened_at=sla_clock_start(work_order))
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
    if kind in WorkOrder.REPAIR_KINDS and equipment is not None:
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
            kind__in=WorkOrder.REPAIR_KINDS,
            status__in=WorkOrder.DONE_STATUSES,
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
    locked = lock_at_version(work_order, version)
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
        sla_due_set(locked, opened_at=sla_clock_start(locked))
        update_fields += ["sla_response_due", "sla_resolution_due", "contract", "billable"]
    locked.version += 1
    locked.save(update_fields=update_fields)
    event_record(
        work_order=locked, type=EventType.UPDATED, by=by, at=clock.now(), payload={"changed": changed}
    )
    return locked
