"""The in-memory work order (history and backlog alike), its number and its row."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection

from fieldservice.demo.context import TZ, ContractRec, EquipmentRec, PlanRec, SeedContext, TechRec
from tickets.models import WORK_ORDER_NUMBER_SEQUENCE, WorkOrder

CLOSED_STATUSES = ("completed", "closed")
# How many status changes each final status took (see lifecycle); every change bumps the version.
STATUS_CHANGES = {
    "new": 0,
    "scheduled": 1,
    "dispatched": 2,
    "en_route": 3,
    "on_site": 4,
    "in_progress": 5,
    "completed": 6,
    "closed": 7,
    "cancelled": 1,
}


@dataclass(slots=True, eq=False)
class WorkOrderPlan:
    kind: str
    priority: int
    unit: EquipmentRec
    created_at: datetime
    title: str
    estimated_minutes: int
    status: str = "closed"
    plan: PlanRec | None = None
    pm_due_date: date | None = None
    visit_day: date | None = None
    description: str = ""
    contract: ContractRec | None = None
    created_by: int | None = None
    sla_response_due: datetime | None = None
    sla_resolution_due: datetime | None = None
    earliest_start: datetime | None = None
    latest_end: datetime | None = None
    technician: TechRec | None = None
    # When the dispatcher took the job (scheduled and assigned); not an SLA event.
    scheduled_at: datetime | None = None
    # The technician's arrival on site, which is what the response SLA measures (as in
    # tickets.site_visit.work_order_arrive); None until someone is on site.
    responded_at: datetime | None = None
    dispatched_at: datetime | None = None
    en_route_at: datetime | None = None
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    arrived_at: datetime | None = None
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    cancelled_at: datetime | None = None
    resolution: str = ""
    resolution_code: str = ""
    first_time_fix: bool | None = None
    quality: float = 0.5
    id: int = 0
    number: str = ""
    extra_events: list[tuple[datetime, str, dict[str, object]]] = field(default_factory=list)

    @property
    def required_skills(self) -> dict[str, int]:
        if self.plan is not None:
            return {self.plan.skill: self.plan.level}
        return {self.unit.model.skill: self.unit.model.level}

    @property
    def response_breached(self) -> bool:
        return bool(self.responded_at and self.sla_response_due and self.responded_at > self.sla_response_due)

    @property
    def resolution_breached(self) -> bool:
        return bool(
            self.completed_at and self.sla_resolution_due and self.completed_at > self.sla_resolution_due
        )


TIME_FIELDS = (
    "created_at",
    "sla_response_due",
    "sla_resolution_due",
    "earliest_start",
    "latest_end",
    "scheduled_at",
    "responded_at",
    "dispatched_at",
    "en_route_at",
    "planned_start",
    "planned_end",
    "arrived_at",
    "actual_start",
    "actual_end",
    "completed_at",
    "closed_at",
    "cancelled_at",
)


def trim_to_seconds(orders: list[WorkOrderPlan]) -> None:
    """Whole seconds, like a device clock; flooring keeps every ordering between the times."""
    for wo in orders:
        for name in TIME_FIELDS:
            value = getattr(wo, name)
            if value is not None and value.microsecond:
                setattr(wo, name, value.replace(microsecond=0))


def number_work_orders(orders: list[WorkOrderPlan]) -> None:
    """Ids and numbers in creation order, numbers from the database sequence."""
    orders.sort(key=lambda wo: wo.created_at)  # stable: equal instants keep generation order
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(%s) FROM generate_series(1, %s)", [WORK_ORDER_NUMBER_SEQUENCE, len(orders)]
        )
        numbers = sorted(row[0] for row in cursor.fetchall())
    for i, (wo, n) in enumerate(zip(orders, numbers, strict=True), start=1):
        wo.id = i
        wo.number = f"WO-{wo.created_at.astimezone(TZ).year}-{n:06d}"


def work_order_row(wo: WorkOrderPlan) -> dict[str, object]:
    last_change = wo.closed_at or wo.completed_at or wo.cancelled_at or wo.dispatched_at or wo.scheduled_at
    return {
        "id": wo.id,
        "number": wo.number,
        "kind": wo.kind,
        "priority": wo.priority,
        "status": wo.status,
        "title": wo.title,
        "description": wo.description,
        "account_id": wo.unit.account.id,
        "site_id": wo.unit.site.id,
        "equipment_id": wo.unit.id,
        "contract_id": wo.contract.id if wo.contract else None,
        "maintenance_plan_id": wo.plan.id if wo.plan else None,
        "pm_due_date": wo.pm_due_date,
        "billable": wo.contract is None,
        "required_skills": wo.required_skills,
        "estimated_minutes": wo.estimated_minutes,
        "earliest_start": wo.earliest_start,
        "latest_end": wo.latest_end,
        "sla_response_due": wo.sla_response_due,
        "sla_resolution_due": wo.sla_resolution_due,
        "responded_at": wo.responded_at,
        "assigned_technician_id": wo.technician.user_id if wo.technician else None,
        "planned_start": wo.planned_start,
        "planned_end": wo.planned_end,
        "actual_start": wo.actual_start,
        "actual_end": wo.actual_end,
        "arrived_at": wo.arrived_at,
        "completed_at": wo.completed_at,
        "resolution": wo.resolution,
        "resolution_code": wo.resolution_code,
        "first_time_fix": wo.first_time_fix,
        "version": 1 + STATUS_CHANGES[wo.status],
        "created_by_id": wo.created_by,
        "created_at": wo.created_at,
        "updated_at": last_change or wo.created_at,
    }


def write_work_orders(ctx: SeedContext, orders: list[WorkOrderPlan]) -> None:
    from fieldservice.demo import bulk

    ctx.count("work orders", bulk.copy_rows(WorkOrder, (work_order_row(wo) for wo in orders)))
