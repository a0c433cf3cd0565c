"""The health backtest: AUC, key dates, and the command on a tiny history.

A worked example of contracts that ended on 30 June 2026, run the next morning: the clock is
pinned there so the example reads the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from contracts.models import HealthScore, ServiceContract
from retention.management.commands.health_backtest import auc, key_date
from tests import factories
from tests.clock_pin import clock_at
from tickets.models import WorkOrder

TZ = ZoneInfo("Asia/Shanghai")


_clock_on_1_july_2026 = clock_at(dt.datetime(2026, 7, 1, 9, tzinfo=TZ))


def test_auc() -> None:
    assert auc([(90, True), (80, True), (40, False), (30, False)]) == 1.0
    assert auc([(10, True), (80, False)]) == 0.0
    assert auc([(50, True), (50, False)]) == 0.5
    assert auc([(90, True), (40, True), (60, False)]) == 0.5
    assert auc([(90, True)]) is None


def test_key_date_is_the_notice_deadline_of_auto_renewing_contracts() -> None:
    fixed = ServiceContract(end_date=dt.date(2026, 6, 30), auto_renew=False, notice_days=60)
    auto = ServiceContract(end_date=dt.date(2026, 6, 30), auto_renew=True, notice_days=60)
    assert key_date(fixed) == dt.date(2026, 6, 30)
    assert key_date(auto) == dt.date(2026, 5, 1)


@pytest.mark.django_db
def test_backtest_scores_accounts_90_days_before_the_key_date() -> None:
    end = dt.date(2026, 6, 30)
    scored_on = dt.datetime.combine(end - dt.timedelta(days=90), dt.time(), TZ)  # the morning after
    outcomes = {"renewed": 0.0, "expired": 1.0}  # share of late work orders
    for status, late_share in outcomes.items():
        account = factories.account(created_at=dt.datetime(2025, 1, 1, tzinfo=TZ))
        site = factories.site(account=account)
        factories.contract(account=account, start_date=dt.date(2025, 7, 1), end_date=end, status=status)
        for n in range(4):
            created = scored_on - dt.timedelta(days=20 + n)
            factories.work_order(
                site=site,
                status=WorkOrder.Status.CLOSED,
                created_at=created,
                sla_response_due=created + dt.timedelta(hours=8),
                responded_at=created + dt.timedelta(hours=2 if n >= 4 * late_share else 30),
                sla_resolution_due=created + dt.timedelta(days=5),
                completed_at=created + dt.timedelta(days=1),
            )
    # The first work order of the history: 90 days of it before the first scored date.
    factories.work_order(
        site=site, status=WorkOrder.Status.CANCELLED, created_at=scored_on - dt.timedelta(days=200)
    )
    out = StringIO()
    call_command("health_backtest", stdout=out)
    printed = out.getvalue()
    assert "Contracts ended: 2;" in printed
    assert "cases: 2 (1 renewed, 1 expired)" in printed
    assert "AUC of the health score: 1.000" in printed
    assert "green       1 contracts  renewed 100.0%" in printed
    assert "red         1 contracts  renewed   0.0%" in printed
    assert not HealthScore.objects.exists()  # computed, never stored
