"""PostgreSQL restarted under traffic: while it is down the app answers 503 with a JSON error
(API) or a plain page (web) and Retry-After; it recovers by itself once PostgreSQL is back;
and no request is half-applied: whatever got a 2xx is applied exactly once, whatever got a
503 was applied completely or not at all, and its retry with the same Idempotency-Key
settles it.

The server is a private cluster (never the machine's): migrated, seeded, served by gunicorn,
stopped with `pg_ctl stop -m fast` while technicians' apps are posting job events, started again.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from fieldservice import clock
from tests.clock_pin import pinned_command
from tests.faults.servers import ROOT, PostgresCluster, Spawn, app_env, start_gunicorn, wait_for

pytestmark = pytest.mark.slow

DATABASE = "fieldservice_faults"
TECHNICIANS = 4
# Answers to collect before PostgreSQL goes down, so the stop lands in steady traffic.
ANSWERS_BEFORE_STOP = 40
MOBILE = "/api/mobile/v1"


@pytest.fixture(scope="module")
def migrated(postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory) -> PostgresCluster:
    """The private cluster with a migrated database, the template of each test's own."""
    with postgres_cluster.connect() as admin:
        admin.execute(f"CREATE DATABASE {DATABASE}")
    # Migrations touch neither Redis nor files: those settings only need to be well-formed.
    env = app_env_for(
        postgres_cluster, DATABASE, redis_url="redis://127.0.0.1:1/0", tmp=tmp_path_factory.mktemp("migrate")
    )
    subprocess.run(
        pinned_command([sys.executable, "manage.py", "migrate", "--no-input", "-v0"]),
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    return postgres_cluster


def app_env_for(cluster: PostgresCluster, database: str, *, redis_url: str, tmp: Path) -> dict[str, str]:
    return app_env(
        database_url=cluster.url(database),
        redis_url=redis_url,
        # Tasks (none in this traffic) would wait in a broker no worker reads.
        broker_url=redis_url.rsplit("/", 1)[0] + "/1",
        media_root=tmp / "media",
        mail_dir=tmp / "mail",
    )


@dataclass
class Served:
    base: str
    cluster: PostgresCluster
    database: str
    seeded: dict[str, Any]

    def restart_database(self, while_down: Callable[[], None]) -> None:
        """Stop PostgreSQL, run `while_down()`, start it again, and wait until the app's
        readiness endpoint answers 200 again (the app recovers on its own)."""
        self.cluster.stop("fast")
        try:
            while_down()
        finally:
            self.cluster.start()
            wait_for(
                lambda: requests.get(f"{self.base}/api/v1/health/db", timeout=10).status_code == 200,
                what="the app to reach the database again",
            )


@pytest.fixture
def served(migrated: PostgresCluster, redis_server: Any, spawn: Spawn, tmp_path: Path) -> Served:
    """gunicorn on a fresh copy of the migrated database, seeded with technicians and jobs."""
    database = f"{DATABASE}_{uuid.uuid4().hex[:8]}"
    with migrated.connect() as admin:  # each test seeds its own copy of the migrated database
        admin.execute(f"CREATE DATABASE {database} TEMPLATE {DATABASE}")
    env = app_env_for(migrated, database, redis_url=redis_server().url(0), tmp=tmp_path)
    seeded = subprocess.run(
        pinned_command([sys.executable, "-m", "tests.faults.seed_traffic", str(TECHNICIANS)]),
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Served(start_gunicorn(spawn, env), migrated, database, json.loads(seeded.stdout))


def assert_database_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert int(response.headers["Retry-After"]) > 0
    body = response.json()
    assert body["code"] == "database_unavailable" and body["message"] and "details" in body


# --- the technicians' apps -------------------------------------------------------------------------


@dataclass
class Sent:
    key: str
    path: str
    body: dict[str, Any]
    status: int
    answer: dict[str, Any]


@dataclass(eq=False)
class App:
    """A technician's app posting its job's events one after the other, each with a fresh
    Idempotency-Key: en route, arrived, started, then paused and resumed for as long as it
    runs. It stops at its first answer that is not a 2xx and keeps that request to retry."""

    base: str
    user_id: int
    token: str
    job_id: int
    version: int
    answered: threading.Semaphore
    sent: list[Sent] = field(default_factory=list)
    failed: Sent | None = None
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self.drive, daemon=True)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def next_event(self) -> dict[str, Any]:
        steps = ["en_route", "arrived", "started"]
        done = sum(1 for s in self.sent if 200 <= s.status < 300)
        kind = steps[done] if done < len(steps) else ("paused", "resumed")[(done - len(steps)) % 2]
        return {"type": kind, "at": _now(), "version": self.version, "reason": "Waiting for a part"}

    def post(self, key: str, path: str, body: dict[str, Any]) -> Sent:
        response = self.session.post(
            f"{self.base}{path}", json=body, headers={"Idempotency-Key": key}, timeout=30
        )
        assert response.headers["Content-Type"].startswith("application/json"), response.text[:500]
        return Sent(key, path, body, response.status_code, response.json())

    def drive(self) -> None:
        try:
            while True:
                sent = self.post(str(uuid.uuid4()), f"{MOBILE}/jobs/{self.job_id}/events", self.next_event())
                self.sent.append(sent)
                self.answered.release()
                if not 200 <= sent.status < 300:
                    self.failed = sent
                    return
                self.version = sent.answer["job"]["version"]
        except BaseException as error:  # shown by the test, never swallowed
            self.error = error


def _now() -> str:
    return clock.now().isoformat()


def test_api_answers_503_while_postgres_is_down_and_no_request_is_half_applied(served: Served) -> None:
    answered = threading.Semaphore(0)
    apps = [
        App(served.base, t["user_id"], t["token"], t["job_id"], t["version"], answered)
        for t in served.seeded["technicians"]
    ]
    for app in apps:
        app.thread.start()
    for _ in range(ANSWERS_BEFORE_STOP):
        assert answered.acquire(timeout=30), "the apps got no answers"

    def while_down() -> None:
        # Every app runs until its first failed request: each must hit the outage.
        for app in apps:
            app.thread.join(timeout=60)
            assert not app.thread.is_alive() and app.error is None, app.error
        assert_database_unavailable(requests.get(f"{served.base}/api/v1/health/db", timeout=10))
        assert_database_unavailable(
            requests.get(
                f"{served.base}{MOBILE}/jobs",
                headers={"Authorization": f"Bearer {apps[0].token}"},
                timeout=10,
            )
        )

    served.restart_database(while_down)

    for app in apps:
        assert app.failed is not None
        assert_database_unavailable_answer(app.failed)
    with served.cluster.connect(served.database) as db:
        # A 503 left the request applied completely (its commit got through just before the
        # connection broke) or not at all: never a stored answer without its event, or back.
        for app in apps:
            assert app.failed is not None
            record, event = applied(db, app.user_id, app.failed.key)
            assert record == event, f"{app.failed.key}: idempotency record {record}, event {event}"
        # Retried with the same key, each is applied (or replayed) once the database is back.
        for app in apps:
            assert app.failed is not None
            retried = app.post(app.failed.key, app.failed.path, app.failed.body)
            assert retried.status == 200, retried.answer
            app.sent.append(retried)
        # Exactly once: every key that got a 2xx has one stored answer and one event, and
        # there is no event for a key that never did.
        succeeded = {(app.user_id, s.key) for app in apps for s in app.sent if 200 <= s.status < 300}
        assert len(succeeded) >= ANSWERS_BEFORE_STOP
        for user_id, key in succeeded:
            assert applied(db, user_id, key) == (1, 1), key
        audit_keys = {
            row[0]
            for row in db.execute(
                "SELECT idempotency_key FROM tickets_workorderevent WHERE idempotency_key LIKE %s",
                ("mobile:%",),
            )
        }
        assert audit_keys == {f"mobile:{user_id}:{key}" for user_id, key in succeeded}
        for app in apps:
            row = db.execute(
                "SELECT status, version FROM tickets_workorder WHERE id = %s", (app.job_id,)
            ).fetchone()
            assert row is not None
            status, version = row
            assert version == app.sent[-1].answer["job"]["version"]
            assert status == app.sent[-1].answer["job"]["status"]


def assert_database_unavailable_answer(sent: Sent) -> None:
    assert sent.status == 503, sent.answer
    assert sent.answer["code"] == "database_unavailable" and sent.answer["message"], sent.answer


def applied(db: Any, user_id: int, key: str) -> tuple[int, int]:
    """(stored answers, events) for one request of one technician."""
    records = db.execute(
        "SELECT count(*) FROM mobile_api_idempotencyrecord"
        " WHERE user_id = %s AND key = %s AND status_code = 200",
        (user_id, key),
    ).fetchone()[0]
    events = db.execute(
        "SELECT count(*) FROM tickets_workorderevent WHERE idempotency_key = %s", (f"mobile:{user_id}:{key}",)
    ).fetchone()[0]
    return records, events


# --- web pages ---------------------------------------------------------------------------------------


def test_web_pages_answer_503_while_postgres_is_down(served: Served) -> None:
    browser = requests.Session()
    browser.get(f"{served.base}/login/", timeout=10)
    login = browser.post(
        f"{served.base}/login/",
        data={**served.seeded["dispatcher"], "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{served.base}/login/"},
        timeout=10,
    )
    assert login.status_code == 200 and login.url.endswith("/dispatch/"), login.url

    def while_down() -> None:
        down = browser.get(f"{served.base}/dispatch/", timeout=10)
        assert down.status_code == 503
        assert down.headers["Content-Type"].startswith("text/html") and int(down.headers["Retry-After"]) > 0
        assert "稍后再试" in down.text

    served.restart_database(while_down)
    assert browser.get(f"{served.base}/dispatch/", timeout=10).status_code == 200
