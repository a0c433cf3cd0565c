"""tickets/creation.py, lifecycle.py, site_visit.py and sla_clocks.py: the work-order state
machine, its SLA clocks, breaches and first-time fix.

Work orders are opened and moved only through the public services, with explicit aware
times, by the named personas: the dispatcher plans and dispatches, tech01 does the visit.
2 March 2026 is a Monday; 6 March a Friday. Shanghai is UTC+8 all year. The clock is pinned
to Friday 20 March 2026, after every moment written here (the services that take no time of
their own stamp the clock's), so the example reads the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks, Settings

from assets.models import Equipment, Site
from contracts.models import ServiceContract
from fieldservice import clock
from fieldservice.errors import Conflict, Invalid
from tests import factories
from tests.clock_pin import clock_at
from tickets import creation, lifecycle, site_visit, sla, sla_clocks
from tickets.models import ChecklistItem, Signature, WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db

S = WorkOrder.Status
Kind = WorkOrder.Kind
BUSINESS_HOURS = ServiceContract.Calendar.BUSINESS_HOURS
ALWAYS = ServiceContract.Calendar.ALWAYS
SHANGHAI = factories.SHANGHAI
CHICAGO = ZoneInfo("America/Chicago")
UTC = dt.UTC


def shanghai(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


MONDAY_9 = shanghai(2, 9)
FRIDAY_16 = shanghai(6, 16)


_clock_after_the_example = clock_at(shanghai(20, 18))


OFFICE = sla.Calendar(kind=sla.BUSINESS_HOURS, zone=SHANGHAI, day_start=dt.time(8), day_end=dt.time(18))

CHECKLIST = (
    {"label": "Oil level checked"},
    {"label": "Discharge pressure", "kind": ChecklistItem.Kind.VALUE, "unit": "bar"},
    {"label": "Remarks for the customer", "kind": ChecklistItem.Kind.TEXT, "required": False},
)


# --- builders ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crew:
    dispatcher: User
    technician: User


@pytest.fixture
def crew(dispatcher: User, tech_a: User) -> Crew:
    return Crew(dispatcher=dispatcher, technician=tech_a)


def open_covered(
    *,
    by: User,
    at: dt.datetime = MONDAY_9,
    priority: int = 2,
    calendar: str = BUSINESS_HOURS,
    requires_signature: bool = True,
    site: Site | None = None,
    checklist: tuple[dict[str, Any], ...] = CHECKLIST,
    kind: str = Kind.CORRECTIVE,
) -> WorkOrder:
    """A work order on equipment that an active contract (calendar, signature rule) covers."""
    unit = factories.equipment(site=site)
    factories.contract(
        account=unit.site.account,
        covers=[unit],
        sla_calendar=calendar,
        requires_signature=requires_signature,
    )
    return creation.work_order_create(
        site=unit.site,
        equipment=unit,
        kind=kind,
        title="Compressor trips on high temperature",
        by=by,
        priority=priority,
        at=at,
        checklist=checklist,
    )


def open_uncovered(
    *, by: User, unit: Equipment, at: dt.datetime, kind: str = Kind.CORRECTIVE, priority: int = 2
) -> WorkOrder:
    return creation.work_order_create(
        site=unit.site, equipment=unit, kind=kind, title="Compressor noisy", by=by, priority=priority, at=at
    )


def make_completable(job: WorkOrder, *, by: User, at: dt.datetime) -> None:
    """Answer the required checks and, where the contract wants one, capture the signature."""
    required = ChecklistItem.objects.filter(work_order=job, required=True)
    required.filter(kind=ChecklistItem.Kind.PASS_FAIL).update(
        result=ChecklistItem.Result.PASS, answered_at=at, answered_by=by
    )
    required.filter(kind=ChecklistItem.Kind.VALUE).update(
        value=Decimal("7.2"), answered_at=at, answered_by=by
    )
    required.filter(kind=ChecklistItem.Kind.TEXT).update(text="Done", answered_at=at, answered_by=by)
    if job.contract is not None and job.contract.requires_signature:
        Signature.objects.get_or_create(
            work_order=job,
            defaults={"image": f"signatures/{at:%Y/%m}/sig.png", "signer_name": "王伟", "signed_at": at},
        )


# Every service that leads into each status (two lead into scheduled and into in_progress).
SERVICES_INTO: dict[str, tuple[str, ...]] = {
    S.NEW: ("unschedule",),
    S.SCHEDULED: ("schedule", "recall"),
    S.DISPATCHED: ("dispatch",),
    S.EN_ROUTE: ("start_travel",),
    S.ON_SITE: ("arrive",),
    S.IN_PROGRESS: ("start_work", "resume"),
    S.ON_HOLD: ("hold",),
    S.COMPLETED: ("complete",),
    S.CLOSED: ("close",),
    S.CANCELLED: ("cancel",),
}
ALL_SERVICES = tuple(itertools.chain.from_iterable(SERVICES_INTO.values()))
DISPATCHER_SERVICES = frozenset({"schedule", "unschedule", "recall", "dispatch", "close", "cancel"})
# These two take no `at`: they stamp the event with the server's clock.
SERVER_CLOCK_SERVICES = frozenset({"unschedule", "cancel"})


def service_for(from_status: str, to_status: str) -> str:
    """The service the application uses for a legal move."""
    if (from_status, to_status) == (S.DISPATCHED, S.SCHEDULED):
        return "recall"
    if (from_status, to_status) == (S.ON_HOLD, S.IN_PROGRESS):
        return "resume"
    return SERVICES_INTO[to_status][0]


def invoke(
    name: str,
    job: WorkOrder,
    *,
    crew: Crew,
    at: dt.datetime,
    version: int | None = None,
    technician: User | None = None,
) -> WorkOrder:
    """Call one lifecycle service as its usual actor; `version` defaults to the job's own."""
    by = crew.dispatcher if name in DISPATCHER_SERVICES else crew.technician
    seen = job.version if version is None else version
    if name == "schedule":
        return lifecycle.work_order_schedule(
            work_order=job,
            technician=technician or crew.technician,
            planned_start=at + dt.timedelta(hours=1),
            planned_end=at + dt.timedelta(hours=3),
            by=by,
            version=seen,
            at=at,
        )
    if name == "unschedule":
        return lifecycle.work_order_unschedule(work_order=job, by=by, version=seen)
    if name == "cancel":
        return lifecycle.work_order_cancel(work_order=job, by=by, version=seen, reason="Customer fixed it")
    if name == "hold":
        return site_visit.work_order_hold(
            work_order=job, by=by, version=seen, reason="Waiting for parts", at=at
        )
    if name == "resume":
        return site_visit.work_order_resume(work_order=job, by=by, version=seen, at=at)
    if name == "complete":
        make_completable(job, by=by, at=at)
        return site_visit.work_order_complete(
            work_order=job, by=by, version=seen, resolution="Replaced the thermostatic valve", at=at
        )
    simple: dict[str, Callable[..., WorkOrder]] = {
        "recall": lifecycle.work_order_recall,
        "dispatch": lifecycle.work_order_dispatch,
        "start_travel": site_visit.work_order_start_travel,
        "arrive": site_visit.work_order_arrive,
        "start_work": site_visit.work_order_start_work,
        "close": lifecycle.work_order_close,
    }
    return simple[name](work_order=job, by=by, version=seen, at=at)


ROUTE: dict[str, tuple[str, ...]] = {
    S.NEW: (),
    S.SCHEDULED: (S.SCHEDULED,),
    S.DISPATCHED: (S.SCHEDULED, S.DISPATCHED),
    S.EN_ROUTE: (S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE),
    S.ON_SITE: (S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE),
    S.IN_PROGRESS: (S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS),
    S.ON_HOLD: (S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS, S.ON_HOLD),
    S.COMPLETED: (S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS, S.COMPLETED),
    S.CLOSED: (S.SCHEDULED, S.DISPATCHED, S.EN_ROUTE, S.ON_SITE, S.IN_PROGRESS, S.COMPLETED, S.CLOSED),
    S.CANCELLED: (S.CANCELLED,),
}
STEP = dt.timedelta(minutes=10)


def drive(job: WorkOrder, to_status: str, *, crew: Crew, start: dt.datetime = MONDAY_9) -> WorkOrder:
    """Walk a new work order to `to_status` through the services, one step every 10 minutes."""
    for n, status in enumerate(ROUTE[to_status], start=1):
        job = invoke(service_for(job.status, status), job, crew=crew, at=start + n * STEP)
        assert job.status == status
    return job


def next_moment(to_status: str, start: dt.datetime = MONDAY_9) -> dt.datetime:
    return start + (len(ROUTE[to_status]) + 1) * STEP


def state(job: WorkOrder) -> tuple[str, int, int]:
    stored = WorkOrder.objects.get(pk=job.pk)
    return stored.status, stored.version, stored.events.count()


def pair_id(pair: tuple[str, str]) -> str:
    return f"{pair[0]}->{pair[1]}"


ALL_PAIRS = list(itertools.product(S.values, repeat=2))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in lifecycle.TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in lifecycle.TRANSITIONS[a]]


# --- the transition table -----------------------------------------------------------------------


def test_transition_table_is_the_documented_lifecycle() -> None:
    """Pinned, so that an edge added to TRANSITIONS by accident fails here, not in the field."""
    assert lifecycle.TRANSITIONS == {
        S.NEW: {S.SCHEDULED, S.CANCELLED},
        S.SCHEDULED: {S.NEW, S.DISPATCHED, S.CANCELLED},
        S.DISPATCHED: {S.SCHEDULED, S.EN_ROUTE, S.CANCELLED},
        S.EN_ROUTE: {S.ON_SITE, S.CANCELLED},
        S.ON_SITE: {S.IN_PROGRESS, S.CANCELLED},
        S.IN_PROGRESS: {S.ON_HOLD, S.COMPLETED, S.CANCELLED},
        S.ON_HOLD: {S.IN_PROGRESS, S.CANCELLED},
        S.COMPLETED: {S.CLOSED},
        S.CLOSED: set(),
        S.CANCELLED: set(),
    }
    assert len(LEGAL) == 18
    assert len(LEGAL) + len(ILLEGAL) == len(S.values) ** 2


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL, ids=[pair_id(p) for p in LEGAL])
def test_legal_transition_moves_bumps_version_and_records_the_event(
    from_status: str, to_status: str, crew: Crew
) -> None:
    job = drive(open_covered(by=crew.dispatcher), from_status, crew=crew)
    earlier_events = list(job.events.values_list("pk", flat=True))
    name = service_for(from_status, to_status)
    at = next_moment(from_status)
    before = clock.now()

    moved = invoke(name, job, crew=crew, at=at)

    stored = WorkOrder.objects.get(pk=job.pk)
    assert moved.status == stored.status == to_status
    assert stored.version == job.version + 1
    events = list(stored.events.exclude(pk__in=earlier_events))
    assert [(e.type, e.from_status, e.to_status) for e in events] == [
        (WorkOrderEvent.Type.STATUS_CHANGED, from_status, to_status)
    ]
    expected_by = crew.dispatcher if name in DISPATCHER_SERVICES else crew.technician
    assert events[0].by == expected_by
    if name in SERVER_CLOCK_SERVICES:
        assert before <= events[0].at <= clock.now()
    else:
        assert events[0].at == at


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL, ids=[pair_id(p) for p in ILLEGAL])
def test_illegal_transition_is_refused_and_changes_nothing(
    from_status: str, to_status: str, crew: Crew
) -> None:
    job = drive(open_covered(by=crew.dispatcher), from_status, crew=crew)
    # Everything completion needs is in place, so a refusal can only be the transition's.
    make_completable(job, by=crew.technician, at=next_moment(from_status))
    before = state(job)
    # schedule on a scheduled job is a reassignment, tested below; every other service refuses.
    names = [n for n in SERVICES_INTO[to_status] if (n, from_status) != ("schedule", S.SCHEDULED)]
    assert names

    for name in names:
        with pytest.raises(Conflict) as refused:
            invoke(name, job, crew=crew, at=next_moment(from_status))

        assert refused.value.code == "illegal_transition", name
        assert from_status in refused.value.message and to_status in refused.value.message, name
        assert refused.value.details == {"current": from_status, "requested": to_status}
        assert state(job) == before, name


@pytest.mark.parametrize("from_status", WorkOrder.OPEN_STATUSES)
def test_cancel_from_every_open_state(from_status: str, crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), from_status, crew=crew)

    cancelled = lifecycle.work_order_cancel(
        work_order=job, by=crew.dispatcher, version=job.version, reason="Duplicate of WO-2026-000001"
    )

    assert cancelled.status == S.CANCELLED
    event = cancelled.events.get(to_status=S.CANCELLED)
    assert event.from_status == from_status
    assert event.payload == {"reason": "Duplicate of WO-2026-000001"}


@pytest.mark.parametrize("final_status", [S.CLOSED, S.CANCELLED])
def test_nothing_leaves_closed_or_cancelled(final_status: str, crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), final_status, crew=crew)
    make_completable(job, by=crew.technician, at=next_moment(final_status))
    before = state(job)

    for name in ALL_SERVICES:
        with pytest.raises(Conflict, match=final_status):
            invoke(name, job, crew=crew, at=next_moment(final_status))
        assert state(job) == before, name

    with pytest.raises(Conflict) as refused:
        creation.work_order_update(work_order=job, by=crew.dispatcher, version=job.version, title="Again")
    assert refused.value.code == "closed"


@pytest.mark.parametrize(
    ("name", "from_status"),
    [
        ("recall", S.NEW),  # would leave a "scheduled" job with no technician
        ("start_work", S.ON_HOLD),  # would resume without crediting the SLA pause
        ("resume", S.ON_SITE),  # would start work without stamping actual_start
    ],
)
def test_each_service_accepts_only_the_moves_it_was_written_for(
    name: str, from_status: str, crew: Crew
) -> None:
    """TRANSITIONS allows these moves, but through another service. `_simple` services check
    only the target, so they take a path whose bookkeeping they do not do.
    (TRANSITION_SERVICES maps in_progress to start_work, so an API resuming a held job
    through it loses the pause and leaves on_hold_since set.)"""
    job = drive(open_covered(by=crew.dispatcher), from_status, crew=crew)
    before = state(job)

    with pytest.raises(Conflict) as refused:
        invoke(name, job, crew=crew, at=next_moment(from_status))

    assert refused.value.code == "illegal_transition"
    assert state(job) == before


# --- optimistic concurrency ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_status", "name"),
    [
        (S.NEW, "schedule"),
        (S.SCHEDULED, "unschedule"),
        (S.SCHEDULED, "dispatch"),
        (S.DISPATCHED, "recall"),
        (S.EN_ROUTE, "arrive"),
        (S.IN_PROGRESS, "hold"),
        (S.ON_HOLD, "resume"),
        (S.IN_PROGRESS, "complete"),
        (S.COMPLETED, "close"),
        (S.ON_SITE, "cancel"),
    ],
)
def test_stale_version_is_refused_and_the_current_one_passes(from_status: str, name: str, crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), from_status, crew=crew)
    make_completable(job, by=crew.technician, at=next_moment(from_status))
    before = state(job)

    for stale in (job.version - 1, job.version + 1):
        with pytest.raises(Conflict) as refused:
            invoke(name, job, crew=crew, at=next_moment(from_status), version=stale)
        assert refused.value.code == "version_conflict"
        assert refused.value.details == {"current_version": job.version, "status": from_status}
        assert job.number in refused.value.message
        assert state(job) == before

    moved = invoke(name, job, crew=crew, at=next_moment(from_status), version=job.version)
    assert moved.version == job.version + 1


# --- completion ---------------------------------------------------------------------------------


def test_completion_is_refused_with_everything_missing(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.IN_PROGRESS, crew=crew)
    before = state(job)

    with pytest.raises(Invalid) as refused:
        site_visit.work_order_complete(
            work_order=job, by=crew.technician, version=job.version, resolution="  "
        )

    assert refused.value.code == "completion_incomplete"
    missing = refused.value.details["missing"]
    # The optional third check is not asked for.
    assert [gap["field"] for gap in missing] == ["checklist[1]", "checklist[2]", "signature", "resolution"]
    assert "Oil level checked" in missing[0]["message"]
    assert "Discharge pressure" in missing[1]["message"]
    assert state(job) == before


def test_completion_lists_only_what_is_still_missing(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.IN_PROGRESS, crew=crew)
    job.checklist.filter(position=1).update(result=ChecklistItem.Result.FAIL)
    # Zero is an answer, not a gap.
    job.checklist.filter(position=2).update(value=Decimal("0"))

    with pytest.raises(Invalid) as refused:
        site_visit.work_order_complete(
            work_order=job, by=crew.technician, version=job.version, resolution="Replaced the valve"
        )

    assert [gap["field"] for gap in refused.value.details["missing"]] == ["signature"]


def test_completion_allowed_when_complete(
    crew: Crew, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.IN_PROGRESS, crew=crew)
    at = next_moment(S.IN_PROGRESS)
    make_completable(job, by=crew.technician, at=at)

    with django_capture_on_commit_callbacks() as callbacks:
        done = site_visit.work_order_complete(
            work_order=job,
            by=crew.technician,
            version=job.version,
            resolution="Replaced the valve",
            resolution_code="REPLACED",
            at=at,
        )

    stored = WorkOrder.objects.get(pk=job.pk)
    assert done.status == stored.status == S.COMPLETED
    assert (stored.resolution, stored.resolution_code) == ("Replaced the valve", "REPLACED")
    assert stored.completed_at == stored.actual_end == at
    assert len(callbacks) == 1  # the service report, after commit


def test_contract_without_signature_requirement_completes_unsigned(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher, requires_signature=False), S.IN_PROGRESS, crew=crew)
    make_completable(job, by=crew.technician, at=next_moment(S.IN_PROGRESS))

    done = site_visit.work_order_complete(
        work_order=job, by=crew.technician, version=job.version, resolution="Cleaned the cooler"
    )

    assert done.status == S.COMPLETED
    assert not Signature.objects.filter(work_order=job).exists()


# --- SLA due times ------------------------------------------------------------------------------


def test_24x7_contract_due_times_are_created_plus_hours(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1, at=FRIDAY_16)

    assert job.contract is not None and job.billable is False
    assert job.sla_response_due == FRIDAY_16 + dt.timedelta(hours=4)
    assert job.sla_resolution_due == FRIDAY_16 + dt.timedelta(hours=24)


def test_business_hours_contract_skips_the_weekend(crew: Crew) -> None:
    # P2: 8 h response, 48 h resolution, 08:00–18:00 Monday to Friday.
    job = open_covered(by=crew.dispatcher, priority=2, at=FRIDAY_16)

    stored = WorkOrder.objects.get(pk=job.pk)
    assert stored.sla_response_due == shanghai(9, 14)
    # 2 h Friday, 4 × 10 h Monday–Thursday, 6 h the next Friday.
    assert stored.sla_resolution_due == shanghai(13, 14)


def test_business_hours_are_counted_in_the_sites_own_zone_across_dst(crew: Crew) -> None:
    chicago = factories.site(time_zone="America/Chicago", lat=41.88, lon=-87.63)
    # Friday 6 March 16:00 CST, given in UTC; Chicago moves to CDT on Sunday 8 March.
    opened = dt.datetime(2026, 3, 6, 22, 0, tzinfo=UTC)

    job = open_covered(by=crew.dispatcher, site=chicago, priority=2, at=opened)

    stored = WorkOrder.objects.get(pk=job.pk)
    assert stored.sla_response_due == dt.datetime(2026, 3, 9, 14, 0, tzinfo=CHICAGO)
    assert stored.sla_response_due == dt.datetime(2026, 3, 9, 19, 0, tzinfo=UTC)


def test_no_covering_contract_is_billable_with_default_hours_and_calendar(
    crew: Crew, settings: Settings
) -> None:
    settings.DEFAULT_SLA_HOURS = {1: (4, 24), 2: (3, 5), 3: (24, 120), 4: (72, 240)}
    settings.DEFAULT_SLA_CALENDAR = sla.BUSINESS_HOURS
    unit = factories.equipment()

    job = open_uncovered(by=crew.dispatcher, unit=unit, at=FRIDAY_16, priority=2)

    assert job.contract is None and job.billable is True
    assert job.sla_response_due == shanghai(9, 9)
    assert job.sla_resolution_due == shanghai(9, 11)

    settings.DEFAULT_SLA_CALENDAR = sla.ALWAYS
    around_the_clock = open_uncovered(by=crew.dispatcher, unit=unit, at=FRIDAY_16, priority=2)
    assert around_the_clock.sla_response_due == FRIDAY_16 + dt.timedelta(hours=3)


def test_work_order_without_equipment_is_billable(crew: Crew) -> None:
    plant = factories.site()

    job = creation.work_order_create(
        site=plant, kind=Kind.INSPECTION, title="Site survey", by=crew.dispatcher, priority=2, at=FRIDAY_16
    )

    assert job.contract is None and job.billable is True
    assert job.sla_response_due == shanghai(9, 14)


def test_contract_covering_other_equipment_does_not_cover(crew: Crew) -> None:
    plant = factories.site()
    ours, theirs = factories.equipment(site=plant), factories.equipment(site=plant)
    factories.contract(account=plant.account, covers=[theirs], sla_calendar=ALWAYS)

    job = open_uncovered(by=crew.dispatcher, unit=ours, at=FRIDAY_16)

    assert job.contract is None and job.billable is True


def test_ended_or_inactive_contract_does_not_cover(crew: Crew) -> None:
    unit = factories.equipment()
    factories.contract(account=unit.site.account, covers=[unit], end_date=dt.date(2026, 2, 28))
    factories.contract(account=unit.site.account, covers=[unit], status=ServiceContract.Status.EXPIRED)

    job = open_uncovered(by=crew.dispatcher, unit=unit, at=MONDAY_9)

    assert job.contract is None and job.billable is True


def test_contract_end_is_judged_on_the_sites_local_date(crew: Crew) -> None:
    unit = factories.equipment()
    ending = factories.contract(account=unit.site.account, covers=[unit], end_date=dt.date(2026, 3, 1))

    last_evening = open_uncovered(by=crew.dispatcher, unit=unit, at=shanghai(1, 23, 30))
    # 00:30 on 2 March in Shanghai is still 1 March in UTC: the contract has ended locally.
    after_midnight = open_uncovered(by=crew.dispatcher, unit=unit, at=shanghai(2, 0, 30))

    assert last_evening.contract == ending
    assert after_midnight.contract is None


# --- the SLA pause ------------------------------------------------------------------------------


def hold_and_resume(job: WorkOrder, *, crew: Crew, held: dt.datetime, resumed: dt.datetime) -> WorkOrder:
    job = invoke("hold", job, crew=crew, at=held)
    assert job.on_hold_since == held
    return invoke("resume", job, crew=crew, at=resumed)


def test_hold_of_two_business_hours_moves_resolution_due_by_two_working_hours(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher, priority=2), S.IN_PROGRESS, crew=crew)
    assert job.sla_resolution_due == shanghai(6, 17)  # 48 business hours after Monday 09:00

    resumed = hold_and_resume(job, crew=crew, held=shanghai(3, 10), resumed=shanghai(3, 12))

    stored = WorkOrder.objects.get(pk=job.pk)
    assert resumed.status == stored.status == S.IN_PROGRESS
    assert stored.on_hold_since is None
    assert stored.sla_paused_minutes == 120
    # One hour left on Friday, then one on Monday morning.
    assert stored.sla_resolution_due == shanghai(9, 9)
    assert OFFICE.minutes_between(shanghai(6, 17), stored.sla_resolution_due) == 120
    assert stored.sla_response_due == job.sla_response_due


def test_hold_over_a_weekend_moves_resolution_due_only_by_the_working_time(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher, priority=3), S.IN_PROGRESS, crew=crew)
    assert job.sla_resolution_due == shanghai(18, 9)  # 120 business hours after Monday 2 09:00

    # Friday 17:00 to Monday 09:00: 64 hours on the clock, 2 of them working hours.
    hold_and_resume(job, crew=crew, held=shanghai(6, 17), resumed=shanghai(9, 9))

    stored = WorkOrder.objects.get(pk=job.pk)
    assert stored.sla_paused_minutes == 120
    assert stored.sla_resolution_due == shanghai(18, 11)


def test_paused_minutes_accumulate_over_two_holds(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher, priority=3), S.IN_PROGRESS, crew=crew)

    job = hold_and_resume(job, crew=crew, held=shanghai(3, 10), resumed=shanghai(3, 12))
    job = hold_and_resume(job, crew=crew, held=shanghai(4, 14), resumed=shanghai(4, 14, 45))

    stored = WorkOrder.objects.get(pk=job.pk)
    assert stored.sla_paused_minutes == 165
    assert stored.sla_resolution_due == shanghai(18, 11, 45)


# --- SLA breaches -------------------------------------------------------------------------------


def breaches(job: WorkOrder) -> list[tuple[str, dt.datetime]]:
    return [
        (event.payload["clock"], event.at)
        for event in job.events.filter(type=WorkOrderEvent.Type.SLA_BREACHED).order_by("at")
    ]


def test_each_breach_is_recorded_once(crew: Crew) -> None:
    # 24x7 P1: response due 13:00, resolution due Tuesday 09:00.
    job = open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1)

    assert sla_clocks.sla_breaches_record(now=shanghai(2, 12, 59)) == 0
    assert sla_clocks.sla_breaches_record(now=shanghai(2, 14)) == 1
    assert sla_clocks.sla_breaches_record(now=shanghai(3, 10)) == 1
    assert sla_clocks.sla_breaches_record(now=shanghai(3, 11)) == 0

    assert breaches(job) == [("response", shanghai(2, 13)), ("resolution", shanghai(3, 9))]


def test_running_the_sweep_twice_records_nothing_more(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1)

    assert sla_clocks.sla_breaches_record(now=shanghai(3, 10)) == 2
    assert sla_clocks.sla_breaches_record(now=shanghai(3, 10)) == 0

    assert len(breaches(job)) == 2


def test_on_hold_work_order_is_not_swept(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1), S.ON_HOLD, crew=crew)

    assert sla_clocks.sla_breaches_record(now=shanghai(10, 9)) == 0
    assert breaches(job) == []


def test_response_in_time_is_no_response_breach(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1), S.ON_SITE, crew=crew)
    assert job.responded_at == MONDAY_9 + 4 * STEP

    assert sla_clocks.sla_breaches_record(now=shanghai(2, 14)) == 0
    assert sla_clocks.sla_breaches_record(now=shanghai(3, 10)) == 1
    assert breaches(job) == [("resolution", shanghai(3, 9))]


def test_late_response_is_a_response_breach_even_if_no_sweep_saw_it_open(crew: Crew) -> None:
    # Response due 13:00; the technician arrives 13:40, and the sweep next runs at 14:00.
    job = open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1)
    job = drive(job, S.ON_SITE, crew=crew, start=shanghai(2, 13))
    assert job.responded_at == shanghai(2, 13, 40)

    sla_clocks.sla_breaches_record(now=shanghai(2, 14))

    assert breaches(job) == [("response", shanghai(2, 13))]


def test_late_completion_is_a_resolution_breach_even_if_no_sweep_saw_it_open(crew: Crew) -> None:
    # Resolution due Tuesday 09:00; completed at 09:30 (after a late arrival), swept at 10:00.
    job = open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1)
    job = drive(job, S.COMPLETED, crew=crew, start=shanghai(3, 8, 30))
    assert job.completed_at == shanghai(3, 9, 30)

    sla_clocks.sla_breaches_record(now=shanghai(3, 10))

    assert [clock for clock, _ in breaches(job)] == ["response", "resolution"]


# --- backdated events (issue 14) -------------------------------------------------------------------


def test_a_backdated_arrival_or_completion_cannot_rewrite_the_sla_history(crew: Crew) -> None:
    """A technician posted `arrived` 29 days in the past and `completed` an hour before that;
    both were applied, before the job even existed, and its report said "met, 29 d 17 h early"."""
    job = drive(open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1), S.EN_ROUTE, crew=crew)
    with pytest.raises(Invalid) as refused:
        site_visit.work_order_arrive(
            work_order=job, by=crew.technician, version=job.version, at=MONDAY_9 - dt.timedelta(days=29)
        )
    assert refused.value.code == "event_out_of_order"
    assert refused.value.details["previous"]["what"] == "its move to en_route"
    assert WorkOrder.objects.get(pk=job.pk).responded_at is None

    arrived_at = next_moment(S.EN_ROUTE)
    job = site_visit.work_order_arrive(work_order=job, by=crew.technician, version=job.version, at=arrived_at)
    job = site_visit.work_order_start_work(
        work_order=job, by=crew.technician, version=job.version, at=arrived_at + STEP
    )
    make_completable(job, by=crew.technician, at=arrived_at + STEP)
    with pytest.raises(Invalid) as before_arrival:
        site_visit.work_order_complete(
            work_order=job,
            by=crew.technician,
            version=job.version,
            resolution="Replaced the valve",
            at=arrived_at - dt.timedelta(hours=1),
        )
    assert before_arrival.value.code == "event_out_of_order"
    stored = WorkOrder.objects.get(pk=job.pk)
    assert (stored.status, stored.completed_at, stored.responded_at) == (S.IN_PROGRESS, None, arrived_at)


def test_no_event_precedes_the_work_orders_creation(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher, at=MONDAY_9)
    with pytest.raises(Invalid) as refused:
        invoke("schedule", job, crew=crew, at=MONDAY_9 - dt.timedelta(days=1))
    assert refused.value.details["previous"]["what"] == "its creation"


def test_an_event_a_little_before_the_previous_one_is_recorded_at_it(crew: Crew, settings: Settings) -> None:
    """Phone and server clocks differ by seconds to minutes: within the allowed skew an event
    is taken, but recorded no earlier than the one before it, so the timeline stays in order."""
    job = drive(open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1), S.EN_ROUTE, crew=crew)
    left_at = next_moment(S.EN_ROUTE) - STEP
    skew = dt.timedelta(minutes=settings.MOBILE_EVENT_MAX_CLOCK_SKEW_MINUTES)
    job = site_visit.work_order_arrive(
        work_order=job, by=crew.technician, version=job.version, at=left_at - skew + dt.timedelta(minutes=1)
    )
    assert job.arrived_at == job.responded_at == left_at
    arrival = WorkOrderEvent.objects.get(work_order=job, to_status=S.ON_SITE)
    assert arrival.at == left_at and not arrival.flagged
    assert arrival.payload["device_at"] == (left_at - skew + dt.timedelta(minutes=1)).isoformat()


def test_a_future_event_is_refused(crew: Crew, settings: Settings) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.EN_ROUTE, crew=crew)
    too_late = clock.now() + dt.timedelta(minutes=settings.MOBILE_EVENT_MAX_CLOCK_SKEW_MINUTES + 5)
    with pytest.raises(Invalid) as refused:
        site_visit.work_order_arrive(work_order=job, by=crew.technician, version=job.version, at=too_late)
    assert refused.value.code == "implausible_time"


def test_a_phone_whose_clock_is_wrong_is_recorded_at_our_time_and_flagged(crew: Crew) -> None:
    """Its times cannot be trusted to move SLA results: the arrival counts from when we heard of
    it, which it cannot have been after, and the office reviews what the phone said."""
    job = drive(open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=1), S.EN_ROUTE, crew=crew)
    said = next_moment(S.EN_ROUTE)  # in time for the response, by the phone's word
    heard = clock.now()
    job = site_visit.work_order_arrive(
        work_order=job,
        by=crew.technician,
        version=job.version,
        at=said,
        clock_skew=-dt.timedelta(days=18),  # the phone's clock is 18 days behind ours
    )
    assert job.responded_at is not None and heard <= job.responded_at < heard + dt.timedelta(minutes=1)
    arrival = WorkOrderEvent.objects.get(work_order=job, to_status=S.ON_SITE)
    assert (arrival.at, arrival.flagged, arrival.flag_reason) == (job.responded_at, True, "device_clock")
    assert arrival.payload["device_clock"] == {"at": said.isoformat(), "skew_minutes": -18 * 24 * 60}
    assert [clock for clock, _ in breaches(job)] == ["response"]


# --- first-time fix -----------------------------------------------------------------------------


def completed_repair(*, crew: Crew, unit: Equipment, kind: str = Kind.CORRECTIVE) -> WorkOrder:
    job = open_uncovered(by=crew.dispatcher, unit=unit, at=MONDAY_9, kind=kind)
    return drive(job, S.COMPLETED, crew=crew)


@pytest.mark.parametrize("kind", [Kind.CORRECTIVE, Kind.EMERGENCY])
def test_completing_a_repair_is_a_first_time_fix(kind: str, crew: Crew) -> None:
    done = completed_repair(crew=crew, unit=factories.equipment(), kind=kind)

    assert WorkOrder.objects.get(pk=done.pk).first_time_fix is True


@pytest.mark.parametrize("kind", [Kind.PREVENTIVE, Kind.INSPECTION])
def test_planned_work_has_no_first_time_fix(kind: str, crew: Crew) -> None:
    done = completed_repair(crew=crew, unit=factories.equipment(), kind=kind)

    assert WorkOrder.objects.get(pk=done.pk).first_time_fix is None


@pytest.mark.parametrize("repeat_kind", [Kind.CORRECTIVE, Kind.EMERGENCY])
def test_repeat_repair_within_the_window_marks_the_earlier_one_not_fixed(
    repeat_kind: str, crew: Crew
) -> None:
    unit = factories.equipment()
    first = completed_repair(crew=crew, unit=unit)
    assert first.completed_at is not None
    repeat_at = first.completed_at + dt.timedelta(days=29, hours=23)

    repeat = open_uncovered(by=crew.dispatcher, unit=unit, at=repeat_at, kind=repeat_kind)

    stored = WorkOrder.objects.get(pk=first.pk)
    assert stored.first_time_fix is False
    assert stored.version == first.version + 1
    event = stored.events.get(type=WorkOrderEvent.Type.UPDATED)
    assert event.payload == {"first_time_fix": False, "repeat": repeat.number}
    assert (event.by, event.at) == (crew.dispatcher, repeat_at)


def test_repair_after_the_window_leaves_the_earlier_one_fixed(crew: Crew) -> None:
    unit = factories.equipment()
    first = completed_repair(crew=crew, unit=unit)
    assert first.completed_at is not None

    open_uncovered(by=crew.dispatcher, unit=unit, at=first.completed_at + dt.timedelta(days=31))

    stored = WorkOrder.objects.get(pk=first.pk)
    assert (stored.first_time_fix, stored.version) == (True, first.version)


def test_repair_on_other_equipment_leaves_the_earlier_one_fixed(crew: Crew) -> None:
    first = completed_repair(crew=crew, unit=factories.equipment())
    assert first.completed_at is not None

    open_uncovered(
        by=crew.dispatcher, unit=factories.equipment(), at=first.completed_at + dt.timedelta(days=1)
    )

    assert WorkOrder.objects.get(pk=first.pk).first_time_fix is True


def test_preventive_work_neither_marks_nor_is_marked(crew: Crew) -> None:
    unit = factories.equipment()
    repair = completed_repair(crew=crew, unit=unit)
    service_visit = completed_repair(crew=crew, unit=unit, kind=Kind.PREVENTIVE)
    assert repair.completed_at is not None
    # Preventive work on the same unit does not make the repair a repeat.
    open_uncovered(
        by=crew.dispatcher, unit=unit, at=repair.completed_at + dt.timedelta(days=2), kind=Kind.PREVENTIVE
    )
    assert WorkOrder.objects.get(pk=repair.pk).first_time_fix is True

    # A new repair marks the earlier repair, never the preventive visit.
    open_uncovered(by=crew.dispatcher, unit=unit, at=repair.completed_at + dt.timedelta(days=3))

    visit = WorkOrder.objects.get(pk=service_visit.pk)
    assert (visit.first_time_fix, visit.version) == (None, service_visit.version)
    assert WorkOrder.objects.get(pk=repair.pk).first_time_fix is False


# --- work_order_update --------------------------------------------------------------------------


def test_update_changes_editable_fields_and_records_it(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher)

    updated = creation.work_order_update(
        work_order=job,
        by=crew.dispatcher,
        version=job.version,
        title="Compressor trips at 40 °C",
        estimated_minutes=90,
    )

    stored = WorkOrder.objects.get(pk=job.pk)
    assert (stored.title, stored.estimated_minutes) == ("Compressor trips at 40 °C", 90)
    assert updated.version == stored.version == job.version + 1
    event = stored.events.get(type=WorkOrderEvent.Type.UPDATED)
    assert event.payload == {"changed": {"title": "Compressor trips at 40 °C", "estimated_minutes": 90}}
    assert event.by == crew.dispatcher


def test_update_with_unchanged_values_is_not_a_change(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher)
    before = state(job)

    creation.work_order_update(work_order=job, by=crew.dispatcher, version=job.version, title=job.title)

    assert state(job) == before


@pytest.mark.parametrize(
    "field", ["status", "resolution", "sla_resolution_due", "assigned_technician", "contract", "billable"]
)
def test_update_refuses_fields_that_are_not_editable(field: str, crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher)
    before = state(job)

    with pytest.raises(Invalid) as refused:
        creation.work_order_update(
            work_order=job, by=crew.dispatcher, version=job.version, title="New title", **{field: None}
        )

    assert refused.value.code == "not_editable"
    assert field in refused.value.message
    assert state(job) == before
    assert WorkOrder.objects.get(pk=job.pk).title == job.title


def test_priority_change_rederives_the_sla_due_times(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher, calendar=ALWAYS, priority=3)
    assert job.sla_response_due == MONDAY_9 + dt.timedelta(hours=24)

    creation.work_order_update(work_order=job, by=crew.dispatcher, version=job.version, priority=1)

    stored = WorkOrder.objects.get(pk=job.pk)
    assert stored.priority == 1
    assert stored.sla_response_due == MONDAY_9 + dt.timedelta(hours=4)
    assert stored.sla_resolution_due == MONDAY_9 + dt.timedelta(hours=24)
    assert stored.contract == job.contract


def test_update_with_a_stale_version_is_refused(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher)
    creation.work_order_update(work_order=job, by=crew.dispatcher, version=job.version, title="First edit")
    before = state(job)

    with pytest.raises(Conflict) as refused:
        creation.work_order_update(
            work_order=job, by=crew.dispatcher, version=job.version, title="Second edit"
        )

    assert refused.value.code == "version_conflict"
    assert state(job) == before
    assert WorkOrder.objects.get(pk=job.pk).title == "First edit"


def test_update_refuses_a_window_that_ends_before_it_starts(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher)

    with pytest.raises(Invalid) as refused:
        creation.work_order_update(
            work_order=job,
            by=crew.dispatcher,
            version=job.version,
            earliest_start=shanghai(4, 10),
            latest_end=shanghai(4, 10),
        )

    assert refused.value.code == "window_ordered"


# --- schedule and reassign ----------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["dispatcher", "admin_user"])
def test_scheduling_a_non_technician_is_invalid(
    persona: str, crew: Crew, request: pytest.FixtureRequest
) -> None:
    not_a_technician: User = request.getfixturevalue(persona)
    job = open_covered(by=crew.dispatcher)
    before = state(job)

    with pytest.raises(Invalid) as refused:
        invoke("schedule", job, crew=crew, at=MONDAY_9, technician=not_a_technician)

    assert refused.value.code == "not_a_technician"
    assert state(job) == before
    assert WorkOrder.objects.get(pk=job.pk).assigned_technician is None


def test_schedule_assigns_the_technician_and_planned_times(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher)

    scheduled = invoke("schedule", job, crew=crew, at=MONDAY_9)

    stored = WorkOrder.objects.get(pk=job.pk)
    assert stored.assigned_technician == crew.technician
    assert (stored.planned_start, stored.planned_end) == (shanghai(2, 10), shanghai(2, 12))
    assert scheduled.events.get(type=WorkOrderEvent.Type.STATUS_CHANGED).payload["technician"] == "tech01"


def test_schedule_refuses_a_plan_that_ends_before_it_starts(crew: Crew) -> None:
    job = open_covered(by=crew.dispatcher)

    with pytest.raises(Invalid) as refused:
        lifecycle.work_order_schedule(
            work_order=job,
            technician=crew.technician,
            planned_start=shanghai(2, 10),
            planned_end=shanghai(2, 10),
            by=crew.dispatcher,
            version=job.version,
        )

    assert refused.value.code == "planned_ordered"


def test_reassigning_a_dispatched_job_puts_it_back_to_scheduled(crew: Crew, tech_b: User) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.DISPATCHED, crew=crew)
    at = next_moment(S.DISPATCHED)

    reassigned = invoke("schedule", job, crew=crew, at=at, technician=tech_b)

    stored = WorkOrder.objects.get(pk=job.pk)
    assert reassigned.status == stored.status == S.SCHEDULED
    assert stored.assigned_technician == tech_b
    assert stored.planned_start == at + dt.timedelta(hours=1)
    assert stored.version == job.version + 1
    event = stored.events.filter(type=WorkOrderEvent.Type.STATUS_CHANGED).latest("at")
    assert (event.from_status, event.to_status, event.by) == (S.DISPATCHED, S.SCHEDULED, crew.dispatcher)
    assert event.payload["technician"] == "tech02"


def test_reassigning_a_scheduled_job_keeps_it_scheduled(crew: Crew, tech_b: User) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.SCHEDULED, crew=crew)

    reassigned = invoke("schedule", job, crew=crew, at=next_moment(S.SCHEDULED), technician=tech_b)

    stored = WorkOrder.objects.get(pk=job.pk)
    assert reassigned.status == stored.status == S.SCHEDULED
    assert (stored.assigned_technician, stored.version) == (tech_b, job.version + 1)
    event = stored.events.get(type=WorkOrderEvent.Type.ASSIGNED)
    assert event.payload["technician"] == "tech02"


def test_unschedule_clears_the_assignment(crew: Crew) -> None:
    job = drive(open_covered(by=crew.dispatcher), S.SCHEDULED, crew=crew)

    invoke("unschedule", job, crew=crew, at=next_moment(S.SCHEDULED))

    stored = WorkOrder.objects.get(pk=job.pk)
    assert stored.status == S.NEW
    assert (stored.assigned_technician, stored.planned_start, stored.planned_end) == (None, None, None)


def test_preventive_sla_clock_starts_with_its_window(crew: Crew) -> None:
    """PM is generated days ahead: its clocks run from when it falls due, not from creation."""
    unit = factories.equipment()
    window_start = MONDAY_9 + dt.timedelta(days=14)
    job = creation.work_order_create(
        site=unit.site,
        equipment=unit,
        kind=Kind.PREVENTIVE,
        title="Quarterly",
        by=None,
        priority=4,
        earliest_start=window_start,
        latest_end=window_start + dt.timedelta(days=7),
        at=MONDAY_9,
    )
    assert job.sla_response_due is not None and job.sla_response_due > window_start
    repair = creation.work_order_create(
        site=unit.site, kind=Kind.CORRECTIVE, title="Leak", by=None, at=MONDAY_9
    )
    assert repair.sla_response_due is not None and repair.sla_response_due < window_start


# --- locking ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_locked_work_order_does_not_block_rows_that_point_at_it() -> None:
    """Under load, one request locked a job while another inserted an event for it; the
    event's foreign-key check waited for the lock at commit, and the two deadlocked. The
    services' lock is FOR NO KEY UPDATE, which lets such inserts through."""
    from django.db import connection, transaction

    job = factories.work_order()
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():
                lifecycle.lock_at_version(job, None)
                locked.set()
                release.wait(timeout=10)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            WorkOrderEvent.objects.create(work_order=job, type=WorkOrderEvent.Type.NOTE, at=clock.now())
            # Deferred foreign-key checks run here, at commit.
    finally:
        release.set()
        holder.join(timeout=10)

    assert errors == []
    assert WorkOrderEvent.objects.filter(work_order=job, type=WorkOrderEvent.Type.NOTE).count() == 1


def test_a_number_carries_the_company_year_in_the_first_hours_of_january(crew: Crew) -> None:
    """03:00 on 1 January in Shanghai is still the old year in UTC; the number is local."""
    new_year = dt.datetime(clock.today().year + 1, 1, 1, 3, tzinfo=SHANGHAI)
    unit = factories.equipment()
    with time_machine.travel(new_year, tick=True):
        job = creation.work_order_create(
            site=unit.site, equipment=unit, kind=Kind.CORRECTIVE, title="Chiller down", by=crew.dispatcher
        )
    assert job.number.startswith(f"WO-{new_year.year}-")
