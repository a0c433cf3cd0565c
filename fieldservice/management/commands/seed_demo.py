"""Wipe the demo data and seed a deterministic, internally consistent demo world."""

from __future__ import annotations

import argparse
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fieldservice import clock, ranges
from fieldservice.demo.runner import seed
from fieldservice.demo.scales import SCALES

DEFAULT_SEED = 42


def _date(value: str) -> date:
    return ranges.command_date(value)


class Command(BaseCommand):
    help = (
        "Delete all demo data (the project's tables and the demo logins) and seed the Yangtze "
        "River Delta demo: accounts, installed base, contracts, two years of work, today's backlog. "
        "All demo logins use the password 'demo'."
    )

    # Seeding needs the models and the database, not the URLconf or the API modules that the
    # full system checks import; a half-edited view elsewhere should not block a reseed.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="random seed (default %(default)s)"
        )
        parser.add_argument("--scale", choices=sorted(SCALES), default="demo", help="how much data")
        parser.add_argument(
            "--today",
            type=_date,
            default=None,
            help="the seeded day, YYYY-MM-DD (default: today); the world is seeded as it stands on "
            "that day at this time of day",
        )
        parser.add_argument(
            "--force", action="store_true", help="run even with DEBUG off (it TRUNCATES the project's tables)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "seed_demo deletes all data in the project's tables and is meant for development: "
                "it refuses to run with DEBUG off. Pass --force if you really mean it."
            )
        today = options["today"] or clock.today()
        if isinstance(today, str):  # call_command() passes options through without argparse
            today = _date(today)
        now = datetime.combine(today, clock.local_now().time(), clock.local_now().tzinfo)
        self.stdout.write(
            f"Seeding scale={options['scale']} seed={options['seed']} as of {now:%Y-%m-%d %H:%M %Z}"
        )
        report = seed(seed=options["seed"], scale=options["scale"], now=now, log=self.stdout.write)
        self.stdout.write("Rows:")
        for name, count in report.counts.items():
            self.stdout.write(f"  {name:<28} {count:>9,}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {report.total_seconds:.1f} s. Logins: admin, dispatcher, "
                "manager, director, tech01… (password: demo)"
            )
        )
