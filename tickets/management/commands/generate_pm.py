"""`manage.py generate_pm`: the daily preventive-maintenance run, by hand."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from fieldservice import ranges
from tickets.pm import PlanKind, SkipReason, pm_run


class Command(BaseCommand):
    help = (
        "Create the preventive work orders that fall due within the horizon. "
        "Safe to run again: nothing is created twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--today", metavar="YYYY-MM-DD", help="Run as if on this date (default: today, local time)."
        )
        parser.add_argument(
            "--horizon-days",
            type=int,
            metavar="N",
            help=f"Look this many days ahead (default: PM_HORIZON_DAYS = {settings.PM_HORIZON_DAYS}).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = _parse_date(options["today"]) if options["today"] else None
        horizon_days: int | None = options["horizon_days"]
        if horizon_days is not None and horizon_days < 0:
            raise CommandError(f"--horizon-days must be 0 or more, got {horizon_days}.")

        run = pm_run(today=today, horizon_days=horizon_days)

        self.stdout.write(
            f"Preventive maintenance for {run.today.isoformat()} to {run.horizon_end.isoformat()}:"
        )
        created = run.created_by_kind()
        self.stdout.write(self.style.SUCCESS(f"Created {len(run.created)} work order(s)."))
        for kind in PlanKind:
            self.stdout.write(f"  {kind}: {created[kind]}")
        self.stdout.write(f"Already generated: {run.already_generated}.")
        skipped = run.skipped_by_reason()
        self.stdout.write(f"Skipped {len(run.skipped)}:")
        for reason in SkipReason:
            self.stdout.write(f"  {reason}: {skipped[reason]}")
        for skip in run.skipped:
            due = f" due {skip.due.isoformat()}" if skip.due else ""
            detail = f" ({skip.detail})" if skip.detail else ""
            self.stdout.write(
                f"  - plan {skip.plan.pk} {skip.plan.name!r} on equipment {skip.plan.equipment}:"
                f" {skip.reason}{due}{detail}"
            )
        for work_order in run.created:
            self.stdout.write(f"  + {work_order.number} {work_order.title} due {work_order.pm_due_date}")


def _parse_date(value: str) -> dt.date:
    try:
        return ranges.command_date(value)
    except argparse.ArgumentTypeError as error:
        raise CommandError(f"--today: {error}.") from None
