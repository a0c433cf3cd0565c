"""Server time of the service desk's search and of the work-order list (a script, not a test).

What a dispatcher types while a customer is on the line, drawn from the seeded data: two
Chinese characters of an account name, five or six characters of a serial number, a phone
number's last eight digits, a fragment of a site name; each answered by
assets.search.installed_base_search over every account (what /desk/search/ runs), timed in
this process. Then the work-order list page (/work-orders/) through Django's test client as
the dispatcher: a search by customer, by serial and by number, each SLA state, and the
unfiltered first page. Printed per kind: count, p50, p95 and max server ms. The issue's
target is a search p95 under 200 ms on the `large` scale:

    DEBUG=1 DATABASE_URL=postgres:///fieldservice_large .venv/bin/python manage.py seed_demo --scale large
    DEBUG=1 DATABASE_URL=postgres:///fieldservice_large .venv/bin/python bench/desk_search.py --samples 50

Nothing is written.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script

from bench.loadlib import allowed_host, django_setup, percentiles

django_setup()

from django.contrib.auth.models import User  # noqa: E402
from django.test import Client  # noqa: E402

from assets.models import Account, Contact, Equipment, Site  # noqa: E402
from assets.search import installed_base_search  # noqa: E402
from tickets.models import WorkOrder  # noqa: E402


def line(kind: str, times: list[float]) -> None:
    p50, p95, _ = percentiles(times)
    print(f"{kind:<34} {len(times):>5} {p50:>8.1f} {p95:>8.1f} {max(times):>8.1f}")


def fragments(rng: random.Random, samples: int) -> dict[str, list[str]]:
    def pick(values: list[str]) -> list[str]:
        return [rng.choice(values) for _ in range(samples)] if values else []

    names = [n for n in Account.objects.values_list("name", flat=True) if re.search(r"[\u4e00-\u9fff]{2}", n)]
    serials = list(Equipment.objects.order_by("?").values_list("serial_number", flat=True)[:2000])
    phones = [
        re.sub(r"\D", "", p) for p in Contact.objects.exclude(phone="").values_list("phone", flat=True)[:2000]
    ]
    sites = list(Site.objects.order_by("?").values_list("name", flat=True)[:2000])

    def chinese_pair(name: str) -> str:
        run = re.findall(r"[\u4e00-\u9fff]{2,}", name)[0]
        start = rng.randrange(len(run) - 1)
        return run[start : start + 2]

    return {
        "account, 2 Chinese characters": [chinese_pair(n) for n in pick(names)],
        "serial, 5-6 characters": [s[-rng.choice((5, 6)) :] for s in pick(serials)],
        "phone, last 8 digits": [p[-8:] for p in pick([p for p in phones if len(p) >= 8])],
        "site name, 4 characters": [s[:4] for s in pick(sites)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=50, help="queries of each kind (default 50)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    accounts = Account.objects.all()
    print(
        f"{Account.objects.count()} accounts, {Equipment.objects.count()} units, "
        f"{Contact.objects.count()} contacts, {WorkOrder.objects.count()} work orders"
    )
    print(f"{'search':<34} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    every: list[float] = []
    for kind, queries in fragments(rng, args.samples).items():
        installed_base_search(queries[0], accounts=accounts)  # warm the connection
        times = []
        for query in queries:
            started = time.perf_counter()
            installed_base_search(query, accounts=accounts)
            times.append((time.perf_counter() - started) * 1000)
        every += times
        line(kind, times)
    line("all searches", every)

    dispatcher = User.objects.filter(groups__name="dispatcher", is_active=True).first()
    if dispatcher is None:
        sys.exit("no dispatcher in this database: seed it with seed_demo")
    client = Client(HTTP_HOST=allowed_host())
    client.force_login(dispatcher)
    some = list(WorkOrder.objects.select_related("account", "equipment").order_by("?")[: args.samples])
    pages: dict[str, list[dict[str, str]]] = {
        "list: first page": [{}] * args.samples,
        "list: customer name": [{"q": wo.account.name[:4]} for wo in some],
        "list: serial": [{"q": wo.equipment.serial_number[-6:]} for wo in some if wo.equipment],
        "list: number": [{"q": wo.number[-6:]} for wo in some],
        "list: SLA breached / at risk": [{"sla": rng.choice(["breached", "at_risk"])} for _ in some],
    }
    for kind, asks in pages.items():
        client.get("/work-orders/", asks[0])
        times = []
        for ask in asks:
            started = time.perf_counter()
            response = client.get("/work-orders/", ask)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (ask, response.status_code)
        line(kind, times)


if __name__ == "__main__":
    main()
