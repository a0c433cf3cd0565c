"""What the technician app sends and receives."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Field, Schema
from pydantic import StringConstraints

from assets.models import MeterReading
from tickets.models import WorkOrder
from tickets.schemas import ChecklistItemOut, PartOut

Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


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


class AttachmentOut(Schema):
    id: int
    kind: str
    content_type: str
    size_bytes: int
    caption: str


class JobOut(Schema):
    id: int
    number: str
    title: str
    description: str
    kind: str
    priority: int
    status: WorkOrder.Status
    version: int
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
    position: int = Field(..., ge=1)
    result: Literal["", "pass", "fail", "na"] = ""
    value: Decimal | None = Field(None, max_digits=14, decimal_places=4)
    text: str = Field("", max_length=2000)


class PartIn(Schema):
    part_number: Annotated[str, StringConstraints(min_length=1, max_length=64, strip_whitespace=True)]
    description: str = Field("", max_length=200)
    quantity: Decimal = Field(..., gt=0, max_digits=10, decimal_places=3)
    unit_cost: Decimal = Field(Decimal(0), ge=0, max_digits=12, decimal_places=2)
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] = "CNY"


class MeterReadingIn(Schema):
    kind: Literal["operating_hours", "cycles"] = "operating_hours"
    value: Decimal = Field(..., ge=0, max_digits=14, decimal_places=2)


class SignatureIn(Schema):
    png_base64: Annotated[str, StringConstraints(min_length=8, max_length=1_000_000)]
    signer_name: Text200


class RecordAt(Schema):
    at: dt.datetime | None = Field(None, description="When it happened on the device; default now")


class ChecklistIn(RecordAt):
    answers: list[ChecklistAnswerIn] = Field(..., min_length=1, max_length=200)


class PartsIn(RecordAt):
    parts: list[PartIn] = Field(..., min_length=1, max_length=100)


class MeterIn(RecordAt, MeterReadingIn):
    pass


class SignatureRecordIn(RecordAt, SignatureIn):
    pass


EventType = Literal["en_route", "arrived", "started", "paused", "resumed", "completed"]


class EventIn(Schema):
    type: EventType
    at: dt.datetime
    version: int = Field(..., ge=1, description="The job's version when the technician acted")
    location: LatLon | None = None
    reason: str = Field("", max_length=500, description="For `paused`")
    resolution: str = Field("", max_length=5000, description="For `completed`")
    resolution_code: str = Field("", max_length=40)
    checklist: list[ChecklistAnswerIn] = Field(default_factory=list, max_length=200)
    parts: list[PartIn] = Field(default_factory=list, max_length=100)
    meter_reading: MeterReadingIn | None = None
    signature: SignatureIn | None = None


class EventOut(Schema):
    applied: bool
    note: str
    flagged: bool
    distance_from_site_m: float | None
    job: JobOut
