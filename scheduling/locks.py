"""The row locks of every write to a technician's day, and the one order they are taken in:
the project's lock order (tickets.events, which also takes the work-order locks below)
begins with the technician.

The writers: a manual move on the dispatch board (`scheduling.moves.work_order_reassign`),
an urgent insertion (`scheduling.insertion.schedule_insert`) and accepting a plan
(`scheduling.services.schedule_run_accept`). Each takes, inside its one transaction:

0. the `ScheduleRun` row, when the write belongs to a run (accepting it);
1. `Technician` rows, in pk order, with `technicians_lock`: every technician whose day the
   write may change (the one a job goes to and the one it leaves; for an insertion, every
   technician it plans with), *before* it reads the day it checks or plans against;
2. `WorkOrder` rows, in pk order, with `work_orders_lock`: the ones it writes
   (the work-order services take each again, the same lock, as they write it; a writer
   of a single work order leaves its lock to them: tickets.lifecycle, tickets.site_visit);
3. the contract, where those services need one.

A writer may take its work orders well after its technicians (an insertion knows which
jobs it moves only once its search is done), never a technician after a work order.

Race: an urgent insertion plans a gap in a technician's day while a dispatcher moves
another job into the same gap; each checked the day before the other wrote, and both jobs
landed in the gap. Now the first to lock the technician reads, decides and commits; the
other waits, then reads the day as the first left it: a move is refused as overlapping, an
insertion plans around the moved job. An insertion holds its technicians through its
search (about a second, scheduling.solver.insertion.INSERT_TIME_LIMIT_S): a move on one of
them waits that long.

Both locks are FOR NO KEY UPDATE: two writers of a technician's day exclude each other,
while rows that only point at a technician or a work order (a shift, an assignment, an
event) are still inserted; a plain FOR UPDATE would hold up their foreign-key checks until
commit (tickets.events explains the deadlock that caused).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from scheduling.models import Technician
from tickets.events import lock_work_orders
from tickets.models import WorkOrder


def technicians_lock(*, technician_ids: Iterable[int] = (), user_ids: Iterable[int | None] = ()) -> list[int]:
    """Lock the technicians given by pk or by user (a work order's assigned technician is a
    user); returns the pks locked. Must come before any work order lock of the transaction."""
    wanted = Q(pk__in=set(technician_ids)) | Q(user_id__in={pk for pk in user_ids if pk is not None})
    return list(
        Technician.objects.select_for_update(of=("self",), no_key=True)
        .filter(wanted)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def work_orders_lock(*, work_order_ids: Iterable[int]) -> None:
    """Lock the work orders the transaction is about to write, after its technicians."""
    list(lock_work_orders(WorkOrder.objects.filter(pk__in=set(work_order_ids))).values_list("pk", flat=True))
