"""`manage.py health_backtest`: does the health score 90 days before a key date predict renewal?

For every contract that ended (renewed or expired), the account's health is computed as
of HEALTH_BACKTEST_LEAD_DAYS before its key date (the end date, or the notice deadline of
an auto-renewing contract) with the same SQL as the nightly snapshot, for exactly the
dates needed and without storing anything. Prints the AUC of the score against the
outcome (and of each component alone) and the renewal rate per band.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Min

from contracts.models import HealthScore, ServiceContract
from retention.health import health_snapshots
from retention.health_scoring import Snapshot
from tickets.models import WorkOrder

HEALTH_BACKTEST_LEAD_DAYS = 90


def auc(pairs: Sequence[tuple[float, bool]]) -> float | None:
    """Area under the ROC curve of a score for a yes/no outcome (Mann-Whitney, ties half)."""
    positives = [score for score, outcome in pairs if outcome]
    negatives = [score for score, outcome in pairs if not outcome]
    if not positives or not negatives:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def key_date(contract: ServiceContract) -> dt.date:
    if contract.auto_renew:
        return contract.end_date - dt.timedelta(days=contract.notice_days)
    return contract.end_date


class Command(BaseCommand):
    help = "Backtest the health score against renewals of contracts that ended."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--lead-days", type=int, default=HEALTH_BACKTEST_LEAD_DAYS)

    def handle(self, *args: Any, lead_days: int, **options: Any) -> None:
        first = WorkOrder.objects.aggregate(first=Min("created_at"))["first"]
        if first is None:
            self.stdout.write("No work orders: nothing to backtest.")
            return
        # A snapshot needs a full window of history behind it.
        earliest = first.date() + dt.timedelta(days=settings.HEALTH_WINDOW_DAYS)
        ended = list(
            ServiceContract.objects.filter(
                status__in=[ServiceContract.Status.RENEWED, ServiceContract.Status.EXPIRED]
            ).order_by("pk")
        )
        cases = []
        for contract in ended:
            day = key_date(contract) - dt.timedelta(days=lead_days)
            if day >= earliest:
                cases.append((contract, day))
        self.stdout.write(
            f"Contracts ended: {len(ended)}; with {settings.HEALTH_WINDOW_DAYS} days of history "
            f"{lead_days} days before the key date: {len(cases)}"
        )
        if not cases:
            return
        snapshots = {(s.account_id, s.day): s for s in health_snapshots(sorted({day for _, day in cases}))}
        rows = [
            (snapshots[(contract.account_id, day)], contract.status == ServiceContract.Status.RENEWED)
            for contract, day in cases
            if (contract.account_id, day) in snapshots
        ]
        self._report(rows, distinct_dates=len({day for _, day in cases}))

    def _report(self, rows: list[tuple[Snapshot, bool]], distinct_dates: int) -> None:
        renewed = sum(outcome for _, outcome in rows)
        self.stdout.write(
            f"Snapshots computed for {distinct_dates} distinct dates; cases: {len(rows)} "
            f"({renewed} renewed, {len(rows) - renewed} expired)"
        )
        overall = auc([(s.score, outcome) for s, outcome in rows])
        self.stdout.write(f"AUC of the health score: {_fmt(overall)}")
        self.stdout.write("Renewal rate per band:")
        for band in (HealthScore.Band.GREEN, HealthScore.Band.YELLOW, HealthScore.Band.RED):
            outcomes = [outcome for s, outcome in rows if s.band == band]
            rate = f"{sum(outcomes) / len(outcomes):6.1%}" if outcomes else "     -"
            self.stdout.write(f"  {band:<7} {len(outcomes):5d} contracts  renewed {rate}")
        by_component: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        for s, outcome in rows:
            for component in s.components:
                by_component[component["key"]].append((component["score"], outcome))
        self.stdout.write("AUC of each component's score alone (cases with data):")
        for key in settings.HEALTH_COMPONENTS:
            pairs = by_component.get(key, [])
            self.stdout.write(f"  {key:<22} {_fmt(auc(pairs))}  (n={len(pairs)})")
        tiers: dict[str, list[bool]] = defaultdict(list)
        for s, outcome in rows:
            tiers[s.rfm_tier].append(outcome)
        self.stdout.write("Renewal rate per RFM tier:")
        for tier, outcomes in sorted(tiers.items()):
            self.stdout.write(
                f"  {tier:<11} {len(outcomes):5d} contracts  renewed {sum(outcomes) / len(outcomes):6.1%}"
            )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
