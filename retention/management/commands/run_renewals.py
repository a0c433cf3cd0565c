"""`manage.py run_renewals`: the daily renewal run, by hand."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contracts.models import RenewalReminder
from fieldservice import ranges
from retention.renewals import RenewalEmailsFailed, renewals_run_report


class Command(BaseCommand):
    help = (
        "Make every renewal milestone that has come due happen (opportunities, reminders, "
        "quotes, renewals and expiries). Safe to run again: nothing happens twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today", metavar="YYYY-MM-DD", help="Run as if on this date (default: today, local time)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = _parse_date(options["today"]) if options["today"] else None
        try:
            run = renewals_run_report(today=today)
        except RenewalEmailsFailed as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Renewals for {run.today.isoformat()}:")
        self.stdout.write(self.style.SUCCESS(f"{run.total} milestone(s) happened."))
        for milestone in RenewalReminder.Milestone:
            self.stdout.write(f"  {milestone.label}: {run.happened[milestone.value]}")
        self.stdout.write(f"Reminder emails sent: {run.emails_sent}.")
        self.stdout.write(f"Renewed contracts closed at their end date: {run.contracts_closed}.")
        self.stdout.write(f"Contracts expired after notice: {run.contracts_expired}.")


def _parse_date(value: str) -> dt.date:
    try:
        return ranges.command_date(value)
    except argparse.ArgumentTypeError as error:
        raise CommandError(f"--today: {error}.") from None
