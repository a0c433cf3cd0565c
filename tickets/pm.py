"""Preventive maintenance: turn maintenance plans into work orders as they fall due.

`pm_generate` is run daily (Celery beat, `tickets.tasks.preventive_work_orders_generate`)
and by hand (`manage.py generate_pm`). It creates a work order for every due date that
falls within [today, today + horizon] and has none yet. How a plan's due dates are found:

* Calendar, fixed: anchor + k·N days. We create the occurrences from the current cycle
  up to the horizon. We never backfill a cycle older than the current one: a missed
  occurrence from an earlier cycle is gone. The current cycle's occurrence (the latest
  one on or before today) is created as *overdue* if it has no work order, unless the
  next occurrence already falls within the horizon. Then the missed one is
  *superseded* and reported, so nobody is sent twice within a few days for the same
  service.
* Calendar, floating: the local date of the plan's last completion (the latest
  `completed_at` of its completed or closed work orders), or the anchor if it was never
  done, + N days. One due date at a time. If it is in the past, it is created overdue.
* Meter: target = baseline + interval, where the baseline is the meter value at the
  plan's last completed PM (the last reading taken at or before that completion). If the
  plan was never done, it is the reading at the anchor date (the last one on or before
  it, else the first one after it). Failing both it is 0. The due date is projected
  from the last reading (v_last at t_last): t_last's local date +
  ceil((target − v_last) / usage). Usage is the slope between the first and last reading
  in the PM_USAGE_WINDOW_DAYS before t_last. If the window holds only one reading, it
  falls back to Equipment.average_daily_usage. If the target is already passed, the
  plan is due on t_last's date whatever the usage. Otherwise, unknown or zero usage
  means no projection, and the plan is skipped with the reason "no usage data".

Floating and meter due dates move as completions and readings come in, so those plans
get a new work order only while they have no open one. Otherwise every shift in the
projection would create another.

A work order is created only for equipment that is not decommissioned and that an active
contract covers on the day the work can first be done: the due date, or today for an
overdue one. Idempotency lives in the database: the unique constraint
`work_order_one_per_plan_due_date`. Pairs that already have a work order are filtered
out first, and a concurrent run that wins the race is caught per work order.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from assets.models import Equipment, MaintenancePlan, MeterReading
from contracts.models import Priority
from contracts.selectors import equipment_coverage_periods
from fieldservice import clock
from tickets.creation import work_order_create
from tickets.models import WorkOrder

PLAN_DUE_DATE_CONSTRAINT = "work_order_one_per_plan_due_date"
# The visit window: from the start of this many days before the due date (the technician
# may come a little early) ...
PM_WINDOW_DAYS_BEFORE_DUE = 3
# ... to the end of this many days after it (or after today, for work already overdue),
# in the site's time zone.
PM_WINDOW_GRACE_DAYS = 7


class PlanKind(StrEnum):
    CALENDAR_FIXED = "calendar (fixed)"
    CALENDAR_FLOATING = "calendar (floating)"
    METER = "meter"


class SkipReason(StrEnum):
    DECOMMISSIONED = "decommissioned"
    NOT_COVERED = "not covered by an active contract"
    NO_USAGE_DATA = "no usage data"
    SUPERSEDED = "missed, superseded by the next due date"


@dataclass(frozen=True)
class PmSkip:
    plan: MaintenancePlan
    reason: SkipReason
    due: dt.date | None = None
    detail: str = ""


@dataclass
class PmRun:
    """What one run did: the work orders it created and the plans it left out, and why."""

    today: dt.date
    horizon_end: dt.date
    created: list[WorkOrder] = field(default_factory=list)
    skipped: list[PmSkip] = field(default_factory=list)
    # Due dates that already had a work order (an earlier run), or plans that still have
    # an open one (floating and meter plans).
    already_generated: int = 0

    def created_by_kind(self) -> Counter[PlanKind]:
        return Counter(plan_kind(wo.maintenance_plan) for wo in self.created if wo.maintenance_plan)

    def skipped_by_reason(self) -> Counter[SkipReason]:
        return Counter(skip.reason for skip in self.skipped)


@dataclass(frozen=True)
class _Candidate:
    plan: MaintenancePlan
    due: dt.date


def plan_kind(plan: MaintenancePlan) -> PlanKind:
    if plan.trigger == MaintenancePlan.Trigger.METER:
        return PlanKind.METER
    if plan.schedule == MaintenancePlan.Schedule.FLOATING:
        return PlanKind.CALENDAR_FLOATING
    return PlanKind.CALENDAR_FIXED


def pm_generate(*, today: dt.date | None = None, horizon_days: int | None = None) -> list[WorkOrder]:
    """Create the preventive work orders due within the horizon. Returns those created."""
    return pm_run(today=today, horizon_days=horizon_days).created


def pm_run(*, today: dt.date | None = None, horizon_days: int | None = None) -> PmRun:
    """`pm_generate` with the full account of what was skipped (for the command's summary).

    Not one transaction: each work order commits on its own (a savepoint when the caller
    holds a transaction). A failure half-way keeps what was done, and a concurrent run is
    never blocked behind a long transaction.
    """
    today = today or clock.today()
    horizon_days = settings.PM_HORIZON_DAYS if horizon_days is None else horizon_days
    run = PmRun(today=today, horizon_end=today + dt.timedelta(days=horizon_days))

    candidates: list[_Candidate] = []
    superseded: list[_Candidate] = []
    for plan in _plans():
        if plan.equipment.status == Equipment.Status.DECOMMISSIONED:
            run.skipped.append(PmSkip(plan, SkipReason.DECOMMISSIONED))
            continue
        if (
            plan.trigger == MaintenancePlan.Trigger.CALENDAR
            and plan.schedule == MaintenancePlan.Schedule.FIXED
        ):
            dues, missed = _fixed_candidates(plan, run)
            candidates += dues
            superseded += [missed] if missed else []
            continue
        if getattr(plan, "has_open_pm", False):
            run.already_generated += 1
            continue
        due = (
            _floating_due(plan) if plan.trigger == MaintenancePlan.Trigger.CALENDAR else _meter_due(plan, run)
        )
        if due is not None and due <= run.horizon_end:
            candidates.append(_Candidate(plan, due))

    existing = _existing_pairs([*candidates, *superseded])
    for missed in superseded:
        if (missed.plan.pk, missed.due) not in existing:
            run.skipped.append(PmSkip(missed.plan, SkipReason.SUPERSEDED, missed.due))
    run.already_generated += sum((c.plan.pk, c.due) in existing for c in candidates)
    candidates = [c for c in candidates if (c.plan.pk, c.due) not in existing]

    coverage = equipment_coverage_periods(
        equipment_ids={c.plan.equipment_id for c in candidates},
        days=[_work_day(c, today) for c in candidates],
    )
    for candidate in candidates:
        work_day = _work_day(candidate, today)
        if not _covered(coverage.get(candidate.plan.equipment_id, ()), work_day):
            run.skipped.append(
                PmSkip(candidate.plan, SkipReason.NOT_COVERED, candidate.due, f"on {work_day.isoformat()}")
            )
            continue
        work_order = _create(candidate, today=today)
        if work_order is None:
            run.already_generated += 1
        else:
            run.created.append(work_order)
    return run


# --- reading the plans -------------------------------------------------------------------------


def _plans() -> QuerySet[MaintenancePlan]:
    """Active plans with everything needed to date them, in one query.

    Correlated subqueries, one row per plan: last completion, whether an open PM exists,
    and for meter plans the last reading, the first reading in the usage window and the
    baseline readings. All of them use meter_reading_latest_idx and work_order_equipment_idx.
    """
    completions = WorkOrder.objects.filter(
        maintenance_plan=OuterRef("pk"), status__in=WorkOrder.DONE_STATUSES, completed_at__isnull=False
    ).order_by("-completed_at")
    open_pm = WorkOrder.objects.filter(maintenance_plan=OuterRef("pk"), status__in=WorkOrder.OPEN_STATUSES)

    def readings(**conditions: Any) -> QuerySet[MeterReading]:
        return MeterReading.objects.filter(
            equipment=OuterRef("equipment_id"), kind=OuterRef("meter_kind"), **conditions
        )

    latest = readings().order_by("-read_at")
    window_start = OuterRef("last_reading_at") - dt.timedelta(days=settings.PM_USAGE_WINDOW_DAYS)
    in_window = readings(read_at__gte=window_start).order_by("read_at")
    at_last_pm = readings(read_at__lte=OuterRef("last_completed_at")).order_by("-read_at")
    # __date is the reading's date in the project's time zone; close enough for a baseline.
    before_anchor = readings(read_at__date__lte=OuterRef("anchor_date")).order_by("-read_at")
    after_anchor = readings(read_at__date__gt=OuterRef("anchor_date")).order_by("read_at")
    return (
        MaintenancePlan.objects.filter(active=True)
        .select_related("equipment__site", "equipment__equipment_model", "checklist_template")
        .annotate(
            last_completed_at=Subquery(completions.values("completed_at")[:1]),
            has_open_pm=Exists(open_pm),
            last_reading_value=Subquery(latest.values("value")[:1]),
            last_reading_at=Subquery(latest.values("read_at")[:1]),
            window_first_value=Subquery(in_window.values("value")[:1]),
            window_first_at=Subquery(in_window.values("read_at")[:1]),
            last_pm_reading_value=Subquery(at_last_pm.values("value")[:1]),
            anchor_reading_before=Subquery(before_anchor.values("value")[:1]),
            anchor_reading_after=Subquery(after_anchor.values("value")[:1]),
        )
        .order_by("pk")
    )


# --- due dates --------------------------------------------------------------------------------


def _fixed_candidates(plan: MaintenancePlan, run: PmRun) -> tuple[list[_Candidate], _Candidate | None]:
    """The occurrences to create, and the current cycle's missed one if the next supersedes it."""
    assert plan.anchor_date is not None and plan.interval_days  # plan_calendar_needs_interval_and_anchor
    interval = dt.timedelta(days=plan.interval_days)
    missed = None
    if run.today <= plan.anchor_date:
        due = plan.anchor_date
    else:
        cycles = (run.today - plan.anchor_date).days // plan.interval_days
        due = plan.anchor_date + cycles * interval  # the current cycle's: on or before today
        if due < run.today and due + interval <= run.horizon_end:
            missed = _Candidate(plan, due)
            due += interval
    dues = []
    while due <= run.horizon_end:
        dues.append(_Candidate(plan, due))
        due += interval
    return dues, missed


def _floating_due(plan: MaintenancePlan) -> dt.date:
    assert plan.anchor_date is not None and plan.interval_days  # plan_calendar_needs_interval_and_anchor
    last_completed_at: dt.datetime | None = getattr(plan, "last_completed_at", None)
    base = _local_date(last_completed_at, plan) if last_completed_at else plan.anchor_date
    return base + dt.timedelta(days=plan.interval_days)


def _meter_due(plan: MaintenancePlan, run: PmRun) -> dt.date | None:
    """The projected due date, or None (with a skip recorded) when it cannot be projected."""
    assert plan.meter_interval is not None  # plan_meter_needs_kind_and_interval
    last_value: Decimal | None = getattr(plan, "last_reading_value", None)
    last_at: dt.datetime | None = getattr(plan, "last_reading_at", None)
    if last_value is None or last_at is None:
        run.skipped.append(PmSkip(plan, SkipReason.NO_USAGE_DATA, detail=f"no {plan.meter_kind} readings"))
        return None
    baseline = next(
        (
            value
            for value in (
                getattr(plan, "last_pm_reading_value", None),
                getattr(plan, "anchor_reading_before", None),
                getattr(plan, "anchor_reading_after", None),
            )
            if value is not None
        ),
        Decimal(0),
    )
    remaining = baseline + plan.meter_interval - last_value
    last_day = _local_date(last_at, plan)
    if remaining <= 0:
        return last_day  # already past the target when last read
    usage = _daily_usage(plan, last_value=last_value, last_at=last_at)
    if usage is None or usage <= 0:
        run.skipped.append(
            PmSkip(
                plan, SkipReason.NO_USAGE_DATA, detail=f"{remaining} {plan.meter_kind} to go, usage unknown"
            )
        )
        return None
    days = math.ceil(remaining / usage)
    if days > (run.horizon_end - last_day).days:
        return None  # beyond the horizon; also keeps a tiny usage from overflowing the date
    return last_day + dt.timedelta(days=days)


def _daily_usage(plan: MaintenancePlan, *, last_value: Decimal, last_at: dt.datetime) -> Decimal | None:
    first_value: Decimal | None = getattr(plan, "window_first_value", None)
    first_at: dt.datetime | None = getattr(plan, "window_first_at", None)
    if first_value is not None and first_at is not None and first_at < last_at:
        elapsed_days = Decimal((last_at - first_at).total_seconds()) / Decimal(86400)
        return (last_value - first_value) / elapsed_days
    return plan.equipment.average_daily_usage


def _local_date(moment: dt.datetime, plan: MaintenancePlan) -> dt.date:
    return moment.astimezone(ZoneInfo(plan.equipment.site.time_zone)).date()


def _work_day(candidate: _Candidate, today: dt.date) -> dt.date:
    """The first day the work can be done: the due date, or today for overdue work."""
    return max(candidate.due, today)


# --- idempotency and coverage --------------------------------------------------------------------


def _existing_pairs(candidates: Iterable[_Candidate]) -> set[tuple[int, dt.date]]:
    candidates = list(candidates)
    if not candidates:
        return set()
    rows = WorkOrder.objects.filter(
        maintenance_plan_id__in={c.plan.pk for c in candidates},
        pm_due_date__in={c.due for c in candidates},
    ).values_list("maintenance_plan_id", "pm_due_date")
    return {(plan_id, due) for plan_id, due in rows if plan_id is not None and due is not None}


def _covered(periods: Iterable[tuple[dt.date, dt.date]], day: dt.date) -> bool:
    return any(start <= day <= end for start, end in periods)


# --- creation -----------------------------------------------------------------------------------


def _create(candidate: _Candidate, *, today: dt.date) -> WorkOrder | None:
    """Create one work order; None when a concurrent run created it first."""
    plan, due = candidate.plan, candidate.due
    equipment = plan.equipment
    site_zone = ZoneInfo(equipment.site.time_zone)
    earliest_day = due - dt.timedelta(days=PM_WINDOW_DAYS_BEFORE_DUE)
    # The end of the grace day is the start of the day after it.
    latest_day = max(due, today) + dt.timedelta(days=PM_WINDOW_GRACE_DAYS + 1)
    critical = equipment.criticality == Equipment.Criticality.CRITICAL
    try:
        # The savepoint keeps a lost race from breaking the caller's transaction.
        with transaction.atomic():
            return work_order_create(
                site=equipment.site,
                equipment=equipment,
                kind=WorkOrder.Kind.PREVENTIVE,
                priority=Priority.P3 if critical else Priority.P4,
                title=plan.name,
                by=None,
                maintenance_plan=plan,
                pm_due_date=due,
                required_skills={plan.required_skill: plan.required_skill_level},
                estimated_minutes=plan.estimated_minutes,
                earliest_start=dt.datetime.combine(earliest_day, dt.time.min, tzinfo=site_zone),
                latest_end=dt.datetime.combine(latest_day, dt.time.min, tzinfo=site_zone),
                checklist=plan.checklist_template.items if plan.checklist_template else (),
            )
    except IntegrityError as error:
        # Race: another run inserted this (plan, due date) after we looked. Its insert
        # made ours wait, then fail on the constraint. Anything else is a real error.
        if _constraint_name(error) != PLAN_DUE_DATE_CONSTRAINT:
            raise
        return None


def _constraint_name(error: IntegrityError) -> str | None:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None)
