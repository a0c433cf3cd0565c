"""Load benchmark of the technician app's API on loopback (a script, not a test).

Starts gunicorn itself (N sync workers) against the database in the environment's settings
(default: the `fieldservice` demo database), then:

1. the technician mix: M simulated technicians (threads), starting over a ramp, each log
   in, pull today's jobs, sync, and post a day of events (en_route, arrived, started,
   completed with resolution, checklist and signature), with a think time between calls,
   for a bounded duration. Completed jobs queue their service reports in Redis; in
   production a Celery worker on another host renders them (about 0.45 s of CPU each, more
   than this machine has to spare at 200 technicians). `--with-worker` runs one here,
   niced, to see what sharing the cores costs;
2. the jobs list at full load: C connections hammering GET /jobs without think time;
3. a bare endpoint of the same stack (GET /api/v1/health/db: one indexed PostGIS query,
   no auth): the ceiling the jobs list is compared with.

Needs the demo data (`manage.py seed_demo`): logins tech01… with password `demo`, and jobs.
Posting events changes the demo jobs (they move on and get completed): run again with
`--day 1` (tomorrow's jobs), or reseed. Stops by itself and stops gunicorn.

    DEBUG=1 .venv/bin/python bench/mobile_load.py --technicians 50 --duration 30 --think 2
    # 200 technicians with a login each: the large scale has 400
    DEBUG=1 DATABASE_URL=postgres:///fieldservice_large .venv/bin/python bench/mobile_load.py \
        --technicians 200 --accounts 200 --ramp 60 --duration 150
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API = "/api/mobile/v1"
HOST = "127.0.0.1"
# A database of its own on the local Redis, so the benchmark's queue is nobody else's.
BROKER = "redis://127.0.0.1:6379/3"
DEMO_LOGIN_TECHNICIANS = 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FORWARD = {"scheduled": "en_route", "dispatched": "en_route", "en_route": "arrived", "on_site": "started"}


class Stats:
    """Latencies and statuses per label, shared by all threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: dict[str, list[tuple[float, int]]] = defaultdict(list)
        self.started: dict[str, list[float]] = defaultdict(list)  # monotonic start of each call

    def add(self, label: str, seconds: float, status: int, started: float) -> None:
        with self.lock:
            self.samples[label].append((seconds, status))
            self.started[label].append(started)

    def since(self, moment: float) -> dict[str, list[tuple[float, int]]]:
        """The samples of the calls that started at or after `moment` (time.monotonic())."""
        with self.lock:
            return {
                label: [s for s, t in zip(samples, self.started[label], strict=True) if t >= moment]
                for label, samples in self.samples.items()
            }


class Http:
    def __init__(self, port: int, stats: Stats, label_prefix: str = "") -> None:
        self.port, self.stats, self.prefix = port, stats, label_prefix
        self.token = ""

    def call(
        self, method: str, path: str, label: str, body: Any = None, key: bool = False
    ) -> tuple[int, Any]:
        headers = {"Connection": "close"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if key:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started, wall = time.perf_counter(), time.monotonic()
        status, data = 0, None
        try:
            connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            raw = response.read()
            status = response.status
            connection.close()
            if raw and response.getheader("Content-Type", "").startswith("application/json"):
                data = json.loads(raw)
        except (OSError, http.client.HTTPException, ValueError):
            status = 0  # a network error or a broken response: counted as an error
        self.stats.add(self.prefix + label, time.perf_counter() - started, status, wall)
        return status, data


def technician_login(n: int) -> str:
    """The demo's technician logins: tech01…tech40, then tech041… (the large scale)."""
    return f"tech{n:02d}" if n <= DEMO_LOGIN_TECHNICIANS else f"tech{n:03d}"


def check_demo_data(logins: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection

    from tickets.models import WorkOrder

    wanted = logins
    present = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    jobs = WorkOrder.objects.filter(assigned_technician__username__in=wanted).count()
    connection.close()
    missing = sorted(set(wanted) - present)
    if missing or not jobs:
        print(
            f"The demo data is not there: missing logins {missing[:5]}{'…' if len(missing) > 5 else ''} "
            f"({len(missing)} of {len(wanted)}), {jobs} jobs assigned to them. Seed it with "
            "`manage.py seed_demo` (demo: tech01..tech40; --scale large: up to tech400), or "
            "choose the logins with --accounts N and --first.",
            file=sys.stderr,
        )
        sys.exit(2)
    print(f"demo data: {len(wanted)} technician logins, {jobs} jobs assigned to them")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_gunicorn(port: int, workers: int, threads: int, log: Any) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "fieldservice.wsgi:application",
        "--bind",
        f"{HOST}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync" if threads == 1 else "gthread",
        "--threads",
        str(threads),
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, env=server_environment(), stdout=log, stderr=log
    )
    probe = Http(port, Stats())
    for _ in range(150):
        if probe.call("GET", "/api/v1/health", "probe")[0] == 200:
            return server
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}")
        time.sleep(0.2)
    stop_gunicorn(server)
    sys.exit("gunicorn did not answer within 30 s")


def server_environment() -> dict[str, str]:
    """As in production: slow work (service reports) goes to a Celery worker through Redis."""
    return {**os.environ, "CELERY_BROKER_URL": BROKER}


def start_celery(log: Any) -> subprocess.Popen[bytes]:
    # Background work yields to requests (as a production worker host or `Nice=` would).
    command = [
        "nice",
        "-n",
        "19",
        sys.executable,
        "-m",
        "celery",
        "-A",
        "fieldservice",
        "worker",
        "--concurrency",
        "1",
        "--loglevel",
        "warning",
        "--without-heartbeat",
        "--without-mingle",
        "--without-gossip",
    ]
    return subprocess.Popen(
        command, cwd=ROOT, start_new_session=True, env=server_environment(), stdout=log, stderr=log
    )


def purge_report_queue() -> int:
    """Empty the benchmark's own queue (its Redis database), so no run inherits a backlog;
    returns how many tasks were waiting."""
    import redis

    client = redis.Redis.from_url(BROKER)
    waiting = int(client.llen("celery"))
    client.flushdb()
    return waiting


def stop_gunicorn(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def completion(job: dict[str, Any]) -> dict[str, Any]:
    answers = []
    for item in job["checklist"]:
        if item["kind"] == "value":
            answers.append({"position": item["position"], "value": "1"})
        elif item["kind"] == "text":
            answers.append({"position": item["position"], "text": "ok"})
        else:
            answers.append({"position": item["position"], "result": "pass"})
    body: dict[str, Any] = {"resolution": "Serviced and tested", "checklist": answers}
    if job["requires_signature"] and not job["signed_by"]:
        body["signature"] = {"png_base64": base64.b64encode(PNG).decode(), "signer_name": "Bench"}
    return body


@dataclass(frozen=True)
class Day:
    """What every simulated technician shares."""

    deadline: float  # time.monotonic() when the mix stops
    think: float
    jobs_path: str  # the list of the day's jobs
    tokens: list[str]  # filled with each technician's token, for the full-load phase


def technician_day(http: Http, username: str, day: Day, start_after: float) -> None:
    time.sleep(start_after)  # technicians start their day over the ramp, not all in one second

    def pause() -> bool:
        time.sleep(min(day.think * random.uniform(0.5, 1.5), max(0.0, day.deadline - time.monotonic())))
        return time.monotonic() < day.deadline

    status, body = http.call("POST", f"{API}/auth/token", "login", {"username": username, "password": "demo"})
    if status != 200:
        return
    http.token = body["token"]
    day.tokens.append(http.token)
    if not pause():
        return
    _, jobs = http.call("GET", day.jobs_path, "jobs list")
    if not pause():
        return
    _, synced = http.call("GET", f"{API}/sync", "sync")
    cursor = synced["cursor"] if synced else None
    for job in jobs or []:
        while job["status"] in (*FORWARD, "in_progress") and pause():
            event: dict[str, Any] = {"at": dt.datetime.now(dt.UTC).isoformat(), "version": job["version"]}
            if job["status"] == "in_progress":
                event |= {"type": "completed", **completion(job)}
            else:
                event["type"] = FORWARD[job["status"]]
                if event["type"] == "arrived":
                    event["location"] = {"lat": job["site"]["lat"], "lon": job["site"]["lon"]}
            status, answer = http.call(
                "POST", f"{API}/jobs/{job['id']}/events", f"event {event['type']}", event, key=True
            )
            if status != 200 or not answer:
                break  # another simulated technician on the same login moved it: next job
            job = answer["job"]
    while pause():
        _, synced = http.call("GET", f"{API}/sync" + (f"?cursor={cursor}" if cursor else ""), "sync")
        cursor = synced["cursor"] if synced else cursor


def hammer(
    port: int, stats: Stats, label: str, path: str, tokens: list[str], threads: int, seconds: float
) -> float:
    deadline = time.monotonic() + seconds

    def loop(token: str) -> None:
        http = Http(port, stats)
        http.token = token
        while time.monotonic() < deadline:
            http.call("GET", path, label)

    workers = [
        threading.Thread(target=loop, args=(tokens[n % len(tokens)] if tokens else "",))
        for n in range(threads)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.monotonic() - started


def report(title: str, samples: list[tuple[float, int]], elapsed: float) -> None:
    if not samples:
        print(f"{title:<34} no requests")
        return
    latencies = sorted(seconds * 1000 for seconds, _ in samples)
    errors = sum(1 for _, status in samples if status == 0 or status >= 500)
    refused = sum(1 for _, status in samples if 400 <= status < 500)
    cuts = (
        statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    )
    print(
        f"{title:<34} n={len(samples):>6}  {len(samples) / elapsed:>7.1f} req/s  "
        f"p50={cuts[49]:>7.1f} ms  p95={cuts[94]:>7.1f} ms  p99={cuts[98]:>7.1f} ms  "
        f"errors={errors} ({errors / len(samples):.2%})  4xx={refused}"
    )


def report_mix(samples: dict[str, list[tuple[float, int]]], elapsed: float) -> None:
    report("technician mix (all calls)", [x for label in samples for x in samples[label]], elapsed)
    everyday = [x for label in samples if label != "login" for x in samples[label]]
    report("technician mix without login", everyday, elapsed)
    for label in sorted(samples):
        report(f"  {label}", samples[label], elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument(
        "--threads", type=int, default=1, help="threads per gunicorn worker (1: sync workers, more: gthread)"
    )
    parser.add_argument(
        "--log", default="/tmp/mobile_load.log", help="where the server's and the worker's output go"
    )
    parser.add_argument("--technicians", type=int, default=200, help="simulated technicians (threads)")
    parser.add_argument("--accounts", type=int, default=40, help="how many demo logins they share")
    parser.add_argument("--think", type=float, default=5.0, help="mean think time between calls (s)")
    parser.add_argument("--duration", type=float, default=90.0, help="length of the technician mix (s)")
    parser.add_argument("--ramp", type=float, default=30.0, help="technicians start over this many seconds")
    parser.add_argument("--connections", type=int, default=50, help="connections in the full-load phases")
    parser.add_argument("--hammer-seconds", type=float, default=15.0, help="length of each full-load phase")
    parser.add_argument(
        "--bare-url", default="/api/v1/health/db", help="the ceiling: one indexed PostGIS query, no auth"
    )
    parser.add_argument(
        "--first", type=int, default=1, help="the first login: 201 means tech201… (jobs nobody has moved yet)"
    )
    parser.add_argument("--day", type=int, default=0, help="whose jobs: 0 today, 1 tomorrow…")
    parser.add_argument(
        "--with-worker", action="store_true", help="render the service reports on this machine too"
    )
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    args = parser.parse_args()
    logins = [technician_login(n) for n in range(args.first, args.first + args.accounts)]
    check_demo_data(logins)
    port = args.port or free_port()
    log = open(args.log, "w")  # closed below, after both processes stop
    purge_report_queue()
    server = start_gunicorn(port, args.workers, args.threads, log)
    worker = start_celery(log) if args.with_worker else None
    try:
        stats, tokens = Stats(), list[str]()
        date = dt.date.today() + dt.timedelta(days=args.day)
        day = Day(
            deadline=time.monotonic() + args.duration,
            think=args.think,
            jobs_path=f"{API}/jobs?from={date}&to={date}",
            tokens=tokens,
        )
        people = [
            threading.Thread(
                target=technician_day,
                args=(
                    Http(port, stats),
                    logins[n % len(logins)],
                    day,
                    args.ramp * n / args.technicians,
                ),
                daemon=True,
            )
            for n in range(args.technicians)
        ]
        started = time.monotonic()
        # Steady state: every technician has started (logged in) and the day is under way.
        steady_from = started + args.ramp + 2 * args.think
        for person in people:
            person.start()
        for person in people:
            person.join(timeout=max(0.0, day.deadline - time.monotonic()) + 35)
        mix_elapsed = time.monotonic() - started
        jobs_stats, bare_stats = Stats(), Stats()
        jobs_elapsed = hammer(
            port, jobs_stats, "jobs", f"{API}/jobs", tokens, args.connections, args.hammer_seconds
        )
        bare_elapsed = hammer(
            port, bare_stats, "bare", args.bare_url, [], args.connections, args.hammer_seconds
        )
    finally:
        stop_gunicorn(server)
        if worker is not None:
            stop_gunicorn(worker)
        log.close()
        reports_waiting = purge_report_queue()
    kind = "sync workers" if args.threads == 1 else f"gthread workers x {args.threads} threads"
    print(
        f"\ngunicorn {args.workers} {kind} on {HOST}:{port} (its log and Celery's: {args.log}); "
        f"{args.technicians} technicians on {args.accounts} logins, ramp {args.ramp:.0f} s, "
        f"think {args.think} s, {args.duration:.0f} s; "
        f"full load: {args.connections} connections x {args.hammer_seconds:.0f} s"
    )
    print("\nThe whole technician day, ramp included:")
    report_mix(stats.samples, mix_elapsed)
    # A login hashes the password on purpose (PBKDF2, ~0.2 s of CPU each) and happens once per
    # token lifetime (14 days by default): during the ramp the logins compete with everything.
    steady_seconds = max(0.0, started + mix_elapsed - steady_from)
    print(f"\nSteady state (calls started after the ramp and two think times, {steady_seconds:.0f} s):")
    report_mix(stats.since(steady_from), steady_seconds)
    print(
        f"\nService reports left in the queue for a worker: {reports_waiting}"
        + ("" if worker else " (no worker ran: --with-worker renders them here)")
    )
    print("\nFull load (no think time):")
    report("GET /jobs at full load", jobs_stats.samples["jobs"], jobs_elapsed)
    report(f"GET {args.bare_url} (bare)", bare_stats.samples["bare"], bare_elapsed)


if __name__ == "__main__":
    main()
