"""Compile a :class:`Problem` into integer arrays shared by every engine.

Node layout: one node per candidate job (``0..n_jobs-1``), then one start and
one end node per technician. Each technician-day (shift) is a vehicle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import PRIORITIES, Job, Problem, Shift, Unplaced, Weights, break_window_for_shift
from .reasons import VehicleView, diagnose, start_intervals
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
    for tech in problem.technicians:
        if any(shift.end < shift.start for shift in tech.shifts):
            raise ValueError(f"technician {tech.id}: shift ends before it starts")


def compile_problem(problem: Problem) -> Instance:
    validate(problem)
    techs = problem.technicians
    n_all = len(problem.jobs)
    locations = [j.location for j in problem.jobs]
    for tech in techs:
        locations += [tech.start_location, tech.end_location]
    minutes_all, km_all = provider_for(problem.travel).matrices(locations)

    vehicles_all: list[tuple[int, int]] = [
        (t, s) for t, tech in enumerate(techs) for s in range(len(tech.shifts))
    ]
    candidates: list[int] = []
    allowed: list[list[int]] = []
    pre_unplaced: list[Unplaced] = []
    for j, job in enumerate(problem.jobs):
        views = [
            VehicleView(
                tech_index=t,
                shift_index=s,
                shift=techs[t].shifts[s],
                travel_out=int(minutes_all[n_all + 2 * t, j]),
                travel_back=int(minutes_all[j, n_all + 2 * t + 1]),
            )
            for t, s in vehicles_all
        ]
        ok, reason = diagnose(job, techs, views)
        if reason is not None:
            pre_unplaced.append(reason)
        else:
            candidates.append(j)
            allowed.append(ok)

    keep = candidates + list(range(n_all, n_all + 2 * len(techs)))
    minutes = minutes_all[np.ix_(keep, keep)]
    km = km_all[np.ix_(keep, keep)]
    n_jobs = len(candidates)
    vehicles = [
        Vehicle(
            tech_index=t,
            shift_index=s,
            start=techs[t].shifts[s].start,
            end=techs[t].shifts[s].end,
            start_node=n_jobs + 2 * t,
            end_node=n_jobs + 2 * t + 1,
            break_window=break_window_for_shift(techs[t].lunch, techs[t].shifts[s]),
            capacity=techs[t].capacity,
        )
        for t, s in vehicles_all
    ]
    jobs = [problem.jobs[j] for j in candidates]
    spans = [_union_spans(job, [vehicles[v] for v in allowed[i]]) for i, job in enumerate(jobs)]
    service = [job.service_minutes for job in jobs] + [0] * (2 * len(techs))
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
