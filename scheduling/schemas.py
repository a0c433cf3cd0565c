"""In/Out schemas of the dispatcher's scheduling API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema


class RunIn(Schema):
    date: dt.date = Field(..., description="First day of the plan (local date)")
    days: int = Field(1, ge=1, le=14)
    territory_id: int | None = Field(None, description="One territory, or null for all (solved in parallel)")
    time_limit_s: int | None = Field(None, ge=1, le=300, description="Solver time per territory")


class RunCreatedOut(Schema):
    id: int
    status: str


class AssignmentOut(Schema):
    work_order_id: int
    number: str = Field(..., alias="work_order.number")
    technician_id: int
    technician: str = Field(..., alias="technician.user.username")
    sequence: int
    planned_start: dt.datetime
    planned_end: dt.datetime
    travel_minutes: int
    travel_km: float
    reason: str


class UnplacedOut(Schema):
    work_order_id: int
    number: str
    reason: str
    message: str


class RunOut(Schema):
    id: int
    status: str
    horizon_start: dt.date
    days: int
    territory_id: int | None
    parameters: dict[str, Any]
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    parts_total: int
    parts_done: int
    kpis: dict[str, Any]
    solver_stats: dict[str, Any]
    error: str
    assignments: list[AssignmentOut]
    unplaced: list[UnplacedOut]


class AcceptOut(Schema):
    applied: int
    unchanged: int
    conflicts: list[dict[str, Any]]


class InsertIn(Schema):
    work_order_id: int


class InsertOut(Schema):
    placed: bool
    technician: str | None = None
    planned_start: dt.datetime | None = None
    planned_end: dt.datetime | None = None
    moved: int
    changed_work_orders: list[str] = []
    returned_to_queue: list[str] = Field(
        default_factory=list, description="Scheduled jobs pushed off the plan, back in the unassigned queue"
    )
    reason: str | None = None
    message: str | None = None
    seconds: float
