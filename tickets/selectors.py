"""Reads of work orders, with the object-level permission rule applied in one place.

Who sees what: admins and dispatchers see every work order; a technician only those
assigned to them; an account manager those of the accounts they manage. A work order
the user may not see does not exist for them (404, never 403), so ids leak nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.contrib.gis.geos import GEOSGeometry
from django.db.models import Q, QuerySet
from django.utils import timezone

from assets.models import Account, Equipment
from fieldservice import clock, roles
from fieldservice.errors import NotFound
from tickets.models import WorkOrder
from tickets.sla_breach import at_risk_q, breached_q, overdue_q


def work_orders_visible_to(user: User | AnonymousUser) -> QuerySet[WorkOrder]:
    everything = WorkOrder.objects.all()
    held = roles.user_roles(user)
    if roles.ADMIN in held or roles.DISPATCHER in held:
        return everything
    scope = Q(pk__in=[])
    if roles.TECHNICIAN in held:
        scope |= Q(assigned_technician=user)
    if roles.ACCOUNT_MANAGER in held:
        scope |= Q(account__account_manager=user)
    return everything.filter(scope)


def work_order_get(*, user: User | AnonymousUser, work_order_id: int) -> WorkOrder:
    found = (
        work_orders_visible_to(user)
        .select_related(
            "account",
            "site",
            "equipment__equipment_model",
            "contract",
            "assigned_technician",
            "service_report",
        )
        .prefetch_related("checklist", "parts")
        .filter(pk=work_order_id)
        .first()
    )
    if found is None:
        raise NotFound(f"Work order {work_order_id} not found.")
    return found


@dataclass(frozen=True)
class WorkOrderFilters:
    status: list[str] | None = None
    priority: list[int] | None = None
    account_id: int | None = None
    technician: str | None = None
    territory_boundary: GEOSGeometry | None = None
    planned_from: dt.date | None = None
    planned_to: dt.date | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    overdue_sla: bool | None = None
    sla_state: str | None = None  # one of SLA_STATES
    search: str | None = None


# The SLA state of open work, as the list filters it (tickets.sla_breach): a clock breached,
# a running clock due within settings.SLA_AT_RISK_HOURS, or neither.
SLA_STATES = ("breached", "at_risk", "fine")


def _sla_state_q(state: str) -> Q:
    now = clock.now()
    at_risk = at_risk_q(as_of=now, within=dt.timedelta(hours=settings.SLA_AT_RISK_HOURS))
    if state == "breached":
        return breached_q(as_of=now)
    if state == "at_risk":
        return at_risk
    return ~breached_q(as_of=now) & ~at_risk


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def work_order_list(*, user: User | AnonymousUser, filters: WorkOrderFilters) -> QuerySet[WorkOrder]:
    rows = work_orders_visible_to(user).select_related("account", "site", "equipment", "assigned_technician")
    if filters.status:
        rows = rows.filter(status__in=filters.status)
    if filters.priority:
        rows = rows.filter(priority__in=filters.priority)
    if filters.account_id:
        rows = rows.filter(account_id=filters.account_id)
    if filters.technician:
        rows = rows.filter(assigned_technician__username=filters.technician)
    if filters.territory_boundary is not None:
        rows = rows.filter(site__location__intersects=filters.territory_boundary)
    if filters.planned_from:
        rows = rows.filter(planned_start__gte=_local_midnight(filters.planned_from))
    if filters.planned_to:
        rows = rows.filter(planned_start__lt=_local_midnight(filters.planned_to + dt.timedelta(days=1)))
    if filters.created_from:
        rows = rows.filter(created_at__gte=_local_midnight(filters.created_from))
    if filters.created_to:
        rows = rows.filter(created_at__lt=_local_midnight(filters.created_to + dt.timedelta(days=1)))
    if filters.overdue_sla is not None:
        overdue = Q(status__in=WorkOrder.OPEN_STATUSES) & overdue_q(as_of=clock.now())
        rows = rows.filter(overdue) if filters.overdue_sla else rows.exclude(overdue)
    if filters.sla_state:
        rows = rows.filter(status__in=WorkOrder.OPEN_STATUSES).filter(_sla_state_q(filters.sla_state))
    if filters.search:
        # By number, title, customer or serial; each ILIKE a trigram index serves.
        text = filters.search
        # The matching accounts and units are read first, as ids: an OR over plain lists lets
        # PostgreSQL combine four index scans, where subqueries made it read every work order.
        accounts = list(Account.objects.filter(name__trigram_contains=text).values_list("pk", flat=True))
        units = list(
            Equipment.objects.filter(serial_number__trigram_contains=text).values_list("pk", flat=True)
        )
        rows = rows.filter(
            Q(number__trigram_contains=text)
            | Q(title__trigram_contains=text)
            | Q(account_id__in=accounts)
            | Q(equipment_id__in=units)
        )
    return rows
