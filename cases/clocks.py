"""A case's response (acknowledge) and resolution clocks, set when it is opened.

From the contract: when the account has an active contract on the day the case is opened,
with SLA terms for the case's priority, its terms and calendar apply. **Severity maps onto
priority one to one: severity 1 → the P1 terms, 2 → P2, 3 → P3** (a case has no P4). The
contract's response hours are the time to acknowledge, its resolution hours the time to
resolve.

Otherwise the default: CASE_DEFAULT_HOURS[severity] = (acknowledge, resolve) hours, counted in
CASE_DEFAULT_CALENDAR. `clock_source` records which, so a page can say "default" (a contract
without terms for that priority gives the default too).

Working time is counted in the time zone of the contact's site, else of the account's first
site, else the company's (TIME_ZONE), with tickets.sla's calendar arithmetic.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

from assets.models import Account, Contact, Site
from cases.models import Case
from contracts.models import ContractSLATerm, ServiceContract
from tickets import sla


@dataclass(frozen=True)
class CaseClocks:
    response_due: dt.datetime
    resolution_due: dt.datetime
    source: str
    contract: ServiceContract | None


def severity_priority(severity: int) -> int:
    """The contract priority whose SLA terms a case of this severity takes (1→P1, 2→P2, 3→P3)."""
    return int(severity)


def _time_zone(account: Account, contact: Contact | None) -> str:
    if contact is not None and contact.site_id is not None:
        return Site.objects.values_list("time_zone", flat=True).get(pk=contact.site_id)
    zone = account.sites.order_by("pk").values_list("time_zone", flat=True).first()
    return zone or settings.TIME_ZONE


def case_clocks(
    *, account: Account, contact: Contact | None, severity: int, opened_at: dt.datetime
) -> CaseClocks:
    zone = _time_zone(account, contact)
    local_day = opened_at.astimezone(ZoneInfo(zone)).date()
    term = (
        ContractSLATerm.objects.filter(
            contract__account=account,
            contract__status=ServiceContract.Status.ACTIVE,
            contract__start_date__lte=local_day,
            contract__end_date__gte=local_day,
            priority=severity_priority(severity),
        )
        .select_related("contract")
        .order_by("-contract__start_date", "-contract__pk")
        .first()
    )
    response_hours: Decimal | int
    resolution_hours: Decimal | int
    if term is not None:
        calendar = sla.Calendar.for_site(kind=term.contract.sla_calendar, time_zone=zone)
        response_hours, resolution_hours = term.response_hours, term.resolution_hours
        source, contract = Case.ClockSource.CONTRACT, term.contract
    else:
        calendar = sla.Calendar.for_site(kind=settings.CASE_DEFAULT_CALENDAR, time_zone=zone)
        response_hours, resolution_hours = settings.CASE_DEFAULT_HOURS[int(severity)]
        source, contract = Case.ClockSource.DEFAULT, None
    return CaseClocks(
        response_due=sla.due_after(calendar, opened_at, response_hours),
        resolution_due=sla.due_after(calendar, opened_at, resolution_hours),
        source=source,
        contract=contract,
    )
