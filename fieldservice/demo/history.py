"""Two years of completed work, driven by each account's simulated service quality.

Every account carries a hidden latent `quality` q in [0, 1] (a Beta(2.5, 1.8) draw) with
a small yearly drift (`AccountRec.quality_at`). Nothing in the database stores it; it
only shapes what happened:

* SLA breaches: each work order misses its response and/or resolution target with
  probability 0.02 + 0.25 * (1 - q) ** 1.5 (evaluated from the actual
  timestamps, so access hours and weekends add some breaches of their own);
* first-time fix and repeat failures: after a corrective or emergency visit, a repeat
  corrective visit to the same equipment follows within 30 days with probability
  REPEAT_BASE + REPEAT_SPAN * (1 - q); `first_time_fix` is False exactly when one does;
* failures: equipment of low-quality accounts breaks more often (reactive work is
  spread over units with weight FAILURE_WEIGHT[category] * (0.5 + 1.5 * (1 - q)));
* downtime: repairs take longer and preventive visits slip further for low q, and
  today's down/degraded equipment is drawn with probabilities rising with 1 - q;
* surveys: CSAT and NPS rise with q and drop after a breach or a repeat visit.

Renewals (fieldservice.demo.contracts) are decided by the same q, read 90 days before
each contract's end date, plus noise, price (the uplift), tier and auto-renew: the
renewal probability is logistic(1.9 + 5 * (q - 0.5) - 0.4 * (uplift - 4) + ...). No
health score is computed anywhere here. A health score built from the observable
consequences above (breaches, first-time fix, repeats, downtime, surveys) 90 days
before a contract's end should therefore predict whether it was renewed, which is what
the health backtest checks.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from fieldservice.demo.catalog import FAULT_TITLES
from fieldservice.demo.context import EquipmentRec, PlanRec, SeedContext
from fieldservice.demo.workorders import WorkOrderPlan

BREACH_BASE = 0.02
BREACH_SPAN = 0.25
REPEAT_BASE = 0.05
REPEAT_SPAN = 0.35
REPEAT_DAYS = (3, 25)
FIRST_TIME_FIX_DAYS = 30
FAILURE_WEIGHT: dict[str, float] = {
    "cnc": 1.4,
    "compressor": 1.2,
    "chiller": 1.0,
    "cleanroom_hvac": 0.8,
    "smt": 1.5,
    "ups": 0.6,
    "lab_instrument": 1.0,
    "other": 0.9,
}
EMERGENCY_SHARE = 0.06
INSPECTION_SHARE = 0.10
CANCELLED_SHARE = 0.02
# Work after churn: the customer mostly went elsewhere; a few billable calls remain.
AFTER_CHURN_KEEP = 0.15
# History stops a few days before the seeded day; what is newer is today's backlog.
HISTORY_CUTOFF_DAYS = 1
PM_LEAD_DAYS = (2, 5)
PM_SLIP_DAYS = (-3, 2)
PM_LATE_DAYS_AT_ZERO_QUALITY = 10
PM_CREATED_AT = time(2, 0)
INSTALL_LEAD_DAYS = (7, 21)
INSTALL_MINUTES = (240, 480)
REACTIVE_MINUTES = (60, 240)
INSPECTION_MINUTES = 90
MAX_DAY_DRAWS = 5


def breach_probability(q: float) -> float:
    return BREACH_BASE + BREACH_SPAN * (1.0 - q) ** 1.5


def repeat_probability(q: float) -> float:
    return REPEAT_BASE + REPEAT_SPAN * (1.0 - q)


def _alive(ctx: SeedContext, unit: EquipmentRec) -> tuple[date, date] | None:
    first = max(ctx.window_start, unit.install_date + timedelta(days=1))
    last = min(unit.decommissioned_on or ctx.today, ctx.today - timedelta(days=HISTORY_CUTOFF_DAYS))
    return (first, last) if first < last else None


def _next_open_day(unit: EquipmentRec, day: date) -> date:
    while not unit.site.open_on(day):
        day += timedelta(days=1)
    return day


def _preventive(ctx: SeedContext, plan: PlanRec, due: date, visit: date) -> WorkOrderPlan:
    unit = plan.equipment
    created_day = min(due - timedelta(days=ctx.rng.randint(*PM_LEAD_DAYS)), visit - timedelta(days=1))
    created = ctx.at(created_day, PM_CREATED_AT) + timedelta(minutes=ctx.rng.randint(0, 59))
    return WorkOrderPlan(
        kind="preventive" if plan.template else "inspection",
        priority=3 if unit.criticality == 4 else 4,
        unit=unit,
        created_at=created,
        title=plan.name,
        estimated_minutes=plan.minutes,
        plan=plan,
        pm_due_date=due,
        visit_day=visit,
    )


def _plan_dues(ctx: SeedContext, plan: PlanRec) -> list[WorkOrderPlan]:
    """Walk the plan through the window; leaves plan.next_due at the first unserved due date."""
    rng = ctx.rng
    unit = plan.equipment
    span = _alive(ctx, unit)
    orders: list[WorkOrderPlan] = []
    if plan.trigger == "meter":
        assert plan.meter_interval is not None and unit.usage_per_day
        step = timedelta(days=max(1, round(float(plan.meter_interval) / unit.usage_per_day)))
        due = unit.install_date + step
    else:
        assert plan.interval_days and plan.anchor_date
        step = timedelta(days=plan.interval_days)
        due = plan.anchor_date
    if span is None:
        plan.next_due = None if unit.decommissioned_on else max(due, ctx.today)
        return orders
    while due < span[0]:
        due += step
    while due <= span[1]:
        q = unit.account.quality_at(due, ctx.window_start)
        slip = rng.randint(*PM_SLIP_DAYS) + int(PM_LATE_DAYS_AT_ZERO_QUALITY * (1 - q) * rng.random())
        visit = _next_open_day(unit, due + timedelta(days=slip))
        if visit > span[1]:
            break
        orders.append(_preventive(ctx, plan, due, visit))
        due = due + step if plan.schedule == "fixed" else visit + step
    plan.next_due = None if unit.decommissioned_on else due
    return orders


def _installations(ctx: SeedContext) -> list[WorkOrderPlan]:
    rng = ctx.rng
    orders = []
    for unit in ctx.equipment:
        if unit.parent_id is not None or not (
            ctx.window_start < unit.install_date < ctx.today - timedelta(days=7)
        ):
            continue
        created = ctx.at(unit.install_date - timedelta(days=rng.randint(*INSTALL_LEAD_DAYS)), time(10))
        orders.append(
            WorkOrderPlan(
                kind="installation",
                priority=3,
                unit=unit,
                created_at=created + timedelta(minutes=rng.randint(0, 400)),
                title=f"Install and commission {unit.model.manufacturer} {unit.model.model_number}",
                estimated_minutes=rng.randint(*INSTALL_MINUTES),
                visit_day=unit.install_date,
            )
        )
    return orders


def _reactive_priority(ctx: SeedContext, unit: EquipmentRec) -> int:
    weights = {4: (0, 60, 40, 0), 3: (0, 30, 55, 15)}.get(unit.criticality, (0, 10, 55, 35))
    return ctx.rng.choices((1, 2, 3, 4), weights=weights)[0]


def _reactive(ctx: SeedContext, unit: EquipmentRec, created: datetime, kind: str) -> WorkOrderPlan:
    rng = ctx.rng
    category = unit.model.category
    if kind == "emergency":
        priority, title = 1, f"EMERGENCY: {rng.choice(FAULT_TITLES[category])}"
    elif kind == "inspection":
        priority, title = 4, f"Inspection requested: {unit.model.name}"
    else:
        priority, title = _reactive_priority(ctx, unit), rng.choice(FAULT_TITLES[category])
    minutes = INSPECTION_MINUTES if kind == "inspection" else rng.randint(*REACTIVE_MINUTES)
    return WorkOrderPlan(
        kind=kind,
        priority=priority,
        unit=unit,
        created_at=created,
        title=title,
        estimated_minutes=minutes,
        description=f"{unit.model.manufacturer} {unit.model.model_number} S/N {unit.serial}: {title}.",
        status="cancelled" if rng.random() < CANCELLED_SHARE else "closed",
    )


def _random_moment(ctx: SeedContext, unit: EquipmentRec, span: tuple[date, date]) -> datetime | None:
    rng = ctx.rng
    churned = unit.account.churned_on
    for _ in range(MAX_DAY_DRAWS):
        day = span[0] + timedelta(days=rng.randint(0, (span[1] - span[0]).days))
        if churned is None or day <= churned or rng.random() < AFTER_CHURN_KEEP:
            always_open = unit.site.opens == time(0, 0)
            hour = rng.uniform(0, 24) if always_open else rng.uniform(7, 19)
            return ctx.at(day, time(0)) + timedelta(hours=hour)
    return None


def plan_history(ctx: SeedContext) -> list[WorkOrderPlan]:
    rng = ctx.rng
    orders: list[WorkOrderPlan] = []
    for plan in ctx.plans:
        orders += _plan_dues(ctx, plan)
    orders += _installations(ctx)
    alive = [(unit, span) for unit in ctx.equipment if (span := _alive(ctx, unit)) is not None]
    weights = [
        FAILURE_WEIGHT[u.model.category] * (0.5 + 1.5 * (1 - u.account.quality)) * (span[1] - span[0]).days
        for u, span in alive
    ]
    cumulative = list(_accumulate(weights))
    cutoff = ctx.at(ctx.today - timedelta(days=HISTORY_CUTOFF_DAYS), time(0))
    while len(orders) < ctx.scale.history_work_orders and alive:
        unit, span = alive[rng.choices(range(len(alive)), cum_weights=cumulative)[0]]
        created = _random_moment(ctx, unit, span)
        if created is None:
            continue
        draw = rng.random()
        kind = (
            "emergency"
            if draw < EMERGENCY_SHARE
            else "inspection"
            if draw < EMERGENCY_SHARE + INSPECTION_SHARE
            else "corrective"
        )
        order = _reactive(ctx, unit, created, kind)
        orders.append(order)
        q = unit.account.quality_at(created.date(), ctx.window_start)
        if kind != "inspection" and order.status != "cancelled" and rng.random() < repeat_probability(q):
            again = created + timedelta(days=rng.uniform(*REPEAT_DAYS))
            if again < cutoff and (unit.decommissioned_on is None or again.date() < unit.decommissioned_on):
                repeat = _reactive(ctx, unit, again, "corrective")
                repeat.title = f"Repeat: {order.title.removeprefix('EMERGENCY: ')}"
                orders.append(repeat)
    return orders


def _accumulate(values: list[float]) -> list[float]:
    total, out = 0.0, []
    for v in values:
        total += v
        out.append(total)
    return out


def mark_first_time_fix(orders: list[WorkOrderPlan]) -> None:
    """A repair was a first-time fix unless another repair on the unit follows within 30 days."""
    by_unit: dict[int, list[WorkOrderPlan]] = {}
    for wo in orders:
        if wo.kind in ("corrective", "emergency") and wo.completed_at is not None:
            by_unit.setdefault(wo.unit.id, []).append(wo)
    window = timedelta(days=FIRST_TIME_FIX_DAYS)
    for repairs in by_unit.values():
        repairs.sort(key=lambda wo: wo.created_at)
        for i, wo in enumerate(repairs):
            assert wo.completed_at is not None
            horizon = wo.completed_at + window
            wo.first_time_fix = True
            for later in repairs[i + 1 :]:
                if later.created_at > horizon:
                    break
                wo.first_time_fix = False
                break
