"""Load benchmark of the dispatch board and the dispatcher API on loopback (a script, not a test).

Starts gunicorn itself (N sync workers) against the database in the environment's settings
(DATABASE_URL; default: the `fieldservice` demo database), then runs D simulated
dispatchers (threads), starting over a ramp, each for a bounded duration with a think time
between calls. Each logs in to the web app (session and CSRF, as a browser) and works a
territory (dispatcher n gets territory n mod the number of territories), in rounds:

1. opens the dispatch board for today and for tomorrow, with what the page itself fetches:
   the optimizer run's status partial when the board has a run (htmx, `hx-trigger=load`);
2. lists the territory's unassigned work orders (`GET /api/v1/work-orders?status=new`);
3. opens a work order (its page, the board's link);
4. moves a job on today's or tomorrow's board as the board does it: the move form (⇄),
   a technician with the skills and a gap in their shift, save with the version the board
   showed. A stale version (another dispatcher moved it first) is expected: the board answers
   with its form and the refusal (HTTP 200, for htmx to show it), counted here as 409, apart
   from the errors; any other refusal (an overlap another move just created) as 422;
5. sometimes (`--insert-share` of the rounds, when today's board offers one) asks for the
   urgent insertion of a P1/P2 job (`POST /api/v1/schedule/insert`, which also applies it).

Reports per call type and overall: n, throughput, p50/p95/p99, errors (network errors and
5xx), 4xx, 409 apart; for the whole run and for its steady state (after the logins).

The scale to measure is the `large` one (400 technicians, 100 per territory on the board):

    DEBUG=1 DATABASE_URL=postgres:///fieldservice_large .venv/bin/python bench/dispatcher_load.py
    DEBUG=1 DATABASE_URL=postgres:///fieldservice_large .venv/bin/python bench/dispatcher_load.py \\
        --dispatchers 20 --think 1 --duration 120

Moves and insertions change the plan of the database they run on (jobs move to other
technicians and times; urgent jobs get planned); nothing else is written. The demo has one
dispatcher login (`dispatcher`/`demo`): all simulated dispatchers share it, each with its
own session. Stops by itself and stops gunicorn.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from bench.loadlib import (
    HOST,
    Board,
    Stats,
    WebSession,
    board_move,
    board_read,
    crowd,
    django_setup,
    free_port,
    report_run,
    server_arguments,
    server_kind,
    start_gunicorn,
    stop_process,
    think,
)

MOVE_RESULTS = {204: "move: moved", 409: "move: stale version", 422: "move: refused"}


@dataclass(frozen=True)
class Demo:
    """What the database offers the dispatchers."""

    territories: list[tuple[int, str]]
    days: list[str]  # today and tomorrow, the server's local dates
    logins: int  # users in the dispatcher role


def check_demo_data(username: str) -> Demo:
    django_setup()
    import datetime as dt

    from django.contrib.auth.models import User
    from django.db import connection

    from fieldservice import clock, roles
    from scheduling.models import Territory

    territories = list(Territory.objects.order_by("pk").values_list("pk", "name"))
    present = User.objects.filter(username=username, is_active=True).exists()
    logins = User.objects.filter(groups__name=roles.DISPATCHER, is_active=True).count()
    today = clock.today()
    connection.close()
    if not present or not territories:
        print(
            f"The demo data is not there: login {username!r} {'found' if present else 'missing'}, "
            f"{len(territories)} territories. Seed it with `manage.py seed_demo` "
            "(the large scale: --scale large).",
            file=sys.stderr,
        )
        sys.exit(2)
    days = [today.isoformat(), (today + dt.timedelta(days=1)).isoformat()]
    return Demo(territories, days, logins)


@dataclass
class Shift:
    """What every simulated dispatcher shares."""

    deadline: float  # time.monotonic() when the mix stops
    think: float
    demo: Demo
    username: str
    password: str
    insert_share: float
    hot: int  # choose the job to move among the board's first `hot` movable ones (0: any)
    outcomes: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


def dispatcher_shift(web: WebSession, n: int, shift: Shift, start_after: float) -> None:
    time.sleep(start_after)  # dispatchers arrive over the ramp, not all in one second
    rng = random.Random(n)

    def pause() -> bool:
        return think(shift.think, shift.deadline)

    if not web.login(shift.username, shift.password):
        shift.count("login refused")
        return
    territory = str(shift.demo.territories[n % len(shift.demo.territories)][0])
    for round_number in itertools.count():
        boards: dict[str, Board] = {}
        for day in shift.demo.days:
            if not pause():
                return
            status, response = web.call("GET", f"/dispatch/?day={day}&territory={territory}", "board")
            if status == 200 and response is not None:
                boards[day] = board_read(response.text)
                if boards[day].run_status_path:
                    web.call("GET", boards[day].run_status_path or "", "board: run status", htmx=True)
        if not pause():
            return
        status, response = web.call(
            "GET", f"/api/v1/work-orders?status=new&territory_id={territory}&limit=50", "unassigned (API)"
        )
        unassigned = [item["id"] for item in response.json()["items"]] if status == 200 and response else []
        if not pause():
            return
        if unassigned:
            web.call("GET", f"/work-orders/{rng.choice(unassigned)}/", "work order page")
            if not pause():
                return
        day = shift.demo.days[round_number % len(shift.demo.days)]
        board = boards.get(day)
        movable = board.movable() if board else []
        if shift.hot:
            movable = sorted(movable, key=lambda job: job.work_order_id)[: shift.hot]
        if board and movable:
            moved = board_move(
                web, board, rng.choice(movable), day=day, territory=territory, pause=pause, rng=rng
            )
            if moved is not None:
                shift.count(MOVE_RESULTS.get(moved.status, f"move: {moved.status}"))
            elif time.monotonic() < shift.deadline:
                shift.count("move: nobody has room")
        today = boards.get(shift.demo.days[0])
        if today and today.urgent and rng.random() < shift.insert_share and pause():
            status, response = web.call(
                "POST",
                "/api/v1/schedule/insert",
                "insert (API)",
                body={"work_order_id": rng.choice(today.urgent)},
            )
            if status == 200 and response is not None:
                shift.count("insert: placed" if response.json()["placed"] else "insert: not placed")
            else:
                shift.count(f"insert: {status}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    server_arguments(parser)
    parser.add_argument("--log", default="/tmp/dispatcher_load.log", help="where the server's output goes")
    parser.add_argument("--dispatchers", type=int, default=10, help="simulated dispatchers (threads)")
    parser.add_argument(
        "--username", default="dispatcher", help="the login they share (password: --password)"
    )
    parser.add_argument("--password", default="demo")
    parser.add_argument("--think", type=float, default=2.0, help="mean think time between calls (s)")
    parser.add_argument("--duration", type=float, default=60.0, help="length of the dispatchers' mix (s)")
    parser.add_argument("--ramp", type=float, default=10.0, help="dispatchers start over this many seconds")
    parser.add_argument(
        "--insert-share", type=float, default=0.2, help="share of rounds that ask for an urgent insertion"
    )
    parser.add_argument(
        "--hot", type=int, default=0, help="move only the first N movable jobs of a board (more conflicts)"
    )
    parser.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    args = parser.parse_args()
    demo = check_demo_data(args.username)
    print(
        f"demo data: {len(demo.territories)} territories, {demo.logins} dispatcher login(s); "
        f"all {args.dispatchers} simulated dispatchers log in as {args.username!r}, each with its own session"
    )
    port = args.port or free_port()
    with open(args.log, "w") as log:
        server = start_gunicorn(port, args.workers, args.threads, log)
        try:
            stats = Stats()
            shift = Shift(
                deadline=time.monotonic() + args.duration,
                think=args.think,
                demo=demo,
                username=args.username,
                password=args.password,
                insert_share=args.insert_share,
                hot=args.hot,
            )
            people = [
                functools.partial(
                    dispatcher_shift, WebSession(port, stats), n, shift, args.ramp * n / args.dispatchers
                )
                for n in range(args.dispatchers)
            ]
            run = crowd(people, deadline=shift.deadline)
        finally:
            stop_process(server)
    kind = server_kind(args)
    print(
        f"\ngunicorn {args.workers} {kind} on {HOST}:{port} (its log: {args.log}); "
        f"{args.dispatchers} dispatchers on {len(demo.territories)} territories, "
        f"days {' and '.join(demo.days)}, "
        f"ramp {args.ramp:.0f} s, think {args.think} s, {args.duration:.0f} s"
    )
    steady_from = run.started + args.ramp + 2 * args.think
    report_run(
        stats,
        run,
        who="dispatcher",
        whole="The whole dispatcher shift",
        steady_from=steady_from,
        conflicts_apart=True,
    )
    print(
        "\nA move's 409 is a stale version (another dispatcher moved the job first): the board "
        "answers it with its form and the refusal, HTTP 200 for htmx; 4xx on a move is any other "
        "refusal (skills, shift, an overlap created meanwhile)."
    )
    print("Outcomes: " + ", ".join(f"{name} {count}" for name, count in sorted(shift.outcomes.items())))
    if run.stuck or run.failures:
        print(f"{run.stuck} dispatcher(s) still waiting at the end, {len(run.failures)} script failure(s)")


if __name__ == "__main__":
    main()
