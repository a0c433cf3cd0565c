"""Solomon VRPTW instances: reader, conversion to a Problem, exact verifier.

Published conventions: travel time = distance = unrounded Euclidean; a vehicle
may wait; service must start by the due date; routes start and end at the depot
within its window; load at most the capacity; fixed fleet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from .model import Job, Location, Problem, Shift, Technician, TimeWindow, TravelSettings

DEFAULT_SCALE = 1000  # integer time/distance units per Solomon unit
TOLERANCE = 1e-6
CUSTOMER_FIELDS = 7


@dataclass(frozen=True)
class SolomonInstance:
    name: str
    vehicles: int
    capacity: int
    x: list[float]  # index 0 is the depot
    y: list[float]
    demand: list[int]
    ready: list[int]
    due: list[int]
    service: list[int]

    @property
    def n_customers(self) -> int:
        return len(self.x) - 1

    def dist(self, a: int, b: int) -> float:
        return math.hypot(self.x[a] - self.x[b], self.y[a] - self.y[b])


def read_solomon(path: str | Path) -> SolomonInstance:
    lines = [line.split() for line in Path(path).read_text().splitlines()]
    name = lines[0][0]
    vehicle_row = next(i for i, row in enumerate(lines) if row[:1] == ["NUMBER"]) + 1
    vehicles, capacity = int(lines[vehicle_row][0]), int(lines[vehicle_row][1])
    rows = [
        [int(float(v)) for v in row]
        for row in lines[vehicle_row + 1 :]
        if len(row) == CUSTOMER_FIELDS and row[0].isdigit()
    ]
    cols = list(zip(*rows, strict=True))
    return SolomonInstance(
        name=name,
        vehicles=vehicles,
        capacity=capacity,
        x=[float(v) for v in cols[1]],
        y=[float(v) for v in cols[2]],
        demand=list(cols[3]),
        ready=list(cols[4]),
        due=list(cols[5]),
        service=list(cols[6]),
    )


def to_problem(inst: SolomonInstance, scale: int = DEFAULT_SCALE) -> Problem:
    """Jobs are ids "1".."n"; the whole service must fit in [ready, due + service]."""
    jobs = [
        Job(
            id=str(c),
            location=Location(inst.x[c], inst.y[c]),
            service_minutes=inst.service[c] * scale,
            windows=(TimeWindow(inst.ready[c] * scale, (inst.due[c] + inst.service[c]) * scale),),
            priority=1,
            demand=inst.demand[c],
        )
        for c in range(1, len(inst.x))
    ]
    depot = Location(inst.x[0], inst.y[0])
    shift = Shift(inst.ready[0] * scale, inst.due[0] * scale)
    techs = [
        Technician(f"V{v}", depot, depot, (shift,), capacity=inst.capacity) for v in range(inst.vehicles)
    ]
    return Problem(jobs=jobs, technicians=techs, travel=TravelSettings("euclidean", scale=scale))


def total_distance(inst: SolomonInstance, routes: list[list[int]]) -> float:
    total = 0.0
    for route in routes:
        stops = [0, *route, 0]
        total += sum(inst.dist(a, b) for a, b in zip(stops, stops[1:], strict=False))
    return total


def verify(inst: SolomonInstance, routes: list[list[int]]) -> list[str]:
    """Errors of ``routes`` (customer ids) under the published conventions, in floats."""
    errors = []
    used = [r for r in routes if r]
    if len(used) > inst.vehicles:
        errors.append(f"{len(used)} routes for a fleet of {inst.vehicles}")
    visits = sorted(c for r in routes for c in r)
    if visits != list(range(1, inst.n_customers + 1)):
        errors.append("customers are not each visited exactly once")
    for k, route in enumerate(used):
        if sum(inst.demand[c] for c in route) > inst.capacity:
            errors.append(f"route {k} exceeds the capacity")
        time, prev = float(inst.ready[0]), 0
        for c in route:
            time = max(time + inst.dist(prev, c), float(inst.ready[c]))
            if time > inst.due[c] + TOLERANCE:
                errors.append(f"route {k}: customer {c} starts at {time:.3f} > {inst.due[c]}")
            time += inst.service[c]
            prev = c
        if time + inst.dist(prev, 0) > inst.due[0] + TOLERANCE:
            errors.append(f"route {k} returns after the depot closes")
    return errors
