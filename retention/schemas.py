"""In/Out schemas of the account manager's API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.db.models import TextChoices
from ninja import Field, Schema
from pydantic import WithJsonSchema

from contracts.models import AccountTask, RenewalOpportunity
from fieldservice.ranges import ContractValue


def _enum_schema(choices: type[TextChoices], name: str) -> dict[str, Any]:
    return {"title": name, "type": "string", "enum": list(choices.values)}


# django-ninja gathers every schema's definitions into one `components` section by class name,
# so AccountTask.Status and WorkOrder.Status (both "Status"), and the two Kinds, overwrote
# each other there: the schema said a work order's status was open/done/dismissed. Inline,
# under names of their own, the task's cannot collide. (tests/faults/test_schemas_all_roles.py)
TaskKind = Annotated[AccountTask.Kind, WithJsonSchema(_enum_schema(AccountTask.Kind, "TaskKind"))]
TaskStatus = Annotated[AccountTask.Status, WithJsonSchema(_enum_schema(AccountTask.Status, "TaskStatus"))]


class RenewalOut(Schema):
    id: int
    contract_id: int
    contract_number: str
    account_id: int
    account_name: str
    owner: str | None
    stage: RenewalOpportunity.Stage
    stage_changed_at: dt.datetime | None
    key_date: dt.date
    days_to_key_date: int
    end_date: dt.date
    auto_renew: bool
    annual_value: Decimal
    proposed_value: Decimal | None
    currency: str
    health_score: int | None
    health_band: str | None
    quote_url: str | None
    quote_valid_until: dt.date | None


class StageIn(Schema):
    stage: RenewalOpportunity.Stage
    proposed_value: ContractValue | None = None


class TaskOut(Schema):
    id: int
    kind: TaskKind
    title: str
    account_id: int
    account_name: str = Field(..., alias="account.name")
    contract_id: int | None
    due_date: dt.date | None
    status: TaskStatus
    created_at: dt.datetime


class TaskIn(Schema):
    status: TaskStatus


class RiskOut(Schema):
    account_id: int
    account_name: str
    score: int
    band: str
    annual_value: Decimal
    key_date: dt.date | None
    days_to_key_date: int | None
    risk: Decimal


class Account360Out(Schema):
    account: dict[str, Any]
    contacts: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    equipment: list[dict[str, Any]]
    contracts: list[dict[str, Any]]
    open_work_orders: list[dict[str, Any]]
    recent_work_orders: list[dict[str, Any]]
    health: dict[str, Any] | None
    health_trend: list[dict[str, Any]]
    renewal: RenewalOut | None
