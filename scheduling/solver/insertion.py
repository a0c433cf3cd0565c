"""Insert one urgent job into an accepted plan with as few moves as possible.

1. Every accepted job stays pinned to its technician-day.
2. For each technician-day that may serve the new job, a tiny model of just that
   route plus the new job decides where it goes and which (lowest-priority) visits,
   if any, must leave; the cheapest disruption wins.
3. The full model, warm-started from the result, re-checks every constraint and
   polishes briefly; displaced jobs may land on any technician there.
"""

from __future__ import annotations

import time
from dataclasses import replace

from .instance import Instance, compile_problem, drop_penalties
from .model import Job, Plan, Problem, SolveParams
from .planner import build_plan, run_ortools, solve
from .reasons import unplaced

INSERT_TIME_LIMIT_S = 1.0
ROUTE_MODEL_LIMIT_S = 0.03  # a single route: a handful of nodes


def insert_job(
    problem: Problem,
    accepted_plan: Plan,
    new_job: Job,
    params: SolveParams | None = None,
) -> tuple[Plan, int]:
    """Return the new plan and how many accepted jobs changed technician-day or were dropped.

    Jobs the accepted plan left unplaced stay unplaced with their reasons.
    """
    params = params or SolveParams(time_limit_s=INSERT_TIME_LIMIT_S, engine="ortools")
    began = time.perf_counter()
    where = accepted_plan.job_route()
    kept = [job for job in problem.jobs if job.id in where]
    inst = compile_problem(replace(problem, jobs=[*kept, new_job]))
    # A technician-day that is no vehicle at all (its empty route no longer fits the shift:
    # the technician is far from home) keeps its accepted jobs as they are, reported as out
    # of reach, like the jobs below.
    stranded = [job for job in kept if _slot_of(inst, where[job.id]) is None]
    if stranded:
        kept = [job for job in kept if job not in stranded]
        inst = compile_problem(replace(problem, jobs=[*kept, new_job]))
    node_of = {job.id: n for n, job in enumerate(inst.jobs)}
    slot_of_vehicle = [
        (inst.problem.technicians[veh.tech_index].id, veh.shift_index) for veh in inst.vehicles
    ]
    vehicle_of = {slot: v for v, slot in enumerate(slot_of_vehicle)}
    # An accepted job the model cannot take even alone (a dispatcher's plan, or the day gone
    # on: its window is now out of reach from the technician's start) is not in the instance.
    # It is reported with its reason and stays as it is: out of the warm start and of the
    # moves, and its technician-day takes no other job, which the model would time as if the
    # day were free around it.
    blocked = {slot for job_id, slot in where.items() if job_id not in node_of}
    where = {job_id: slot for job_id, slot in where.items() if job_id in node_of}
    warm: list[list[int]] = [[] for _ in inst.vehicles]
    for route in accepted_plan.routes:
        slot = (route.technician_id, route.shift_index)
        if slot in vehicle_of:
            warm[vehicle_of[slot]] = [
                node_of[visit.job_id] for visit in route.visits if visit.job_id in where
            ]

    def unblocked(node: int) -> list[int]:
        return [v for v in inst.allowed[node] if slot_of_vehicle[v] not in blocked]

    displaced: set[int] = set()
    if new_job.id in node_of:
        inst.allowed[node_of[new_job.id]] = unblocked(node_of[new_job.id])
        choice = _best_route(inst, warm, node_of[new_job.id], params)
        if choice is not None:
            v, sequence = choice
            displaced = set(warm[v]) - set(sequence)
            warm[v] = sequence
    for node, job in enumerate(inst.jobs):
        if job.id in where and node not in displaced:
            inst.allowed[node] = [v for v in inst.allowed[node] if slot_of_vehicle[v] == where[job.id]]
        else:  # the new job and the ones it displaced
            inst.allowed[node] = unblocked(node)
    remaining = params.time_limit_s - (time.perf_counter() - began)
    solved = run_ortools(inst, params, remaining, warm)
    plan = build_plan(inst, solved, "ortools insert", began, params.weights)
    plan.unplaced += [
        unplaced(job, "unreachable_in_window", service_minutes=job.service_minutes) for job in stranded
    ]
    plan.unplaced += [u for u in accepted_plan.unplaced if u.job_id != new_job.id]
    plan.kpis = replace(plan.kpis, unplaced=len(plan.unplaced))
    after = plan.job_route()
    moved = sum(1 for job_id, slot in where.items() if after.get(job_id) != slot)
    return plan, moved


def _slot_of(inst: Instance, slot: tuple[str, int]) -> int | None:
    """The vehicle of a (technician id, shift index), or None if that day is no vehicle."""
    techs = inst.problem.technicians
    return next(
        (v for v, veh in enumerate(inst.vehicles) if (techs[veh.tech_index].id, veh.shift_index) == slot),
        None,
    )


def _best_route(
    inst: Instance, warm: list[list[int]], new_node: int, params: SolveParams
) -> tuple[int, list[int]] | None:
    """(vehicle, new node sequence) disturbing the accepted plan least, or None."""
    penalties = drop_penalties(inst, params.weights)
    techs = inst.problem.technicians
    new_job = inst.jobs[new_node]
    best: tuple[tuple[int, int], int, list[int]] | None = None
    for v in inst.allowed[new_node]:
        vehicle = inst.vehicles[v]
        tech = techs[vehicle.tech_index]
        shift = tech.shifts[vehicle.shift_index]
        route_jobs = [inst.jobs[n] for n in warm[v]]
        sub = replace(
            inst.problem,
            jobs=[*route_jobs, new_job],
            technicians=[replace(tech, shifts=(shift,))],
        )
        sub_params = replace(params, time_limit_s=ROUTE_MODEL_LIMIT_S, engine="ortools")
        sub_plan = solve(sub, sub_params)
        if not sub_plan.routes:
            continue
        sequence_ids = [visit.job_id for visit in sub_plan.routes[0].visits]
        if new_job.id not in sequence_ids:
            continue
        node_by_id = {inst.jobs[n].id: n for n in [*warm[v], new_node]}
        sequence = [node_by_id[job_id] for job_id in sequence_ids]
        lost = sum(penalties[n] for n in warm[v] if n not in sequence)
        score = (lost, sub_plan.stats.objective or 0)
        if best is None or score < best[0]:
            best = (score, v, sequence)
    return None if best is None else (best[1], best[2])
