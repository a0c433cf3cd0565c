"""Redis down (it is the cache and the Celery broker): the web pages and both APIs keep
serving from the database, and no task is lost. A task that could not be queued either
comes back once Redis does (a completed job's service report: the periodic sweep queues it)
or fails visibly so that its user starts it again (a schedule run).

The Redis server is private to the test, killed as in a crash (its data is lost) and started
again on the same port; gunicorn and then a Celery worker run against it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import requests
from celery import Celery
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import User

from fieldservice import clock, roles
from fieldservice.models import ApiToken
from fieldservice.tokens import token_issue
from scheduling.services import QUEUE_UNAVAILABLE
from tests import factories
from tests.faults.servers import (
    WORKER_DB_OPTIONS,
    RedisServer,
    Spawn,
    app_env,
    broker_settled,
    database_url,
    pdf_attachments,
    sent_mail,
    start_gunicorn,
    start_worker,
    wait_for,
)
from tickets import creation, lifecycle, site_visit
from tickets.models import ServiceReport, WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.slow

BROKER_DB, CACHE_DB = 1, 0
MOBILE = "/api/mobile/v1"


def _job_in_progress(technician: User, dispatcher: User) -> WorkOrder:
    started = clock.now() - dt.timedelta(hours=1)
    unit = factories.equipment()
    factories.contact(site=unit.site, is_primary=True, language="en")
    job = creation.work_order_create(
        site=unit.site, equipment=unit, kind="corrective", title="Compressor trips", by=dispatcher, at=started
    )
    job = lifecycle.work_order_schedule(
        work_order=job,
        technician=technician,
        planned_start=started,
        planned_end=started + dt.timedelta(hours=2),
        by=dispatcher,
        version=job.version,
        at=started,
    )
    for step in (
        lifecycle.work_order_dispatch,
        site_visit.work_order_start_travel,
        site_visit.work_order_arrive,
        site_visit.work_order_start_work,
    ):
        job = step(work_order=job, by=technician, version=job.version, at=started)
    return job


def test_redis_down_the_app_keeps_serving_and_no_task_is_lost(
    redis_server: Any, test_database: dict[str, Any], spawn: Spawn, tmp_path: Path
) -> None:
    technician = factories.user(username="tech01", role=roles.TECHNICIAN)
    factories.technician(person=technician)
    dispatcher = factories.user(username="dispatcher", role=roles.DISPATCHER)
    # The web login checks the password in gunicorn, whose hashers are production's.
    pbkdf2 = PBKDF2PasswordHasher()
    User.objects.filter(pk=dispatcher.pk).update(
        password=pbkdf2.encode("demo", pbkdf2.salt(), iterations=1000)
    )
    job = _job_in_progress(technician, dispatcher)
    mobile_token, _ = token_issue(user=technician, kind=ApiToken.Kind.MOBILE)
    integration_token, _ = token_issue(user=dispatcher, kind=ApiToken.Kind.INTEGRATION)
    app = requests.Session()
    app.headers["Authorization"] = f"Bearer {mobile_token}"
    integration = requests.Session()
    integration.headers["Authorization"] = f"Bearer {integration_token}"

    server: RedisServer = redis_server()
    env = app_env(
        database_url=database_url(test_database),
        redis_url=server.url(CACHE_DB),
        broker_url=server.url(BROKER_DB),
        media_root=tmp_path / "media",
        mail_dir=tmp_path / "mail",
    )
    base = start_gunicorn(spawn, env)
    assert app.get(f"{base}{MOBILE}/jobs", timeout=10).status_code == 200
    assert server.client(CACHE_DB).dbsize() > 0  # the token and the job list are cached

    server.crash()
    # The technician's app: reads, and the completion (its report cannot be queued now).
    for path in ("/me", "/jobs", f"/jobs/{job.pk}"):
        assert app.get(f"{base}{MOBILE}{path}", timeout=10).status_code == 200, path
    completed = app.post(
        f"{base}{MOBILE}/jobs/{job.pk}/events",
        json={
            # Queued offline a while ago: older than the sweep's grace period.
            "type": "completed",
            "at": (clock.now() - dt.timedelta(minutes=15)).isoformat(),
            "version": job.version,
            "resolution": "Replaced the thermostatic valve.",
        },
        headers={"Idempotency-Key": "complete-1"},
        timeout=30,
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["job"]["status"] == WorkOrder.Status.COMPLETED
    # The web pages, through the login (whose failure counters live in Redis).
    browser = requests.Session()
    browser.get(f"{base}/login/", timeout=10)
    login = browser.post(
        f"{base}/login/",
        data={
            "username": "dispatcher",
            "password": "demo",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/login/"},
        timeout=10,
    )
    assert login.status_code == 200 and login.url.endswith("/dispatch/"), (login.status_code, login.url)
    # The dispatcher's API: an optimizer run cannot be queued; it says so instead of hanging.
    assert integration.get(f"{base}/api/v1/work-orders", timeout=10).status_code == 200
    created = integration.post(f"{base}/api/v1/schedule/runs", json={"date": str(clock.today())}, timeout=30)
    assert created.status_code == 202, created.text
    run = integration.get(f"{base}/api/v1/schedule/runs/{created.json()['id']}", timeout=10).json()
    assert (run["status"], run["error"]) == ("failed", QUEUE_UNAVAILABLE)

    server.start()
    # The app uses the cache again by itself.
    assert app.get(f"{base}{MOBILE}/jobs", timeout=10).status_code == 200
    assert server.client(CACHE_DB).dbsize() > 0
    # Beat's next sweep queues the report whose task was lost; a worker makes and sends it.
    worker = start_worker(
        spawn,
        {**env, "DATABASE_URL": database_url(test_database, **WORKER_DB_OPTIONS)},
        visibility_timeout=60,
    )
    sender = Celery("faults-sender", broker=server.url(BROKER_DB), set_as_current=False)
    sender.send_task("tickets.tasks.service_reports_sweep")
    sender.close()
    wait_for(
        lambda: (
            ServiceReport.objects.filter(work_order=job, emailed_at__isnull=False).exists()
            and broker_settled(server.client(BROKER_DB))
        ),
        what="the swept report to be made and emailed",
        log=worker.log,
    )
    worker.stop()

    assert ServiceReport.objects.filter(work_order=job).count() == 1
    [message] = sent_mail(tmp_path / "mail")
    assert pdf_attachments(message) == [f"{job.number}.pdf"]
    assert WorkOrderEvent.objects.filter(work_order=job, type=WorkOrderEvent.Type.REPORT_SENT).count() == 1
