"""Reads for the account manager: the renewals pipeline and one account seen whole (360°).

The 360° view is the one read that spans the product (installed base, contracts, work,
health); it is assembled here, in a fixed number of queries whatever the account's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import OuterRef, QuerySet, Subquery

from assets import visibility
from assets.models import Account, Equipment
from contracts.models import CoveredEquipment, HealthScore, RenewalOpportunity, ServiceContract
from fieldservice.errors import NotFound
from retention import selectors

RECENT_WORK_ORDERS = 10
TREND_MONTHS = 12


def _latest_health(field: str) -> Subquery:
    return Subquery(
        HealthScore.objects.filter(account_id=OuterRef("contract__account_id"))
        .order_by("-date")
        .values(field)[:1]
    )


def renewals_pipeline(
    *,
    user: User | AnonymousUser,
    today: dt.date,
    owner_id: int | None = None,
    stages: Sequence[str] | None = None,
    max_days: int | None = None,
    bands: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Open renewals I may see, nearest key date first, with the account's latest health."""
    rows = (
        selectors.opportunities_visible_to(user)
        .select_related("contract__account", "owner")
        .annotate(
            key_date=selectors.renewal_key_date_expression_for("contract__"),
            health_score=_latest_health("score"),
            health_band=_latest_health("band"),
        )
        .order_by("key_date", "pk")
    )
    if owner_id is not None:
        rows = rows.filter(owner_id=owner_id)
    if stages:
        rows = rows.filter(stage__in=stages)
    if max_days is not None:
        rows = rows.filter(key_date__lte=today + dt.timedelta(days=max_days))
    if bands:
        rows = rows.filter(health_band__in=bands)
    return [renewal_row(opportunity, today=today) for opportunity in rows]


def renewal_row(opportunity: Any, *, today: dt.date) -> dict[str, Any]:
    contract = opportunity.contract
    key_date = getattr(opportunity, "key_date", None) or selectors.key_date(contract)
    return {
        "id": opportunity.pk,
        "contract_id": contract.pk,
        "contract_number": contract.number,
        "account_id": contract.account_id,
        "account_name": contract.account.name,
        "owner": opportunity.owner.get_username() if opportunity.owner else None,
        "stage": opportunity.stage,
        "stage_changed_at": opportunity.stage_changed_at,
        "key_date": key_date,
        "days_to_key_date": (key_date - today).days,
        "end_date": contract.end_date,
        "auto_renew": contract.auto_renew,
        "annual_value": contract.annual_value,
        "proposed_value": opportunity.proposed_value,
        "currency": contract.currency,
        "health_score": getattr(opportunity, "health_score", None),
        "health_band": getattr(opportunity, "health_band", None),
        "quote_url": f"/api/v1/renewals/{opportunity.pk}/quote.pdf" if opportunity.quote_pdf else None,
        "quote_valid_until": opportunity.quote_valid_until,
    }


def account_360(*, user: User | AnonymousUser, account_id: int, today: dt.date) -> dict[str, Any]:
    from tickets.models import WorkOrder  # the installed base's history; see the module docstring

    account = (
        visibility.accounts_visible_to(user).select_related("account_manager").filter(pk=account_id).first()
    )
    if account is None:
        raise NotFound(f"Account {account_id} not found.")
    active = ServiceContract.Status.ACTIVE
    covered_by = {
        row["equipment_id"]: row["contract__number"]
        for row in CoveredEquipment.objects.filter(
            equipment__site__account=account, contract__status=active
        ).values("equipment_id", "contract__number")
    }
    equipment = (
        Equipment.objects.filter(site__account=account)
        .select_related("equipment_model", "site")
        .order_by("site__name", "serial_number")
    )
    work_orders = WorkOrder.objects.filter(account=account).select_related("site", "assigned_technician")
    trend_start = today - dt.timedelta(days=31 * TREND_MONTHS)
    health = HealthScore.objects.filter(account=account, date__lte=today).order_by("-date")
    latest = health.first()
    opportunity = (
        RenewalOpportunity.objects.filter(contract__account=account, closed_at__isnull=True)
        .select_related("contract__account", "owner")
        .order_by("contract__end_date")
        .first()
    )
    return {
        "account": _account(account),
        "contacts": list(
            account.contacts.values("id", "name", "title", "email", "phone", "site_id", "is_primary")
        ),
        "sites": [
            {
                "id": s.pk,
                "name": s.name,
                "address": s.address,
                "city": s.city,
                "lat": s.location.y,
                "lon": s.location.x,
                "access": f"{s.access_opens:%H:%M}–{s.access_closes:%H:%M}",
            }
            for s in account.sites.order_by("name")
        ],
        "equipment": [_equipment(unit, covered_by.get(unit.pk), today) for unit in equipment],
        "contracts": list(
            account.contracts.order_by("-end_date").values(
                "id",
                "number",
                "status",
                "start_date",
                "end_date",
                "annual_value",
                "currency",
                "auto_renew",
                "notice_days",
                "sla_calendar",
            )
        ),
        "open_work_orders": [
            _work_order(wo)
            for wo in work_orders.filter(status__in=WorkOrder.OPEN_STATUSES).order_by("priority", "pk")
        ],
        "recent_work_orders": [
            _work_order(wo)
            for wo in work_orders.exclude(status__in=WorkOrder.OPEN_STATUSES).order_by(
                "-completed_at", "-pk"
            )[:RECENT_WORK_ORDERS]
        ],
        "health": _health(latest),
        "health_trend": _monthly_trend(health.filter(date__gte=trend_start)),
        "renewal": renewal_row(opportunity, today=today) if opportunity else None,
    }


def _account(account: Account) -> dict[str, Any]:
    manager = account.account_manager
    return {
        "id": account.pk,
        "name": account.name,
        "industry": account.industry,
        "tier": account.tier,
        "annual_contract_value": account.annual_contract_value,
        "currency": account.currency,
        "account_manager": manager.get_full_name() or manager.get_username() if manager else None,
    }


def _equipment(unit: Equipment, covering_contract: str | None, today: dt.date) -> dict[str, Any]:
    return {
        "id": unit.pk,
        "serial_number": unit.serial_number,
        "model": str(unit.equipment_model),
        "category": unit.equipment_model.category,
        "site": unit.site.name,
        "status": unit.status,
        "criticality": unit.criticality,
        "warranty_end": unit.warranty_end,
        "under_warranty": bool(unit.warranty_end and unit.warranty_end >= today),
        "covered_by": covering_contract,
    }


def _work_order(wo: Any) -> dict[str, Any]:
    return {
        "id": wo.pk,
        "number": wo.number,
        "title": wo.title,
        "kind": wo.kind,
        "priority": wo.priority,
        "status": wo.status,
        "site": wo.site.name,
        "created_at": wo.created_at,
        "completed_at": wo.completed_at,
        "sla_resolution_due": wo.sla_resolution_due,
        "technician": wo.assigned_technician.get_username() if wo.assigned_technician else None,
    }


def _health(snapshot: HealthScore | None) -> dict[str, Any] | None:
    if snapshot is None:
        return None
    return {
        "date": snapshot.date,
        "score": snapshot.score,
        "band": snapshot.band,
        "declining": snapshot.declining,
        "rfm_tier": snapshot.rfm_tier,
        "components": snapshot.components,
        "overrides": snapshot.overrides,
    }


def _monthly_trend(snapshots: QuerySet[HealthScore]) -> list[dict[str, Any]]:
    """The last snapshot of each month, oldest first."""
    last_of_month: dict[tuple[int, int], HealthScore] = {}
    for snapshot in snapshots.order_by("date").only("date", "score", "band"):
        last_of_month[(snapshot.date.year, snapshot.date.month)] = snapshot
    return [{"date": s.date, "score": s.score, "band": s.band} for _, s in sorted(last_of_month.items())]
