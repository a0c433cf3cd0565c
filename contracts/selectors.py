"""Reads about contracts that other apps rely on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from contracts.models import ContractSLATerm, ServiceContract


@dataclass(frozen=True)
class Coverage:
    contract: ServiceContract
    response_hours: Decimal
    resolution_hours: Decimal
    calendar: str


def contract_covering(*, equipment_id: int, on: dt.date) -> ServiceContract | None:
    """The active contract that covers this equipment on this date (the newest if several)."""
    return (
        ServiceContract.objects.filter(
            status=ServiceContract.Status.ACTIVE,
            coverage__equipment_id=equipment_id,
            start_date__lte=on,
            end_date__gte=on,
        )
        .order_by("-start_date", "-pk")
        .first()
    )


def coverage_for(*, equipment_id: int, on: dt.date, priority: int) -> Coverage | None:
    """The covering contract with its SLA terms for this priority, or None when not covered."""
    contract = contract_covering(equipment_id=equipment_id, on=on)
    if contract is None:
        return None
    term = ContractSLATerm.objects.filter(contract=contract, priority=priority).first()
    if term is None:
        # A contract without terms for this priority still covers the work, at default targets.
        response, resolution = settings.DEFAULT_SLA_HOURS[priority]
        return Coverage(contract, Decimal(response), Decimal(resolution), contract.sla_calendar)
    return Coverage(contract, term.response_hours, term.resolution_hours, contract.sla_calendar)
