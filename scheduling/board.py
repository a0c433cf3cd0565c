"""The dispatch board's reads: one day, one territory (or all), in a fixed number of queries.

The board shows a timeline row per technician (shift, planned jobs, the drive before each,
lunch), the unassigned queue with the latest run's reason for each job it left out, and
the points for the map. `reassignment_problems` is the check behind a manual move; it only
reads, and `work_order_reassign` runs it under the technician's lock before writing
through tickets.lifecycle.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import F, FilteredRelation, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from fieldservice import clock, ranges
from scheduling.models import ScheduleRun, Shift, Technician, TechnicianSkill, Territory
from scheduling.reasons import unplaced_entry_text
from scheduling.selectors import horizon_origin
from tickets.models import WorkOrder

Status = WorkOrder.Status
# The day's track on the timeline, local time.
TRACK_START = dt.time(6, 0)
TRACK_END = dt.time(20, 0)
TRACK_MINUTES = (TRACK_END.hour - TRACK_START.hour) * 60
# Jobs that occupy a technician's day on the board.
ON_THE_BOARD = tuple(status for status in WorkOrder.OPEN_STATUSES if status != Status.NEW)
# A technician's planned jobs that a manual move must not overlap.
OCCUPYING = ON_THE_BOARD
EARTH_RADIUS_KM = 6371.0
# An SLA clock with less than this left is shown as at risk.
MINUTE = dt.timedelta(minutes=1)


@dataclass
class Block:
    """Something on a timeline track, positioned in percent of the 06:00–20:00 track."""

    kind: str  # "job", "travel", "lunch"
    start: dt.datetime
    end: dt.datetime
    left: float
    width: float
    work_order: WorkOrder | None = None
    minutes: int = 0
    late: bool = False


@dataclass
class Row:
    technician: Technician
    shift_start: dt.datetime | None
    shift_end: dt.datetime | None
    skills: list[TechnicianSkill] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    shift_left: float = 0.0
    shift_width: float = 0.0
    jobs: int = 0
    travel_minutes: int = 0


@dataclass
class QueueItem:
    work_order: WorkOrder
    reason: str = ""
    message: str = ""
    sla_minutes_left: int | None = None

    @property
    def sla_label(self) -> str:
        """The resolution clock, as a dispatcher reads it: time left, or how late it is."""
        if self.sla_minutes_left is None:
            return _("no SLA")
        hours, minutes = divmod(abs(self.sla_minutes_left), 60)
        span = (
            _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
            if hours
            else _("%(m)d min") % {"m": minutes}
        )
        if self.sla_minutes_left < 0:
            return _("breached %(span)s ago") % {"span": span}
        return _("%(span)s left") % {"span": span}

    @property
    def sla_state(self) -> str:
        if self.sla_minutes_left is None:
            return ""
        if self.sla_minutes_left < 0:
            return "red"
        return "yellow" if self.sla_minutes_left < settings.SLA_AT_RISK_HOURS * 60 else "green"

    @property
    def skills(self) -> list[tuple[str, int]]:
        return sorted(self.work_order.required_skills.items())


@dataclass
class Board:
    day: dt.date
    territory: Territory | None
    rows: list[Row]
    queue: list[QueueItem]
    run: ScheduleRun | None
    map_points: dict[str, Any]
    hours: list[tuple[str, float]]


def _position(start: dt.datetime, end: dt.datetime, origin: dt.datetime) -> tuple[float, float]:
    """Left and width in percent of the track, clipped to it."""
    begin = max(0.0, (start - origin) / MINUTE)
    finish = min(float(TRACK_MINUTES), (end - origin) / MINUTE)
    if finish <= begin:
        return 0.0, 0.0
    return round(begin * 100 / TRACK_MINUTES, 3), round((finish - begin) * 100 / TRACK_MINUTES, 3)


def _drive_minutes(a: tuple[float, float], b: tuple[float, float]) -> int:
    """The same great-circle estimate the optimizer uses (detour factor, average speed)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h)) * settings.SCHEDULING_DETOUR_FACTOR
    return math.ceil(km / settings.SCHEDULING_SPEED_KMH * 60)


def _lunch(blocks: list[Block], day: dt.date, origin: dt.datetime) -> Block | None:
    """Lunch goes in the first free gap of the lunch window that fits it (the optimizer
    places it the same way); with no such gap the board shows none."""
    zone = origin.tzinfo
    earliest = dt.datetime.combine(day, dt.time.fromisoformat(settings.SCHEDULING_LUNCH_EARLIEST), zone)
    latest = dt.datetime.combine(day, dt.time.fromisoformat(settings.SCHEDULING_LUNCH_LATEST), zone)
    length = settings.SCHEDULING_LUNCH_MINUTES * MINUTE
    start = earliest
    for busy in sorted(blocks, key=lambda b: b.start):
        if busy.end <= start:
            continue
        if busy.start >= start + length:
            break
        start = busy.end
    if start > latest:  # the window is the lunch's earliest and latest start
        return None
    left, width = _position(start, start + length, origin)
    return Block("lunch", start, start + length, left, width, minutes=settings.SCHEDULING_LUNCH_MINUTES)


def _technicians(day: dt.date, territory: Territory | None) -> QuerySet[Technician]:
    """Active technicians with their shift of the day (if any), in one query."""
    rows = (
        Technician.objects.filter(active=True)
        .select_related("user")
        .annotate(
            day_shift=FilteredRelation("shifts", condition=Q(shifts__date=day)),
            shift_start=F("day_shift__starts_at"),
            shift_end=F("day_shift__ends_at"),
        )
        .order_by("employee_code")
    )
    if territory is not None:
        rows = rows.filter(territory=territory)
    return rows


def _planned(technician_user_ids: list[int], origin: dt.datetime) -> QuerySet[WorkOrder]:
    return (
        WorkOrder.objects.filter(
            status__in=ON_THE_BOARD,
            assigned_technician_id__in=technician_user_ids,
            planned_start__lt=origin + dt.timedelta(days=1),
            planned_end__gt=origin,
        )
        .select_related("site", "account")
        .order_by("assigned_technician_id", "planned_start")
    )


def unassigned_work_orders(day: dt.date, territory: Territory | None) -> QuerySet[WorkOrder]:
    """New work whose window reaches the day (the optimizer's view of it), urgent first."""
    origin = horizon_origin(day)
    end = origin + dt.timedelta(days=1)
    rows = WorkOrder.objects.filter(
        Q(status=Status.NEW),
        Q(earliest_start__isnull=True) | Q(earliest_start__lt=end),
        Q(latest_end__isnull=True) | Q(latest_end__gt=origin),
    )
    if territory is not None:
        rows = rows.filter(site__location__intersects=territory.boundary)
    return rows.select_related("site", "account").order_by("priority", "sla_resolution_due", "pk")


def latest_run(day: dt.date, territory: Territory | None) -> ScheduleRun | None:
    return ScheduleRun.objects.filter(horizon_start=day, territory=territory).order_by("-created_at").first()


def board_get(*, day: dt.date, territory: Territory | None, now: dt.datetime | None = None) -> Board:
    now = now or clock.now()
    origin = horizon_origin(day)
    track_origin = dt.datetime.combine(day, TRACK_START, origin.tzinfo)
    technicians = list(_technicians(day, territory))
    skills: dict[int, list[TechnicianSkill]] = {}
    for level in TechnicianSkill.objects.filter(technician__in=[t.pk for t in technicians]).select_related(
        "skill"
    ):
        skills.setdefault(level.technician_id, []).append(level)
    planned: dict[int, list[WorkOrder]] = {}
    for work_order in _planned([t.user_id for t in technicians], origin):
        planned.setdefault(work_order.assigned_technician_id or 0, []).append(work_order)

    rows = []
    map_technicians, map_sites = [], {}
    for tech in technicians:
        shift_start: dt.datetime | None = getattr(tech, "shift_start", None)
        shift_end: dt.datetime | None = getattr(tech, "shift_end", None)
        row = Row(tech, shift_start, shift_end, skills=skills.get(tech.pk, []))
        if shift_start and shift_end:
            row.shift_left, row.shift_width = _position(shift_start, shift_end, track_origin)
        here = (tech.home_base.y, tech.home_base.x)
        jobs: list[Block] = []
        for work_order in planned.get(tech.user_id, []):
            assert work_order.planned_start is not None and work_order.planned_end is not None
            # Planned times stored before fieldservice.ranges was enforced (0001-01-01 or
            # 9999-12-31) cannot have a drive subtracted or a local time shown: the board shows
            # them at the range's ends, and still opens so that the job can be moved.
            planned_start = max(work_order.planned_start, ranges.EARLIEST_DATETIME)
            planned_end = min(work_order.planned_end, ranges.LATEST_DATETIME)
            site = (work_order.site.location.y, work_order.site.location.x)
            drive = _drive_minutes(here, site)
            if drive:
                travel_start = planned_start - drive * MINUTE
                left, width = _position(travel_start, planned_start, track_origin)
                row.blocks.append(Block("travel", travel_start, planned_start, left, width, minutes=drive))
                row.travel_minutes += drive
            left, width = _position(planned_start, planned_end, track_origin)
            late = bool(
                work_order.sla_resolution_due and work_order.planned_end > work_order.sla_resolution_due
            )
            block = Block("job", planned_start, planned_end, left, width, work_order, late=late)
            jobs.append(block)
            row.blocks.append(block)
            here = site
            map_sites[work_order.site_id] = _site_point(work_order, planned=True)
        row.jobs = len(jobs)
        if shift_start and jobs:
            lunch = _lunch(jobs, day, track_origin)
            if lunch is not None:
                row.blocks.append(lunch)
        rows.append(row)
        point = {"name": str(tech), "lat": tech.home_base.y, "lon": tech.home_base.x, "kind": "home"}
        if tech.current_position and tech.position_at and timezone.localdate(tech.position_at) == day:
            point.update(lat=tech.current_position.y, lon=tech.current_position.x, kind="position")
        map_technicians.append(point)

    run = latest_run(day, territory)
    reasons = {entry["work_order_id"]: entry for entry in (run.unplaced if run else [])}
    queue = []
    for work_order in unassigned_work_orders(day, territory):
        entry = reasons.get(work_order.pk, {})
        sla_left = None
        if work_order.sla_resolution_due:
            sla_left = int((work_order.sla_resolution_due - now) // MINUTE)
        message = unplaced_entry_text(entry) if entry else ""
        queue.append(QueueItem(work_order, entry.get("reason", ""), message, sla_left))
        map_sites.setdefault(work_order.site_id, _site_point(work_order, planned=False))

    hours = [
        (f"{hour:02d}:00", round((hour - TRACK_START.hour) * 100 / (TRACK_MINUTES / 60), 3))
        for hour in range(TRACK_START.hour, TRACK_END.hour + 1, 2)
    ]
    return Board(
        day=day,
        territory=territory,
        rows=rows,
        queue=queue,
        run=run,
        map_points={"technicians": map_technicians, "sites": list(map_sites.values())},
        hours=hours,
    )


def _site_point(work_order: WorkOrder, *, planned: bool) -> dict[str, Any]:
    location = work_order.site.location
    return {
        "name": f"{work_order.site.name} ({work_order.account.name})",
        "lat": location.y,
        "lon": location.x,
        "kind": "planned" if planned else "unassigned",
    }


# --- manual reassignment ---------------------------------------------------------------------------


@dataclass
class Verdict:
    refusals: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def reassignment_problems(
    *, work_order: WorkOrder, technician: Technician, planned_start: dt.datetime, planned_end: dt.datetime
) -> Verdict:
    """Why a dispatcher may not put `work_order` on `technician` at these times (refusals),
    or what they should know (warnings). Three queries: skills, the shift, the overlaps."""
    verdict = Verdict()
    levels = dict(technician.skill_levels.values_list("skill__code", "level"))
    for code, needed in sorted(work_order.required_skills.items()):
        held = levels.get(code)
        if held is None:
            verdict.refusals.append(
                _("%(tech)s does not have the skill “%(skill)s” (level %(needed)s needed).")
                % {"tech": technician, "skill": code, "needed": needed}
            )
        elif held < int(needed):
            verdict.refusals.append(
                _("%(tech)s has the skill “%(skill)s” at level %(held)s; this job needs level %(needed)s.")
                % {"tech": technician, "skill": code, "held": held, "needed": needed}
            )
    local_day = timezone.localdate(planned_start)
    shift = Shift.objects.filter(technician=technician, date=local_day).first()
    if shift is None:
        verdict.refusals.append(
            _("%(tech)s has no shift on %(day)s.") % {"tech": technician, "day": local_day.isoformat()}
        )
    elif planned_start < shift.starts_at or planned_end > shift.ends_at:
        verdict.refusals.append(
            _("%(start)s–%(end)s is outside %(tech)s's shift (%(shift_start)s–%(shift_end)s).")
            % {
                "tech": technician,
                "start": f"{timezone.localtime(planned_start):%H:%M}",
                "end": f"{timezone.localtime(planned_end):%H:%M}",
                "shift_start": f"{timezone.localtime(shift.starts_at):%H:%M}",
                "shift_end": f"{timezone.localtime(shift.ends_at):%H:%M}",
            }
        )
    overlapping = (
        WorkOrder.objects.filter(
            assigned_technician_id=technician.user_id,
            status__in=OCCUPYING,
            planned_start__lt=planned_end,
            planned_end__gt=planned_start,
        )
        .exclude(pk=work_order.pk)
        .order_by("planned_start")
        .values_list("number", "planned_start", "planned_end")
    )
    for number, start, end in overlapping:
        verdict.refusals.append(
            _("It overlaps %(number)s (%(start)s–%(end)s) on %(tech)s's day.")
            % {
                "number": number,
                "tech": technician,
                "start": f"{timezone.localtime(start):%H:%M}",
                "end": f"{timezone.localtime(end):%H:%M}",
            }
        )
    if work_order.sla_resolution_due and planned_end > work_order.sla_resolution_due:
        late = int((planned_end - work_order.sla_resolution_due) // MINUTE)
        verdict.warnings.append(
            _("Late vs SLA: it would end %(minutes)s min after the resolution due time (%(due)s).")
            % {"minutes": late, "due": f"{timezone.localtime(work_order.sla_resolution_due):%Y-%m-%d %H:%M}"}
        )
    return verdict
