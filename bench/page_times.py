"""Server time of the heavy web pages, in-process (a script, not a test).

Each page is requested through Django's test client, so the whole middleware stack runs
(sessions, locale, CSRF, auth, messages) without a network or a web server in between, as
the user who would open it: the dispatch board (every territory and all of them, today and
tomorrow) and the KPI page as the dispatcher; the accounts home (renewals) and the KPI page
as the account manager; the 360° page of the largest accounts (by equipment, by work
orders) and of a random sample, each as its own account manager.

Every page is requested once cold (its first request in this process: Python and
PostgreSQL caches not yet warm for it) and then `--repeat` times; printed per page: the
cold time, the median, p95 and max of the repeats (server ms), the SQL queries of a request
(CaptureQueriesContext) and the size of the page.

The scale to measure is the `large` one:

    DEBUG=1 DATABASE_URL=postgres:///fieldservice_large .venv/bin/python bench/page_times.py
    DEBUG=1 DATABASE_URL=postgres:///fieldservice_large .venv/bin/python bench/page_times.py \\
        --repeat 10 --sample 10 --seed 2

Nothing is kept: the measurements run in one transaction, rolled back at the end (the test
client's sessions go with it; logins do not touch last_login). The seeded scales have no
health snapshots (the nightly task makes them): `--with-health` computes today's first, in
that transaction, so that the account pages and the home's risk list show what they will in
production. Renewals (the daily run) are not made here: it renders quote PDFs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from bench.loadlib import allowed_host, django_setup, percentiles

django_setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import user_logged_in  # noqa: E402
from django.contrib.auth.models import User, update_last_login  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from assets.models import Account  # noqa: E402
from fieldservice import clock  # noqa: E402
from retention.health import health_compute  # noqa: E402
from scheduling.models import Territory  # noqa: E402

LARGEST = 3  # accounts, by equipment and by work orders


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    user: User


@dataclass(frozen=True)
class Timing:
    cold_ms: float
    warm_ms: list[float]
    queries: int  # of a warm request
    cold_queries: int
    size_kb: float


def _user(username: str) -> User:
    found = User.objects.filter(username=username, is_active=True).first()
    if found is None:
        sys.exit(f"No user {username!r}: seed the demo first (manage.py seed_demo --scale large).")
    return found


def _account_pages(*, sample: int, seed: int, fallback: User) -> list[Page]:
    """The largest accounts by equipment and by work orders, then a random sample of the others."""
    accounts = Account.objects.select_related("account_manager")
    by_equipment = list(accounts.annotate(n=Count("sites__equipment")).order_by("-n", "pk")[:LARGEST])
    by_work_orders = list(accounts.annotate(n=Count("work_orders")).order_by("-n", "pk")[:LARGEST])
    chosen: dict[int, tuple[Account, str]] = {}
    for account in by_equipment:
        chosen[account.pk] = (account, f"most equipment ({account.n})")
    for account in by_work_orders:
        chosen.setdefault(account.pk, (account, f"most work orders ({account.n})"))
    rest = list(accounts.exclude(pk__in=chosen).order_by("pk"))
    for picked in random.Random(seed).sample(rest, min(sample, len(rest))):
        chosen[picked.pk] = (picked, "random")
    return [
        Page(f"account {account.pk} {why}", f"/accounts/{account.pk}/", account.account_manager or fallback)
        for account, why in chosen.values()
    ]


def pages(*, sample: int, seed: int) -> list[Page]:
    dispatcher, manager, admin = _user("dispatcher"), _user("manager"), _user("admin")
    today = clock.today()
    days = {"today": today, "tomorrow": today + dt.timedelta(days=1)}
    territories = [
        (str(pk), name) for pk, name in Territory.objects.order_by("name").values_list("pk", "name")
    ]
    listed = [
        Page(f"board {name} {when}", f"/dispatch/?day={day}&territory={value}", dispatcher)
        for value, name in [*territories, ("all", "all territories")]
        for when, day in days.items()
    ]
    listed.append(Page("accounts home (manager)", "/accounts/", manager))
    listed += _account_pages(sample=sample, seed=seed, fallback=admin)
    listed.append(Page("KPIs (dispatcher)", "/kpis/", dispatcher))
    listed.append(Page("KPIs (manager)", "/kpis/", manager))
    return listed


def measure(client: Client, path: str, repeat: int) -> Timing:
    times, counts, size = [], [], 0
    for _ in range(repeat + 1):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")
        counts.append(len(queries))
        size = len(response.content)
    return Timing(times[0], times[1:], counts[-1], counts[0], size / 1024)


class Rollback(Exception):
    """Leaves the database as it was (the health snapshots, the sessions)."""


def run(args: argparse.Namespace) -> None:
    listed = pages(sample=args.sample, seed=args.seed)
    clients: dict[int, Client] = {}
    database = connection.settings_dict["NAME"]
    print(
        f"database {database}, {len(listed)} pages, 1 cold + {args.repeat} warm requests each, "
        f"DEBUG={settings.DEBUG}\n"
    )
    print(
        f"{'page':<52} {'cold ms':>8} {'median':>8} {'p95':>8} {'max':>8} "
        f"{'queries':>8} {'cold q':>7} {'KB':>7}"
    )
    for page in listed:
        if page.user.pk not in clients:
            clients[page.user.pk] = Client(HTTP_HOST=allowed_host())
            clients[page.user.pk].force_login(page.user)
        timing = measure(clients[page.user.pk], page.path, args.repeat)
        median, p95, _ = percentiles(timing.warm_ms) if timing.warm_ms else (0.0, 0.0, 0.0)
        print(
            f"{page.label[:52]:<52} {timing.cold_ms:>8.1f} {median:>8.1f} {p95:>8.1f} "
            f"{max(timing.warm_ms, default=0.0):>8.1f} {timing.queries:>8} {timing.cold_queries:>7} "
            f"{timing.size_kb:>7.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="warm requests of each page, after the cold one"
    )
    parser.add_argument("--sample", type=int, default=5, help="random accounts besides the largest")
    parser.add_argument("--seed", type=int, default=1, help="which random accounts")
    parser.add_argument(
        "--with-health", action="store_true", help="compute today's health first (rolled back at the end)"
    )
    args = parser.parse_args()
    # Measuring must not write: no last_login update on each login below.
    user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
    try:
        with transaction.atomic():
            if args.with_health:
                started = time.perf_counter()
                snapshots = health_compute(alert=False)
                print(f"health: {snapshots} snapshots for today in {time.perf_counter() - started:.1f} s")
            run(args)
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
