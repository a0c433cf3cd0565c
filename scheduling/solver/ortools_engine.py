"""OR-Tools routing model: enforces every field-service constraint."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass

from ortools.constraint_solver import (
    pywrapcp,
    routing_enums_pb2,
    routing_heuristic_parameters_pb2,
    routing_parameters_pb2,
)

from .instance import Instance, drop_penalties
from .model import Weights

TIME_DIMENSION = "Time"
LOAD_DIMENSION = "Load"
POSITION_DIMENSION = "Position"
AFFINITY_DIMENSION = "Affinity"
UNLIMITED_CAPACITY = 10**9
AFFINITY_CAP = 10**12
MIN_SEARCH_SECONDS = 0.05
BOOL_TRUE = 3  # OptionalBoolean.BOOL_TRUE
FIRST_SOLUTION_CAP_S = 300.0  # safety net only; construction normally takes seconds
_SORTING = routing_heuristic_parameters_pb2.LocalCheapestInsertionParameters.InsertionSortingProperty
SORT_BY_PENALTY = _SORTING.Value("SORTING_PROPERTY_PENALTY")
SORT_BY_ALLOWED_VEHICLES = _SORTING.Value("SORTING_PROPERTY_ALLOWED_VEHICLES")

STATUS_NAMES = {
    value.number: value.name.removeprefix("ROUTING_")
    for value in routing_enums_pb2.RoutingSearchStatus.DESCRIPTOR.enum_types_by_name["Value"].values
}


@dataclass
class RoutingModel:
    inst: Instance
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time: pywrapcp.RoutingDimension
    breaks: dict[int, pywrapcp.IntervalVar]


@dataclass
class Solved:
    """Raw OR-Tools result: node sequences and times per vehicle."""

    routes: list[list[int]]  # node indices per vehicle
    starts: list[list[int]]  # service start per visit
    departures: list[int]
    returns: list[int]
    break_starts: list[int | None]
    objective: int
    status: str
    first_solution_at: float | None  # time.perf_counter() of the first solution
    warm_start_accepted: bool = False


def build_model(inst: Instance, weights: Weights, affinity: list[list[int]] | None = None) -> RoutingModel:
    """Build the routing model.

    ``affinity[v][node]`` is an extra cost for serving ``node`` with vehicle ``v``
    (a technician the job does not prefer).
    """
    starts = [v.start_node for v in inst.vehicles]
    ends = [v.end_node for v in inst.vehicles]
    manager = pywrapcp.RoutingIndexManager(inst.n_nodes, len(inst.vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()

    cost = (inst.minutes * weights.travel_per_minute).tolist()
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost))
    transit = (inst.minutes + [[s] for s in inst.service]).tolist()
    horizon = inst.horizon
    routing.AddDimension(routing.RegisterTransitMatrix(transit), horizon, horizon, False, TIME_DIMENSION)
    time_dim = routing.GetDimensionOrDie(TIME_DIMENSION)

    for v, vehicle in enumerate(inst.vehicles):
        time_dim.CumulVar(routing.Start(v)).SetRange(vehicle.start, vehicle.end)
        time_dim.CumulVar(routing.End(v)).SetRange(vehicle.start, vehicle.end)

    penalties = drop_penalties(inst, weights)
    for node, job in enumerate(inst.jobs):
        index = manager.NodeToIndex(node)
        spans = inst.start_spans[node]
        cumul = time_dim.CumulVar(index)
        cumul.SetRange(spans[0][0], spans[-1][1])
        for (_, hi), (lo, _) in itertools.pairwise(spans):
            cumul.RemoveInterval(hi + 1, lo - 1)
        routing.VehicleVar(index).SetValues([-1, *inst.allowed[node]])
        routing.AddDisjunction([index], penalties[node])
        if job.sla_due is not None:
            weight = weights.lateness_per_minute[job.priority - 1]
            latest_on_time_start = max(0, job.sla_due - job.service_minutes)
            time_dim.SetCumulVarSoftUpperBound(index, latest_on_time_start, weight)

    if any(v.capacity is not None for v in inst.vehicles):
        demand = [job.demand for job in inst.jobs] + [0] * (inst.n_nodes - inst.n_jobs)
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(demand),
            0,
            [UNLIMITED_CAPACITY if v.capacity is None else v.capacity for v in inst.vehicles],
            True,
            LOAD_DIMENSION,
        )

    positions = [(node, job.pinned_position) for node, job in enumerate(inst.jobs)]
    if any(position is not None for _, position in positions):
        # Cumul = number of jobs visited before this one on its route.
        # The capacity covers every pinned position, so a position no route can reach makes
        # that job unplaceable instead of the model infeasible.
        ones = [1] * inst.n_jobs + [0] * (inst.n_nodes - inst.n_jobs)
        most = max([inst.n_jobs, *(position for _, position in positions if position is not None)])
        routing.AddDimension(routing.RegisterUnaryTransitVector(ones), 0, most, True, POSITION_DIMENSION)
        position_dim = routing.GetDimensionOrDie(POSITION_DIMENSION)
        for node, position in positions:
            if position is not None:
                position_dim.CumulVar(manager.NodeToIndex(node)).SetValue(position)

    visit_transits = [inst.service[manager.IndexToNode(i)] for i in range(routing.Size())]
    breaks: dict[int, pywrapcp.IntervalVar] = {}
    for v, vehicle in enumerate(inst.vehicles):
        if vehicle.break_window is None:
            continue
        earliest, latest, duration = vehicle.break_window
        interval = solver.FixedDurationIntervalVar(earliest, latest, duration, False, f"b{v}")
        time_dim.SetBreakIntervalsOfVehicle([interval], v, visit_transits)
        breaks[v] = interval

    if affinity is not None and any(any(row) for row in affinity):
        cache: dict[tuple[int, ...], int] = {}
        evaluators = []
        for row in affinity:
            key = tuple(row)
            if key not in cache:
                cache[key] = routing.RegisterUnaryTransitVector(list(row))
            evaluators.append(cache[key])
        routing.AddDimensionWithVehicleTransits(evaluators, 0, AFFINITY_CAP, True, AFFINITY_DIMENSION)
        routing.GetDimensionOrDie(AFFINITY_DIMENSION).SetSpanCostCoefficientForAllVehicles(1)

    for v in range(len(inst.vehicles)):
        # Leave home as late as the plan allows instead of waiting at the first site.
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(v)))
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.End(v)))
    return RoutingModel(inst, manager, routing, time_dim, breaks)


def search_parameters(
    time_limit_s: float, by_penalty: bool = False, log: bool = False
) -> routing_parameters_pb2.RoutingSearchParameters:
    """GLS after a cheapest-insertion start.

    ``by_penalty``: insert jobs in decreasing drop penalty (LOCAL_CHEAPEST_INSERTION
    sorted by penalty). Measured on the generated 400x40 day (10 s):
    PARALLEL_CHEAPEST_INSERTION left 5-14 placeable P1 jobs unplaced (no room left
    when they were reached); the penalty order placed every P1 and P2. With equal
    penalties (Solomon) PARALLEL_CHEAPEST_INSERTION is kept.
    """
    params = pywrapcp.DefaultRoutingSearchParameters()
    strategies = routing_enums_pb2.FirstSolutionStrategy
    if by_penalty:
        params.first_solution_strategy = strategies.LOCAL_CHEAPEST_INSERTION
        params.local_cheapest_insertion_parameters.insertion_sorting_properties.extend(
            [SORT_BY_PENALTY, SORT_BY_ALLOWED_VEHICLES]
        )
    else:
        params.first_solution_strategy = strategies.PARALLEL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(int(max(time_limit_s, MIN_SEARCH_SECONDS) * 1000))
    params.log_search = log
    operators = params.local_search_operators
    # Let local search trade a placed job for a dropped one of higher priority.
    operators.use_extended_swap_active = BOOL_TRUE
    operators.use_relocate_and_make_active = BOOL_TRUE
    operators.use_exchange_and_make_active = BOOL_TRUE
    return params


def solve_model(
    model: RoutingModel,
    time_limit_s: float,
    warm_routes: list[list[int]] | None = None,
    log: bool = False,
) -> Solved | None:
    """Run GLS, from ``warm_routes`` (node indices per vehicle) when they are accepted."""
    routing, manager = model.routing, model.manager
    began = time.perf_counter()
    first: list[float] = []

    def on_solution() -> None:
        if not first:
            first.append(time.perf_counter())

    routing.AddAtSolutionCallback(on_solution)
    penalties = {job.priority for job in model.inst.jobs}
    params = search_parameters(time_limit_s, by_penalty=len(penalties) > 1, log=log)
    solution = initial = None
    if warm_routes is not None:
        routing.CloseModelWithParameters(params)
        indices = [[manager.NodeToIndex(n) for n in route] for route in warm_routes]
        indices += [[] for _ in range(len(model.inst.vehicles) - len(indices))]
        initial = routing.ReadAssignmentFromRoutes(indices, True)
        if initial is not None:
            if not first:
                first.append(time.perf_counter())
            remaining = time_limit_s - (time.perf_counter() - began)
            params.time_limit.FromMilliseconds(int(max(remaining, MIN_SEARCH_SECONDS) * 1000))
            solution = routing.SolveFromAssignmentWithParameters(initial, params)
    if solution is None:
        constructed = _construct(routing, params, log)
        if constructed is None:
            return None
        remaining = time_limit_s - (time.perf_counter() - began)
        solution = constructed
        if remaining > MIN_SEARCH_SECONDS:
            # Restart from the routes only: restoring every variable of the constructed
            # assignment failed on a 1,000-job day (status FAIL, no search).
            restart = routing.ReadAssignmentFromRoutes(_index_routes(routing, constructed), True)
            if restart is not None:
                params.time_limit.FromMilliseconds(int(remaining * 1000))
                solution = routing.SolveFromAssignmentWithParameters(restart, params) or constructed
    solved = _extract(model, solution, first[0] if first else None)
    solved.warm_start_accepted = initial is not None
    return solved


def _construct(
    routing: pywrapcp.RoutingModel, params: routing_parameters_pb2.RoutingSearchParameters, log: bool
) -> pywrapcp.Assignment | None:
    """A first solution, run to completion: a time limit hit mid-construction makes OR-Tools
    return "everything unperformed", which is feasible but useless.

    A heuristic can fail where a solution exists (OR-Tools 9.15 construction failed on a
    4-job day with per-technician preference costs); the next one is tried, and the last,
    every job unperformed, always succeeds when every empty route fits its shift, which
    `compile_problem` ensures. Local search then starts from whichever succeeded.
    """
    by_penalty = params.local_cheapest_insertion_parameters.insertion_sorting_properties != []
    strategies = routing_enums_pb2.FirstSolutionStrategy
    fallbacks = [strategies.ALL_UNPERFORMED]
    if by_penalty:  # otherwise the first attempt was PARALLEL_CHEAPEST_INSERTION already
        fallbacks.insert(0, strategies.PARALLEL_CHEAPEST_INSERTION)
    for strategy in (None, *fallbacks):
        construct = search_parameters(FIRST_SOLUTION_CAP_S, by_penalty and strategy is None, log)
        if strategy is not None:
            construct.first_solution_strategy = strategy
        construct.solution_limit = 1
        constructed = routing.SolveWithParameters(construct)
        if constructed is not None:
            return constructed
    return None


def _index_routes(routing: pywrapcp.RoutingModel, solution: pywrapcp.Assignment) -> list[list[int]]:
    routes = []
    for v in range(routing.vehicles()):
        index, route = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            route.append(index)
            index = solution.Value(routing.NextVar(index))
        routes.append(route)
    return routes


def _extract(model: RoutingModel, solution: pywrapcp.Assignment, first: float | None) -> Solved:
    routing, manager, time_dim = model.routing, model.manager, model.time
    routes, starts, departures, returns, break_starts = [], [], [], [], []
    for v in range(len(model.inst.vehicles)):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        nodes, times = [], []
        while not routing.IsEnd(index):
            nodes.append(manager.IndexToNode(index))
            times.append(solution.Value(time_dim.CumulVar(index)))
            index = solution.Value(routing.NextVar(index))
        routes.append(nodes)
        starts.append(times)
        departures.append(solution.Value(time_dim.CumulVar(routing.Start(v))))
        returns.append(solution.Value(time_dim.CumulVar(routing.End(v))))
        interval = model.breaks.get(v)
        break_starts.append(solution.StartValue(interval) if interval is not None else None)
    return Solved(
        routes=routes,
        starts=starts,
        departures=departures,
        returns=returns,
        break_starts=break_starts,
        objective=solution.ObjectiveValue(),
        status=STATUS_NAMES.get(routing.status(), str(routing.status())),
        first_solution_at=first,
    )
