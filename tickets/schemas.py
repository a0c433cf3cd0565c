"""In/Out schemas of the work-order API, with explicit fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from ninja import Field, Schema
from pydantic import StringConstraints, field_validator

from fieldservice.ranges import (
    NAME_LENGTH,
    BoundedDate,
    BoundedDateTime,
    Code,
    Id,
    LongText,
    Name,
    ShortText,
    Version,
)
from tickets.models import Attachment, WorkOrder

Priority = Annotated[int, Field(ge=1, le=4, description="1 (P1, most urgent) to 4 (P4)")]
SkillLevel = Annotated[int, Field(ge=1, le=3)]
SkillCode = Annotated[str, StringConstraints(pattern=r"^[-a-z0-9_]{1,50}$")]
# A single job's estimate: a working day at most (narrower than fieldservice.ranges.Minutes).
Minutes = Annotated[int, Field(ge=1, le=24 * 60)]
Text200 = Annotated[str, StringConstraints(min_length=1, max_length=NAME_LENGTH, strip_whitespace=True)]
# A job needs a few skills; the solver and the board list them all.
MAX_REQUIRED_SKILLS = 20
RequiredSkills = Annotated[dict[SkillCode, SkillLevel], Field(max_length=MAX_REQUIRED_SKILLS)]


class AccountRef(Schema):
    id: int
    name: str


class SiteRef(Schema):
    id: int
    name: str
    city: str
    address: str


class WorkOrderOut(Schema):
    id: int
    number: str
    kind: WorkOrder.Kind
    priority: int
    status: WorkOrder.Status
    title: str
    account: AccountRef
    site: SiteRef
    equipment_id: int | None
    technician: str | None = Field(None, alias="assigned_technician.username")
    planned_start: dt.datetime | None
    planned_end: dt.datetime | None
    sla_response_due: dt.datetime | None
    sla_resolution_due: dt.datetime | None
    billable: bool
    version: int
    created_at: dt.datetime


class ChecklistItemOut(Schema):
    position: int
    label: str
    kind: str
    unit: str
    required: bool
    result: str
    value: Decimal | None
    text: str


class PartOut(Schema):
    part_number: str
    description: str
    quantity: Decimal
    unit_cost: Decimal | None = Field(description="null until the office prices the part")
    currency: str


class WorkOrderDetailOut(WorkOrderOut):
    description: str
    contract_number: str | None = Field(None, alias="contract.number")
    required_skills: dict[str, int]
    estimated_minutes: int
    earliest_start: dt.datetime | None
    latest_end: dt.datetime | None
    responded_at: dt.datetime | None
    arrived_at: dt.datetime | None
    actual_start: dt.datetime | None
    actual_end: dt.datetime | None
    completed_at: dt.datetime | None
    resolution: str
    resolution_code: str
    first_time_fix: bool | None
    checklist: list[ChecklistItemOut]
    parts: list[PartOut]


class WorkOrderIn(Schema):
    site_id: Id
    equipment_id: Id | None = None
    kind: WorkOrder.Kind = WorkOrder.Kind.CORRECTIVE
    priority: Priority = 3
    title: Text200
    description: LongText = ""
    required_skills: RequiredSkills | None = Field(
        None, description="Skill code → minimum level; defaults to the equipment model's skill"
    )
    estimated_minutes: Minutes | None = None
    earliest_start: BoundedDateTime | None = None
    latest_end: BoundedDateTime | None = None


class WorkOrderPatch(Schema):
    version: Version = Field(..., description="The version you read; a stale one gets 409")
    title: Text200 | None = None
    description: LongText | None = None
    priority: Priority | None = None
    estimated_minutes: Minutes | None = None
    required_skills: RequiredSkills | None = None
    earliest_start: BoundedDateTime | None = None
    latest_end: BoundedDateTime | None = None

    @field_validator(
        "title", "description", "priority", "estimated_minutes", "required_skills", mode="before"
    )
    @classmethod
    def _not_null(cls, value: object) -> object:
        # Optional here means "leave it as it is"; null reached the NOT NULL column as a 500.
        # (The window's ends may be null: no earliest start, no latest end.)
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep its value")
        return value


class TransitionIn(Schema):
    to: WorkOrder.Status
    version: Version
    technician: Name | None = Field(None, description="Username; required to go to `scheduled`")
    planned_start: BoundedDateTime | None = None
    planned_end: BoundedDateTime | None = None
    reason: ShortText = ""
    resolution: LongText = ""
    resolution_code: Code = ""


class CancelIn(Schema):
    version: Version
    reason: Text200


class WorkOrderQuery(Schema):
    status: list[WorkOrder.Status] | None = None
    priority: list[Priority] | None = None
    account_id: Id | None = None
    technician: Name | None = Field(None, description="Assigned technician's username")
    territory_id: Id | None = None
    planned_from: BoundedDate | None = None
    planned_to: BoundedDate | None = None
    created_from: BoundedDate | None = None
    created_to: BoundedDate | None = None
    overdue_sla: bool | None = Field(None, description="Open and past its response or resolution due time")
    search: str | None = Field(None, max_length=100)


class AttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    size_bytes: int
    caption: str
    uploaded_at: dt.datetime
    url: str

    @staticmethod
    def resolve_url(obj: Attachment) -> str:
        return f"/api/v1/work-orders/{obj.work_order_id}/attachments/{obj.pk}"
