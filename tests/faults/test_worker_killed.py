"""A Celery worker SIGKILLed in the middle of a task: once a worker runs again, the task runs
again (acks_late: its message was never acknowledged) and every side effect has happened
exactly once.

Each kill lands at a known point without any test code in the worker: the test holds a row
lock that the task's own transaction needs (a row its deferred foreign-key checks read at
COMMIT, or a row its conditional UPDATE claims), waits until PostgreSQL shows the worker's
session waiting on that lock, and kills the worker's whole process group. The worker's
sessions check every 100 ms that their client is alive, so PostgreSQL rolls back the killed
transaction at once, as it would for a dead host.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.contrib.auth.models import User

from assets.models import Account
from contracts.models import AccountTask, RenewalOpportunity, RenewalReminder, ServiceContract
from fieldservice import clock
from fieldservice.models import StaffProfile
from retention.selectors import milestone_due_dates
from tests import factories
from tests.faults.servers import (
    WORKER_DB_OPTIONS,
    DbLocks,
    Process,
    RedisServer,
    Spawn,
    app_env,
    broker_settled,
    database_url,
    files_under,
    pdf_attachments,
    sent_mail,
    start_worker,
    subject_of,
    wait_for,
)
from tickets.models import ServiceReport, WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.slow

# Seconds before the message of a dead worker is handed out again (production: an hour).
VISIBILITY_TIMEOUT = 4.0
BROKER_DB, CACHE_DB = 1, 2
Milestone = RenewalReminder.Milestone


@dataclass
class Workers:
    """A broker, and Celery workers that share it, the test database, media and mail."""

    spawn: Spawn
    env: dict[str, str]
    broker: redis.Redis
    sender: Celery
    media: Path
    mail: Path

    def start(self) -> Process:
        return start_worker(self.spawn, self.env, visibility_timeout=VISIBILITY_TIMEOUT)

    def send(self, task: str, *args: Any) -> None:
        self.sender.send_task(task, args=list(args))

    def wait_done(self, done: Callable[[], bool], worker: Process, what: str) -> None:
        """Until the outcome is there and the broker holds nothing more, then stop the worker."""
        wait_for(lambda: done() and broker_settled(self.broker), what=what, log=worker.log)
        worker.stop()


@pytest.fixture
def workers(
    redis_server: Any, test_database: dict[str, Any], spawn: Spawn, tmp_path: Path
) -> Iterator[Workers]:
    broker: RedisServer = redis_server()
    media, mail = tmp_path / "media", tmp_path / "mail"
    env = app_env(
        database_url=database_url(test_database, **WORKER_DB_OPTIONS),
        redis_url=broker.url(CACHE_DB),
        broker_url=broker.url(BROKER_DB),
        media_root=media,
        mail_dir=mail,
    )
    sender = Celery("faults-sender", broker=broker.url(BROKER_DB), set_as_current=False)
    yield Workers(spawn, env, broker.client(BROKER_DB), sender, media, mail)
    sender.close()


def kill_when_blocked(worker: Process, db_locks: DbLocks, *, statement: str) -> None:
    db_locks.wait_blocked(statement=statement, log=worker.log)
    worker.kill()
    db_locks.wait_worker_sessions_gone()


# --- the renewal run ---------------------------------------------------------------------------------


def _manager() -> User:
    manager = factories.user(username="am", email="am@fieldservice.example")
    StaffProfile.objects.create(user=manager, language="en")
    return manager


def _contract(account: Account, *, end: dt.date) -> ServiceContract:
    unit = factories.equipment(site=factories.site(account=account))
    return factories.contract(account=account, covers=[unit], end_date=end)


def _happened(contract: ServiceContract, milestone: str, *, emailed: bool) -> None:
    """A milestone an earlier run made happen; `emailed=False`: its email is still owed."""
    due = dict(milestone_due_dates(contract))[milestone]
    RenewalReminder.objects.create(
        contract=contract,
        milestone=milestone,
        due_date=due,
        sent_at=clock.now() if emailed else None,
        recipients=["am@fieldservice.example"] if emailed else [],
    )


def test_renewal_run_killed_twice_makes_each_milestone_quote_and_email_once(
    workers: Workers, db_locks: DbLocks
) -> None:
    manager = _manager()
    today = clock.today()
    # First in the run (earlier end date): its T−60 fell due 3 days ago; it drafts a quote.
    quoting = _contract(factories.account(account_manager=manager), end=today + dt.timedelta(days=57))
    _happened(quoting, Milestone.T120, emailed=True)
    _happened(quoting, Milestone.T90, emailed=True)
    # Second: nothing falls due, but its T−90 email failed in an earlier run and is owed.
    owed = _contract(factories.account(account_manager=manager), end=today + dt.timedelta(days=76))
    _happened(owed, Milestone.T120, emailed=True)
    _happened(owed, Milestone.T90, emailed=False)
    # Kill 1: the T−60 transaction has written the quote file and waits at COMMIT, where the
    # deferred foreign-key check of its quote-review task reads the account row we hold.
    account_row = db_locks.hold(
        "SELECT id FROM assets_account WHERE id = %s FOR UPDATE", (quoting.account_id,)
    )
    # Kill 2: the email pass has sent the first contract's email and claims the second's.
    owed_row = db_locks.hold(
        "SELECT id FROM contracts_renewalreminder WHERE contract_id = %s AND milestone = %s FOR UPDATE",
        (owed.pk, Milestone.T90),
    )
    quotes = workers.media / "quotes"

    worker = workers.start()
    workers.send("contracts.tasks.renewals_run_daily", today.isoformat())
    kill_when_blocked(worker, db_locks, statement="COMMIT")
    assert len(files_under(quotes)) == 1, "the kill should land after the quote was written"
    assert not RenewalReminder.objects.filter(contract=quoting, milestone=Milestone.T60).exists()
    db_locks.release(account_row)

    worker = workers.start()
    kill_when_blocked(worker, db_locks, statement='UPDATE "contracts_renewalreminder"')
    [first] = sent_mail(workers.mail)  # the kill should land after the first contract's email
    assert quoting.number in subject_of(first)
    db_locks.release(owed_row)

    worker = workers.start()
    workers.wait_done(
        lambda: not owed.reminders.filter(sent_at__isnull=True).exists(), worker, "the owed email to be sent"
    )

    assert list(quoting.reminders.order_by("due_date").values_list("milestone", flat=True)) == [
        Milestone.T120,
        Milestone.T90,
        Milestone.T60,
    ]
    assert list(owed.reminders.order_by("due_date").values_list("milestone", flat=True)) == [
        Milestone.T120,
        Milestone.T90,
    ]
    assert not RenewalReminder.objects.filter(sent_at__isnull=True).exists()
    assert all(
        sent_to == [manager.email] for sent_to in RenewalReminder.objects.values_list("recipients", flat=True)
    )
    opportunity = RenewalOpportunity.objects.get(contract=quoting)
    assert [path.relative_to(workers.media).as_posix() for path in files_under(quotes)] == [
        opportunity.quote_pdf.name
    ]
    assert AccountTask.objects.filter(contract=quoting, kind=AccountTask.Kind.QUOTE_REVIEW).count() == 1
    first, second = sent_mail(workers.mail)
    assert quoting.number in subject_of(first) and owed.number in subject_of(second)
    assert pdf_attachments(first) == [f"{quoting.number}-quote.pdf"]
    assert first["To"] == second["To"] == manager.email


# --- the service report --------------------------------------------------------------------------------


def test_service_report_task_killed_after_writing_the_pdf_makes_one_report_file_and_email(
    workers: Workers, db_locks: DbLocks
) -> None:
    site = factories.site()
    contact = factories.contact(site=site, is_primary=True, language="en")
    finished = clock.now() - dt.timedelta(hours=1)
    job = factories.work_order(
        site=site,
        status=WorkOrder.Status.COMPLETED,
        actual_start=finished - dt.timedelta(hours=2),
        actual_end=finished,
        completed_at=finished,
        resolution="Replaced the thermostatic valve.",
    )
    # The task's transaction has inserted the report row and written the PDF, and waits at
    # COMMIT, where the deferred foreign-key check of that row reads the work order we hold.
    work_order_row = db_locks.hold("SELECT id FROM tickets_workorder WHERE id = %s FOR UPDATE", (job.pk,))
    reports = workers.media / "reports"

    worker = workers.start()
    workers.send("tickets.tasks.service_report_generate", job.pk)
    kill_when_blocked(worker, db_locks, statement="COMMIT")
    assert len(files_under(reports)) == 1, "the kill should land after the PDF was written"
    assert not ServiceReport.objects.filter(work_order=job).exists()
    db_locks.release(work_order_row)

    worker = workers.start()
    workers.wait_done(
        lambda: ServiceReport.objects.filter(work_order=job, emailed_at__isnull=False).exists(),
        worker,
        "the report to be emailed",
    )

    report = ServiceReport.objects.get(work_order=job)
    assert [path.relative_to(workers.media).as_posix() for path in files_under(reports)] == [report.pdf.name]
    assert (workers.media / report.pdf.name).read_bytes().startswith(b"%PDF")
    [message] = sent_mail(workers.mail)
    assert message["To"] == contact.email and job.number in subject_of(message)
    assert pdf_attachments(message) == [f"{job.number}.pdf"]
    assert WorkOrderEvent.objects.filter(work_order=job, type=WorkOrderEvent.Type.REPORT_SENT).count() == 1
