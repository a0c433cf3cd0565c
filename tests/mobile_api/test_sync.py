"""Incremental sync (mobile_api/sync.py and the change trigger of migration 0002)."""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
from collections import Counter
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction

from fieldservice import clock
from mobile_api import sync
from mobile_api.models import ChangeLogMark, JobChange
from mobile_api.tasks import mobile_housekeeping
from tests.mobile_api.conftest import App, JobMaker, login
from tickets import creation, lifecycle
from tickets.models import WorkOrder

# The cursor is a snapshot of committed transactions: a test's own open transaction would
# look like a change that never commits, so the cursor tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
WRITES = 24


def _changes(response_body: dict[str, Any]) -> list[tuple[str, int, int | None]]:
    return [
        (change["op"], change["id"], change["job"]["version"] if change["job"] else None)
        for change in response_body["changes"]
    ]


def _touch(job: WorkOrder, title: str) -> WorkOrder:
    fresh = WorkOrder.objects.get(pk=job.pk)
    return creation.work_order_update(work_order=fresh, by=None, version=fresh.version, title=title)


def test_a_first_sync_sends_all_my_current_jobs(
    technician_a: User, technician_b: User, app_a: App, make_job: JobMaker
) -> None:
    mine = make_job(technician=technician_a)
    make_job(technician=technician_b)
    body = app_a.get("/sync").json()
    assert body["full"] is True and body["cursor"]
    assert _changes(body) == [("upsert", mine.pk, mine.version)]


def test_nothing_changed_means_no_changes(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    make_job(technician=technician_a)
    cursor = app_a.get("/sync").json()["cursor"]
    body = app_a.get("/sync", cursor=cursor).json()
    assert body["full"] is False and body["changes"] == []


def test_a_change_comes_once(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    job, other = make_job(technician=technician_a), make_job(technician=technician_a)
    cursor = app_a.get("/sync").json()["cursor"]
    changed = _touch(job, "New title")
    body = app_a.get("/sync", cursor=cursor).json()
    assert _changes(body) == [("upsert", job.pk, changed.version)]
    assert body["changes"][0]["job"]["title"] == "New title"
    assert app_a.get("/sync", cursor=body["cursor"]).json()["changes"] == []
    assert other.pk not in [change[1] for change in _changes(body)]


def test_a_reassigned_job_is_removed_for_one_and_added_for_the_other(
    technician_a: User, technician_b: User, dispatcher: User, app_a: App, app_b: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a)
    cursor_a, cursor_b = app_a.get("/sync").json()["cursor"], app_b.get("/sync").json()["cursor"]
    assert job.planned_start and job.planned_end
    moved = lifecycle.work_order_schedule(
        work_order=job,
        technician=technician_b,
        planned_start=job.planned_start,
        planned_end=job.planned_end,
        by=dispatcher,
        version=job.version,
    )
    assert _changes(app_a.get("/sync", cursor=cursor_a).json()) == [("remove", job.pk, None)]
    assert _changes(app_b.get("/sync", cursor=cursor_b).json()) == [("upsert", job.pk, moved.version)]


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


NOW_STAMP = int(clock.now().timestamp())


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "MTox",
        "MTIzOjQ1Njo3ODk6eA",
        # Crafted ones that reached PostgreSQL or the date arithmetic and answered 500:
        _cursor(f"5:3:@{NOW_STAMP}"),  # xmin after xmax
        _cursor(f"3:5:7@{NOW_STAMP}"),  # a running transaction outside xmin..xmax
        _cursor(f"3:9:6,4@{NOW_STAMP}"),  # running transactions out of order
        _cursor(f"0:0:@{NOW_STAMP}"),  # no transaction is 0
        _cursor(f"9223372036854775808:9223372036854775808:@{NOW_STAMP}"),  # past bigint
        _cursor("1:2:@999999999999"),  # taken in the year 33658
    ],
)
def test_a_bad_cursor_is_422(app_a: App, cursor: str) -> None:
    response = app_a.get("/sync", cursor=cursor)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"
    assert response.json()["details"] == {"field": "cursor"}


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["!!!!", "a" * 5000])
def test_a_cursor_not_in_its_format_is_422_naming_it(app_a: App, cursor: str) -> None:
    response = app_a.get("/sync", cursor=cursor)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["details"]] == [["query", "cursor"]]


def test_the_cursor_loses_and_repeats_nothing_under_concurrent_writes(
    technician_a: User, technician_b: User, make_job: JobMaker
) -> None:
    """A writer keeps changing A's and B's jobs while A pulls. One transaction changes a job
    of A's, stays open across a pull while later transactions commit, and commits last: its
    change is older than the cursor's horizon yet must still come, once."""
    held_job, *busy_jobs = [make_job(technician=technician_a) for _ in range(3)]
    theirs = make_job(technician=technician_b)
    app = login("tech01")
    committed: list[tuple[int, int]] = []
    lock = threading.Lock()
    held, release, writer_done = threading.Event(), threading.Event(), threading.Event()

    def record(job: WorkOrder) -> None:
        with lock:
            committed.append((job.pk, job.version))

    def keep_writing() -> None:
        try:
            for write in range(WRITES):
                target = [*busy_jobs, theirs][write % 3]
                record(_touch(target, f"Write {write}"))
                time.sleep(0.01)
        finally:
            writer_done.set()
            connection.close()

    def hold_a_transaction() -> None:
        try:
            with transaction.atomic():
                changed = _touch(held_job, "Held open")
                held.set()
                release.wait(timeout=30)
            record(changed)
        finally:
            connection.close()

    pulls: list[list[tuple[str, int, int | None]]] = []
    first = app.get("/sync").json()
    cursor = first["cursor"]
    holder = threading.Thread(target=hold_a_transaction)
    holder.start()
    assert held.wait(timeout=10)
    writer = threading.Thread(target=keep_writing)
    writer.start()

    def pull() -> None:
        nonlocal cursor
        body = app.get("/sync", cursor=cursor).json()
        pulls.append(_changes(body))
        cursor = body["cursor"]

    while len(committed) < 4:  # later transactions commit while the held one is open...
        time.sleep(0.005)
    pull()  # ...and a pull happens across it
    release.set()
    holder.join(timeout=30)
    while not writer_done.is_set():
        pull()
        time.sleep(0.015)
    writer.join(timeout=30)
    pull()

    assert len(committed) == WRITES + 1
    pulled = [(job_id, version) for changes in pulls for _, job_id, version in changes]
    assert theirs.pk not in {job_id for job_id, _ in pulled}
    assert all(op == "upsert" for changes in pulls for op, _, _ in changes)
    repeated = [change for change, times in Counter(pulled).items() if times > 1]
    assert repeated == [], f"returned by more than one pull: {repeated}"
    mine = [(job_id, version) for job_id, version in committed if job_id != theirs.pk]
    lost = [
        (job_id, version)
        for job_id, version in mine
        if not any(p_id == job_id and p_version >= version for p_id, p_version in pulled)  # type: ignore[operator]
    ]
    assert lost == [], f"never pulled: {lost}"
    latest = dict(WorkOrder.objects.filter(assigned_technician=technician_a).values_list("pk", "version"))
    assert {job_id: max(v for i, v in pulled if i == job_id) for job_id in latest} == latest  # type: ignore[type-var]


def test_a_cursor_older_than_the_change_log_gets_a_full_resync(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a)
    fresh = app_a.get("/sync").json()
    snapshot, _ = sync.decode_cursor(fresh["cursor"])
    stale = sync.encode_cursor(
        snapshot, taken=clock.now() - dt.timedelta(days=settings.MOBILE_CHANGE_LOG_DAYS + 1)
    )
    body = app_a.get(f"/sync?cursor={stale}").json()
    assert body["full"] is True
    assert [change["id"] for change in body["changes"]] == [job.pk]


def test_housekeeping_purges_only_what_is_past_its_horizon(technician_a: User, make_job: JobMaker) -> None:
    job = make_job(technician=technician_a)
    kept = JobChange.objects.count()
    # A row from a transaction older than a mark past the horizon, and that mark.
    JobChange.objects.create(technician=technician_a, work_order=job, txid=1)
    past_horizon = clock.today() - dt.timedelta(days=settings.MOBILE_CHANGE_LOG_DAYS + 1)
    ChangeLogMark.objects.create(day=past_horizon, txid=2)
    purged = mobile_housekeeping()
    assert purged["job_changes"] == 1
    assert JobChange.objects.count() == kept > 0
    assert list(ChangeLogMark.objects.values_list("day", flat=True)) == [clock.today()]
    assert mobile_housekeeping()["job_changes"] == 0
    assert ChangeLogMark.objects.count() == 1
