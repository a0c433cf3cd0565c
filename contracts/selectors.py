"""Reads about contracts that other floors rely on: which contract covers a unit, on what terms."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from contracts.models import ContractSLATerm, CoveredEquipment, ServiceContract


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


def equipment_coverage_periods(
    *, equipment_ids: set[int], days: list[dt.date]
) -> dict[int, list[tuple[dt.date, dt.date]]]:
    """Per equipment, the periods of its active contracts that overlap the days asked about.

    The set-based form of contract_covering (same rule: an active contract with
    start ≤ day ≤ end), for callers that ask about many units at once (PM generation).
    """
    if not equipment_ids:
        return {}
    rows = CoveredEquipment.objects.filter(
        equipment_id__in=equipment_ids,
        contract__status=ServiceContract.Status.ACTIVE,
        contract__start_date__lte=max(days),
        contract__end_date__gte=min(days),
    ).values_list("equipment_id", "contract__start_date", "contract__end_date")
    periods: dict[int, list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for equipment_id, start, end in rows:
        periods[equipment_id].append((start, end))
    return periods


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
