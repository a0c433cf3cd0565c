"""What the desk shows the moment a caller's machine (or site) is chosen: whether a contract
covers it and the SLA that will apply, work already open there (a likely duplicate), the last
visits, and the account's preferred technicians. Reads only; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from assets.models import Equipment, Site
from contracts.models import ServiceContract
from fieldservice import clock
from scheduling.models import PreferredTechnician
from tickets.models import WorkOrder
from tickets.sla_clocks import sla_clock_start, sla_due_set

RECENT_VISITS = 3
OPEN_SHOWN = 10


@dataclass(frozen=True)
class SlaPreview:
    contract: ServiceContract | None
    billable: bool
    response_due: str
    resolution_due: str


@dataclass(frozen=True)
class IntakeContext:
    site: Site
    equipment: Equipment | None
    sla: SlaPreview
    open_here: list[WorkOrder]
    recent_visits: list[WorkOrder]
    preferred: list[PreferredTechnician]


def sla_preview(*, site: Site, equipment: Equipment | None, priority: int, kind: str) -> SlaPreview:
    """The contract, billability and due times a work order opened now would get: the very
    computation work_order_create makes (tickets.sla_clocks), on an unsaved work order. Due
    times are shown in the site's time zone."""
    draft = WorkOrder(site=site, equipment=equipment, priority=priority, kind=kind, created_at=clock.now())
    sla_due_set(draft, opened_at=sla_clock_start(draft))
    zone = ZoneInfo(site.time_zone)

    def local(due: object) -> str:
        return f"{due.astimezone(zone):%Y-%m-%d %H:%M}" if due is not None else ""  # type: ignore[attr-defined]

    return SlaPreview(
        draft.contract, draft.billable, local(draft.sla_response_due), local(draft.sla_resolution_due)
    )


def intake_context(*, site: Site, equipment: Equipment | None, priority: int, kind: str) -> IntakeContext:
    here = WorkOrder.objects.filter(site=site).select_related(
        "equipment__equipment_model", "assigned_technician"
    )
    open_here = here.filter(status__in=WorkOrder.OPEN_STATUSES)
    visits = (here.filter(equipment=equipment) if equipment is not None else here).filter(
        status__in=WorkOrder.DONE_STATUSES
    )
    # The same machine's open work first, all of it (that is the likely duplicate), then the
    # site's newest.
    same_machine = list(open_here.filter(equipment=equipment).order_by("-created_at")) if equipment else []
    others = open_here.exclude(pk__in=[wo.pk for wo in same_machine]).order_by("-created_at")
    opened = same_machine + list(others[: max(0, OPEN_SHOWN - len(same_machine))])
    return IntakeContext(
        site=site,
        equipment=equipment,
        sla=sla_preview(site=site, equipment=equipment, priority=priority, kind=kind),
        open_here=opened,
        recent_visits=list(visits.order_by("-completed_at")[:RECENT_VISITS]),
        preferred=list(
            PreferredTechnician.objects.filter(account_id=site.account_id).select_related("technician__user")
        ),
    )
