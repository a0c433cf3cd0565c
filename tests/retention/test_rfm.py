"""RFM tiers: the mapping from quintiles, and the SQL on a small hand-built population.

A worked example as of DAY (30 June 2026); the clock is pinned to its end, AS_OF, so the
example reads the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from assets.models import Account, Site
from contracts.models import HealthScore
from retention.health import health_compute
from retention.rfm import AT_RISK, HIGH_VALUE, NEW, POTENTIAL, REGULAR, rfm_tiers, tier_of
from tests import factories
from tests.clock_pin import clock_at
from tickets.models import WorkOrder

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 6, 30)
AS_OF = dt.datetime(2026, 7, 1, tzinfo=TZ)


_clock_at_the_end_of_day = clock_at(AS_OF)


def tier(r: int, f: int, m: int, *, is_new: bool = False, now: int = 5, before: int = 5) -> str:
    return tier_of(
        recency=r, frequency=f, monetary=m, is_new=is_new, frequency_now=now, frequency_before=before
    )


def test_tiers_from_quintiles() -> None:
    assert tier(5, 5, 5) == HIGH_VALUE
    assert tier(4, 4, 4) == HIGH_VALUE
    assert tier(5, 5, 5, is_new=True) == NEW
    assert tier(1, 5, 5) == POTENTIAL
    assert tier(2, 4, 4) == POTENTIAL
    assert tier(3, 5, 5) == REGULAR  # recency neither high nor low
    assert tier(1, 1, 2) == AT_RISK
    assert tier(2, 3, 5, now=2, before=6) == AT_RISK  # not seen lately and fewer jobs than last year
    assert tier(1, 5, 5, now=6, before=9) == AT_RISK  # falling beats potential
    assert tier(4, 1, 1, now=1, before=9) == REGULAR  # recent: not drifting away
    assert tier(3, 3, 3) == REGULAR


def _days_ago(days: float) -> dt.datetime:
    return AS_OF - dt.timedelta(days=days)


def _account(annual_value: str | None) -> Site:
    account = factories.account(created_at=dt.datetime(2024, 1, 1, tzinfo=TZ))
    if annual_value is not None:
        factories.contract(
            account=account,
            start_date=dt.date(2024, 7, 1),
            end_date=dt.date(2027, 6, 30),
            annual_value=Decimal(annual_value),
        )
    return factories.site(account=account)


def _orders(site: Site, count: int, days_ago: float, **fields: Any) -> None:
    defaults: dict[str, Any] = {
        "status": WorkOrder.Status.CLOSED,
        "created_at": _days_ago(days_ago + 1),
        "completed_at": _days_ago(days_ago),
    }
    for _ in range(count):
        factories.work_order(site=site, **{**defaults, **fields})


def _paid(site: Site, days_ago: float) -> None:
    _orders(site, 1, days_ago, billable=True)


@pytest.mark.django_db
def test_tiers_on_a_small_population() -> None:
    # Ten accounts: two per quintile. Frequency = work orders opened in the last year,
    # recency = last billable job done, monetary = contract value in force.
    vip = _account("1000000")
    _paid(vip, 1)
    _orders(vip, 9, 100)
    lapsed = _account("900000")  # big and busy, but nothing paid or renewed: potential
    _orders(lapsed, 9, 100)
    fading = _account("1000")  # little now, much more the year before: at risk
    _orders(fading, 1, 200)
    _orders(fading, 8, 500)
    newbie = _account(None)  # first job 30 days ago
    _paid(newbie, 30)
    _orders(newbie, 1, 20)
    fillers = []
    for n, (recency, value) in enumerate(
        [(10, "10000"), (20, "20000"), (40, "30000"), (50, "40000"), (60, "50000"), (70, "60000")], start=3
    ):
        site = _account(value)
        _paid(site, recency)
        _orders(site, n - 1, 100)
        fillers.append(site)
    # Cancelled work and work after the date do not count.
    _orders(fading, 5, 50, status=WorkOrder.Status.CANCELLED)
    _orders(fading, 5, -10)

    tiers = rfm_tiers([DAY])
    by_site = {site: tiers[(site.account_id, DAY)] for site in [vip, lapsed, fading, newbie, *fillers]}
    assert by_site[vip] == HIGH_VALUE
    assert by_site[lapsed] == POTENTIAL
    assert by_site[fading] == AT_RISK
    assert by_site[newbie] == NEW
    # Recent and middling, except the two served longest ago (recency quintile 2) that have
    # high frequency and value: potential.
    assert [by_site[s] for s in fillers] == [REGULAR, REGULAR, REGULAR, REGULAR, POTENTIAL, POTENTIAL]
    assert len(tiers) == Account.objects.count() == 10


@pytest.mark.django_db
def test_renewal_counts_as_recency_and_the_snapshot_stores_the_tier() -> None:
    renewing = _account(None)
    old = factories.contract(
        account=renewing.account,
        start_date=dt.date(2024, 7, 1),
        end_date=dt.date(2026, 5, 31),
        status="renewed",
    )
    factories.contract(
        account=renewing.account,
        start_date=dt.date(2026, 6, 1),
        end_date=dt.date(2027, 5, 31),
        predecessor=old,
        annual_value=Decimal("500000"),
    )
    _orders(renewing, 3, 100)  # nothing paid: its recency is the renewal a month ago
    quiet = []
    for days, value in ((200, "10000"), (150, "20000"), (120, "30000"), (110, "40000")):
        site = _account(value)
        _paid(site, days)
        quiet.append(site)

    tiers = rfm_tiers([DAY])
    assert tiers[(renewing.account_id, DAY)] == HIGH_VALUE
    assert tiers[(quiet[0].account_id, DAY)] == AT_RISK
    health_compute(today=DAY)
    stored = dict(HealthScore.objects.values_list("account_id", "rfm_tier"))
    assert stored[renewing.account_id] == HIGH_VALUE
    assert stored[quiet[0].account_id] == AT_RISK
