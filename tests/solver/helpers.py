"""Small hand-made problems on a plane (1 distance unit = 1 minute)."""

from __future__ import annotations

from scheduling.solver.model import (
    Break,
    Job,
    Location,
    Problem,
    Shift,
    Technician,
    TimeWindow,
    TravelSettings,
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
