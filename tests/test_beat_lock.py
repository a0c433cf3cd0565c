"""The beat lock (fieldservice/beat.py): whatever number of `celery beat` processes run, only
the one holding the lock sends periodic tasks, and a standby takes over when it goes.

The process tests start real beats (`celery -A tests.beat_app beat`, whose one entry falls
due every second) against a real Redis, and read who sent each message from the messages
themselves (Celery stamps each with `origin`: gen<pid>@host). They use a Redis database
nothing else in the project uses, and keys and queues named after this run's pid."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from django.apps import apps
from django.core import mail
from django.core.management import call_command

from fieldservice import clock
from fieldservice.beat import LockedScheduler
from fieldservice.celery import app as celery_app
from tests.clock_pin import pinned_command

ROOT = Path(__file__).resolve().parent.parent
# The cache uses database 0 and the mobile load benchmark's broker database 3.
REDIS_URL = os.environ.get("BEAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
ORIGIN = re.compile(r'"origin": "gen(\d+)@')


class Beats:
    """Beat processes sharing one lock; the messages they send land in one queue."""

    def __init__(self, tmp_path: Path, name: str, ttl: float) -> None:
        self.tmp_path = tmp_path
        self.ttl = ttl
        self.prefix = f"fieldservice-test-{os.getpid()}-{name}:beat"
        self.queue = f"fieldservice-test-{os.getpid()}-{name}-probe"
        self.redis = redis.Redis.from_url(REDIS_URL)
        self.processes: list[subprocess.Popen[bytes]] = []
        self.cleanup()

    def start(self, name: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.tmp_path / f"{name}.log"
        env = {
            **os.environ,
            "DEBUG": "1",
            "CELERY_BROKER_URL": REDIS_URL,
            "BEAT_REDIS_URL": REDIS_URL,
            "BEAT_KEY_PREFIX": self.prefix,
            "BEAT_LOCK_TTL_SECONDS": str(self.ttl),
            "BEAT_PROBE_QUEUE": self.queue,
            "PYTHONUNBUFFERED": "1",
        }
        with log.open("wb") as out:
            process = subprocess.Popen(
                pinned_command(
                    [sys.executable, "-m", "celery", "-A", "tests.beat_app", "beat", "--loglevel=INFO"]
                ),
                cwd=self.tmp_path,  # nothing of a beat's may land in the checkout
                env={**env, "PYTHONPATH": str(ROOT)},
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process, log

    def senders(self) -> list[int]:
        """The pid of the process that sent each message, oldest first."""
        messages = self.redis.lrange(self.queue, 0, -1)
        # Kombu's Redis transport pushes on the left and consumes from the right.
        return [int(ORIGIN.search(raw.decode()).group(1)) for raw in reversed(messages)]  # type: ignore[union-attr]

    def wait_for(self, condition: Callable[[], bool], what: str, timeout: float = 30) -> float:
        """Seconds until the condition held."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                logs = "\n".join(log.read_text() for log in sorted(self.tmp_path.glob("*.log")))
                pytest.fail(f"waited {timeout} s for {what}\n{logs}")
            time.sleep(0.05)
        return time.monotonic() - started

    def cleanup(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        self.redis.delete(
            self.queue,
            f"_kombu.binding.{self.queue}",
            f"_kombu.binding_permanent.{self.queue}",
            f"{self.prefix}:lock",
            f"{self.prefix}:last-run",
        )


@pytest.fixture
def make_beats(tmp_path: Path) -> Iterator[Callable[[str, float], Beats]]:
    made: list[Beats] = []

    def make(name: str, ttl: float) -> Beats:
        made.append(Beats(tmp_path, name, ttl))
        return made[-1]

    yield make
    for beats in made:
        beats.cleanup()


@pytest.mark.slow
def test_only_the_lock_holder_sends_and_a_standby_takes_over_when_it_dies(
    make_beats: Callable[[str, float], Beats],
) -> None:
    ttl = 2.0
    beats = make_beats("killed", ttl)
    first, first_log = beats.start("first")
    beats.wait_for(lambda: first.pid in beats.senders(), "the first beat to send")
    second, second_log = beats.start("second")
    beats.wait_for(lambda: "standing by" in second_log.read_text(), "the second beat to stand by")

    # The standby tries for the lock every third of a TTL: give it six chances.
    time.sleep(2 * ttl)
    sent = beats.senders()
    assert set(sent) == {first.pid}
    assert "holding the lock" not in second_log.read_text()

    # No clean exit, so no release: the lock has to expire.
    first.send_signal(signal.SIGKILL)
    first.wait()
    took_over = beats.wait_for(lambda: second.pid in beats.senders(), "the second beat to take over")
    assert took_over <= ttl * 4 / 3 + 2.0  # expiry, one standby retry, one tick
    assert "holding the lock" in second_log.read_text()

    # From then on the second beat alone sends (the first is gone, and sent nothing more).
    beats.wait_for(lambda: beats.senders().count(second.pid) >= 3, "the second beat to go on sending")
    after = beats.senders()[len(sent) :]
    assert after == [first.pid] * after.index(second.pid) + [second.pid] * (
        len(after) - after.index(second.pid)
    )


@pytest.mark.slow
def test_a_beat_that_stops_cleanly_hands_over_at_once(make_beats: Callable[[str, float], Beats]) -> None:
    # A TTL long enough that waiting for the lock to expire would fail the timing below: the
    # holder renews at every tick (each second here), so its lock outlives it by ~11 s.
    ttl = 12.0
    beats = make_beats("stopped", ttl)
    first, first_log = beats.start("first")
    beats.wait_for(lambda: first.pid in beats.senders(), "the first beat to send")
    second, second_log = beats.start("second")
    beats.wait_for(lambda: "standing by" in second_log.read_text(), "the second beat to stand by")

    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=15) == 0
    assert "released the lock" in first_log.read_text()
    took_over = beats.wait_for(lambda: second.pid in beats.senders(), "the second beat to take over")
    assert took_over < ttl / 3 + 2.0  # its next retry, not the expiry


# --- the scheduler in-process: the schedule's state follows the lock ---------------------------


@pytest.fixture
def scheduler_for(settings: Any) -> Iterator[Callable[[dict[str, Any]], LockedScheduler]]:
    settings.BEAT_REDIS_URL = REDIS_URL
    settings.BEAT_KEY_PREFIX = f"fieldservice-test-{os.getpid()}-state:beat"
    settings.BEAT_LOCK_TTL_SECONDS = 30.0
    client = redis.Redis.from_url(REDIS_URL)
    keys = [f"{settings.BEAT_KEY_PREFIX}:lock", f"{settings.BEAT_KEY_PREFIX}:last-run"]
    client.delete(*keys)
    made: list[LockedScheduler] = []

    def make(schedule: dict[str, Any]) -> LockedScheduler:
        app = Celery("beat-test", set_as_current=False)
        app.conf.beat_schedule = schedule
        scheduler = LockedScheduler(app=app)
        scheduler.sent = []
        # Record instead of publishing: these tests need no broker.
        scheduler.__dict__["producer"] = None
        scheduler.apply_entry = lambda entry, producer=None: scheduler.sent.append(entry.name)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.close()
    client.delete(*keys)


def tick_all(scheduler: LockedScheduler) -> None:
    """Tick until nothing more is due now."""
    for _ in range(10):
        if scheduler.tick() != 0:
            return


def test_a_beat_taking_over_goes_on_from_the_last_run_another_beat_recorded(
    scheduler_for: Callable[[dict[str, Any]], LockedScheduler],
) -> None:
    schedule = {
        "hourly": {"task": "tests.hourly", "schedule": 3600.0},
        "overdue": {"task": "tests.overdue", "schedule": 3600.0},
    }
    holder = scheduler_for(schedule)
    tick_all(holder)
    assert holder.sent == []  # a first start waits a full interval

    # What the holder would have recorded had it run for a while: "hourly" ran 30 minutes
    # ago, "overdue" 61 minutes ago. Then it dies with the lock.
    now = dt.datetime.now(dt.UTC)
    state = holder._redis
    state.hset(holder.state_key, "hourly", (now - dt.timedelta(minutes=30)).isoformat())
    state.hset(holder.state_key, "overdue", (now - dt.timedelta(minutes=61)).isoformat())
    state.delete(holder.lock_key)

    standby = scheduler_for(schedule)
    tick_all(standby)
    assert standby.sent == ["overdue"]
    recorded = dt.datetime.fromisoformat(state.hget(holder.state_key, "overdue"))  # type: ignore[arg-type]
    assert abs((recorded - dt.datetime.now(dt.UTC)).total_seconds()) < 5

    # The old holder comes back (a paused VM): it finds the lock taken and sends nothing.
    holder._heap = None
    for entry in holder.schedule.values():
        entry.last_run_at = now - dt.timedelta(days=1)
    tick_all(holder)
    assert holder.sent == []


def test_a_beat_that_cannot_reach_redis_sends_nothing(
    scheduler_for: Callable[[dict[str, Any]], LockedScheduler], settings: Any
) -> None:
    settings.BEAT_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    blind = scheduler_for({"due": {"task": "tests.due", "schedule": 60.0}})
    for entry in blind.schedule.values():
        entry.last_run_at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert blind.tick() == blind.max_interval
    assert blind.sent == []


# --- and if two beats fire anyway, a second run changes nothing ---------------------------------


@pytest.mark.slow
@pytest.mark.django_db
def test_every_periodic_task_is_safe_to_run_twice(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    call_command(
        "seed_demo", scale="small", seed=3, today=clock.today().isoformat(), force=True, stdout=io.StringIO()
    )
    models = [model for model in apps.get_models() if model._meta.managed]

    def state() -> tuple[dict[str, int], int]:
        return {model._meta.label: model._default_manager.count() for model in models}, len(mail.outbox)

    did_something = set()
    celery_app.loader.import_default_modules()  # every app's tasks.py, as a worker loads them
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        task = celery_app.tasks[entry["task"]]  # by its name, which need not be its module's
        before = state()
        with django_capture_on_commit_callbacks(execute=True):
            task.apply(throw=True)
        after_first = state()
        if after_first != before:
            did_something.add(name)
        with django_capture_on_commit_callbacks(execute=True):
            task.apply(throw=True)
        assert state() == after_first, f"{name} changed something on its second run"
    # The demo day gives these work to do, so their second runs had something to repeat.
    assert {"preventive-work-orders", "sla-breaches", "renewals", "account-health"} <= did_something
