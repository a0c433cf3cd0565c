"""Compile a :class:`Problem` into integer arrays shared by every engine.

Node layout: one node per candidate job (``0..n_jobs-1``), then the depots the vehicles
use: each technician's end (home) and each distinct start (home, or today's live position).
Each technician-day (shift) whose empty route fits the shift is a vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import PRIORITIES, Job, Problem, Shift, Unplaced, Weights, break_window_for_shift
from .reasons import VehicleView, diagnose, schedule, start_intervals, unplaced
from .travel import FloatMatrix, IntMatrix, provider_for


@dataclass(frozen=True)
class Vehicle:
    tech_index: int
    shift_index: int
    start: int
    end: int
    start_node: int
    end_node: int
    break_window: tuple[int, int, int] | None
    capacity: int | None


@dataclass
class Instance:
    problem: Problem
    jobs: list[Job]  # candidate jobs, node i <-> jobs[i]
    vehicles: list[Vehicle]
    allowed: list[list[int]]  # node -> vehicle indices that may serve it
    start_spans: list[list[tuple[int, int]]]  # node -> allowed service starts (union)
    minutes: IntMatrix
    km: FloatMatrix
    service: list[int]  # per node, 0 for depots
    pre_unplaced: list[Unplaced]

    @property
    def n_jobs(self) -> int:
        return len(self.jobs)

    @property
    def n_nodes(self) -> int:
        return int(self.minutes.shape[0])

    @property
    def horizon(self) -> int:
        return max((v.end for v in self.vehicles), default=0)


def validate(problem: Problem) -> None:
    """Reject input the model cannot represent, with a message naming the culprit."""
    job_ids = [job.id for job in problem.jobs]
    if len(set(job_ids)) != len(job_ids):
        raise ValueError("job ids must be unique")
    tech_ids = [tech.id for tech in problem.technicians]
    if len(set(tech_ids)) != len(tech_ids):
        raise ValueError("technician ids must be unique")
    for job in problem.jobs:
        if job.priority not in PRIORITIES:
            raise ValueError(f"job {job.id}: priority must be one of {PRIORITIES}")
        if job.service_minutes < 0 or any(w.end < w.start for w in job.windows):
            raise ValueError(f"job {job.id}: negative service time or reversed window")
        if job.pinned_position is not None and job.pinned_position < 0:
            raise ValueError(f"job {job.id}: negative pinned position")
    for tech in problem.technicians:
        if any(shift.end < shift.start for shift in tech.shifts):
            raise ValueError(f"technician {tech.id}: shift ends before it starts")
        if any(shift.start < 0 for shift in tech.shifts):
            raise ValueError(f"technician {tech.id}: shift starts before the horizon")


def compile_problem(problem: Problem) -> Instance:
    validate(problem)
    techs = problem.technicians
    n_all = len(problem.jobs)
    # Locations: the jobs, each technician's start and end, then the shifts that start
    # elsewhere (today's shift from the live position).
    locations = [j.location for j in problem.jobs]
    for tech in techs:
        locations += [tech.start_location, tech.end_location]
    start_of: dict[tuple[int, int], int] = {}
    for t, tech in enumerate(techs):
        for s, shift in enumerate(tech.shifts):
            if shift.start_location is None:
                start_of[(t, s)] = n_all + 2 * t
            else:
                start_of[(t, s)] = len(locations)
                locations.append(shift.start_location)
    minutes_all, km_all = provider_for(problem.travel).matrices(locations)

    # Every technician-day, and whether its empty route fits its shift. One that does not
    # (the drive home from where it starts, with lunch, is longer than the shift) cannot
    # take any job: it stays out of the model, which would otherwise be infeasible as a
    # whole. The pre-checks see it, so a job only it could serve is reported as
    # unreachable_in_window (a job alone never fits where the empty route does not).
    all_views: list[tuple[int, int, int, int, tuple[int, int, int] | None]] = []
    usable: list[bool] = []
    for t, tech in enumerate(techs):
        for s, shift in enumerate(tech.shifts):
            start, end = start_of[(t, s)], n_all + 2 * t + 1
            lunch = break_window_for_shift(tech.lunch, shift)
            all_views.append((t, s, start, end, lunch))
            usable.append(schedule(shift, lunch, [], int(minutes_all[start, end])) is not None)
    vehicle_of = {a: v for v, a in enumerate(a for a, ok in enumerate(usable) if ok)}
    views = [view for view, ok in zip(all_views, usable, strict=True) if ok]

    candidates: list[int] = []
    allowed: list[list[int]] = []
    pre_unplaced: list[Unplaced] = []
    for j, job in enumerate(problem.jobs):
        job_views = [
            VehicleView(
                tech_index=t,
                shift_index=s,
                shift=techs[t].shifts[s],
                lunch=lunch,
                travel_out=int(minutes_all[start, j]),
                travel_back=int(minutes_all[j, end]),
            )
            for t, s, start, end, lunch in all_views
        ]
        ok, reason = diagnose(job, techs, job_views)
        ok = [vehicle_of[a] for a in ok if a in vehicle_of]
        if reason is None and not ok:
            reason = unplaced(job, "unreachable_in_window", service_minutes=job.service_minutes)
        if reason is not None:
            pre_unplaced.append(reason)
        else:
            candidates.append(j)
            allowed.append(ok)

    depots = sorted({start for _, _, start, _, _ in views} | {end for _, _, _, end, _ in views})
    keep = candidates + depots
    node_of = {location: node for node, location in enumerate(keep)}
    minutes = minutes_all[np.ix_(keep, keep)]
    km = km_all[np.ix_(keep, keep)]
    vehicles = [
        Vehicle(
            tech_index=t,
            shift_index=s,
            start=techs[t].shifts[s].start,
            end=techs[t].shifts[s].end,
            start_node=node_of[start],
            end_node=node_of[end],
            break_window=lunch,
            capacity=techs[t].capacity,
        )
        for t, s, start, end, lunch in views
    ]
    jobs = [problem.jobs[j] for j in candidates]
    spans = [_union_spans(job, [vehicles[v] for v in allowed[i]]) for i, job in enumerate(jobs)]
    service = [job.service_minutes for job in jobs] + [0] * len(depots)
    return Instance(
        problem=problem,
        jobs=jobs,
        vehicles=vehicles,
        allowed=allowed,
        start_spans=spans,
        minutes=minutes,
        km=km,
        service=service,
        pre_unplaced=pre_unplaced,
    )


def _union_spans(job: Job, vehicles: list[Vehicle]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    raw = sorted(span for v in vehicles for span in start_intervals(job, Shift(v.start, v.end)))
    for lo, hi in raw:
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def drop_penalties(inst: Instance, weights: Weights) -> list[int]:
    """Per-node drop penalty; P1's exceeds every other possible cost combined.

    Travel is bounded by the total shift length (travel consumes shift time),
    lateness by the horizon per job, preference costs by one bonus per job.
    """
    others = [weights.drop_penalty[job.priority - 1] for job in inst.jobs if job.priority != 1]
    travel_bound = weights.travel_per_minute * sum(v.end - v.start for v in inst.vehicles)
    lateness_bound = sum(
        weights.lateness_per_minute[job.priority - 1] * inst.horizon
        for job in inst.jobs
        if job.sla_due is not None
    )
    affinity_bound = weights.preferred_bonus * inst.n_jobs
    p1 = 1 + sum(others) + travel_bound + lateness_bound + affinity_bound
    return [p1 if job.priority == 1 else weights.drop_penalty[job.priority - 1] for job in inst.jobs]
