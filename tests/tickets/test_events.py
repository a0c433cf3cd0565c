"""tickets/events.py: the one writer of the work-order trail, and the one work-order lock."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from fieldservice import clock
from tests import factories
from tickets import creation, events
from tickets.models import WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
# What writes rows of the trail: the ORM's inserts, an unsaved row built to be saved, a COPY.
WRITES = re.compile(
    r"WorkOrderEvent\.objects\.(create|bulk_create|get_or_create|update_or_create)"
    r"|(?<!class )WorkOrderEvent\("
    r"|copy_rows\(\s*WorkOrderEvent"
    r"|\.events\.(create|bulk_create)\("
)


def _open(*, by: User | None = None) -> WorkOrder:
    unit = factories.equipment()
    return creation.work_order_create(site=unit.site, equipment=unit, kind="corrective", title="Leak", by=by)


def test_no_module_but_the_writer_writes_the_trail() -> None:
    writers = {
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if not {".venv", "tests", "migrations", "var"} & set(path.relative_to(ROOT).parts)
        and WRITES.search(path.read_text())
    }
    assert writers == {"tickets/events.py"}


def test_who_did_it_is_filled_the_same_way_for_every_writer(dispatcher: User) -> None:
    job = _open(by=dispatcher)
    at = clock.now()
    anonymous = events.event_record(work_order=job, type=WorkOrderEvent.Type.NOTE, by=AnonymousUser(), at=at)
    flagged = events.event_record(
        work_order=job,
        type=WorkOrderEvent.Type.NOTE,
        by=dispatcher,
        at=at,
        flag_reason=WorkOrderEvent.FlagReason.DEVICE_CLOCK,
    )
    events.event_record_many(
        [
            events.NewEvent(work_order_id=job.pk, type=WorkOrderEvent.Type.NOTE, at=at, by=dispatcher.pk),
            events.NewEvent(work_order_id=job.pk, type=WorkOrderEvent.Type.NOTE, at=at, by=AnonymousUser()),
        ]
    )

    assert (anonymous.by, anonymous.payload, anonymous.flagged) == (None, {}, False)
    assert (flagged.by, flagged.flagged) == (dispatcher, True)
    assert list(job.events.filter(type="note").order_by("pk").values_list("by", "flagged")) == [
        (None, False),
        (dispatcher.pk, True),
        (dispatcher.pk, False),
        (None, False),
    ]
    assert job.events.get(type=WorkOrderEvent.Type.CREATED).by == dispatcher


def test_a_breach_is_recorded_once_whoever_sees_it_first() -> None:
    job = _open()
    due = job.sla_response_due
    assert due is not None
    breach = events.sla_breach_event(work_order_id=job.pk, clock="response", due=due)
    events.event_record_many([breach], ignore_conflicts=True)
    events.event_record_many([breach], ignore_conflicts=True)
    assert job.events.filter(type=WorkOrderEvent.Type.SLA_BREACHED).count() == 1
    with pytest.raises(ValueError, match="cannot skip conflicts"):
        events.event_record_many([breach], ignore_conflicts=True, write=lambda model, rows: 0)


def test_the_lock_is_the_no_key_lock_of_the_work_order_row_alone() -> None:
    """The no-key lock does not block the foreign-key checks of events and records inserted
    meanwhile (tickets.events explains the deadlock a plain FOR UPDATE caused)."""
    job, other = _open(), _open()
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        locked = events.lock_work_order(job.pk)
        assert list(events.lock_work_orders(WorkOrder.objects.filter(pk__in=[other.pk, job.pk]))) == [
            job,
            other,
        ]
    assert locked == job and locked.site == job.site  # one query: its site comes with it
    single, several = (query["sql"] for query in queries.captured_queries)
    for sql in (single, several):
        assert sql.endswith('FOR NO KEY UPDATE OF "tickets_workorder"'), sql
    assert several.index('ORDER BY "tickets_workorder"."id" ASC') < several.index("FOR NO KEY")
