"""Correctness under concurrency, against a real gunicorn (not timed: the figures are the
benchmarks' business, bench/mobile_load.py and bench/dispatcher_load.py).

Twenty technicians do their day in the app at once (every job: en route, arrived, started,
completed), sometimes sending an event twice at once (a double tap) or again after a lost
answer, while five dispatchers race each other (and the technicians) to move the same few
jobs on the dispatch board. Then:

* no answer is a 5xx or a network error, nobody is left waiting (no deadlock, no hang),
  and the server logged no traceback;
* every accepted event was applied exactly once: one audit row per Idempotency-Key, none
  for a refused one, and a repeated key got the first answer again;
* versions only go up: each technician sees a job's versions increase, no two changes made
  the same version of a job, and each job's version moved once per recorded change;
* every refused change says what the job is now: a move on a stale board comes back as the
  board's conflict (“it is at version N”, N newer than the board's), a technician's stale
  event as 409 with the job's current state.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.db.models import Max

from bench.loadlib import (
    ADVANCING,
    MOBILE_API,
    VERSION_NOW,
    Http,
    Move,
    Stats,
    WebSession,
    board_move,
    board_read,
    crowd,
    next_event,
    refusal_text,
)
from fieldservice import clock, roles
from scheduling.models import Territory
from tests import factories
from tests.load.conftest import Server
from tickets import creation, lifecycle
from tickets.models import WorkOrder, WorkOrderEvent

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TECHNICIANS = 20
JOBS_EACH = 3
DISPATCHERS = 5
ROUNDS = 8  # board, move form, move, per dispatcher
HOT = 4  # every dispatcher moves one of the board's first movable jobs: they race for them
THINK = 0.1  # at most, between two of a technician's events (s)
TWIN_SHARE = 0.15  # events sent twice at once with the same key (a double tap)
RETRY_SHARE = 0.15  # accepted events sent again with the same key (the answer was lost)
VERSIONED = (
    WorkOrderEvent.Type.STATUS_CHANGED,
    WorkOrderEvent.Type.ASSIGNED,
    WorkOrderEvent.Type.UPDATED,
)


@dataclass(frozen=True)
class Planned:
    territory: Territory
    today: dt.date
    versions: dict[int, int]  # each job's version once planned
    last_event_id: int  # the audit trail before the day starts


@dataclass(frozen=True)
class Sent:
    """One event and every answer its key got (the first, a twin's, a retry's)."""

    username: str
    job_id: int
    key: str
    version: int  # as the app saw the job
    answers: list[tuple[int, Any]]


def plan_the_day(dispatcher: User) -> Planned:
    """Each technician: a shift today and JOBS_EACH dispatched jobs, each on its own unit."""
    territory = factories.territory("Suzhou")
    model = factories.equipment_model()
    account = factories.account()
    today = clock.today()
    versions = {}
    for n in range(TECHNICIANS):
        person = factories.user(username=f"loadtech{n:02d}", role=roles.TECHNICIAN)
        technician = factories.technician(
            person=person,
            skills={"compressor": 3},
            territory=territory,
            home_base=Point(120.5 + n * 0.01, 31.3, srid=4326),
        )
        factories.shift(technician=technician, date=today, start="07:00", end="19:00")
        site = factories.site(account=account, lat=31.2 + n * 0.01, lon=120.6)
        for slot in range(JOBS_EACH):
            job = creation.work_order_create(
                site=site,
                equipment=factories.equipment(site=site, model=model),
                kind="corrective",
                title="Compressor trips",
                by=dispatcher,
            )
            start = dt.datetime.combine(today, dt.time(8 + 3 * slot), tzinfo=factories.SHANGHAI)
            job = lifecycle.work_order_schedule(
                work_order=job,
                technician=person,
                planned_start=start,
                planned_end=start + dt.timedelta(minutes=90),
                by=dispatcher,
                version=job.version,
            )
            job = lifecycle.work_order_dispatch(work_order=job, by=dispatcher, version=job.version)
            versions[job.pk] = job.version
    last = WorkOrderEvent.objects.aggregate(last=Max("pk"))["last"]
    return Planned(territory, today, versions, last)


def send(post: Callable[[], tuple[int, Any]], rng: random.Random) -> list[tuple[int, Any]]:
    """How the app sends one event: once, or twice at once (a double tap); and an accepted
    one sometimes again (its answer was lost). Every answer, the first one first."""
    answers: list[tuple[int, Any]] = []
    if rng.random() < TWIN_SHARE:
        twins = [threading.Thread(target=lambda: answers.append(post())) for _ in range(2)]
        for twin in twins:
            twin.start()
        for twin in twins:
            twin.join()
    else:
        answers.append(post())
    if answers[0][0] == 200 and rng.random() < RETRY_SHARE:
        answers.append(post())
    return answers


def technician_day(http: Http, username: str, today: dt.date, sent: list[Sent], rng: random.Random) -> None:
    status, body = http.call(
        "POST", f"{MOBILE_API}/auth/token", "login", {"username": username, "password": "demo"}
    )
    assert status == 200, body
    http.token = body["token"]
    status, jobs = http.call("GET", f"{MOBILE_API}/jobs?from={today}&to={today}", "jobs list")
    assert status == 200, jobs  # the planned ones, less any a dispatcher moved away already
    for job in jobs:
        while job["status"] in ADVANCING:
            time.sleep(rng.uniform(0, THINK))
            event, key = next_event(job), str(uuid.uuid4())
            post = functools.partial(
                http.call,
                "POST",
                f"{MOBILE_API}/jobs/{job['id']}/events",
                f"event {event['type']}",
                event,
                idempotency_key=key,
            )
            answers = send(post, rng)
            sent.append(Sent(username, job["id"], key, event["version"], answers))
            status, answer = answers[0]
            if status != 200:
                break  # a dispatcher moved it: the app shows why, the technician goes on
            job = answer["job"]


def dispatcher_rounds(web: WebSession, planned: Planned, moves: list[Move], rng: random.Random) -> None:
    assert web.login("dispatcher", "demo")
    day, territory = planned.today.isoformat(), str(planned.territory.pk)

    def pause() -> bool:
        time.sleep(rng.uniform(0, THINK))
        return True

    for _ in range(ROUNDS):
        status, response = web.call("GET", f"/dispatch/?day={day}&territory={territory}", "board")
        assert status == 200 and response is not None
        board = board_read(response.text)
        hot = sorted(board.movable(), key=lambda job: job.work_order_id)[:HOT]
        if not hot:
            return  # the technicians are on their way to every job
        moved = board_move(
            web,
            board,
            rng.choice(hot),
            day=day,
            territory=territory,
            pause=pause,
            rng=rng,
        )
        if moved is not None:
            moves.append(moved)


def test_technicians_and_dispatchers_at_once(server: Server, dispatcher: User) -> None:
    planned = plan_the_day(dispatcher)
    stats, sent, moves = Stats(), list[Sent](), list[Move]()
    people = [
        lambda n=n: technician_day(
            Http(server.port, stats), f"loadtech{n:02d}", planned.today, sent, random.Random(n)
        )
        for n in range(TECHNICIANS)
    ] + [
        lambda n=n: dispatcher_rounds(WebSession(server.port, stats), planned, moves, random.Random(100 + n))
        for n in range(DISPATCHERS)
    ]
    run = crowd(people, deadline=time.monotonic() + 60, grace=10)

    # Everybody finished, nothing broke.
    assert run.stuck == 0, f"{run.stuck} simulated people still waiting: a deadlock or a hung request"
    assert not run.failures, run.failures
    broken = {
        label: Counter(status for _, status in samples if status == 0 or status >= 500)
        for label, samples in stats.samples.items()
    }
    assert not any(broken.values()), f"network errors or 5xx: {broken}\n{server.log()[-6000:]}"
    for trouble in ("Traceback", "deadlock detected", "WORKER TIMEOUT"):
        assert trouble not in server.log(), server.log()[-6000:]

    # Every accepted event was applied exactly once; a repeated key got the first answer.
    users = dict(User.objects.filter(username__startswith="loadtech").values_list("username", "pk"))
    audit = Counter(
        WorkOrderEvent.objects.filter(idempotency_key__startswith="mobile:").values_list(
            "idempotency_key", flat=True
        )
    )
    accepted = [event for event in sent if event.answers[0][0] == 200]
    assert len(accepted) > TECHNICIANS * JOBS_EACH  # the day did happen
    assert any(len(event.answers) > 1 for event in sent)
    for event in sent:
        first = event.answers[0]
        assert all(answer == first for answer in event.answers), event
        expected = 1 if first[0] == 200 else 0
        assert audit[f"mobile:{users[event.username]}:{event.key}"] == expected, event

    # A refused event says what the job is now.
    for event in sent:
        status, body = event.answers[0]
        if status == 200:
            continue
        assert status == 409, event
        assert body["code"] in ("reassigned", "stale_version"), body
        current = body["details"]["current"]
        assert current["id"] == event.job_id
        if body["code"] == "stale_version":
            assert current["version"] > event.version, body

    # Versions only go up, and no two changes made the same version of a job.
    seen: dict[tuple[str, int], int] = {}
    made: Counter[tuple[int, int]] = Counter()
    for event in accepted:
        body = event.answers[0][1]
        if not body["applied"]:
            continue
        version = body["job"]["version"]
        assert version > seen.get((event.username, event.job_id), 0), event
        seen[(event.username, event.job_id)] = version
        made[(event.job_id, version)] += 1
    assert max(made.values()) == 1, [pair for pair, count in made.items() if count > 1]
    changes = Counter(
        WorkOrderEvent.objects.filter(pk__gt=planned.last_event_id, type__in=VERSIONED).values_list(
            "work_order_id", flat=True
        )
    )
    final = dict(WorkOrder.objects.filter(pk__in=planned.versions).values_list("pk", "version"))
    for job_id, version in planned.versions.items():
        assert final[job_id] == version + changes[job_id], (job_id, version, changes[job_id], final[job_id])

    # The dispatchers raced: moves were made, never two from the same version of a job, and
    # each stale one was told the job's version.
    outcomes = Counter(move.status for move in moves)
    assert outcomes[204] > 0 and outcomes[409] > 0, outcomes
    assert set(outcomes) <= {204, 409, 422}, outcomes
    made_from = Counter((move.job.work_order_id, move.job.version) for move in moves if move.status == 204)
    assert max(made_from.values()) == 1, made_from
    for move in moves:
        assert move.response is not None
        refusal = refusal_text(move.response)
        if move.status == 409:
            now = VERSION_NOW.search(refusal)
            assert now is not None and move.job.version is not None, refusal
            assert move.job.version < int(now[1]) <= final[move.job.work_order_id], refusal
        elif move.status == 422:
            assert re.search(r"overlaps|outside", refusal), refusal
