"""Field-service scheduling optimizer: plain dataclasses in, plain dataclasses out.

Nothing here imports Django; the scheduling app converts aware datetimes to
minute offsets before calling :func:`solve` and back afterwards.
"""

from .checker import Violation, check_plan
from .insertion import insert_job
from .planner import solve

__all__ = ["Violation", "check_plan", "insert_job", "solve"]
