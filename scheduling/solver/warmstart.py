"""PyVRP as a warm start for OR-Tools (same integer matrices for both).

PyVRP cannot express skills, multiple windows, breaks, pins or SLA costs; it
sees a relaxation (hull of each job's start windows, any vehicle). OR-Tools
then either accepts its routes as a start or rejects them and constructs its
own. ``expressible`` says when the relaxation is exact.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import numpy as np
import pyvrp
from pyvrp.stop import MaxRuntime

from .instance import Instance, drop_penalties
from .model import Weights

LARGE_CAPACITY = 10**9


def expressible(inst: Instance) -> bool:
    """True when PyVRP's model of ``inst`` has exactly OR-Tools' constraints."""
    every_vehicle = len(inst.vehicles)
    return all(
        len(inst.allowed[n]) == every_vehicle
        and len(inst.start_spans[n]) == 1
        and job.sla_due is None
        and job.pinned_technician is None
        and job.pinned_day is None
        and job.pinned_position is None
        and not job.preferred_technicians
        for n, job in enumerate(inst.jobs)
    ) and all(v.break_window is None for v in inst.vehicles)


def pyvrp_routes(inst: Instance, weights: Weights, seconds: float, seed: int = 0) -> list[list[int]] | None:
    """Solve the relaxation with PyVRP; node routes indexed like ``inst.vehicles``."""
    if inst.n_jobs == 0:
        return None
    n_jobs = inst.n_jobs
    depot_nodes = sorted({v.start_node for v in inst.vehicles} | {v.end_node for v in inst.vehicles})
    depot_of = {node: d for d, node in enumerate(depot_nodes)}
    order = depot_nodes + list(range(n_jobs))  # pyvrp location order: depots first
    locations = [pyvrp.Location(x=0, y=0) for _ in order]
    with_load = any(v.capacity is not None for v in inst.vehicles)
    penalties = drop_penalties(inst, weights)
    clients = []
    for node, job in enumerate(inst.jobs):
        spans = inst.start_spans[node]
        clients.append(
            pyvrp.Client(
                location=len(depot_nodes) + node,
                delivery=[job.demand] if with_load else [],
                service_duration=job.service_minutes,
                tw_early=spans[0][0],
                tw_late=spans[-1][1],
                prize=penalties[node],
                required=job.priority == 1,
            )
        )
    depots = [pyvrp.Depot(location=d) for d in range(len(depot_nodes))]
    groups: dict[tuple[int, int, int, int, int | None], list[int]] = defaultdict(list)
    for v, veh in enumerate(inst.vehicles):
        groups[(veh.start_node, veh.end_node, veh.start, veh.end, veh.capacity)].append(v)
    vehicle_types = []
    members = []
    for (start_node, end_node, start, end, capacity), vs in groups.items():
        cap = [LARGE_CAPACITY if capacity is None else capacity] if with_load else []
        vehicle_types.append(
            pyvrp.VehicleType(
                num_available=len(vs),
                capacity=cap,
                start_depot=depot_of[start_node],
                end_depot=depot_of[end_node],
                tw_early=start,
                tw_late=end,
            )
        )
        members.append(vs)
    minutes = inst.minutes[np.ix_(order, order)].astype(np.int64)
    cost = minutes * weights.travel_per_minute
    # pyvrp's stubs spell int64 matrices as ndarray[int]
    data = pyvrp.ProblemData(locations, clients, depots, vehicle_types, [cost], [minutes])  # type: ignore[list-item]
    result = pyvrp.solve(data, MaxRuntime(seconds), seed=seed, collect_stats=False, display=False)
    best = result.best
    if not best.is_feasible():
        return None
    routes: list[list[int]] = [[] for _ in inst.vehicles]
    next_free = [0] * len(members)
    for route in best.routes():
        vt = route.vehicle_type()
        vehicle = members[vt][next_free[vt]]
        next_free[vt] += 1
        routes[vehicle] = [a.idx for a in route if a.is_client()]
    return routes


def vroom_routes(inst: Instance, seconds: float, exploration_level: int = 5) -> list[list[int]]:
    """VROOM on the same integer matrix (windows, capacity, shifts; no skills/breaks).

    Used by the benchmark to compare engines side by side.
    """
    import vroom  # imported lazily: only the benchmark needs it

    problem = vroom.Input()
    problem.set_durations_matrix(profile="car", matrix_input=inst.minutes.astype(np.uint32))
    with_load = any(v.capacity is not None for v in inst.vehicles)
    for v, veh in enumerate(inst.vehicles):
        capacity = [LARGE_CAPACITY if veh.capacity is None else veh.capacity] if with_load else []
        problem.add_vehicle(
            vroom.Vehicle(
                v,
                start=veh.start_node,
                end=veh.end_node,
                capacity=capacity,
                time_window=vroom.TimeWindow(veh.start, veh.end),
            )
        )
    for node, job in enumerate(inst.jobs):
        problem.add_job(
            vroom.Job(
                node,
                location=node,
                default_service=job.service_minutes,
                delivery=[job.demand] if with_load else [],
                time_windows=[vroom.TimeWindow(lo, hi) for lo, hi in inst.start_spans[node]],
            )
        )
    solution = problem.solve(
        exploration_level=exploration_level,
        nb_threads=1,
        timeout=timedelta(seconds=seconds),
    )
    routes: list[list[int]] = [[] for _ in inst.vehicles]
    steps = solution.routes
    for vehicle_id, step_type, job_id in zip(steps["vehicle_id"], steps["type"], steps["id"], strict=True):
        if step_type == "job":
            routes[int(vehicle_id)].append(int(job_id))
    return routes
