"""The lock order of scheduling.locks, against real PostgreSQL: an urgent insertion and a move
on the dispatch board, on the same technician at once, in two threads (two connections).

One technician, a morning with one 90-minute gap. The insertion wants the gap for the urgent
job, the dispatcher drags a waiting job into it. Each test holds one of them between reading
the day and writing it until the other has either finished (no lock: the race the locks
prevent, and the test fails with both jobs in the gap) or is seen waiting for its lock.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db import connection

from fieldservice import clock, roles
from fieldservice.errors import Invalid
from scheduling import board, insertion, moves
from scheduling.models import Technician
from tests import factories
from tickets import creation, lifecycle
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db(transaction=True)
WAIT_S = 10  # for the other thread to finish or to queue behind a lock


@dataclass(frozen=True)
class OneGap:
    technician: Technician
    morning_job: WorkOrder  # P3, 09:00-10:30; the shift ends at 12:20
    waiting: WorkOrder  # P3, 90 min, unassigned: the dispatcher moves it to 10:30
    urgent: WorkOrder  # P1, 90 min: the insertion puts it in the same gap

    def at(self, clock_time: str) -> dt.datetime:
        return dt.datetime.combine(
            clock.today(), dt.time.fromisoformat(clock_time), tzinfo=factories.SHANGHAI
        )


@pytest.fixture
def one_gap(dispatcher: User) -> OneGap:
    here = Point(120.72, 31.32, srid=4326)  # the sites' and the technician's home: no driving
    technician = factories.technician(
        person=factories.user(username="solo", role=roles.TECHNICIAN),
        skills={"compressor": 2},
        territory=factories.territory(),
        home_base=here,
    )
    factories.shift(technician=technician, date=clock.today(), start="09:00", end="12:20")

    def job(priority: int) -> WorkOrder:
        return creation.work_order_create(
            site=factories.site(lat=here.y, lon=here.x, access_weekdays=[0, 1, 2, 3, 4, 5, 6]),
            kind="corrective",
            title=f"P{priority} job",
            by=None,
            priority=priority,
            required_skills={"compressor": 1},
            estimated_minutes=90,
        )

    day = OneGap(technician, job(3), job(3), job(1))
    lifecycle.work_order_schedule(
        work_order=day.morning_job,
        technician=technician.user,
        planned_start=day.at("09:00"),
        planned_end=day.at("10:30"),
        by=dispatcher,
        version=None,
    )
    return day


@dataclass
class Side:
    """One thread: what it returned or raised, its database backend, and when it is done."""

    call: Callable[[], Any]
    result: Any = None
    error: BaseException | None = None
    pid: int | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        try:
            connection.ensure_connection()
            self.pid = connection.connection.info.backend_pid
            self.result = self.call()
        except BaseException as error:  # reported by the test's assertions
            self.error = error
        finally:
            connection.close()
            self.done.set()

    def finished_or_waiting_for_a_lock(self) -> None:
        """Return once this side has finished or is queued behind a lock; called from the
        other side, inside its transaction (pg_blocking_pids reads the live lock table)."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if self.done.is_set():
                return
            with connection.cursor() as cursor:
                cursor.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", [self.pid])
                if cursor.fetchone()[0]:
                    return
            time.sleep(0.02)
        raise AssertionError(f"the other side neither finished nor waited for a lock in {WAIT_S} s")


def run_both(first: Side, second: Side, first_has_read: threading.Event) -> None:
    """Start `first`; once it has read the day, start `second`; wait for both."""
    threads = [threading.Thread(target=first.run), threading.Thread(target=second.run)]
    threads[0].start()
    assert first_has_read.wait(WAIT_S), first.error
    threads[1].start()
    for thread in threads:
        thread.join(WAIT_S * 3)
    assert not any(thread.is_alive() for thread in threads), "a deadlock or a hang"


def overlaps(technician: Technician) -> list[tuple[str, str]]:
    """Pairs of the technician's jobs that share time."""
    rows = WorkOrder.objects.filter(assigned_technician=technician.user, status__in=board.OCCUPYING)
    day = [
        (number, start, end)
        for number, start, end in rows.values_list("number", "planned_start", "planned_end")
        if start is not None and end is not None
    ]
    return [(a[0], b[0]) for a, b in itertools.combinations(day, 2) if a[1] < b[2] and b[1] < a[2]]


def test_an_insertion_under_way_makes_the_move_wait_and_be_refused(
    one_gap: OneGap, dispatcher: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    searched = threading.Event()

    def move_the_waiting_job() -> list[str]:
        return moves.work_order_reassign(
            work_order=one_gap.waiting,
            technician=one_gap.technician,
            planned_start=one_gap.at("10:30"),
            planned_end=one_gap.at("12:00"),
            by=dispatcher,
            version=one_gap.waiting.version,
        )

    move = Side(move_the_waiting_job)
    insert = Side(
        lambda: insertion.schedule_insert(work_order=one_gap.urgent, by=dispatcher, now=one_gap.at("08:00"))
    )
    search = insertion.insert_job

    def search_then_let_the_move_try(*args: Any, **kwargs: Any) -> Any:
        found = search(*args, **kwargs)
        searched.set()
        move.finished_or_waiting_for_a_lock()
        return found

    monkeypatch.setattr(insertion, "insert_job", search_then_let_the_move_try)
    run_both(insert, move, searched)

    assert insert.error is None, insert.error
    assert overlaps(one_gap.technician) == []
    assert insert.result["placed"] is True and insert.result["returned_to_queue"] == []
    assert isinstance(move.error, Invalid) and move.error.code == "reassignment_refused", move.error
    assert f"It overlaps {one_gap.urgent.number}" in move.error.message
    assert WorkOrder.objects.get(pk=one_gap.waiting.pk).status == "new"


def test_a_move_under_way_makes_the_insertion_wait_and_plan_around_it(
    one_gap: OneGap, dispatcher: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = threading.Event()
    insert = Side(
        lambda: insertion.schedule_insert(work_order=one_gap.urgent, by=dispatcher, now=one_gap.at("08:00"))
    )
    check = board.reassignment_problems

    def check_then_let_the_insertion_try(**kwargs: Any) -> board.Verdict:
        verdict = check(**kwargs)
        checked.set()
        insert.finished_or_waiting_for_a_lock()
        return verdict

    monkeypatch.setattr(board, "reassignment_problems", check_then_let_the_insertion_try)
    move = Side(
        lambda: moves.work_order_reassign(
            work_order=one_gap.waiting,
            technician=one_gap.technician,
            planned_start=one_gap.at("10:30"),
            planned_end=one_gap.at("12:00"),
            by=dispatcher,
            version=one_gap.waiting.version,
        )
    )
    run_both(move, insert, checked)

    assert move.error is None, move.error
    assert insert.error is None, insert.error
    assert overlaps(one_gap.technician) == []
    # It read the day with the moved job in the gap: no room left, so one P3 made way.
    assert insert.result["placed"] is True
    assert len(insert.result["returned_to_queue"]) == 1
