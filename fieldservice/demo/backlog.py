"""Today's work as it stands at the seeded instant, and the open backlog.

Each technician gets `Scale.assigned_jobs_per_day` jobs on each of today and tomorrow, on
equipment they are qualified for, at sites open that day, planned inside their 08:00–17:00
shift. Today's are as far along as the seeded instant makes them: scheduled before the
morning dispatch, then dispatched, en route, on site, in progress, completed. Tomorrow's are
scheduled. The other open work orders are `new` and unassigned, for the optimizer:
breakdowns of equipment that is down (a few of them P1 emergencies), degraded equipment,
preventive maintenance due soon, inspections; most of it is work that technicians of the
site's territory can do, and in every territory with technicians some of it can be done
tomorrow. One round-the-clock emergency's response clock ran out two minutes ago, after the
SLA sweep's last run, so the next sweep has a breach to record at any hour.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from fieldservice.demo import sla
from fieldservice.demo.catalog import FAULT_TITLES
from fieldservice.demo.context import EquipmentRec, PlanRec, SeedContext, TechRec
from fieldservice.demo.contracts import contract_covering
from fieldservice.demo.timeline import resolve
from fieldservice.demo.workorders import WorkOrderPlan

# Planned slots inside the shift; a job may last up to MAX_ASSIGNED_MINUTES.
SLOTS = (time(9, 0), time(13, 30), time(11, 0), time(15, 0))
MAX_ASSIGNED_MINUTES = 180
INSPECTION_MINUTES = 90
WINDOW_OPENS = time(8, 0)
WINDOW_CLOSES = time(17, 0)
DISPATCHED_AT = (time(7, 0), 25)  # dispatched between 07:00 and 07:25
# A day's job under way: leaves this long before the planned start, is on site a few minutes
# before it, starts after setting up, and takes about its estimate.
TRAVEL_MINUTES = (20, 40)
EARLY_ARRIVAL_MINUTES = (0, 10)
SETUP_MINUTES = (5, 15)
WORK_FACTOR = (0.8, 1.1)
CLOSE_DELAY_HOURS = (4, 72)
PM_HORIZON_DAYS = 14
PM_WINDOW_DAYS = 7
PM_LEAD_DAYS = 5
EMERGENCY_SHARE = 0.02
MIN_EMERGENCIES = 3
NARROW_WINDOW_SHARE = 0.15
NARROW_WINDOW = (time(13, 0), time(17, 0))
RESPONSE_HOURS = (0.5, 3.0)
RECENT_MINUTES = (3 * 60, 96 * 60)
DOWN_SINCE_MINUTES = (2 * 60, 30 * 60)
EMERGENCY_REPORTED_MINUTES = (20, 100)
# Share of assigned jobs drawn from due preventive work and degraded equipment, when any.
PREFER_DUE_WORK = 0.7
OVERDUE_PM_OPEN_DAYS = 20
# Share of the unassigned backlog that a technician of the site's territory can do.
LOCAL_WORK_SHARE = 0.8
# Unassigned jobs that technicians of each territory can do tomorrow, at sites open then.
DOABLE_TOMORROW_PER_TECHNICIAN = 2
# The round-the-clock emergency whose response clock has just run out (see the docstring).
JUST_BREACHED = timedelta(minutes=2)


def _fits(unit: EquipmentRec, day: date, start: time, minutes: int) -> bool:
    site = unit.site
    end = (datetime.combine(day, start) + timedelta(minutes=minutes)).time()
    return site.open_on(day) and site.opens <= start and end <= site.closes


class Backlog:
    def __init__(self, ctx: SeedContext) -> None:
        self.ctx = ctx
        self.used: set[int] = set()
        self.orders: list[WorkOrderPlan] = []
        self.live = [u for u in ctx.equipment if u.status != "decommissioned"]
        self.due_work: set[int] | None = None
        self.qualified_cache: dict[tuple[int, bool], list[EquipmentRec]] = {}
        self.progress_rng = random.Random(ctx.seed * 7_919 + 1)
        self.by_skill: dict[str, list[EquipmentRec]] = {}
        self.by_territory_skill: dict[tuple[int, str], list[EquipmentRec]] = {}
        for unit in self.live:
            self.by_skill.setdefault(unit.model.skill, []).append(unit)
            self.by_territory_skill.setdefault((unit.site.territory_id, unit.model.skill), []).append(unit)

    def _finish(self, wo: WorkOrderPlan) -> WorkOrderPlan:
        unit = wo.unit
        wo.contract = contract_covering(unit, wo.created_at.date())
        calendar = wo.contract.calendar if wo.contract else "business_hours"
        response_h, resolution_h = (wo.contract.terms if wo.contract else sla.DEFAULT_TERMS)[wo.priority]
        wo.sla_response_due = sla.due(wo.created_at, response_h, calendar)
        wo.sla_resolution_due = sla.due(wo.created_at, resolution_h, calendar)
        wo.created_by = None if wo.plan else self.ctx.users["dispatcher"]
        wo.quality = unit.account.quality_at(self.ctx.today, self.ctx.window_start)
        wo.status = "new" if wo.technician is None else wo.status
        self.used.add(unit.id)
        self.orders.append(wo)
        return wo

    def _due_plan(self, unit: EquipmentRec, horizon: date) -> PlanRec | None:
        for plan in unit.plans:
            if plan.active and plan.next_due is not None and plan.next_due <= horizon:
                return plan
        return None

    def _job(self, unit: EquipmentRec, created: datetime, horizon: date, allow_long: bool) -> WorkOrderPlan:
        rng = self.ctx.rng
        plan = self._due_plan(unit, horizon)
        if plan is not None and (allow_long or plan.minutes <= MAX_ASSIGNED_MINUTES):
            assert plan.next_due is not None
            return WorkOrderPlan(
                kind="preventive" if plan.template else "inspection",
                priority=4,
                unit=unit,
                created_at=self._pm_created(plan.next_due, created) if allow_long else created,
                title=plan.name,
                estimated_minutes=plan.minutes,
                plan=plan,
                pm_due_date=plan.next_due,
            )
        if unit.status == "degraded":
            return WorkOrderPlan(
                kind="corrective",
                priority=3,
                unit=unit,
                created_at=created,
                title=rng.choice(FAULT_TITLES[unit.model.category]),
                estimated_minutes=rng.choice((60, 90, 120)),
            )
        return self._inspection(unit, created)

    def _inspection(self, unit: EquipmentRec, created: datetime) -> WorkOrderPlan:
        return WorkOrderPlan(
            kind="inspection",
            priority=4,
            unit=unit,
            created_at=created,
            title=f"Inspection: {unit.model.name}",
            estimated_minutes=INSPECTION_MINUTES,
        )

    def _pm_created(self, due: date, created: datetime) -> datetime:
        """Generated a few days before it was due, but an overdue PM is not months old."""
        generated = self.ctx.at(due - timedelta(days=PM_LEAD_DAYS), time(2))
        return max(min(created, generated), self.ctx.now - timedelta(days=OVERDUE_PM_OPEN_DAYS))

    def _qualified(self, tech: TechRec, local: bool) -> list[EquipmentRec]:
        key = (tech.id, local)
        if key not in self.qualified_cache:
            self.qualified_cache[key] = self._find_qualified(tech, local)
        return self.qualified_cache[key]

    def _find_qualified(self, tech: TechRec, local: bool) -> list[EquipmentRec]:
        units = [
            u
            for code, level in sorted(tech.skills.items())
            for u in (
                self.by_territory_skill.get((tech.territory_id, code), [])
                if local
                else self.by_skill.get(code, [])
            )
            if u.model.level <= level
        ]
        return sorted(units, key=lambda u: u.id)

    def _candidates(self, tech: TechRec, day: date, start: time, local: bool) -> list[EquipmentRec]:
        return [
            u
            for u in self._qualified(tech, local)
            if u.id not in self.used and u.status != "down" and _fits(u, day, start, MAX_ASSIGNED_MINUTES)
        ]

    def assign(self, tech: TechRec) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        pm_horizon = ctx.today + timedelta(days=PM_HORIZON_DAYS)
        if self.due_work is None:
            self.due_work = {
                u.id for u in self.live if u.status == "degraded" or self._due_plan(u, pm_horizon)
            }
        for offset in (0, 1):
            day = ctx.today + timedelta(days=offset)
            for start in SLOTS[: ctx.scale.assigned_jobs_per_day]:
                pool = self._candidates(tech, day, start, local=True) or self._candidates(
                    tech, day, start, local=False
                )
                reuse = False
                if not pool:  # tiny scales on a weekend: keep skills, relax the site's weekdays
                    pool = [u for u in self._qualified(tech, local=False) if u.id not in self.used]
                if not pool:  # tiny scales: a second open job on a unit, as an inspection
                    pool, reuse = self._qualified(tech, local=False), True
                wanted = [u for u in pool if u.id in self.due_work]
                unit = rng.choice(wanted if wanted and rng.random() < PREFER_DUE_WORK else pool)
                created = ctx.at(ctx.today - timedelta(days=1), time(9)) + timedelta(
                    minutes=rng.randint(0, 480)
                )
                if self._due_plan(unit, pm_horizon):
                    created = ctx.at(ctx.today - timedelta(days=2), time(2)) + timedelta(
                        minutes=rng.randint(0, 59)
                    )
                if reuse:
                    wo = self._inspection(unit, created)
                else:
                    wo = self._job(unit, created, pm_horizon, allow_long=False)
                wo.priority = max(wo.priority, 3)
                wo.technician, wo.status = tech, "scheduled"
                # Taken by the dispatcher; nobody is on site yet, so nothing has responded.
                wo.scheduled_at = created + timedelta(hours=rng.uniform(*RESPONSE_HOURS))
                wo.planned_start = ctx.at(day, start)
                wo.planned_end = wo.planned_start + timedelta(minutes=wo.estimated_minutes)
                wo.earliest_start, wo.latest_end = ctx.at(day, WINDOW_OPENS), ctx.at(day, WINDOW_CLOSES)
                if offset == 0:
                    self._progress_today(wo)
                self._finish(wo)

    def _progress_today(self, wo: WorkOrderPlan) -> None:
        """Today's job as far along as the seeded instant: dispatched in the morning, then
        driven to, worked and completed around its planned start. Its times come from a
        random source of its own, drawn in full whatever the hour, so that the rest of the
        world does not depend on how far the day has got."""
        ctx, rng = self.ctx, self.progress_rng
        assert wo.planned_start is not None
        dispatched = ctx.at(ctx.today, DISPATCHED_AT[0]) + timedelta(minutes=rng.randint(0, DISPATCHED_AT[1]))
        en_route = wo.planned_start - timedelta(minutes=rng.randint(*TRAVEL_MINUTES))
        arrived = wo.planned_start - timedelta(minutes=rng.randint(*EARLY_ARRIVAL_MINUTES))
        started = arrived + timedelta(minutes=rng.randint(*SETUP_MINUTES))
        completed = started + timedelta(minutes=round(wo.estimated_minutes * rng.uniform(*WORK_FACTOR)))
        closed = completed + timedelta(hours=rng.uniform(*CLOSE_DELAY_HOURS))
        resolution_draw = rng.random()
        steps = (
            ("dispatched", dispatched),
            ("en_route", en_route),
            ("on_site", arrived),
            ("in_progress", started),
            ("completed", completed),
            ("closed", closed),
        )
        for status, at in steps:
            if at > ctx.now:
                break
            wo.status = status
        if wo.status == "scheduled":
            return
        wo.dispatched_at = dispatched
        if wo.status != "dispatched":
            wo.en_route_at = en_route
        if wo.status not in ("dispatched", "en_route"):
            wo.arrived_at = wo.responded_at = arrived
        if wo.status in ("in_progress", "completed", "closed"):
            wo.actual_start = started
        if wo.status in ("completed", "closed"):
            wo.actual_end = wo.completed_at = completed
            wo.first_time_fix = True if wo.kind in ("corrective", "emergency") else None
            resolve(ctx, wo, draw=resolution_draw)
        if wo.status == "closed":
            wo.closed_at = closed

    def unassigned(self, count: int) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        target = len(self.orders) + count
        self._just_breached()
        down = [u for u in self.live if u.status == "down" and u.id not in self.used]
        emergencies_left = max(MIN_EMERGENCIES, round(count * EMERGENCY_SHARE))
        for unit in down:  # equipment that is down has an open breakdown, whatever the target
            emergency = unit.criticality == 4 and emergencies_left > 0
            emergencies_left -= emergency
            if emergency:
                created = ctx.now - timedelta(minutes=rng.randint(*EMERGENCY_REPORTED_MINUTES))
            else:
                created = ctx.now - timedelta(minutes=rng.randint(*DOWN_SINCE_MINUTES))
            self._window(self._finish(self._breakdown(unit, created, emergency)))
        horizon = ctx.today + timedelta(days=PM_HORIZON_DAYS)
        self._doable_tomorrow(horizon)
        due_or_degraded = [
            u
            for u in self.live
            if u.id not in self.used and (u.status == "degraded" or self._due_plan(u, horizon))
        ]
        rng.shuffle(due_or_degraded)
        for unit in self._mostly_local(due_or_degraded, max(0, target - len(self.orders))):
            self._window(self._finish(self._job(unit, self._recently(), horizon, allow_long=True)))
        others = [u for u in self.live if u.id not in self.used]
        rng.shuffle(others)
        for unit in self._mostly_local(others, max(0, target - len(self.orders))):
            self._window(self._finish(self._job(unit, self._recently(), horizon, allow_long=True)))

    def _breakdown(self, unit: EquipmentRec, created: datetime, emergency: bool) -> WorkOrderPlan:
        category = unit.model.category
        return WorkOrderPlan(
            kind="emergency" if emergency else "corrective",
            priority=1 if emergency else 2,
            unit=unit,
            created_at=created,
            title=("EMERGENCY: " if emergency else "") + self.ctx.rng.choice(FAULT_TITLES[category]),
            estimated_minutes=self.ctx.rng.choice((90, 120, 180)),
            description=f"{unit.model.manufacturer} {unit.model.model_number} S/N {unit.serial} is down.",
        )

    def _serviceable_locally(self, unit: EquipmentRec) -> bool:
        return any(
            tech.territory_id == unit.site.territory_id
            and tech.skills.get(unit.model.skill, 0) >= unit.model.level
            for tech in self.ctx.technicians
        )

    def _mostly_local(self, units: list[EquipmentRec], count: int) -> list[EquipmentRec]:
        """`count` of `units` (in their order), LOCAL_WORK_SHARE of them serviceable by a
        technician of their own territory when there are enough."""
        local = [u for u in units if self._serviceable_locally(u)]
        distant = [u for u in units if not self._serviceable_locally(u)]
        wanted_distant = min(len(distant), count - min(len(local), round(count * LOCAL_WORK_SHARE)))
        chosen = local[: count - wanted_distant] + distant[:wanted_distant]
        return sorted(chosen, key=units.index)

    def _doable_tomorrow(self, horizon: date) -> None:
        """In every territory with technicians, unassigned work they can do tomorrow at sites
        open then, so that a run for tomorrow has something to place whatever the weekday."""
        ctx, rng = self.ctx, self.ctx.rng
        tomorrow = ctx.today + timedelta(days=1)
        crews: dict[int, list[TechRec]] = {}
        for tech in ctx.technicians:
            crews.setdefault(tech.territory_id, []).append(tech)
        for territory_id, crew in sorted(crews.items()):
            doable = [
                u
                for u in self.live
                if u.id not in self.used
                and u.status != "down"
                and u.site.territory_id == territory_id
                and u.site.open_on(tomorrow)
                and any(t.skills.get(u.model.skill, 0) >= u.model.level for t in crew)
            ]
            for unit in rng.sample(doable, min(len(doable), DOABLE_TOMORROW_PER_TECHNICIAN * len(crew))):
                wo = self._finish(self._job(unit, self._recently(), horizon, allow_long=False))
                self._window(wo)
                # Its window takes in tomorrow (a narrow window may be tomorrow afternoon).
                assert wo.earliest_start is not None and wo.latest_end is not None
                wo.latest_end = max(wo.latest_end, ctx.at(tomorrow, WINDOW_CLOSES))

    def _just_breached(self) -> None:
        """A P1 on the round-the-clock anchor's equipment, reported so that its response
        clock ran out JUST_BREACHED ago with nobody on site (fieldservice.demo.lifecycle leaves
        breaches since the sweep's last run unrecorded)."""
        ctx = self.ctx
        covered = [
            u
            for u in self.live
            if u.account.keeps_contract and (c := contract_covering(u, ctx.today)) and c.calendar == "24x7"
        ]
        if not covered:
            return
        unit = next((u for u in covered if u.id not in self.used), covered[0])
        contract = contract_covering(unit, ctx.today)
        assert contract is not None
        response_hours = contract.terms[1][0]
        created = ctx.now - JUST_BREACHED - timedelta(hours=float(response_hours))
        wo = self._finish(self._breakdown(unit, created, emergency=True))
        self._window(wo)

    def _recently(self) -> datetime:
        return self.ctx.now - timedelta(minutes=self.ctx.rng.randint(*RECENT_MINUTES))

    def _window(self, wo: WorkOrderPlan) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        assert wo.sla_resolution_due is not None
        if wo.priority == 1:
            wo.earliest_start, wo.latest_end = wo.created_at, wo.sla_resolution_due
            return
        tomorrow = ctx.today + timedelta(days=1)
        if rng.random() < NARROW_WINDOW_SHARE and wo.unit.site.open_on(tomorrow):
            wo.earliest_start, wo.latest_end = (ctx.at(tomorrow, t) for t in NARROW_WINDOW)
            return
        wo.earliest_start = ctx.at(ctx.today, WINDOW_OPENS)
        latest = ctx.at(ctx.today + timedelta(days=PM_WINDOW_DAYS), WINDOW_CLOSES)
        if wo.pm_due_date is not None:
            latest = max(latest, ctx.at(wo.pm_due_date + timedelta(days=PM_WINDOW_DAYS), WINDOW_CLOSES))
        elif wo.sla_resolution_due > wo.earliest_start:
            latest = max(wo.sla_resolution_due, ctx.at(tomorrow, WINDOW_CLOSES))
        wo.latest_end = latest


def plan_backlog(ctx: SeedContext) -> list[WorkOrderPlan]:
    backlog = Backlog(ctx)
    for tech in ctx.technicians:
        backlog.assign(tech)
    backlog.unassigned(max(0, ctx.scale.open_work_orders - len(backlog.orders)))
    return backlog.orders
