"""Synthetic Yangtze River Delta field-service days for benchmarks and tests."""

from __future__ import annotations

import random

from .model import MINUTES_PER_DAY, Break, Job, Location, Problem, Shift, Technician, TimeWindow

CITIES: dict[str, tuple[float, float]] = {
    "Shanghai": (31.23, 121.47),
    "Suzhou": (31.30, 120.62),
    "Wuxi": (31.49, 120.31),
    "Hangzhou": (30.27, 120.15),
    "Ningbo": (29.87, 121.54),
}
SKILLS = ("hvac", "cnc", "compressor", "electrical", "smt", "ups", "chiller", "lab_instruments")
MAX_SKILL_LEVEL = 3
PARKS_PER_CITY = 4
PARK_SPREAD_DEG = 0.12  # industrial parks lie this far around a city centre
SITE_SPREAD_DEG = 0.02  # sites within a park
PRIORITY_WEIGHTS = (0.08, 0.17, 0.35, 0.40)  # P1..P4
SLA_HOURS_BY_PRIORITY = (4, 8, None, None)  # P3/P4 have no same-day SLA
SERVICE_CHOICES = (30, 45, 60, 90, 120, 150, 180)
SERVICE_WEIGHTS = (35, 25, 15, 10, 8, 4, 3)  # most visits are short
HOUR = 60
SITE_OPEN, SITE_CLOSE = 8 * HOUR, 17 * HOUR
SHIFT_START, SHIFT_END = 8 * HOUR, 17 * HOUR
LUNCH = Break(earliest_start=12 * HOUR, latest_start=13 * HOUR + 30, duration=30)
NARROW_WINDOW_SHARE = 0.25
TWO_WINDOW_SHARE = 0.1
PREFERRED_SHARE = 0.1
ACCOUNTS = 60


def _point(rng: random.Random, centre: tuple[float, float], spread: float) -> Location:
    return Location(centre[0] + rng.gauss(0, spread), centre[1] + rng.gauss(0, spread))


def _windows(rng: random.Random, day_start: int, service: int) -> tuple[TimeWindow, ...]:
    roll = rng.random()
    if roll < NARROW_WINDOW_SHARE:
        start = rng.randrange(SITE_OPEN, SITE_CLOSE - service - 2 * HOUR + 1, 30)
        length = max(service + HOUR, 3 * HOUR)
        end = min(SITE_CLOSE, start + length)
        return (TimeWindow(day_start + start, day_start + end),)
    if roll < NARROW_WINDOW_SHARE + TWO_WINDOW_SHARE:
        return (
            TimeWindow(day_start + SITE_OPEN, day_start + 12 * HOUR),
            TimeWindow(day_start + 13 * HOUR + 30, day_start + SITE_CLOSE),
        )
    return (TimeWindow(day_start + SITE_OPEN, day_start + SITE_CLOSE),)


def generate(jobs: int, technicians: int, days: int = 1, seed: int = 1, pinned_share: float = 0.0) -> Problem:
    """A horizon of ``days`` working days; technicians work 08:00-17:00 every day.

    ``pinned_share`` of the jobs are pinned to the technician their skills came from.
    """
    rng = random.Random(seed)
    parks = [
        _point(rng, centre, PARK_SPREAD_DEG).as_tuple()
        for centre in CITIES.values()
        for _ in range(PARKS_PER_CITY)
    ]
    techs = []
    city_list = list(CITIES.values())
    for t in range(technicians):
        home = _point(rng, city_list[t % len(city_list)], PARK_SPREAD_DEG)
        skills = {s: rng.randint(1, MAX_SKILL_LEVEL) for s in rng.sample(SKILLS, rng.randint(2, 4))}
        shifts = tuple(
            Shift(d * MINUTES_PER_DAY + SHIFT_START, d * MINUTES_PER_DAY + SHIFT_END) for d in range(days)
        )
        techs.append(Technician(f"T{t:03d}", home, home, shifts, skills, LUNCH))
    out = []
    for j in range(jobs):
        day_start = rng.randrange(days) * MINUTES_PER_DAY
        service = rng.choices(SERVICE_CHOICES, SERVICE_WEIGHTS)[0]
        priority = rng.choices((1, 2, 3, 4), PRIORITY_WEIGHTS)[0]
        sla_hours = SLA_HOURS_BY_PRIORITY[priority - 1]
        sla = None if sla_hours is None else day_start + SITE_OPEN + sla_hours * HOUR
        # Required skills come from a real technician so most jobs are staffable.
        model_tech = rng.choice(techs)
        skill = rng.choice(sorted(model_tech.skills))
        level = rng.randint(1, model_tech.skills[skill])
        preferred = (rng.choice(techs).id,) if rng.random() < PREFERRED_SHARE else ()
        pinned = model_tech.id if pinned_share and rng.random() < pinned_share else None
        out.append(
            Job(
                id=f"J{j:04d}",
                location=_point(rng, rng.choice(parks), SITE_SPREAD_DEG),
                service_minutes=service,
                windows=_windows(rng, day_start, service),
                skills={skill: level},
                priority=priority,
                sla_due=sla,
                preferred_technicians=preferred,
                pinned_technician=pinned,
                account_id=f"A{rng.randrange(ACCOUNTS):03d}",
            )
        )
    return Problem(jobs=out, technicians=techs)
