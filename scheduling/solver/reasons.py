"""Why a job cannot be placed, and when a technician-day can do a sequence of visits.

``diagnose`` runs before the model is built, in this order, and gives the first cause
that holds (a code and plain parameters; the caller renders them):

* ``no_skilled_technician``: no technician of the problem holds the skills (or the one it
  is pinned to does not);
* ``no_shift_time``: qualified technicians exist, but none has shift time left in the
  horizon (day off, absent, or the shift has ended);
* ``outside_all_shifts``: none of the job's windows leaves room for its service inside a
  qualified technician's shift;
* ``unreachable_in_window``: no qualified technician-day can drive there, do the service
  inside a window, take its lunch break and get home before the shift ends.

A job that survives them fits alone on at least one technician-day. The solver may still
leave it out; after the last attempt to fit it into the final routes (``repair``), the
reason is ``capacity``: no qualified technician-day had room left for it.

``schedule`` times a fixed sequence of visits on one technician-day exactly (windows,
lunch, shift), which the pre-checks, the vehicle filter and the repair pass share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .model import Job, ReasonCode, Shift, Technician, Unplaced

Interval = tuple[int, int]
# Where the lunch break goes in ``schedule``: before departure, in the gap before visit i
# (i == len(visits) is the drive home), or after the return.
LUNCH_AT_HOME_BEFORE = -1
LUNCH_AFTER_RETURN = -2


def has_skills(job: Job, tech: Technician) -> bool:
    return all(tech.skills.get(skill, 0) >= level for skill, level in job.skills.items())


def start_intervals(job: Job, shift: Shift) -> list[Interval]:
    """Allowed service start times for ``job`` within ``shift`` (sorted, disjoint)."""
    spans: list[Interval] = []
    for window in sorted(job.windows, key=lambda w: w.start):
        lo = max(window.start, shift.start)
        hi = min(window.end, shift.end) - job.service_minutes
        if lo <= hi:
            if spans and lo <= spans[-1][1] + 1:
                spans[-1] = (spans[-1][0], max(spans[-1][1], hi))
            else:
                spans.append((lo, hi))
    return spans


def earliest_start(spans: list[Interval], ready: int) -> int | None:
    """First allowed start at or after ``ready``."""
    for lo, hi in spans:
        if ready <= hi:
            return max(lo, ready)
    return None


# --- timing one technician-day ------------------------------------------------------------------


@dataclass(frozen=True)
class Stop:
    """A visit to time: its allowed starts on this shift, its service, the drive to it."""

    spans: list[Interval]
    service: int
    travel: int


@dataclass(frozen=True)
class Timing:
    departure: int
    arrivals: list[int]
    starts: list[int]
    return_time: int
    break_start: int | None
    lunch_gap: int | None  # see LUNCH_AT_HOME_BEFORE / LUNCH_AFTER_RETURN; None without lunch


def schedule(
    shift: Shift, lunch: tuple[int, int, int] | None, stops: Sequence[Stop], back: int
) -> Timing | None:
    """The earliest timing of ``stops`` in this order on ``shift`` (then home, ``back``
    minutes from the last one), with the lunch break ``(earliest, latest, duration)`` if it
    applies; None when there is none.

    Exact: waiting is allowed, so arriving earlier never hurts; the only choice is the gap
    that holds lunch, found by keeping the earliest time with and without lunch taken at
    each visit (two states), then timing the sequence with lunch in that gap.
    """
    if lunch is None:
        return _timed(shift, None, stops, back, None)
    gap = _lunch_gap(shift, lunch, stops, back)
    return None if gap is None else _timed(shift, lunch, stops, back, gap)


def _lunch_gap(shift: Shift, lunch: tuple[int, int, int], stops: Sequence[Stop], back: int) -> int | None:
    earliest, latest, duration = lunch
    # Earliest time free at the current place: without lunch yet, and with it (and where).
    free: int | None = shift.start
    fed: tuple[int, int] | None = (max(shift.start, earliest + duration), LUNCH_AT_HOME_BEFORE)
    for i, stop in enumerate(stops):
        options: list[tuple[int, int]] = []
        if fed is not None:
            options.append((fed[0] + stop.travel, fed[1]))
        if free is not None and max(earliest, free) <= latest:
            lunch_start = max(earliest, free)
            options.append((max(free + stop.travel + duration, lunch_start + duration), i))
        fed = None
        if options:
            ready, gap = min(options)
            start = earliest_start(stop.spans, ready)
            fed = None if start is None else (start + stop.service, gap)
        if free is not None:
            start = earliest_start(stop.spans, free + stop.travel)
            free = None if start is None else start + stop.service
    endings: list[tuple[int, int]] = []
    if fed is not None:
        endings.append((fed[0] + back, fed[1]))
    if free is not None:
        if max(earliest, free + back) <= latest:
            endings.append((free + back, LUNCH_AFTER_RETURN))
        if max(earliest, free) <= latest:
            endings.append((max(free + back + duration, max(earliest, free) + duration), len(stops)))
    feasible = [(ret, gap) for ret, gap in endings if ret <= shift.end]
    return min(feasible)[1] if feasible else None


def _timed(
    shift: Shift, lunch: tuple[int, int, int] | None, stops: Sequence[Stop], back: int, gap: int | None
) -> Timing | None:
    earliest, latest, duration = lunch if lunch is not None else (0, 0, 0)
    departure = shift.start
    break_start: int | None = None
    if gap == LUNCH_AT_HOME_BEFORE:
        departure, break_start = max(shift.start, earliest + duration), earliest
    free = departure
    arrivals: list[int] = []
    starts: list[int] = []
    for i, stop in enumerate(stops):
        ready = free + stop.travel
        if gap == i:
            break_start = max(earliest, free)
            if break_start > latest:
                return None
            ready = max(ready + duration, break_start + duration)
        start = earliest_start(stop.spans, ready)
        if start is None:
            return None
        arrivals.append(ready)
        starts.append(start)
        free = start + stop.service
    return_time = free + back
    if gap == len(stops):
        break_start = max(earliest, free)
        if break_start > latest:
            return None
        return_time = max(return_time + duration, break_start + duration)
    elif gap == LUNCH_AFTER_RETURN:
        break_start = max(earliest, return_time)
        if break_start > latest:
            return None
    if return_time > shift.end:
        return None
    if stops and gap not in (0, LUNCH_AT_HOME_BEFORE):
        # Leave home as late as the first visit allows instead of waiting on site.
        departure = max(departure, starts[0] - stops[0].travel)
        arrivals[0] = departure + stops[0].travel
    return Timing(departure, arrivals, starts, return_time, break_start, gap)


# --- pre-checks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class VehicleView:
    """What the pre-checks need to know about one technician-day."""

    tech_index: int
    shift_index: int
    shift: Shift
    lunch: tuple[int, int, int] | None
    travel_out: int  # minutes from the shift's start location to the job
    travel_back: int  # minutes from the job to the end location


def unplaced(job: Job, reason: ReasonCode, **params: Any) -> Unplaced:
    return Unplaced(job_id=job.id, reason=reason, params=params)


def diagnose(
    job: Job, technicians: list[Technician], vehicles: list[VehicleView]
) -> tuple[list[int], Unplaced | None]:
    """Return the indices into ``vehicles`` that can serve ``job`` alone, or a reason."""
    pinned = job.pinned_technician is not None
    qualified = {
        t
        for t, tech in enumerate(technicians)
        if has_skills(job, tech) and job.pinned_technician in (None, tech.id)
    }
    if not qualified:
        return [], unplaced(job, "no_skilled_technician", skills=dict(job.skills), pinned=pinned)
    on_shift = [
        v
        for v, view in enumerate(vehicles)
        if view.tech_index in qualified and job.pinned_day in (None, view.shift.day)
    ]
    if not on_shift:
        return [], unplaced(job, "no_shift_time", qualified=len(qualified), pinned=pinned)
    in_shift = [(v, spans) for v in on_shift if (spans := start_intervals(job, vehicles[v].shift))]
    if not in_shift:
        return [], unplaced(job, "outside_all_shifts", service_minutes=job.service_minutes)
    reachable = [
        v
        for v, spans in in_shift
        if schedule(
            vehicles[v].shift,
            vehicles[v].lunch,
            [Stop(spans, job.service_minutes, vehicles[v].travel_out)],
            vehicles[v].travel_back,
        )
        is not None
    ]
    if not reachable:
        return [], unplaced(job, "unreachable_in_window", service_minutes=job.service_minutes)
    return reachable, None
