"""Independent plan checker.

Shares no code with the model or engines: it recomputes travel from the
problem's coordinates and the provider parameters (plain numbers), and checks
times in exact real arithmetic (the solver ceils travel, so a correct plan
always has at least the real travel time between visits). Only attribute names
of the input/output dataclasses are shared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # type hints only; nothing is executed from the model
    from .model import Plan, Problem

EARTH_KM = 6371.0088
TOLERANCE = 1e-6
KM_TOLERANCE = 1e-3
DAY_MINUTES = 1440
REASON_CODES = {
    "no_skilled_technician",
    "no_shift_time",
    "outside_all_shifts",
    "unreachable_in_window",
    "capacity",
    "no_plan",
}


@dataclass(frozen=True)
class Violation:
    kind: str
    subject: str  # job id or technician id
    message: str


def _distance(travel: Any, a: Any, b: Any) -> tuple[float, float]:
    """(km, real minutes) between two locations, recomputed here."""
    if travel.kind == "euclidean":
        dist = math.hypot(a.lat - b.lat, a.lon - b.lon)
        return dist, dist * travel.scale
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b.lon - a.lon) / 2) ** 2
    )
    km = 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h))) * travel.detour_factor
    return km, km / travel.speed_kmh * 60


def _lunch(tech: Any, shift: Any) -> tuple[int, int, int] | None:
    if tech.lunch is None:
        return None
    base = (shift.start // DAY_MINUTES) * DAY_MINUTES
    lo, hi = base + tech.lunch.earliest_start, base + tech.lunch.latest_start
    if lo < shift.start or hi + tech.lunch.duration > shift.end:
        return None
    return lo, hi, tech.lunch.duration


def check_plan(problem: Problem, plan: Plan) -> list[Violation]:
    """Every way ``plan`` breaks ``problem``'s hard rules; empty when it is valid."""
    out: list[Violation] = []
    jobs = {job.id: job for job in problem.jobs}
    techs = {tech.id: tech for tech in problem.technicians}
    seen: dict[str, int] = {}
    for route in plan.routes:
        tech = techs.get(route.technician_id)
        if tech is None or not 0 <= route.shift_index < len(tech.shifts):
            out.append(Violation("shift", route.technician_id, "Route for an unknown shift."))
            continue
        for visit in route.visits:
            seen[visit.job_id] = seen.get(visit.job_id, 0) + 1
        _check_route(problem, jobs, tech, route, out)
    for job_id, count in seen.items():
        if count > 1:
            out.append(Violation("duplicate", job_id, f"Job placed {count} times."))
    reported = [u.job_id for u in plan.unplaced]
    for u in plan.unplaced:
        if u.reason not in REASON_CODES or not isinstance(u.params, dict):
            out.append(Violation("reason", u.job_id, f"Bad reason {u.reason!r}."))
        if u.job_id in seen:
            out.append(Violation("duplicate", u.job_id, "Job both placed and unplaced."))
    if len(set(reported)) != len(reported):
        out.append(Violation("duplicate", "", "A job is reported unplaced twice."))
    for job_id in jobs:
        if job_id not in seen and job_id not in reported:
            out.append(Violation("missing", job_id, "Job neither placed nor reported."))
    for job_id in set(seen) | set(reported):
        if job_id not in jobs:
            out.append(Violation("missing", job_id, "Unknown job in the plan."))
    return out


def _check_route(problem: Any, jobs: dict[str, Any], tech: Any, route: Any, out: list) -> None:
    shift = tech.shifts[route.shift_index]
    who = tech.id
    if route.day != shift.start // DAY_MINUTES:
        out.append(Violation("shift", who, f"Route day {route.day} is not its shift's day."))
    if route.departure < shift.start or route.return_time > shift.end:
        out.append(
            Violation(
                "shift",
                who,
                f"Route {route.departure}-{route.return_time} outside shift {shift.start}-{shift.end}.",
            )
        )
    lunch = _lunch(tech, shift)
    brk: tuple[int, int] | None = None
    if lunch is not None:
        if route.break_start is None:
            out.append(Violation("break", who, "Lunch break missing."))
        elif not lunch[0] <= route.break_start <= lunch[1]:
            out.append(Violation("break", who, f"Lunch at {route.break_start} outside window."))
        else:
            brk = (route.break_start, route.break_start + lunch[2])
    if brk is not None and not (shift.start <= brk[0] and brk[1] <= shift.end):
        out.append(Violation("break", who, "Lunch outside the shift."))

    # A shift may start elsewhere than the technician's usual start (today's live position).
    place = getattr(shift, "start_location", None) or tech.start_location
    free_from, load = route.departure, 0
    gaps_ok_for_break = brk is None or brk[1] <= route.departure or brk[0] >= route.return_time
    for position, visit in enumerate(route.visits):
        job = jobs.get(visit.job_id)
        if job is None:
            continue
        load += job.demand
        km, real = _distance(problem.travel, place, job.location)
        if visit.travel_minutes + TOLERANCE < real or abs(visit.travel_km - km) > KM_TOLERANCE:
            out.append(Violation("travel_time", job.id, "Reported travel differs from the map."))
        pause = 0
        if brk is not None and free_from <= brk[0] and brk[1] <= visit.start:
            pause, gaps_ok_for_break = brk[1] - brk[0], True
        if visit.start < free_from:
            out.append(Violation("overlap", job.id, "Starts before the previous work ends."))
        elif visit.start + TOLERANCE < free_from + real + pause:
            out.append(Violation("travel_time", job.id, "Not enough time to drive there."))
        if visit.arrival > visit.start:
            out.append(Violation("travel_time", job.id, "Arrival after the start of service."))
        if visit.end != visit.start + job.service_minutes:
            out.append(Violation("window", job.id, "Service duration is wrong."))
        if not any(w.start <= visit.start and visit.end <= w.end for w in job.windows):
            out.append(
                Violation(
                    "window",
                    job.id,
                    f"Service {visit.start}-{visit.end} is outside every time window.",
                )
            )
        if brk is not None and visit.start < brk[1] and brk[0] < visit.end:
            out.append(Violation("break", job.id, "Service overlaps the lunch break."))
        if any(tech.skills.get(s, 0) < lvl for s, lvl in job.skills.items()):
            out.append(Violation("skill", job.id, f"{tech.id} lacks the required skills."))
        if job.pinned_technician is not None and job.pinned_technician != tech.id:
            out.append(Violation("pinned", job.id, f"Pinned to {job.pinned_technician}."))
        if job.pinned_day is not None and job.pinned_day != route.day:
            out.append(Violation("pinned", job.id, f"Pinned to day {job.pinned_day}."))
        if job.pinned_position is not None and job.pinned_position != position:
            out.append(Violation("pinned", job.id, f"Pinned to position {job.pinned_position}."))
        place, free_from = job.location, visit.end
    _, real = _distance(problem.travel, place, tech.end_location)
    pause = 0
    if brk is not None and free_from <= brk[0] and brk[1] <= route.return_time:
        pause, gaps_ok_for_break = brk[1] - brk[0], True
    if route.return_time + TOLERANCE < free_from + real + pause:
        out.append(Violation("travel_time", who, "Not enough time to drive back."))
    if not gaps_ok_for_break:
        out.append(Violation("break", who, "Lunch does not fit between two visits."))
    if tech.capacity is not None and load > tech.capacity:
        out.append(Violation("capacity", who, f"Load {load} exceeds {tech.capacity}."))
