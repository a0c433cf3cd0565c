"""How long compute_health takes for every account (the issue's target: < 30 s at `large`).

    DEBUG=1 .venv/bin/python bench/compute_health.py [--today 2026-11-28] [--repeat 3] [--keep]

Runs health_compute for one date against the `fieldservice` database as it is (seed it
first: `manage.py seed_demo --scale large`), `--repeat` times, inside a transaction that
is rolled back each time unless --keep, so the database is left as it was. Prints the
row counts, each run's wall time and query count, and the time of the aggregate
statements alone (health inputs, RFM).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from assets.models import Account, Equipment  # noqa: E402
from fieldservice import clock  # noqa: E402
from retention.health import health_compute, health_inputs  # noqa: E402
from retention.rfm import rfm_tiers  # noqa: E402
from tickets.models import Survey, WorkOrder  # noqa: E402


class Rollback(Exception):
    pass


def timed_compute(today: dt.date, keep: bool) -> tuple[float, int, int]:
    started = time.perf_counter()
    try:
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            count = health_compute(today=today)
            elapsed = time.perf_counter() - started
            if not keep:
                raise Rollback
    except Rollback:
        pass
    return elapsed, count, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="commit the snapshots of the last run")
    args = parser.parse_args()
    today = args.today or clock.today()
    print(
        f"accounts {Account.objects.count():,}  equipment {Equipment.objects.count():,}  "
        f"work orders {WorkOrder.objects.count():,}  surveys {Survey.objects.count():,}  today {today}"
    )
    started = time.perf_counter()
    health_inputs([today])
    print(f"health aggregate statement: {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    rfm_tiers([today])
    print(f"RFM statement:              {time.perf_counter() - started:.2f} s")
    times = []
    for run in range(1, args.repeat + 1):
        elapsed, count, queries = timed_compute(today, keep=args.keep and run == args.repeat)
        times.append(elapsed)
        print(f"run {run}: compute_health {elapsed:.2f} s for {count:,} accounts, {queries} queries")
    print(f"median {statistics.median(times):.2f} s  best {min(times):.2f} s")


if __name__ == "__main__":
    main()
