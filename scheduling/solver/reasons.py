"""Why a job cannot be placed: pre-checks run before the model is built.

A job that survives these checks has at least one technician-day on which it
fits alone; if the solver still drops it, the reason is ``capacity``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import Job, ReasonCode, Shift, Technician, Unplaced

Interval = tuple[int, int]

MESSAGES: dict[ReasonCode, str] = {
    "no_skilled_technician": "No technician has the required skills{detail}.",
    "outside_all_shifts": (
        "None of the job's time windows leaves room for its {service} min of service "
        "inside a shift of a qualified technician."
    ),
    "unreachable_in_window": (
        "No qualified technician can travel there, do the {service} min of service "
        "inside a time window and get back before the shift ends."
    ),
    "capacity": (
        "Dropped to make room for higher-priority work: no qualified technician "
        "had enough time left in the day."
    ),
}


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


@dataclass(frozen=True)
class VehicleView:
    """What the pre-checks need to know about one technician-day."""

    tech_index: int
    shift_index: int
    shift: Shift
    travel_out: int  # minutes from the start location to the job
    travel_back: int  # minutes from the job to the end location


def unplaced(job: Job, reason: ReasonCode, detail: str = "") -> Unplaced:
    text = MESSAGES[reason].format(service=job.service_minutes, detail=detail)
    return Unplaced(job_id=job.id, reason=reason, message=text)


def diagnose(
    job: Job, technicians: list[Technician], vehicles: list[VehicleView]
) -> tuple[list[int], Unplaced | None]:
    """Return the indices into ``vehicles`` that can serve ``job`` alone, or a reason."""
    qualified = {
        t
        for t, tech in enumerate(technicians)
        if has_skills(job, tech) and job.pinned_technician in (None, tech.id)
    }
    if not qualified:
        detail = f" ({_skills_text(job)})" if job.skills else ""
        if job.pinned_technician is not None:
            detail += f"; pinned to {job.pinned_technician}"
        return [], unplaced(job, "no_skilled_technician", detail)
    in_shift: list[tuple[int, list[Interval]]] = []
    for v, view in enumerate(vehicles):
        if view.tech_index not in qualified:
            continue
        if job.pinned_day is not None and view.shift.day != job.pinned_day:
            continue
        spans = start_intervals(job, view.shift)
        if spans:
            in_shift.append((v, spans))
    if not in_shift:
        return [], unplaced(job, "outside_all_shifts")
    reachable = []
    for v, spans in in_shift:
        view = vehicles[v]
        start = earliest_start(spans, view.shift.start + view.travel_out)
        if start is not None and start + job.service_minutes + view.travel_back <= view.shift.end:
            reachable.append(v)
    if not reachable:
        return [], unplaced(job, "unreachable_in_window")
    return reachable, None


def _skills_text(job: Job) -> str:
    return ", ".join(f"{skill} level {level}" for skill, level in sorted(job.skills.items()))
