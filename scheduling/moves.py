"""Manual moves on the dispatch board: a dispatcher puts one job on a technician at a time."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from fieldservice.errors import Conflict, Invalid
from scheduling import board, locks
from scheduling.models import Technician
from tickets.models import WorkOrder
from tickets.moves import Assignment, work_order_move


def work_order_reassign(
    *,
    work_order: WorkOrder,
    technician: Technician,
    planned_start: dt.datetime,
    planned_end: dt.datetime,
    by: User,
    version: int,
) -> list[str]:
    """Check a manual move and make it through tickets.moves.work_order_move with the
    version the dispatcher saw; returns the warnings. Raises Invalid with the refusals, or
    Conflict (version_conflict) if the work order changed meanwhile."""
    with transaction.atomic():
        # The day it goes to and the day it leaves, before the check reads either
        # (scheduling.locks: the order, and the race with an urgent insertion). A job that
        # changed technician since the board showed it fails the version check below.
        locks.technicians_lock(technician_ids=[technician.pk], user_ids=[work_order.assigned_technician_id])
        # A stale board is reported as such before anything is checked against it.
        current = WorkOrder.objects.filter(pk=work_order.pk).values_list("number", "version").first()
        if current is not None and current[1] != version:
            raise Conflict(
                _(
                    "%(number)s was changed by someone else (it is at version %(current)s, "
                    "you saw %(seen)s). Reload the board and try again."
                )
                % {"number": current[0], "current": current[1], "seen": version},
                code="version_conflict",
                details={"current_version": current[1]},
            )
        verdict = board.reassignment_problems(
            work_order=work_order, technician=technician, planned_start=planned_start, planned_end=planned_end
        )
        if verdict.refusals:
            raise Invalid(" ".join(verdict.refusals), code="reassignment_refused", details=verdict.refusals)
        work_order_move(
            work_order=work_order,
            to=WorkOrder.Status.SCHEDULED,
            assignment=Assignment(
                technician=technician.user, planned_start=planned_start, planned_end=planned_end
            ),
            by=by,
            version=version,
            reason="moved on the dispatch board",
        )
    return verdict.warnings
