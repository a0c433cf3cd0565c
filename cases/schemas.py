"""In/Out schemas of the cases API, with explicit fields and bounded inputs."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import StringConstraints

from cases.models import CLOCKS, Case, CaseEvent, clock_breached
from fieldservice import clock
from fieldservice.ranges import LONG_TEXT_LENGTH, NAME_LENGTH, Id, LongText, Name, Version

Severity = Annotated[
    int, Field(ge=1, le=3, description="1 (high) to 3 (low); maps onto the contract's P1–P3")
]
Title = Annotated[str, StringConstraints(min_length=1, max_length=NAME_LENGTH, strip_whitespace=True)]
NoteText = Annotated[str, StringConstraints(min_length=1, max_length=LONG_TEXT_LENGTH, strip_whitespace=True)]
# A case links a handful of work orders.
MAX_LINKED_WORK_ORDERS = 20


def _named(name: str, choices: type[enum.Enum]) -> type[enum.Enum]:
    """The model's choices under a name of their own: django-ninja names an OpenAPI component
    after the enum's class, and the work orders' Status and Kind are already in /api/v1."""
    return enum.Enum(name, {member.name: member.value for member in choices}, type=str)  # type: ignore[return-value]


CaseKind: Any = _named("CaseKind", Case.Kind)
CaseChannel: Any = _named("CaseChannel", Case.Channel)
CaseStatus: Any = _named("CaseStatus", Case.Status)


class CaseAccountRef(Schema):
    id: int
    name: str


class CaseContactRef(Schema):
    id: int
    name: str


class CaseWorkOrderRef(Schema):
    id: int
    number: str


class CaseOut(Schema):
    id: int
    number: str
    kind: CaseKind
    severity: int
    channel: CaseChannel
    status: CaseStatus
    next_statuses: list[CaseStatus] = Field(description="Where `transition` may move it now")
    account: CaseAccountRef
    contact: CaseContactRef | None
    owner: str | None = Field(None, alias="owner.username")
    title: str
    response_due: dt.datetime
    resolution_due: dt.datetime
    clock_source: Case.ClockSource = Field(description="`contract` terms or the `default` hours")
    contract_number: str | None = Field(None, alias="contract.number")
    response_breached: bool
    resolution_breached: bool
    acknowledged_at: dt.datetime | None
    resolved_at: dt.datetime | None
    closed_at: dt.datetime | None
    reopened_count: int
    work_orders: list[CaseWorkOrderRef]
    version: int
    created_at: dt.datetime

    @staticmethod
    def resolve_work_orders(obj: Case) -> list[object]:
        return list(obj.work_orders.all())

    @staticmethod
    def resolve_response_breached(obj: Case) -> bool:
        _, due, stopped = CLOCKS[0]
        return clock_breached(getattr(obj, due), getattr(obj, stopped), as_of=clock.now())

    @staticmethod
    def resolve_resolution_breached(obj: Case) -> bool:
        _, due, stopped = CLOCKS[1]
        return clock_breached(getattr(obj, due), getattr(obj, stopped), as_of=clock.now())


class CaseEventOut(Schema):
    type: CaseEvent.Type
    at: dt.datetime
    by: str | None = Field(None, alias="by.username")
    from_status: str
    to_status: str
    text: str
    customer_visible: bool
    payload: dict[str, object]


class CaseDetailOut(CaseOut):
    description: str
    resolution: str
    events: list[CaseEventOut]

    @staticmethod
    def resolve_events(obj: Case) -> list[object]:
        return list(obj.events.all())


class CaseIn(Schema):
    account_id: Id
    contact_id: Id | None = None
    kind: CaseKind = CaseKind.COMPLAINT
    severity: Severity = 2
    channel: CaseChannel = CaseChannel.PHONE
    title: Title
    description: LongText = ""
    work_order_ids: list[Id] = Field([], max_length=MAX_LINKED_WORK_ORDERS)
    owner: Name | None = Field(None, description="Username; by default the account's manager")


class CaseTransitionIn(Schema):
    to: CaseStatus
    version: Version
    resolution: LongText = Field("", description="With `resolved`: what was done")
    comment: LongText = Field("", description="With `confirmed` or a re-opening: the customer's words")


class CaseNoteIn(Schema):
    text: NoteText
    customer_visible: bool = False


class CaseQuery(Schema):
    status: list[CaseStatus] | None = None
    account_id: Id | None = None
    breached: bool | None = Field(None, description="A response or resolution clock breached")
