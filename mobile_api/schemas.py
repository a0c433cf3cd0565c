"""What the technician app sends and receives.

Every input is bounded here, from fieldservice.ranges, so the OpenAPI schema states each
limit and a value outside it is a 422 naming the field, never a 500 from the database. The
app takes the same limits from its page (mobile_api.views.app_limits) for its `maxlength`s.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StringConstraints

from assets.models import MeterReading
from fieldservice.ranges import (
    CODE_LENGTH,
    NAME_LENGTH,
    BoundedDateTime,
    Code,
    LongText,
    Measurement,
    MeterValue,
    Position,
    Quantity,
    ShortText,
    Version,
)
from tickets.models import WorkOrder, WorkOrderEvent
from tickets.schemas import ChecklistItemOut

SignerName = Annotated[str, StringConstraints(min_length=1, max_length=NAME_LENGTH, strip_whitespace=True)]
PartNumber = Annotated[str, StringConstraints(min_length=1, max_length=CODE_LENGTH, strip_whitespace=True)]


class TokenIn(Schema):
    username: Annotated[str, StringConstraints(min_length=1, max_length=150)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenOut(Schema):
    token: str
    expires_at: dt.datetime


class SkillOut(Schema):
    code: str
    name: str
    level: int


class ShiftOut(Schema):
    date: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime


class MeOut(Schema):
    username: str
    full_name: str
    employee_code: str | None
    phone: str
    skills: list[SkillOut]
    today_shift: ShiftOut | None


class LatLon(Schema):
    lat: float = Field(..., ge=-90, le=90)
    lon: float = Field(..., ge=-180, le=180)


class SiteOut(Schema):
    id: int
    name: str
    address: str
    city: str
    lat: float
    lon: float
    time_zone: str
    # Local wall-clock times in the site's time zone ("08:00"), not instants.
    access_opens: Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")]
    access_closes: Annotated[str, StringConstraints(pattern=r"^\d{2}:\d{2}$")]
    access_weekdays: list[int]
    access_notes: str


class ContactOut(Schema):
    name: str
    title: str
    phone: str
    email: str


class VisitOut(Schema):
    id: int
    number: str
    kind: str
    completed_at: dt.datetime | None
    resolution: str
    technician: str | None


class LastMeterReadingOut(Schema):
    kind: MeterReading.Kind
    value: Decimal
    read_at: dt.datetime


class EquipmentOut(Schema):
    id: int
    serial_number: str
    asset_tag: str
    manufacturer: str
    model_number: str
    model_name: str
    status: str
    last_visits: list[VisitOut]
    last_meter_readings: list[LastMeterReadingOut] = Field(
        ..., description="The latest reading of each of its meters: a new one may not be lower"
    )


class PartOut(Schema):
    part_number: str
    description: str
    quantity: Decimal
    unit_cost: Decimal | None = Field(..., description="Set by the office; none until it prices the part")
    currency: str


class AttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    size_bytes: int
    caption: str


EventType = Literal["en_route", "arrived", "started", "paused", "resumed", "completed"]


class StepOut(Schema):
    event: EventType = Field(..., description="What the app sends (`POST /jobs/{id}/events`)")
    to: WorkOrder.Status = Field(..., description="The job's status after it")


class JobOut(Schema):
    id: int
    number: str
    title: str
    description: str
    kind: str
    priority: int
    status: WorkOrder.Status
    version: int
    next_steps: list[StepOut] = Field(
        ...,
        description=(
            "What the technician may do next on the job, in the order to offer it; `completed` "
            "is the completion (with the records, which can be added while it is offered)"
        ),
    )
    planned_start: dt.datetime | None
    planned_end: dt.datetime | None
    earliest_start: dt.datetime | None
    latest_end: dt.datetime | None
    sla_response_due: dt.datetime | None
    sla_resolution_due: dt.datetime | None
    estimated_minutes: int
    account_name: str
    site: SiteOut
    contact: ContactOut | None
    equipment: EquipmentOut | None
    checklist: list[ChecklistItemOut]
    parts: list[PartOut]
    attachments: list[AttachmentOut]
    requires_signature: bool
    signed_by: str | None
    completion_needs: list[str] = Field(
        ...,
        description=(
            "What the server would still refuse a completion for, as the fields of its refusal "
            "(`checklist[2]`, `signature`); the resolution, which the completion carries, is not listed"
        ),
    )
    resolution: str
    report_url: str | None


class SyncChange(Schema):
    op: Literal["upsert", "remove"]
    id: int
    job: JobOut | None


class SyncOut(Schema):
    cursor: str
    full: bool = Field(..., description="True when the list is everything (no cursor was sent)")
    changes: list[SyncChange]


class ChecklistAnswerIn(Schema):
    position: Position
    result: Literal["", "pass", "fail", "na"] = ""
    value: Measurement | None = None
    text: LongText = ""


class PartIn(Schema):
    """A part used. No price: prices come from the office, never the phone."""

    part_number: PartNumber
    description: ShortText = ""
    quantity: Quantity


class MeterReadingIn(Schema):
    kind: Literal["operating_hours", "cycles"] = "operating_hours"
    value: MeterValue


class SignatureIn(Schema):
    png_base64: Annotated[str, StringConstraints(min_length=8, max_length=1_000_000)]
    signer_name: SignerName


class RecordAt(Schema):
    at: BoundedDateTime | None = Field(None, description="When it happened on the device; default now")


class ChecklistIn(RecordAt):
    answers: list[ChecklistAnswerIn] = Field(..., min_length=1, max_length=200)


class PartsIn(RecordAt):
    parts: list[PartIn] = Field(..., min_length=1, max_length=100)


class MeterIn(RecordAt, MeterReadingIn):
    pass


class SignatureRecordIn(RecordAt, SignatureIn):
    pass


class EventIn(Schema):
    type: EventType
    at: BoundedDateTime = Field(..., description="When it happened, by the device's clock")
    version: Version = Field(..., description="The job's version when the technician acted")
    location: LatLon | None = None
    reason: ShortText = Field("", description="For `paused`")
    resolution: LongText = Field("", description="For `completed`")
    resolution_code: Code = ""
    checklist: list[ChecklistAnswerIn] = Field(default_factory=list, max_length=200)
    parts: list[PartIn] = Field(default_factory=list, max_length=100)
    meter_reading: MeterReadingIn | None = None
    signature: SignatureIn | None = None


class EventOut(Schema):
    applied: bool
    note: str
    flagged: bool
    flag_reason: str = Field(
        ...,
        description="Why it is flagged for the office to review: "
        f"{', '.join(WorkOrderEvent.FlagReason.values)}; empty when it is not",
    )
    distance_from_site_m: float | None
    job: JobOut
