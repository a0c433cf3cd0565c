"""``solve``: the engine boundary, and assembly of the Plan from the engine's routes."""

from __future__ import annotations

import time

from .instance import Instance, compile_problem
from .model import (
    STATUS_NO_JOBS,
    STATUS_NO_SOLUTION,
    Kpis,
    Plan,
    Problem,
    ReasonCode,
    Route,
    SolveParams,
    SolverStats,
    Unplaced,
    Visit,
    Weights,
)
from .ortools_engine import Solved, build_model, solve_model
from .reasons import Timing, unplaced
from .repair import place_dropped
from .warmstart import expressible, pyvrp_routes

# Below this share of the limit, a PyVRP warm start is not worth its setup.
MIN_WARM_START_SECONDS = 0.5


def solve(problem: Problem, params: SolveParams | None = None) -> Plan:
    """Plan ``problem``. Engines: ``ortools``; ``pyvrp+ortools`` (PyVRP routes warm-start
    OR-Tools, which enforces every constraint); ``auto`` picks ``pyvrp+ortools`` when
    PyVRP models the instance exactly (pure VRPTW), else ``ortools``."""
    params = params or SolveParams()
    began = time.perf_counter()
    inst = compile_problem(problem)
    engine = params.engine
    if engine == "auto":
        engine = "pyvrp+ortools" if expressible(inst) else "ortools"
    warm: list[list[int]] | None = None
    warm_seconds = params.time_limit_s * params.warm_start_share
    if engine == "pyvrp+ortools" and warm_seconds >= MIN_WARM_START_SECONDS:
        warm = pyvrp_routes(inst, params.weights, warm_seconds, params.seed)
    remaining = params.time_limit_s - (time.perf_counter() - began)
    solved = run_ortools(inst, params, remaining, warm)
    return build_plan(inst, solved, engine, began, params.weights)


def run_ortools(
    inst: Instance,
    params: SolveParams,
    seconds: float,
    warm: list[list[int]] | None,
) -> Solved | None:
    """Build and run the OR-Tools model (None when there is nothing to route)."""
    if inst.n_jobs == 0:
        return None
    affinity = preference_affinity(inst, params.weights.preferred_bonus)
    model = build_model(inst, params.weights, affinity)
    return solve_model(model, seconds, warm, params.log)


def preference_affinity(inst: Instance, bonus: int) -> list[list[int]]:
    """Cost ``bonus`` for serving a job with preferences by a non-preferred technician
    (the same as a discount for the preferred ones, up to a constant).

    A job none of whose allowed technician-days is preferred (its preferred technicians are
    off, elsewhere or unqualified) costs nothing extra anywhere: the preference cannot be
    met, and in OR-Tools 9.15 a job that costs extra on every vehicle of a per-vehicle
    dimension can no longer be left unperformed, which made whole days infeasible.
    """
    techs = inst.problem.technicians
    tech_ids = [techs[vehicle.tech_index].id for vehicle in inst.vehicles]
    rows = [[0] * inst.n_nodes for _ in inst.vehicles]
    for node, job in enumerate(inst.jobs):
        if not job.preferred_technicians:
            continue
        if not any(tech_ids[v] in job.preferred_technicians for v in inst.allowed[node]):
            continue
        for v, tech_id in enumerate(tech_ids):
            if tech_id not in job.preferred_technicians:
                rows[v][node] = bonus
    return rows


def build_plan(
    inst: Instance,
    solved: Solved | None,
    engine: str,
    began: float,
    weights: Weights | None = None,
) -> Plan:
    """Assemble the Plan; ``began`` is the caller's ``time.perf_counter()`` at its start.

    Jobs the search left out are first fitted into the final routes where they still fit
    (``repair.place_dropped``); what is left is ``capacity``. Without a solution (the engine
    found none) nothing is planned and the jobs it had are reported as ``no_plan``.
    """
    techs = inst.problem.technicians
    sequences = [list(route) for route in solved.routes] if solved is not None else []
    retimed = place_dropped(inst, sequences, weights or Weights()) if solved is not None else {}
    routes: list[Route] = []
    placed: set[int] = set()
    lateness = 0
    for v, vehicle in enumerate(inst.vehicles):
        if solved is None or not sequences[v]:
            continue
        tech = techs[vehicle.tech_index]
        timing = retimed.get(v) or _engine_timing(inst, solved, v)
        visits = []
        prev_node = vehicle.start_node
        for node, arrival, start in zip(sequences[v], timing.arrivals, timing.starts, strict=True):
            job = inst.jobs[node]
            end = start + job.service_minutes
            travel = int(inst.minutes[prev_node, node])
            visits.append(Visit(job.id, arrival, start, end, travel, float(inst.km[prev_node, node])))
            if job.sla_due is not None:
                lateness += max(0, end - job.sla_due)
            placed.add(node)
            prev_node = node
        routes.append(
            Route(
                technician_id=tech.id,
                day=vehicle_day(inst, v),
                shift_index=vehicle.shift_index,
                departure=timing.departure,
                return_time=timing.return_time,
                visits=visits,
                break_start=timing.break_start,
                return_travel_minutes=int(inst.minutes[prev_node, vehicle.end_node]),
                return_travel_km=float(inst.km[prev_node, vehicle.end_node]),
            )
        )
    left_out: ReasonCode = "capacity" if solved is not None else "no_plan"
    dropped = [unplaced(job, left_out) for n, job in enumerate(inst.jobs) if n not in placed]
    all_unplaced: list[Unplaced] = inst.pre_unplaced + dropped
    kpis = Kpis(
        travel_minutes=sum(r.travel_minutes for r in routes),
        travel_km=sum(r.travel_km for r in routes),
        lateness_minutes=lateness,
        placed=len(placed),
        unplaced=len(all_unplaced),
    )
    rejected = solved is not None and "+" in engine and not solved.warm_start_accepted
    label = f"{engine} (warm start rejected)" if rejected else engine
    stats = SolverStats(
        engine=label,
        seconds=time.perf_counter() - began,
        first_solution_seconds=(
            None if solved is None or solved.first_solution_at is None else solved.first_solution_at - began
        ),
        objective=None if solved is None else solved.objective,
        status=STATUS_NO_JOBS
        if solved is None and inst.n_jobs == 0
        else (STATUS_NO_SOLUTION if solved is None else solved.status),
        repaired=0 if solved is None else len(placed) - sum(len(route) for route in solved.routes),
    )
    return Plan(routes=routes, unplaced=all_unplaced, kpis=kpis, stats=stats)


def _engine_timing(inst: Instance, solved: Solved, v: int) -> Timing:
    """The engine's own times for vehicle ``v``; arrivals as the drive (and lunch, when it
    falls in that gap) after the previous visit."""
    vehicle = inst.vehicles[v]
    break_start = solved.break_starts[v]
    arrivals = []
    prev_node, prev_end = vehicle.start_node, solved.departures[v]
    for node, start in zip(solved.routes[v], solved.starts[v], strict=True):
        travel = int(inst.minutes[prev_node, node])
        arrivals.append(prev_end + travel + _break_in_gap(inst, v, break_start, prev_end, start))
        prev_node, prev_end = node, start + inst.jobs[node].service_minutes
    return Timing(solved.departures[v], arrivals, solved.starts[v], solved.returns[v], break_start, None)


def vehicle_day(inst: Instance, v: int) -> int:
    vehicle = inst.vehicles[v]
    return inst.problem.technicians[vehicle.tech_index].shifts[vehicle.shift_index].day


def _break_in_gap(inst: Instance, v: int, break_start: int | None, gap_from: int, gap_to: int) -> int:
    window = inst.vehicles[v].break_window
    if break_start is None or window is None:
        return 0
    return window[2] if gap_from <= break_start < gap_to else 0
