"""`manage.py import_csv KIND FILE [--dry-run] [--partial] [--progress]`

Upserts rows by their external id (importing the same file twice changes nothing). Every
row is checked first and every bad one reported with its line and column; with any bad
row nothing is written, unless --partial (then the good rows are). Exits with status 1 when
anything was refused, so a script can stop there.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper

from importing.kinds import KINDS
from importing.kinds.base import no_progress
from importing.services import csv_import

BAR_WIDTH = 30


class TextProgress:
    """A one-line progress bar redrawn in place with a carriage return (plain text, no
    terminal library); each stage ends with a newline."""

    def __init__(self, stream: OutputWrapper) -> None:
        self.stream = stream
        self.stage = ""
        self.shown = -1

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage:
            self.finish()
            self.stage = stage
        percent = 100 * done // max(total, 1)
        if percent == self.shown:
            return
        self.shown = percent
        filled = BAR_WIDTH * done // max(total, 1)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        self.stream.write(f"\r{stage:<10} [{bar}] {done:>9,}/{total:,} {percent:3d}%", ending="")
        self.stream.flush()

    def finish(self) -> None:
        if self.stage:
            self.stream.write("")
            self.stream.flush()
        self.stage, self.shown = "", -1


class Command(BaseCommand):
    help = "Import accounts, contacts, sites, equipment, contracts or technicians from a UTF-8 CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=list(KINDS), help="what the file holds")
        parser.add_argument("file", help="the CSV file (UTF-8, comma-separated, a header row); - reads stdin")
        parser.add_argument("--dry-run", action="store_true", help="check and count only, write nothing")
        parser.add_argument("--partial", action="store_true", help="write the good rows even if some are bad")
        parser.add_argument(
            "--progress", action="store_true", help="show a progress bar even when stderr is not a terminal"
        )

    def handle(
        self, *args: Any, kind: str, file: str, dry_run: bool, partial: bool, progress: bool, **options: Any
    ) -> None:
        try:
            data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        bar = TextProgress(self.stderr) if progress or self.stderr.isatty() else None
        started = time.perf_counter()
        report = csv_import(
            kind=kind, data=data, dry_run=dry_run, partial=partial, progress=bar or no_progress
        )
        if bar is not None:
            bar.finish()
        for problem in report.problems:
            self.stdout.write(str(problem))
        for note in report.notes:
            self.stdout.write(note)
        if report.file_problems:
            raise CommandError("The file was refused; nothing was written.")
        self.stdout.write(f"{report.summary()} ({time.perf_counter() - started:.1f} s)")
        if report.bad_rows:
            written = "the good rows were written" if report.written else "nothing was written"
            raise CommandError(f"{report.bad_rows} rows refused; {written}.")
