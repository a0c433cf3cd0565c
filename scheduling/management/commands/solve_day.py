"""`manage.py solve_day --date DATE [--territory NAME] [--time-limit S] [--accept [--accept-fewer-urgent]]`

With -v 2, every unplaced job is listed with its reason."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fieldservice import clock, ranges
from fieldservice.errors import DomainError
from scheduling import services
from scheduling.models import ScheduleRun, Territory
from scheduling.reasons import unplaced_entry_text


class Command(BaseCommand):
    help = "Plan a day with the optimizer (all territories, or one), print the KPIs, optionally accept it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="YYYY-MM-DD, or 'today' / 'tomorrow' (default tomorrow)")
        parser.add_argument("--days", type=int, default=1)
        parser.add_argument("--territory", help="territory name (default: all, one part each)")
        parser.add_argument("--time-limit", type=int, default=None, help="solver seconds per territory")
        parser.add_argument("--accept", action="store_true", help="apply the plan to the work orders")
        parser.add_argument(
            "--accept-fewer-urgent",
            action="store_true",
            help="accept even a plan that places fewer P1/P2 jobs than are placed now",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        day = self._day(options["date"])
        territory = None
        if options["territory"]:
            territory = Territory.objects.filter(name=options["territory"]).first()
            if territory is None:
                names = ", ".join(Territory.objects.values_list("name", flat=True)) or "none"
                raise CommandError(f"No territory {options['territory']!r}. Known: {names}.")
        run = services.schedule_run_create(
            by=None,
            first_day=day,
            days=options["days"],
            territory=territory,
            time_limit_s=options["time_limit"],
            enqueue=False,
        )
        for part in services.run_parts(run):
            services.schedule_run_solve_part(run_id=run.pk, part=part)
        run.refresh_from_db()
        if run.status != ScheduleRun.Status.SUCCEEDED:
            raise CommandError(f"Run {run.pk} {run.status}: {run.error_text}")
        before, after = run.kpis["before"], run.kpis["after"]
        self.stdout.write(f"Run {run.pk} for {day} ({territory or 'all territories'}): {run.status}")
        for key in ("placed", "unplaced", "travel_km", "travel_minutes", "sla_at_risk", "utilisation"):
            self.stdout.write(f"  {key:15} {before.get(key, '-')!s:>10} → {after.get(key, '-')!s:>10}")
        reasons: dict[str, int] = {}
        for entry in run.unplaced:
            reasons[entry["reason"]] = reasons.get(entry["reason"], 0) + 1
        for reason, count in sorted(reasons.items()):
            self.stdout.write(f"  unplaced: {count} × {reason}")
        for entry in run.unplaced if options["verbosity"] > 1 else []:
            self.stdout.write(f"    {entry['number']}: {unplaced_entry_text(entry)}")
        if options["accept"]:
            try:
                result = services.schedule_run_accept(
                    run=run, by=None, confirm_fewer_urgent=options["accept_fewer_urgent"]
                )
            except DomainError as error:
                raise CommandError(f"Run {run.pk} not accepted: {error.message}") from None
            self.stdout.write(
                f"Accepted: {result['applied']} changed, {result['unchanged']} unchanged, "
                f"{len(result['conflicts'])} conflicts"
            )

    @staticmethod
    def _day(value: str | None) -> dt.date:
        today = clock.today()
        if value in (None, "tomorrow"):
            return today + dt.timedelta(days=1)
        if value == "today":
            return today
        try:
            return ranges.command_date(value)  # type: ignore[arg-type]
        except argparse.ArgumentTypeError as error:
            raise CommandError(f"--date: {error}, 'today' or 'tomorrow'.") from None
