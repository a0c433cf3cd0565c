"""tickets/moves.py: the one entry that moves a work order, by (from, to), through its verb."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from fieldservice.errors import Conflict, Invalid
from tests.clock_pin import clock_at
from tests.tickets.test_services import (
    LEGAL,
    Crew,
    S,
    drive,
    make_completable,
    next_moment,
    open_covered,
    pair_id,
    shanghai,
    state,
)
from tickets import lifecycle, moves
from tickets.models import WorkOrderEvent

pytestmark = pytest.mark.django_db
# The worked example of tests/tickets/test_services.py, whose builders these tests use.
_clock_after_the_example = clock_at(shanghai(20, 18))


@pytest.fixture
def crew(dispatcher: User, tech_a: User) -> Crew:
    return Crew(dispatcher=dispatcher, technician=tech_a)


def test_every_legal_move_has_exactly_one_verb() -> None:
    """MOVES and the lifecycle (lifecycle.TRANSITIONS) name the same moves: no legal move is
    left without a verb, and no verb makes a move the lifecycle does not have."""
    assert set(moves.MOVES) == set(LEGAL)


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL, ids=[pair_id(p) for p in LEGAL])
def test_every_legal_move_goes_through_the_entry(from_status: str, to_status: str, crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), from_status, crew=crew)
    at = next_moment(from_status)
    make_completable(job, by=crew.technician, at=at)
    assignment = (
        moves.Assignment(
            technician=crew.technician,
            planned_start=at + dt.timedelta(hours=1),
            planned_end=at + dt.timedelta(hours=2),
        )
        if (from_status, to_status) == (S.NEW, S.SCHEDULED)
        else None
    )

    moved = moves.work_order_move(
        work_order=job,
        to=to_status,
        by=crew.dispatcher,
        version=job.version,
        at=at,
        reason="Waiting for parts",
        resolution="Replaced the thermostatic valve",
        assignment=assignment,
    )

    assert moved.status == to_status
    event = moved.events.filter(type=WorkOrderEvent.Type.STATUS_CHANGED).latest("at", "pk")
    assert (event.from_status, event.to_status, event.by) == (from_status, to_status, crew.dispatcher)


def test_a_recall_keeps_the_technician_and_a_reassignment_changes_it(crew: Crew, tech_b: User) -> None:
    recalled = drive(open_covered(by=crew.dispatcher), S.DISPATCHED, crew=crew)
    at = next_moment(S.DISPATCHED)
    recalled = moves.work_order_move(
        work_order=recalled, to=S.SCHEDULED, by=crew.dispatcher, version=recalled.version, at=at
    )
    assert (recalled.status, recalled.assigned_technician) == (S.SCHEDULED, crew.technician)

    reassigned = drive(open_covered(by=crew.dispatcher), S.DISPATCHED, crew=crew)
    reassigned = moves.work_order_move(
        work_order=reassigned,
        to=S.SCHEDULED,
        by=crew.dispatcher,
        version=reassigned.version,
        at=at,
        assignment=moves.Assignment(
            technician=tech_b,
            planned_start=at + dt.timedelta(hours=1),
            planned_end=at + dt.timedelta(hours=2),
        ),
    )
    assert (reassigned.status, reassigned.assigned_technician) == (S.SCHEDULED, tech_b)


def test_an_assignment_goes_only_with_a_move_to_scheduled(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.SCHEDULED, crew=crew)
    before = state(job)
    at = next_moment(S.SCHEDULED)
    with pytest.raises(Invalid) as refused:
        moves.work_order_move(
            work_order=job,
            to=S.DISPATCHED,
            by=crew.dispatcher,
            version=job.version,
            assignment=moves.Assignment(technician=crew.technician, planned_start=at, planned_end=at),
        )
    assert refused.value.code == "assignment_not_allowed"
    assert state(job) == before


def test_a_move_the_lifecycle_does_not_have_is_refused_as_the_services_refuse_it(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.EN_ROUTE, crew=crew)
    before = state(job)
    with pytest.raises(Conflict) as refused:
        moves.work_order_move(work_order=job, to=S.COMPLETED, by=crew.technician, version=job.version)
    expected = lifecycle.transition_refused(job, S.COMPLETED)
    assert (refused.value.code, refused.value.message, refused.value.details) == (
        expected.code,
        expected.message,
        expected.details,
    )
    assert state(job) == before
