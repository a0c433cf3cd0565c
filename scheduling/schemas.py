"""In/Out schemas of the dispatcher's scheduling API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from fieldservice.ranges import BoundedDate, Id
from scheduling.models import Assignment
from scheduling.reasons import unplaced_entry_text


class RunIn(Schema):
    date: BoundedDate = Field(..., description="First day of the plan (local date)")
    days: int = Field(1, ge=1, le=14)
    territory_id: Id | None = Field(None, description="One territory, or null for all (solved in parallel)")
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
    reason: str = Field(..., description="Why this technician, and what it costs (in the reader's language)")
    reason_code: str
    reason_params: dict[str, Any]

    @staticmethod
    def resolve_reason(obj: Assignment) -> str:
        return obj.reason_text

    @staticmethod
    def resolve_reason_code(obj: Assignment) -> str:
        return str(obj.reason.get("code", ""))

    @staticmethod
    def resolve_reason_params(obj: Assignment) -> dict[str, Any]:
        return dict(obj.reason.get("params") or {})


class UnplacedOut(Schema):
    work_order_id: int
    number: str
    reason: str = Field(
        ...,
        description="Code: no_skilled_technician, no_shift_time, outside_all_shifts, "
        "unreachable_in_window, capacity",
    )
    params: dict[str, Any] = Field(default_factory=dict, description="The reason's parameters")
    message: str = Field(..., description="The reason in the reader's language")

    @staticmethod
    def resolve_message(obj: dict[str, Any]) -> str:
        return unplaced_entry_text(obj)


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
    error: str = Field(..., description="Why the run failed, in the reader's language")
    error_code: str = Field(..., description="queue_unavailable, no_plan, plan_invalid, error; empty if none")
    error_params: dict[str, Any]
    assignments: list[AssignmentOut]
    unplaced: list[UnplacedOut]


class AcceptIn(Schema):
    confirm_fewer_urgent: bool = Field(
        False,
        description="Accept a plan that places fewer P1/P2 jobs than are placed now "
        "(otherwise 409 fewer_urgent_placed)",
    )


class AcceptOut(Schema):
    applied: int
    unchanged: int
    conflicts: list[dict[str, Any]]


class InsertIn(Schema):
    work_order_id: Id = Field(..., description="A new P1 or P2 work order (any other: 409)")


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
    reason: str | None = Field(None, description="Why it was not placed: a code (see UnplacedOut)")
    params: dict[str, Any] = Field(default_factory=dict, description="The reason's parameters")
    message: str | None = Field(None, description="The reason in the reader's language")
    seconds: float
