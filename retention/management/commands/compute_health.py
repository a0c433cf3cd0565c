"""`manage.py compute_health [--today DATE]`: every account's health snapshot for a date."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fieldservice import clock, ranges
from retention.health import health_compute


class Command(BaseCommand):
    help = "Compute the health snapshot of every account (set-based SQL; safe to rerun for a date)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", type=ranges.command_date, default=None, help="YYYY-MM-DD")
        parser.add_argument(
            "--history-months",
            type=int,
            default=0,
            help="first back-fill month-end snapshots for this many past months (no alerts), for the trend",
        )

    def handle(self, *args: Any, today: dt.date | None, history_months: int, **options: Any) -> None:
        if history_months < 0:
            raise CommandError("--history-months must be 0 or more.")
        day = today or clock.today()
        started = time.perf_counter()
        for past in month_ends_before(day, history_months):
            health_compute(today=past, alert=False)
        count = health_compute(today=day)
        elapsed = time.perf_counter() - started
        history = f" (and {history_months} month-ends before it)" if history_months else ""
        self.stdout.write(f"{count} health snapshots for {day}{history} in {elapsed:.2f} s")


def month_ends_before(day: dt.date, months: int) -> list[dt.date]:
    """The last day of each of the `months` months before `day`'s month, oldest first."""
    ends = []
    first_of_month = day.replace(day=1)
    for _ in range(months):
        last_of_previous = first_of_month - dt.timedelta(days=1)
        ends.append(last_of_previous)
        first_of_month = last_of_previous.replace(day=1)
    return ends[::-1]
