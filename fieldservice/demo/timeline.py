"""What happened to each historical work order, minute by minute.

SLA targets come from the contract that covered the equipment when the work order was
created (else the default, billable terms); whether a target is met is drawn from the
account's service quality (fieldservice.demo.history) and then read back from the
timestamps, so the data never contradicts itself.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fieldservice.demo import sla
from fieldservice.demo.catalog import NO_FAULT, REPAIRS
from fieldservice.demo.context import SeedContext, SiteRec, TechRec
from fieldservice.demo.contracts import contract_covering
from fieldservice.demo.history import breach_probability
from fieldservice.demo.workorders import WorkOrderPlan

RESPONDED_FRACTION = (0.1, 0.9)
LATE_FRACTION = (1.1, 2.5)
RESOLVED_FRACTION = (0.2, 0.95)
WORK_FACTOR = (0.7, 1.3)
SLOW_WORK_AT_ZERO_QUALITY = 0.5
MIN_DISPATCH_LEAD = timedelta(minutes=30)
DISPATCH_LEAD_MINUTES = (40, 120)
TRAVEL_MINUTES = (15, 60)
SETUP_MINUTES = (5, 20)
CLOSE_DELAY_HOURS = (4, 72)
VISIT_START_HOURS = (0.5, 4.0)
PREFERRED_SHARE = 0.5
LOCAL_SHARE = 0.85
NO_FAULT_SHARE = 0.08
CANCEL_AFTER_HOURS = (1, 30)
PM_RESPONSE_HOURS = (1, 20)


class TechnicianPool:
    """Qualified technicians by skill and minimum level, the account's preferred first."""

    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self.by_skill: dict[str, list[TechRec]] = {}
        for tech in ctx.technicians:
            for code in sorted(tech.skills):
                self.by_skill.setdefault(code, []).append(tech)

        self._qualified: dict[tuple[str, int], list[TechRec]] = {}
        self._local: dict[tuple[str, int, int], list[TechRec]] = {}

    def qualified(self, skill: str, level: int) -> list[TechRec]:
        key = (skill, level)
        if key not in self._qualified:
            holders = self.by_skill[skill]
            found = [t for t in holders if t.skills[skill] >= level]
            if not found:  # nobody at that level: the most skilled holders go
                best = max(t.skills[skill] for t in holders)
                found = [t for t in holders if t.skills[skill] == best]
            self._qualified[key] = found
        return self._qualified[key]

    def local(self, skill: str, level: int, territory_id: int) -> list[TechRec]:
        key = (skill, level, territory_id)
        if key not in self._local:
            self._local[key] = [t for t in self.qualified(skill, level) if t.territory_id == territory_id]
        return self._local[key]

    def pick(self, wo: WorkOrderPlan) -> TechRec:
        rng = self.ctx.rng
        ((skill, level),) = wo.required_skills.items()
        qualified = self.qualified(skill, level)
        preferred = [t for t in self.ctx.preferred.get(wo.unit.account.id, []) if t in qualified]
        if preferred and rng.random() < PREFERRED_SHARE:
            return rng.choice(preferred)
        local = self.local(skill, level, wo.unit.site.territory_id)
        if local and rng.random() < LOCAL_SHARE:
            return rng.choice(local)
        return rng.choice(qualified)


def _minutes(low: float, high: float, rng_uniform: float) -> timedelta:
    return timedelta(minutes=low + (high - low) * rng_uniform)


def _into_access_hours(site: SiteRec, moment: datetime, ctx: SeedContext) -> datetime:
    """The first moment at or after `moment` when the site lets technicians in."""
    day = moment.date()
    for _ in range(8):
        opens, closes = ctx.at(day, site.opens), ctx.at(day, site.closes)
        if site.open_on(day) and moment < closes:
            return max(
                moment, opens + timedelta(minutes=ctx.rng.randint(0, 45)) if moment < opens else moment
            )
        day += timedelta(days=1)
        moment = ctx.at(day, time(0))
    return moment


def schedule_history(ctx: SeedContext, wo: WorkOrderPlan, pool: TechnicianPool) -> None:
    rng = ctx.rng
    unit = wo.unit
    q = unit.account.quality_at(wo.created_at.date(), ctx.window_start)
    wo.quality = q
    wo.contract = contract_covering(unit, wo.created_at.date())
    calendar = wo.contract.calendar if wo.contract else "business_hours"
    response_h, resolution_h = (wo.contract.terms if wo.contract else sla.DEFAULT_TERMS)[wo.priority]
    wo.sla_response_due = sla.due(wo.created_at, response_h, calendar)
    wo.sla_resolution_due = sla.due(wo.created_at, resolution_h, calendar)
    wo.created_by = ctx.users["dispatcher"] if wo.plan is None else None
    p_breach = breach_probability(q)
    late_response = rng.random() < p_breach
    late_resolution = rng.random() < p_breach
    if wo.status == "cancelled":
        wo.cancelled_at = wo.created_at + timedelta(hours=rng.uniform(*CANCEL_AFTER_HOURS))
        wo.resolution = "Cancelled at the customer's request."
        return
    wo.technician = pool.pick(wo)
    work = timedelta(
        minutes=wo.estimated_minutes * rng.uniform(*WORK_FACTOR) * (1 + SLOW_WORK_AT_ZERO_QUALITY * (1 - q))
    )
    if wo.visit_day is not None:  # planned work: the visit day was decided by the plan
        wo.responded_at = wo.created_at + timedelta(hours=rng.uniform(*PM_RESPONSE_HOURS))
        if late_response:
            wo.responded_at = wo.created_at + (wo.sla_response_due - wo.created_at) * rng.uniform(
                *LATE_FRACTION
            )
        arrival = ctx.at(wo.visit_day, unit.site.opens) + timedelta(hours=rng.uniform(*VISIT_START_HOURS))
        arrival = max(arrival, wo.responded_at + MIN_DISPATCH_LEAD)
    else:
        span = wo.sla_response_due - wo.created_at
        fraction = rng.uniform(*(LATE_FRACTION if late_response else RESPONDED_FRACTION))
        wo.responded_at = wo.created_at + span * fraction
        resolution_span = wo.sla_resolution_due - wo.responded_at
        if late_resolution:
            end = wo.sla_resolution_due + (wo.sla_resolution_due - wo.created_at) * rng.uniform(0.1, 1.0)
        else:
            end = wo.responded_at + resolution_span * rng.uniform(*RESOLVED_FRACTION)
        arrival = max(end - work, wo.responded_at + MIN_DISPATCH_LEAD)
        if wo.kind != "emergency":
            arrival = _into_access_hours(unit.site, arrival, ctx)
    _stamp_visit(ctx, wo, arrival, work)
    _resolve(ctx, wo)


def _stamp_visit(ctx: SeedContext, wo: WorkOrderPlan, arrival: datetime, work: timedelta) -> None:
    rng = ctx.rng
    assert wo.responded_at is not None
    travel = timedelta(minutes=rng.randint(*TRAVEL_MINUTES))
    wo.en_route_at = arrival - travel
    lead = timedelta(minutes=rng.randint(*DISPATCH_LEAD_MINUTES))
    wo.dispatched_at = max(wo.responded_at + timedelta(minutes=1), wo.en_route_at - lead)
    if wo.dispatched_at >= wo.en_route_at:
        wo.en_route_at = wo.dispatched_at + timedelta(minutes=1)
        arrival = max(arrival, wo.en_route_at + travel)
    wo.arrived_at = arrival
    wo.actual_start = arrival + timedelta(minutes=rng.randint(*SETUP_MINUTES))
    wo.actual_end = wo.actual_start + work
    wo.completed_at = wo.actual_end
    wo.planned_start = arrival.replace(minute=0 if arrival.minute < 30 else 30, second=0, microsecond=0)
    wo.planned_end = wo.planned_start + timedelta(minutes=wo.estimated_minutes)
    wo.closed_at = wo.completed_at + timedelta(hours=rng.uniform(*CLOSE_DELAY_HOURS))
    if wo.closed_at > ctx.now:
        wo.status, wo.closed_at = "completed", None
    else:
        wo.status = "closed"


def _resolve(ctx: SeedContext, wo: WorkOrderPlan) -> None:
    rng = ctx.rng
    category = wo.unit.model.category
    if wo.kind == "preventive":
        template = wo.plan.template.name if wo.plan and wo.plan.template else "Preventive maintenance"
        wo.resolution_code, wo.resolution = "pm_completed", f"{template} completed per checklist."
    elif wo.kind == "installation":
        wo.resolution_code = "installed"
        wo.resolution = "Installed, commissioned and handed over; operators trained."
    elif wo.kind == "inspection":
        wo.resolution_code, wo.resolution = "inspected", "Inspection done, report issued to the customer."
    else:
        code_text = NO_FAULT if rng.random() < NO_FAULT_SHARE else rng.choice(REPAIRS[category])
        wo.resolution_code, wo.resolution = code_text
