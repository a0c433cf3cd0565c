"""What happened to each historical work order, minute by minute.

SLA targets come from the contract that covered the equipment when the work order was
created (else the default, billable terms); whether a target is met is drawn from the
account's service quality (fieldservice.demo.history) and then read back from the
timestamps, so the data never contradicts itself. `responded_at` is the technician's
arrival on site, as in the product (the response SLA is an on-site promise); the
dispatcher's taking the job is `scheduled_at`, which only dates the events.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from fieldservice.demo import sla
from fieldservice.demo.catalog import NO_FAULT, REPAIRS
from fieldservice.demo.context import SeedContext, SiteRec, TechRec
from fieldservice.demo.contracts import contract_covering
from fieldservice.demo.history import breach_probability
from fieldservice.demo.workorders import WorkOrderPlan

# Arrival on site as a fraction of the response target (late: past it).
RESPONDED_FRACTION = (0.1, 0.9)
LATE_FRACTION = (1.1, 2.5)
# A late resolution overshoots its target by this fraction of the resolution time.
LATE_RESOLUTION_FRACTION = (0.1, 1.0)
# The dispatcher takes the job after this fraction of the time to arrival.
SCHEDULED_FRACTION = (0.05, 0.3)
EARLIEST_ARRIVAL = timedelta(minutes=45)
# As tickets.pm: the window opens a few days before the due date and closes after a grace.
PM_WINDOW_DAYS_BEFORE_DUE = 3
PM_WINDOW_GRACE_DAYS = 7
WORK_FACTOR = (0.7, 1.3)
SLOW_WORK_AT_ZERO_QUALITY = 0.5
DISPATCH_LEAD_MINUTES = (40, 120)
TRAVEL_MINUTES = (15, 60)
SETUP_MINUTES = (5, 20)
CLOSE_DELAY_HOURS = (4, 72)
VISIT_START_HOURS = (0.5, 4.0)
PREFERRED_SHARE = 0.5
LOCAL_SHARE = 0.85
NO_FAULT_SHARE = 0.08
CANCEL_AFTER_HOURS = (1, 30)
PM_SCHEDULED_HOURS = (1, 20)


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


def _pm_window(ctx: SeedContext, wo: WorkOrderPlan) -> None:
    """Planned work gets the window tickets.pm gives it (from a few days before the due date
    to a grace period after), and its SLA clocks start with the window, as in the product."""
    assert wo.pm_due_date is not None
    wo.earliest_start = max(
        wo.created_at, ctx.at(wo.pm_due_date - timedelta(days=PM_WINDOW_DAYS_BEFORE_DUE), time(0))
    )
    wo.latest_end = ctx.at(wo.pm_due_date + timedelta(days=PM_WINDOW_GRACE_DAYS + 1), time(0))


def _reactive_arrival(ctx: SeedContext, wo: WorkOrderPlan, late: bool) -> datetime:
    """On site within the response target, or late when the draw says so. Access hours can
    make an on-time draw late; then the technician goes at the first moment the site lets
    them in, and only a site that stays closed until past the target makes it a breach."""
    rng = ctx.rng
    assert wo.sla_response_due is not None
    span = wo.sla_response_due - wo.created_at
    arrival = wo.created_at + span * rng.uniform(*(LATE_FRACTION if late else RESPONDED_FRACTION))
    if wo.kind == "emergency":  # emergencies get in at any hour
        return arrival
    arrival = _into_access_hours(wo.unit.site, arrival, ctx)
    if not late and arrival > wo.sla_response_due:
        arrival = _into_access_hours(wo.unit.site, wo.created_at + EARLIEST_ARRIVAL, ctx)
    return arrival


def schedule_history(ctx: SeedContext, wo: WorkOrderPlan, pool: TechnicianPool) -> None:
    rng = ctx.rng
    unit = wo.unit
    q = unit.account.quality_at(wo.created_at.date(), ctx.window_start)
    wo.quality = q
    wo.contract = contract_covering(unit, wo.created_at.date())
    calendar = wo.contract.calendar if wo.contract else "business_hours"
    response_h, resolution_h = (wo.contract.terms if wo.contract else sla.DEFAULT_TERMS)[wo.priority]
    if wo.visit_day is not None and wo.pm_due_date is not None:
        _pm_window(ctx, wo)
    clock_start = max(wo.created_at, wo.earliest_start or wo.created_at)
    wo.sla_response_due = sla.due(clock_start, response_h, calendar)
    wo.sla_resolution_due = sla.due(clock_start, resolution_h, calendar)
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
    finish_by: datetime | None = None
    if wo.visit_day is not None:
        # Planned work: the plan decided the visit day (late for low quality, see history),
        # and the response target is met or missed by that visit.
        arrival = ctx.at(wo.visit_day, unit.site.opens) + timedelta(hours=rng.uniform(*VISIT_START_HOURS))
        wo.scheduled_at = wo.created_at + timedelta(hours=rng.uniform(*PM_SCHEDULED_HOURS))
    else:
        arrival = _reactive_arrival(ctx, wo, late_response)
        wo.scheduled_at = wo.created_at + (arrival - wo.created_at) * rng.uniform(*SCHEDULED_FRACTION)
        if late_resolution:
            # Diagnosed on the first visit, then waiting for parts or a specialist.
            assert wo.sla_resolution_due is not None
            finish_by = wo.sla_resolution_due + (wo.sla_resolution_due - wo.created_at) * rng.uniform(
                *LATE_RESOLUTION_FRACTION
            )
    _stamp_visit(ctx, wo, arrival, work, finish_by)
    resolve(ctx, wo)


def _stamp_visit(
    ctx: SeedContext, wo: WorkOrderPlan, arrival: datetime, work: timedelta, finish_by: datetime | None
) -> None:
    """Dispatch, travel and arrival (= responded_at, the on-site response), then the work.
    With `finish_by`, the work ends then (a repair that waited after the first visit)."""
    rng = ctx.rng
    assert wo.scheduled_at is not None
    travel = timedelta(minutes=rng.randint(*TRAVEL_MINUTES))
    wo.en_route_at = arrival - travel
    lead = timedelta(minutes=rng.randint(*DISPATCH_LEAD_MINUTES))
    wo.dispatched_at = max(wo.scheduled_at + timedelta(minutes=1), wo.en_route_at - lead)
    if wo.dispatched_at >= wo.en_route_at:
        wo.en_route_at = wo.dispatched_at + timedelta(minutes=1)
        arrival = max(arrival, wo.en_route_at + travel)
    wo.arrived_at = arrival
    wo.responded_at = arrival
    wo.actual_start = arrival + timedelta(minutes=rng.randint(*SETUP_MINUTES))
    if finish_by is not None:
        wo.actual_start = max(wo.actual_start, finish_by - work)
    wo.actual_end = wo.actual_start + work
    wo.completed_at = wo.actual_end
    wo.planned_start = arrival.replace(minute=0 if arrival.minute < 30 else 30, second=0, microsecond=0)
    wo.planned_end = wo.planned_start + timedelta(minutes=wo.estimated_minutes)
    wo.closed_at = wo.completed_at + timedelta(hours=rng.uniform(*CLOSE_DELAY_HOURS))
    if wo.closed_at > ctx.now:
        wo.status, wo.closed_at = "completed", None
    else:
        wo.status = "closed"


def resolve(ctx: SeedContext, wo: WorkOrderPlan, draw: float | None = None) -> None:
    """The resolution of a finished job; a repair's is drawn from `ctx.rng`, or from `draw`
    (a number in [0, 1)) when the caller keeps a random source of its own."""
    category = wo.unit.model.category
    if wo.kind == "preventive":
        template = wo.plan.template.name if wo.plan and wo.plan.template else "Preventive maintenance"
        wo.resolution_code, wo.resolution = "pm_completed", f"{template} completed per checklist."
    elif wo.kind == "installation":
        wo.resolution_code = "installed"
        wo.resolution = "Installed, commissioned and handed over; operators trained."
    elif wo.kind == "inspection":
        wo.resolution_code, wo.resolution = "inspected", "Inspection done, report issued to the customer."
    elif draw is None:
        rng = ctx.rng
        code_text = NO_FAULT if rng.random() < NO_FAULT_SHARE else rng.choice(REPAIRS[category])
        wo.resolution_code, wo.resolution = code_text
    else:
        repairs = REPAIRS[category]
        code_text = NO_FAULT if draw < NO_FAULT_SHARE else repairs[int(draw * len(repairs)) % len(repairs)]
        wo.resolution_code, wo.resolution = code_text
