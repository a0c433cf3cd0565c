"""Fit the jobs the search left out into the final routes, where they still fit.

The search stops at its time limit, and a construction heuristic can leave a job out
that a technician-day still had room for. Before a job is reported as ``capacity``, each
one (most important first) is tried at every position of every route that may serve it,
empty routes included, without moving the others; it goes where it adds the least cost.
What is left really had no room: no qualified technician-day can take it as the plan
stands.

Timing uses ``reasons.schedule`` (exact: windows, lunch, shift); the independent checker
verifies the result like any other plan.
"""

from __future__ import annotations

import itertools

from .instance import Instance, drop_penalties
from .model import Shift, Weights
from .reasons import Interval, Stop, Timing, schedule, start_intervals


class _Routes:
    """The plan's node sequences per vehicle, timed on demand."""

    def __init__(self, inst: Instance, sequences: list[list[int]], weights: Weights) -> None:
        self.inst = inst
        self.sequences = sequences
        self.weights = weights
        self._spans: dict[tuple[int, int], list[Interval]] = {}
        self._cost: dict[int, int] = {}
        techs = inst.problem.technicians
        self._tech_ids = [techs[vehicle.tech_index].id for vehicle in inst.vehicles]

    def spans(self, node: int, v: int) -> list[Interval]:
        key = (node, v)
        if key not in self._spans:
            vehicle = self.inst.vehicles[v]
            self._spans[key] = start_intervals(self.inst.jobs[node], Shift(vehicle.start, vehicle.end))
        return self._spans[key]

    def timing(self, v: int, sequence: list[int]) -> Timing | None:
        vehicle, minutes = self.inst.vehicles[v], self.inst.minutes
        stops, previous = [], vehicle.start_node
        for node in sequence:
            stops.append(Stop(self.spans(node, v), self.inst.service[node], int(minutes[previous, node])))
            previous = node
        back = int(minutes[previous, vehicle.end_node])
        return schedule(Shift(vehicle.start, vehicle.end), vehicle.break_window, stops, back)

    def cost(self, v: int, sequence: list[int], timing: Timing) -> int:
        """Travel, lateness and preference costs, as the model counts them."""
        vehicle, minutes, weights = self.inst.vehicles[v], self.inst.minutes, self.weights
        nodes = [vehicle.start_node, *sequence, vehicle.end_node]
        total = weights.travel_per_minute * int(sum(minutes[a, b] for a, b in itertools.pairwise(nodes)))
        for node, start in zip(sequence, timing.starts, strict=True):
            job = self.inst.jobs[node]
            if job.sla_due is not None:
                late = max(0, start + job.service_minutes - job.sla_due)
                total += weights.lateness_per_minute[job.priority - 1] * late
            if job.preferred_technicians and self._tech_ids[v] not in job.preferred_technicians:
                total += weights.preferred_bonus
        return total

    def current_cost(self, v: int) -> int:
        if v not in self._cost:
            timing = self.timing(v, self.sequences[v])
            self._cost[v] = 0 if timing is None else self.cost(v, self.sequences[v], timing)
        return self._cost[v]

    def positions(self, v: int, node: int) -> range:
        """Where ``node`` may go without moving a job pinned to its position."""
        sequence, jobs = self.sequences[v], self.inst.jobs
        last_pinned = max(
            (i for i, n in enumerate(sequence) if jobs[n].pinned_position is not None), default=-1
        )
        wanted = jobs[node].pinned_position
        if wanted is not None:
            return range(wanted, wanted + 1) if last_pinned < wanted <= len(sequence) else range(0)
        return range(last_pinned + 1, len(sequence) + 1)

    def has_room(self, v: int, node: int) -> bool:
        capacity = self.inst.vehicles[v].capacity
        if capacity is None:
            return True
        load = sum(self.inst.jobs[n].demand for n in self.sequences[v])
        return load + self.inst.jobs[node].demand <= capacity

    def insert(self, v: int, sequence: list[int], timing: Timing) -> None:
        self.sequences[v] = sequence
        self._cost[v] = self.cost(v, sequence, timing)


def place_dropped(inst: Instance, sequences: list[list[int]], weights: Weights) -> dict[int, Timing]:
    """Insert left-out jobs into ``sequences`` (changed in place); returns the new timing
    of each vehicle whose route changed."""
    placed = {node for sequence in sequences for node in sequence}
    penalties = drop_penalties(inst, weights)
    dropped = sorted((n for n in range(inst.n_jobs) if n not in placed), key=lambda n: (-penalties[n], n))
    routes = _Routes(inst, sequences, weights)
    retimed: dict[int, Timing] = {}
    for node in dropped:
        best: tuple[int, int, list[int], Timing] | None = None
        for v in inst.allowed[node]:
            if not routes.has_room(v, node):
                continue
            for position in routes.positions(v, node):
                sequence = [*sequences[v][:position], node, *sequences[v][position:]]
                timing = routes.timing(v, sequence)
                if timing is None:
                    continue
                added = routes.cost(v, sequence, timing) - routes.current_cost(v)
                if best is None or added < best[0]:
                    best = (added, v, sequence, timing)
        if best is not None:
            _, v, sequence, timing = best
            routes.insert(v, sequence, timing)
            retimed[v] = timing
    return retimed
