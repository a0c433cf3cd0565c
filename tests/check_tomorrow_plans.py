"""A deeper check than the suite's: at each instant and demo seed, seed the world and run the
optimizer for tomorrow on every territory; every run must return a plan (never fail as a whole).

    DATABASE_URL=postgres:///fs_check .venv/bin/python -m tests.check_tomorrow_plans \\
        --seeds 1 2 3 --scale demo --time-limit 5 \\
        --at 2027-12-31T23:50:00+08:00 2027-02-06T03:15:00+08:00 2027-03-28T12:00:00+08:00

It writes the database it is given (seed_demo truncates it): use a database of its own. Each
instant is pinned the way the test suite pins it (tests/clock_pin.py); prints one line per
territory and exits 1 if any run failed. The suite keeps one seed and one instant of this
(tests/scheduling).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys

import time_machine


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.check_tomorrow_plans")
    parser.add_argument("--at", nargs="+", required=True, type=dt.datetime.fromisoformat)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--scale", default="demo")
    parser.add_argument("--time-limit", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from fieldservice import clock
    from scheduling import services
    from scheduling.models import ScheduleRun, Territory

    failures = 0
    for instant in args.at:
        for seed in args.seeds:
            with time_machine.travel(instant, tick=True):
                call_command(
                    "seed_demo",
                    scale=args.scale,
                    seed=seed,
                    today=clock.today().isoformat(),
                    stdout=io.StringIO(),
                )
                tomorrow = clock.today() + dt.timedelta(days=1)
                for territory in Territory.objects.order_by("pk"):
                    run = services.schedule_run_create(
                        by=None,
                        first_day=tomorrow,
                        territory=territory,
                        time_limit_s=args.time_limit,
                        enqueue=False,
                    )
                    for part in services.run_parts(run):
                        try:
                            services.schedule_run_solve_part(run_id=run.pk, part=part)
                        except Exception as error:  # reported below, as the run records it
                            print(f"    {type(error).__name__}: {error}", file=sys.stderr)
                    run.refresh_from_db()
                    before, after = run.kpis.get("before", {}), run.kpis.get("after", {})
                    ok = run.status == ScheduleRun.Status.SUCCEEDED
                    failures += not ok
                    print(
                        f"{instant.isoformat(timespec='minutes')} seed {seed} {tomorrow:%a %Y-%m-%d} "
                        f"{territory.name:<22} {run.status:<9} jobs {after.get('jobs', '-'):>3} "
                        f"placed {before.get('placed', '-'):>3} -> {after.get('placed', '-'):>3}"
                        + ("" if ok else f"  {run.error}"),
                        flush=True,
                    )
    print(f"{failures} failed run(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
