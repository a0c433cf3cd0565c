"""Small hand-made problems on a plane (1 distance unit = 1 minute), and an independent
check that a `capacity` reason is true."""

from __future__ import annotations

from dataclasses import replace

from scheduling.solver.model import (
    MINUTES_PER_DAY,
    Break,
    Job,
    Location,
    Plan,
    Problem,
    Route,
    Shift,
    Technician,
    TimeWindow,
    TravelSettings,
    Visit,
)

DAY_START, DAY_END = 8 * 60, 17 * 60
PLANE = TravelSettings(kind="euclidean", scale=1.0)
LUNCH = Break(earliest_start=12 * 60, latest_start=13 * 60 + 30, duration=30)
HOME = Location(0.0, 0.0)


def tech(
    tech_id: str,
    skills: dict[str, int] | None = None,
    home: Location = HOME,
    shifts: tuple[Shift, ...] = (Shift(DAY_START, DAY_END),),
    lunch: Break | None = None,
) -> Technician:
    return Technician(tech_id, home, home, shifts, skills or {}, lunch)


def job(
    job_id: str,
    x: float,
    y: float = 0.0,
    service: int = 60,
    windows: tuple[tuple[int, int], ...] = ((DAY_START, DAY_END),),
    **extra: object,
) -> Job:
    return Job(
        id=job_id,
        location=Location(x, y),
        service_minutes=service,
        windows=tuple(TimeWindow(a, b) for a, b in windows),
        **extra,  # type: ignore[arg-type]
    )


def problem(jobs: list[Job], techs: list[Technician]) -> Problem:
    return Problem(jobs=jobs, technicians=techs, travel=PLANE)


# --- is "capacity" true? ------------------------------------------------------------------------
# An independent search (no solver code but the travel matrix): a job reported as `capacity`
# must not fit, as the plan stands, into the route of any technician-day qualified for it.


def _free_timing(
    shift: Shift, lunch: Break | None, legs: list[int], visits: list[Job]
) -> tuple[int, list[int], int, int | None] | None:
    """(departure, starts, return, lunch start) for the visits in this order with the drives
    ``legs`` (one more than visits: the drive home last), trying lunch in every place."""
    day = (shift.start // MINUTES_PER_DAY) * MINUTES_PER_DAY
    window = None
    if lunch is not None and shift.start <= day + lunch.earliest_start:
        if day + lunch.latest_start + lunch.duration <= shift.end:
            window = (day + lunch.earliest_start, day + lunch.latest_start, lunch.duration)
    places: list[int | None] = [None] if window is None else list(range(-1, len(visits) + 2))
    for place in places:  # -1 before leaving, i = in the drive to visit i, len+1 after return
        timing = _try(shift, window, legs, visits, place)
        if timing is not None:
            return timing
    return None


def _try(
    shift: Shift, window: tuple[int, int, int] | None, legs: list[int], visits: list[Job], place: int | None
) -> tuple[int, list[int], int, int | None] | None:
    lo, hi, length = window or (0, 0, 0)
    lunch_at = None
    clock = shift.start
    if place == -1:
        lunch_at, clock = lo, max(clock, lo + length)
    departure, starts = clock, []
    for i, job in enumerate(visits):
        ready = clock + legs[i]
        if place == i:
            lunch_at = max(lo, clock)
            ready = max(ready + length, lunch_at + length)
        options = [
            max(w.start, ready) for w in job.windows if max(w.start, ready) + job.service_minutes <= w.end
        ]
        if not options:
            return None
        starts.append(min(options))
        clock = starts[-1] + job.service_minutes
    back = clock + legs[len(visits)]
    if place == len(visits):
        lunch_at = max(lo, clock)
        back = max(back + length, lunch_at + length)
    if place == len(visits) + 1:
        lunch_at = max(lo, back)
    if lunch_at is not None and lunch_at > hi:
        return None
    return (departure, starts, back, lunch_at) if back <= shift.end else None


def false_capacity_claims(prob: Problem, plan: Plan) -> list[str]:
    """Jobs reported as `capacity` that do fit somewhere as the plan stands; each fit found
    is confirmed by the checker, so this search cannot claim a fit that breaks a rule."""
    from scheduling.solver import check_plan
    from scheduling.solver.travel import provider_for

    jobs = {j.id: j for j in prob.jobs}
    routes = {(r.technician_id, r.shift_index): r for r in plan.routes}
    claims = []
    for left_out in (u for u in plan.unplaced if u.reason == "capacity"):
        job = jobs[left_out.job_id]
        for tech in prob.technicians:
            if any(tech.skills.get(s, 0) < lvl for s, lvl in job.skills.items()):
                continue
            if job.pinned_technician not in (None, tech.id):
                continue
            for index, shift in enumerate(tech.shifts):
                if job.pinned_day not in (None, shift.start // MINUTES_PER_DAY):
                    continue
                route = routes.get((tech.id, index))
                current = [jobs[v.job_id] for v in route.visits] if route else []
                load = sum(j.demand for j in current) + job.demand
                if tech.capacity is not None and load > tech.capacity:
                    continue
                pinned_at = [i for i, j in enumerate(current) if j.pinned_position is not None]
                for position in range(len(current) + 1):
                    if any(i >= position for i in pinned_at):
                        continue
                    if job.pinned_position not in (None, position):
                        continue
                    visits = [*current[:position], job, *current[position:]]
                    start = shift.start_location or tech.start_location
                    stops = [start, *(j.location for j in visits), tech.end_location]
                    minutes, km = provider_for(prob.travel).matrices(stops)
                    legs = [int(minutes[i, i + 1]) for i in range(len(stops) - 1)]
                    timing = _free_timing(shift, tech.lunch, legs, visits)
                    if timing is None:
                        continue
                    departure, starts, back, lunch_at = timing
                    fitted = Route(
                        tech.id,
                        shift.start // MINUTES_PER_DAY,
                        index,
                        departure,
                        back,
                        [
                            Visit(j.id, s, s, s + j.service_minutes, legs[i], float(km[i, i + 1]))
                            for i, (j, s) in enumerate(zip(visits, starts, strict=True))
                        ],
                        lunch_at,
                        legs[-1],
                        float(km[len(visits), len(visits) + 1]),
                    )
                    others = [r for r in plan.routes if (r.technician_id, r.shift_index) != (tech.id, index)]
                    unplaced = [u for u in plan.unplaced if u.job_id != job.id]
                    if check_plan(prob, replace(plan, routes=[*others, fitted], unplaced=unplaced)) == []:
                        claims.append(f"{job.id} fits {tech.id} day {index} at {position}")
                        break
    return claims
