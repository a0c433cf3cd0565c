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
import datetime as dt
import functools
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from bench.loadlib import (
    ADVANCING,
    HOST,
    MOBILE_API,
    ROOT,
    Http,
    Stats,
    crowd,
    django_setup,
    free_port,
    next_event,
    report,
    report_run,
    server_arguments,
    server_kind,
    start_gunicorn,
    stop_process,
    think,
)

API = MOBILE_API
# A database of its own on the local Redis, so the benchmark's queue is nobody else's.
BROKER = "redis://127.0.0.1:6379/3"
DEMO_LOGIN_TECHNICIANS = 40


def technician_login(n: int) -> str:
    """The demo's technician logins: tech01…tech40, then tech041… (the large scale)."""
    return f"tech{n:02d}" if n <= DEMO_LOGIN_TECHNICIANS else f"tech{n:03d}"


def check_demo_data(logins: list[str]) -> None:
    django_setup()
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
        return think(day.think, day.deadline)

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
        while job["status"] in ADVANCING and pause():
            event = next_event(job)
            status, answer = http.call(
                "POST",
                f"{API}/jobs/{job['id']}/events",
                f"event {event['type']}",
                event,
                idempotency_key=str(uuid.uuid4()),
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

    return crowd(
        [functools.partial(loop, tokens[n % len(tokens)] if tokens else "") for n in range(threads)],
        deadline=deadline,
    ).elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    server_arguments(parser)
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
    server = start_gunicorn(port, args.workers, args.threads, log, server_environment())
    worker = start_celery(log) if args.with_worker else None
    try:
        stats, tokens = Stats(), list[str]()
        from fieldservice import clock  # Django is set up by check_demo_data

        date = clock.today() + dt.timedelta(days=args.day)
        day = Day(
            deadline=time.monotonic() + args.duration,
            think=args.think,
            jobs_path=f"{API}/jobs?from={date}&to={date}",
            tokens=tokens,
        )
        people = [
            functools.partial(
                technician_day,
                Http(port, stats),
                logins[n % len(logins)],
                day,
                args.ramp * n / args.technicians,
            )
            for n in range(args.technicians)
        ]
        run = crowd(people, deadline=day.deadline)
        jobs_stats, bare_stats = Stats(), Stats()
        jobs_elapsed = hammer(
            port, jobs_stats, "jobs", f"{API}/jobs", tokens, args.connections, args.hammer_seconds
        )
        bare_elapsed = hammer(
            port, bare_stats, "bare", args.bare_url, [], args.connections, args.hammer_seconds
        )
    finally:
        stop_process(server)
        if worker is not None:
            stop_process(worker)
        log.close()
        reports_waiting = purge_report_queue()
    kind = server_kind(args)
    print(
        f"\ngunicorn {args.workers} {kind} on {HOST}:{port} (its log and Celery's: {args.log}); "
        f"{args.technicians} technicians on {args.accounts} logins, ramp {args.ramp:.0f} s, "
        f"think {args.think} s, {args.duration:.0f} s; "
        f"full load: {args.connections} connections x {args.hammer_seconds:.0f} s"
    )
    # Steady state: every technician has started (logged in) and the day is under way.
    steady_from = run.started + args.ramp + 2 * args.think
    report_run(stats, run, who="technician", whole="The whole technician day", steady_from=steady_from)
    print(
        f"\nService reports left in the queue for a worker: {reports_waiting}"
        + ("" if worker else " (no worker ran: --with-worker renders them here)")
    )
    print("\nFull load (no think time):")
    report("GET /jobs at full load", jobs_stats.samples["jobs"], jobs_elapsed)
    report(f"GET {args.bare_url} (bare)", bare_stats.samples["bare"], bare_elapsed)


if __name__ == "__main__":
    main()
