"""The solver's input, built from the database; the solver itself knows nothing of Django.

Times become integer minutes from local midnight of the horizon's first day (in the
company's TIME_ZONE); ids become strings. `ProblemContext` keeps what is needed to turn
the solver's answer back into rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from contracts.models import URGENT_MAX_PRIORITY
from fieldservice import clock
from scheduling.models import Absence, PreferredTechnician, ScheduleRun, Shift, Technician, Territory
from scheduling.solver import model as solver
from tickets.models import WorkOrder

Status = WorkOrder.Status
MINUTE = dt.timedelta(minutes=1)
# Jobs the optimizer may place or move; dispatched jobs stay with their technician (the
# technician has them on the phone already).
PLANNABLE = (Status.NEW, Status.SCHEDULED)
PINNED = (Status.DISPATCHED,)
# Jobs under way: they are not planned, but they occupy today.
UNDER_WAY = (Status.EN_ROUTE, Status.ON_SITE, Status.IN_PROGRESS, Status.ON_HOLD)


@dataclass
class ProblemContext:
    origin: dt.datetime
    days: int
    work_orders: dict[str, WorkOrder] = field(default_factory=dict)
    technicians: dict[str, Technician] = field(default_factory=dict)

    def minutes(self, moment: dt.datetime) -> int:
        return int((moment - self.origin) // MINUTE)

    def moment(self, minutes: int) -> dt.datetime:
        return self.origin + dt.timedelta(minutes=minutes)

    @property
    def horizon_end(self) -> dt.datetime:
        return self.origin + dt.timedelta(days=self.days)


def horizon_origin(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.TIME_ZONE))


def travel_settings() -> solver.TravelSettings:
    return solver.TravelSettings(
        kind="great_circle",
        detour_factor=settings.SCHEDULING_DETOUR_FACTOR,
        speed_kmh=settings.SCHEDULING_SPEED_KMH,
    )


def _lunch() -> solver.Break:
    def minute_of_day(clock: str) -> int:
        parsed = dt.time.fromisoformat(clock)
        return parsed.hour * 60 + parsed.minute

    return solver.Break(
        minute_of_day(settings.SCHEDULING_LUNCH_EARLIEST),
        minute_of_day(settings.SCHEDULING_LUNCH_LATEST),
        settings.SCHEDULING_LUNCH_MINUTES,
    )


def _in_territory(rows: QuerySet[WorkOrder], territory: Territory | None) -> QuerySet[WorkOrder]:
    return rows if territory is None else rows.filter(site__location__intersects=territory.boundary)


def plannable_work_orders(*, context: ProblemContext, territory: Territory | None) -> QuerySet[WorkOrder]:
    """Open work the run may place: unassigned work whose window reaches the horizon, and
    scheduled or dispatched work planned inside it."""
    start, end = context.origin, context.horizon_end
    window_reaches = (Q(earliest_start__isnull=True) | Q(earliest_start__lt=end)) & (
        Q(latest_end__isnull=True) | Q(latest_end__gt=start)
    )
    planned_inside = Q(planned_start__gte=start, planned_start__lt=end)
    rows = WorkOrder.objects.filter(
        (Q(status=Status.NEW) & window_reaches) | (Q(status__in=(Status.SCHEDULED, *PINNED)) & planned_inside)
    )
    return _in_territory(rows, territory).select_related("site", "assigned_technician").order_by("pk")


def _job_windows(work_order: WorkOrder, context: ProblemContext) -> tuple[solver.TimeWindow, ...]:
    """The work order's own window intersected with the site's access hours, day by day."""
    site = work_order.site
    zone = ZoneInfo(site.time_zone)
    windows = []
    first_day = context.origin.astimezone(zone).date()
    for offset in range(context.days + 1):
        day = first_day + dt.timedelta(days=offset)
        if day.weekday() not in site.access_weekdays:
            continue
        opens = dt.datetime.combine(day, site.access_opens, tzinfo=zone)
        closes = dt.datetime.combine(day, site.access_closes, tzinfo=zone)
        if work_order.earliest_start:
            opens = max(opens, work_order.earliest_start)
        if work_order.latest_end:
            closes = min(closes, work_order.latest_end)
        opens, closes = max(opens, context.origin), min(closes, context.horizon_end)
        if closes - opens >= work_order.estimated_minutes * MINUTE:
            windows.append(solver.TimeWindow(context.minutes(opens), context.minutes(closes)))
    return tuple(windows)


def _shifts(
    shifts: list[Shift],
    absences: list[Absence],
    context: ProblemContext,
    now: dt.datetime,
    position: tuple[dt.date, solver.Location] | None,
) -> tuple[solver.Shift, ...]:
    """Shifts in the horizon less absences (the longer remaining piece) and less the past.

    `position` is the technician's live position and the local day it was seen: the shift of
    that day starts there; any other day starts from the technician's usual start (home).
    """
    result = []
    for shift in sorted(shifts, key=lambda s: s.starts_at):
        # A night shift from the day before the horizon counts from the horizon's start.
        start, end = max(shift.starts_at, now, context.origin), shift.ends_at
        for absence in absences:
            if absence.starts_at < end and absence.ends_at > start:
                before = (start, min(end, absence.starts_at))
                after = (max(start, absence.ends_at), end)
                start, end = max((before, after), key=lambda piece: piece[1] - piece[0])
        if end > start:
            starts_from = position[1] if position is not None and position[0] == shift.date else None
            result.append(solver.Shift(context.minutes(start), context.minutes(end), starts_from))
    return tuple(result)


def build_problem(
    *, first_day: dt.date, days: int, territory: Territory | None, now: dt.datetime | None = None
) -> tuple[solver.Problem, ProblemContext]:
    now = now or clock.now()
    context = ProblemContext(origin=horizon_origin(first_day), days=days)
    end = context.horizon_end

    technicians = (
        Technician.objects.filter(active=True).select_related("user").prefetch_related("skill_levels__skill")
    )
    if territory is not None:
        technicians = technicians.filter(territory=territory)
    shifts: dict[int, list[Shift]] = defaultdict(list)
    for shift in Shift.objects.filter(
        technician__in=technicians, starts_at__lt=end, ends_at__gt=context.origin
    ):
        shifts[shift.technician_id].append(shift)
    absences: dict[int, list[Absence]] = defaultdict(list)
    for absence in Absence.objects.filter(
        technician__in=technicians, starts_at__lt=end, ends_at__gt=context.origin
    ):
        absences[absence.technician_id].append(absence)
    # Today's work under way keeps a technician busy until its planned end.
    busy_until: dict[int, dt.datetime] = {}
    under_way = WorkOrder.objects.filter(
        status__in=UNDER_WAY, planned_end__gt=now, assigned_technician__isnull=False
    ).values_list("assigned_technician_id", "planned_end")
    for user_id, planned_end in under_way:
        if user_id is not None and planned_end is not None:
            busy_until[user_id] = max(busy_until.get(user_id, planned_end), planned_end)

    # Every active technician of the territory is in the problem, with no shift when none is
    # left in the horizon: the solver then knows the skill exists and can say that the time
    # is missing (no_shift_time) rather than the skill (no_skilled_technician).
    solver_technicians = []
    today = timezone.localdate(now)
    for tech in technicians:
        available_from = max(now, busy_until.get(tech.user_id, now))
        position = None
        if tech.current_position and tech.position_at and timezone.localdate(tech.position_at) == today:
            position = (today, solver.Location(tech.current_position.y, tech.current_position.x))
        context.technicians[str(tech.pk)] = tech
        home = solver.Location(tech.home_base.y, tech.home_base.x)
        solver_technicians.append(
            solver.Technician(
                id=str(tech.pk),
                start_location=home,
                end_location=home,
                shifts=_shifts(shifts[tech.pk], absences[tech.pk], context, available_from, position),
                skills={level.skill.code: level.level for level in tech.skill_levels.all()},
                lunch=_lunch(),
            )
        )

    technician_of_user = {tech.user_id: str(tech.pk) for tech in context.technicians.values()}
    work_orders = list(plannable_work_orders(context=context, territory=territory))
    preferred: dict[int, list[str]] = defaultdict(list)
    for account_id, technician_id in (
        PreferredTechnician.objects.filter(account_id__in={wo.account_id for wo in work_orders})
        .order_by("rank")
        .values_list("account_id", "technician_id")
    ):
        preferred[account_id].append(str(technician_id))

    jobs = []
    for work_order in work_orders:
        pinned = (
            technician_of_user.get(work_order.assigned_technician_id or 0)
            if work_order.status in PINNED
            else None
        )
        if work_order.status in PINNED and pinned is None:
            continue  # its technician is not in this run (other territory, absent): leave it alone
        location = work_order.site.location
        context.work_orders[str(work_order.pk)] = work_order
        jobs.append(
            solver.Job(
                id=str(work_order.pk),
                location=solver.Location(location.y, location.x),
                service_minutes=work_order.estimated_minutes,
                windows=_job_windows(work_order, context),
                skills=dict(work_order.required_skills),
                priority=work_order.priority,
                sla_due=context.minutes(work_order.sla_resolution_due)
                if work_order.sla_resolution_due
                else None,
                pinned_technician=pinned,
                pinned_day=context.minutes(work_order.planned_start) // solver.MINUTES_PER_DAY
                if pinned and work_order.planned_start
                else None,
                preferred_technicians=tuple(preferred[work_order.account_id]),
                account_id=str(work_order.account_id),
            )
        )
    return solver.Problem(jobs=jobs, technicians=solver_technicians, travel=travel_settings()), context


@dataclass(frozen=True)
class UrgentPlaced:
    now: int  # the run's P1/P2 jobs that have a technician and a time now
    by_plan: int  # those that will have one once the plan is accepted

    @property
    def fewer(self) -> bool:
        """Accepting the plan would unassign urgent work."""
        return self.by_plan < self.now


def run_urgent_placed(*, run: ScheduleRun) -> UrgentPlaced:
    """How many of the run's P1/P2 jobs are placed now, and how many its plan places: the
    ones it assigns, and those it leaves out that accepting does not unassign (dispatched
    or under way: they stay with their technician). Two queries."""
    assigned = set(
        run.assignments.filter(work_order__priority__lte=URGENT_MAX_PRIORITY).values_list(
            "work_order_id", flat=True
        )
    )
    left_out = {entry["work_order_id"] for entry in run.unplaced}
    placed_now = dict(
        WorkOrder.objects.filter(
            pk__in=assigned | left_out,
            priority__lte=URGENT_MAX_PRIORITY,
            status__in=(*PLANNABLE, *PINNED, *UNDER_WAY),
            assigned_technician__isnull=False,
            planned_start__isnull=False,
        ).values_list("pk", "status")
    )
    kept = sum(1 for pk, status in placed_now.items() if pk in left_out and status != Status.SCHEDULED)
    return UrgentPlaced(now=len(placed_now), by_plan=len(assigned) + kept)
