"""Plain dataclasses for the scheduling solver's input and output.

Times are integer minute offsets from the horizon start, which the caller
places at local midnight of the first day (aware datetimes are converted at
the Django boundary, never here). Day ``d`` therefore starts at minute
``d * MINUTES_PER_DAY``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

MINUTES_PER_DAY = 24 * 60
PRIORITIES = (1, 2, 3, 4)

Engine = Literal["auto", "ortools", "pyvrp+ortools"]
# SolverStats.status when there was nothing to plan, and when the engine found no plan.
STATUS_NO_JOBS = "NO_JOBS"
STATUS_NO_SOLUTION = "NO_SOLUTION"
ReasonCode = Literal[
    "no_skilled_technician",
    "no_shift_time",
    "outside_all_shifts",
    "unreachable_in_window",
    "capacity",
    "no_plan",
]


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float

    def as_tuple(self) -> tuple[float, float]:
        return (self.lat, self.lon)


@dataclass(frozen=True)
class TimeWindow:
    """Access period: the whole service must lie inside ``[start, end]``."""

    start: int
    end: int


@dataclass(frozen=True)
class Job:
    id: str
    location: Location
    service_minutes: int
    windows: tuple[TimeWindow, ...]
    skills: dict[str, int] = field(default_factory=dict)
    priority: int = 3
    sla_due: int | None = None  # lateness = max(0, service end - sla_due)
    pinned_technician: str | None = None
    pinned_day: int | None = None
    pinned_position: int | None = None  # 0-based index of the visit within its route
    preferred_technicians: tuple[str, ...] = ()
    account_id: str = ""
    demand: int = 0  # load units; only constrains technicians with a capacity


@dataclass(frozen=True)
class Shift:
    """A technician-day. ``start_location`` overrides the technician's start for this shift
    only (today's shift starts from the live position; later days start from home)."""

    start: int
    end: int
    start_location: Location | None = None

    @property
    def day(self) -> int:
        return self.start // MINUTES_PER_DAY


@dataclass(frozen=True)
class Break:
    """Daily break; ``earliest_start``/``latest_start`` are minutes after midnight.

    It applies to a shift only when ``[earliest_start, latest_start + duration]``
    (shifted to the shift's day) lies inside the shift.
    """

    earliest_start: int
    latest_start: int
    duration: int


@dataclass(frozen=True)
class Technician:
    id: str
    start_location: Location
    end_location: Location
    shifts: tuple[Shift, ...]
    skills: dict[str, int] = field(default_factory=dict)
    lunch: Break | None = None
    capacity: int | None = None


def break_window_for_shift(lunch: Break | None, shift: Shift) -> tuple[int, int, int] | None:
    """Absolute ``(earliest, latest, duration)`` of a break in ``shift``, or None."""
    if lunch is None:
        return None
    origin = shift.day * MINUTES_PER_DAY
    earliest = origin + lunch.earliest_start
    latest = origin + lunch.latest_start
    if earliest < shift.start or latest + lunch.duration > shift.end:
        return None
    return earliest, latest, lunch.duration


@dataclass(frozen=True)
class TravelSettings:
    """Parameters of the travel-matrix provider, as plain numbers.

    ``kind`` is ``"great_circle"`` (lat/lon, km, minutes) or ``"euclidean"``
    (planar x=lat, y=lon; time unit = distance * ``scale``).
    """

    kind: Literal["great_circle", "euclidean"] = "great_circle"
    detour_factor: float = 1.3
    speed_kmh: float = 40.0
    scale: float = 1.0


@dataclass
class Problem:
    jobs: list[Job]
    technicians: list[Technician]
    travel: TravelSettings = field(default_factory=TravelSettings)


@dataclass(frozen=True)
class Weights:
    """Objective weights in integer cost units (1 unit = 1 travel minute by default)."""

    travel_per_minute: int = 1
    lateness_per_minute: tuple[int, int, int, int] = (20, 8, 3, 1)  # P1..P4
    drop_penalty: tuple[int, int, int, int] = (0, 20_000, 6_000, 2_000)  # P1 computed
    preferred_bonus: int = 30  # discount for a preferred technician


@dataclass(frozen=True)
class SolveParams:
    time_limit_s: float = 10.0
    engine: Engine = "auto"
    weights: Weights = field(default_factory=Weights)
    warm_start_share: float = 0.9  # of the time limit given to PyVRP (OR-Tools polishes)
    seed: int = 0
    log: bool = False


@dataclass(frozen=True)
class Visit:
    job_id: str
    arrival: int
    start: int
    end: int
    travel_minutes: int
    travel_km: float


@dataclass
class Route:
    technician_id: str
    day: int
    shift_index: int
    departure: int
    return_time: int
    visits: list[Visit]
    break_start: int | None
    return_travel_minutes: int
    return_travel_km: float

    @property
    def travel_minutes(self) -> int:
        return sum(v.travel_minutes for v in self.visits) + self.return_travel_minutes

    @property
    def travel_km(self) -> float:
        return sum(v.travel_km for v in self.visits) + self.return_travel_km


@dataclass(frozen=True)
class Unplaced:
    """Why a job is not in the plan: a code and plain parameters (numbers, skill codes),
    never text; the caller renders them in its reader's language."""

    job_id: str
    reason: ReasonCode
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Kpis:
    travel_minutes: int
    travel_km: float
    lateness_minutes: int
    placed: int
    unplaced: int


@dataclass(frozen=True)
class SolverStats:
    engine: str
    seconds: float
    first_solution_seconds: float | None
    objective: int | None
    status: str
    repaired: int = 0  # jobs the search left out that the repair pass fitted in


@dataclass
class Plan:
    routes: list[Route]
    unplaced: list[Unplaced]
    kpis: Kpis
    stats: SolverStats

    def job_route(self) -> dict[str, tuple[str, int]]:
        """job id -> (technician id, shift index) for every placed job."""
        return {v.job_id: (r.technician_id, r.shift_index) for r in self.routes for v in r.visits}
