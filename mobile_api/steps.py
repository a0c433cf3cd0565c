"""The technician's steps: the app's events, where each takes a job, and from which statuses
the app offers it. The one table of them: the server applies events by it
(mobile_api.services.event_apply, through tickets.moves.work_order_move), each job carries
what it allows now (`next_steps`), and the app's page carries the whole table
(mobile_api.views), for the steps that follow one queued with no signal. The app codes none.
"""

from __future__ import annotations

from dataclasses import dataclass

from tickets.models import WorkOrder

Status = WorkOrder.Status

# A visit in order. A step along it may skip the steps before it (the app's "arrived" on a
# dispatched job makes the drive too, at the arrival's time), and one the job has passed
# changes nothing (it is noted).
VISIT: tuple[str, ...] = (
    Status.SCHEDULED,
    Status.DISPATCHED,
    Status.EN_ROUTE,
    Status.ON_SITE,
    Status.IN_PROGRESS,
)
# On site, the records can be filled and the job completed, from any of these; a completion
# starts or resumes the work first.
WORKING: tuple[str, ...] = (Status.ON_SITE, Status.IN_PROGRESS, Status.ON_HOLD)


@dataclass(frozen=True)
class Step:
    to: str  # the status the job is in after it
    offered_from: tuple[str, ...]  # where the app offers it (a button, or the completion form)
    along_the_visit: bool = False  # taken from anywhere before it on the VISIT, and noted after


STEPS: dict[str, Step] = {
    "en_route": Step(Status.EN_ROUTE, (Status.SCHEDULED, Status.DISPATCHED), along_the_visit=True),
    "arrived": Step(
        Status.ON_SITE, (Status.SCHEDULED, Status.DISPATCHED, Status.EN_ROUTE), along_the_visit=True
    ),
    "started": Step(Status.IN_PROGRESS, (Status.ON_SITE,), along_the_visit=True),
    "paused": Step(Status.ON_HOLD, (Status.IN_PROGRESS,)),
    "resumed": Step(Status.IN_PROGRESS, (Status.ON_HOLD,)),
    "completed": Step(Status.COMPLETED, WORKING),
}


def next_steps(status: str) -> list[dict[str, str]]:
    """The steps the app offers on a job in `status`, in the order it shows them."""
    return [{"event": event, "to": step.to} for event, step in STEPS.items() if status in step.offered_from]


def step_table() -> dict[str, list[dict[str, str]]]:
    """`next_steps` of every status that has any: what the app's page carries."""
    return {status: steps for status in Status.values if (steps := next_steps(status))}


def route(status: str, event: str) -> list[str] | None:
    """The statuses a job in `status` passes through to take `event`: [] when the job has
    already passed it on the visit, None when the event cannot be taken from there."""
    step = STEPS[event]
    if step.along_the_visit and status in VISIT:
        here, there = VISIT.index(status), VISIT.index(step.to)
        return list(VISIT[here + 1 : there + 1])
    if status not in step.offered_from:
        return None
    if step.to == Status.COMPLETED and status != Status.IN_PROGRESS:
        return [Status.IN_PROGRESS, Status.COMPLETED]
    return [step.to]
