"""Benchmark of the CSV import on equipment (a script, not a test).

Copies the seeded demo database into a throwaway one (`createdb -T`), gives the demo
sites external ids there (the demo has none, and equipment rows name their site by
one), generates N equipment rows on those sites with the demo's models (every tenth row a
component of the row before it, so in-file references are exercised), then times through
`manage.py import_csv`:

(If someone is connected to the template, createdb -T is refused and the script copies
with pg_dump | psql instead, which only reads it.)

1. the dry run (every check, nothing written),
2. the import (N created),
3. the same file again (N unchanged),
4. the file with every status changed (N updated).

The copy is dropped at the end unless --keep. The demo databases are never written.

    DEBUG=1 .venv/bin/python bench/import_equipment.py                # 100,000 rows
    DEBUG=1 .venv/bin/python bench/import_equipment.py --rows 20000 --template fieldservice_large
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = [
    "external_id",
    "site_external_id",
    "manufacturer",
    "model_number",
    "serial_number",
    "asset_tag",
    "parent_external_id",
    "install_date",
    "warranty_end",
    "status",
    "criticality",
    "average_daily_usage",
]
COMPONENT_EVERY = 10
STATUSES = ("operational", "degraded", "down")


def generate(
    path: Path, *, rows: int, sites: list[str], models: list[tuple[str, str]], status_shift: int
) -> None:
    rng = random.Random(7)
    first_day = dt.date(2015, 1, 1)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        site = sites[0]
        for n in range(rows):
            component = n % COMPONENT_EVERY == COMPONENT_EVERY - 1
            if not component:
                site = rng.choice(sites)
            manufacturer, model_number = rng.choice(models)
            installed = first_day + dt.timedelta(days=rng.randrange(3650))
            writer.writerow(
                [
                    f"BENCH-EQ-{n:07d}",
                    site,  # a component stands where its parent does
                    manufacturer,
                    model_number,
                    f"BENCH-{n:08d}",
                    f"AT-{n:07d}",
                    f"BENCH-EQ-{n - 1:07d}" if component else "",
                    installed.isoformat(),
                    (installed + dt.timedelta(days=730)).isoformat(),
                    STATUSES[(n + status_shift) % len(STATUSES)],
                    1 + n % 4,
                    f"{rng.uniform(2, 22):.2f}",
                ]
            )


def run_import(path: Path, *extra: str) -> tuple[float, str]:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = io.StringIO()
    started = time.perf_counter()
    try:
        call_command("import_csv", "equipment", str(path), *extra, stdout=out, stderr=io.StringIO())
    except CommandError as error:
        raise SystemExit(f"import refused: {error}\n{out.getvalue()[:2000]}") from None
    return time.perf_counter() - started, out.getvalue().strip().splitlines()[-1]


def copy_database(template: str, name: str) -> None:
    """`createdb -T` is the fast copy, but PostgreSQL refuses it while anyone is connected
    to the template (a running demo server); then dump and restore, which only reads it."""
    quick = subprocess.run(["createdb", "-T", template, name], capture_output=True, text=True)
    if quick.returncode == 0:
        return
    print(f"createdb -T {template} refused ({quick.stderr.strip().splitlines()[-1]}); dumping it instead")
    subprocess.run(["createdb", name], check=True)
    dump = subprocess.Popen(["pg_dump", "--no-owner", template], stdout=subprocess.PIPE)
    subprocess.run(
        ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-d", name],
        stdin=dump.stdout,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    if dump.wait() != 0:
        raise SystemExit(f"pg_dump {template} failed")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--template", default="fieldservice", help="the seeded database to copy")
    parser.add_argument("--database", default=f"fs_import_bench_{os.getpid()}", help="name of the copy")
    parser.add_argument("--keep", action="store_true", help="keep the copy afterwards")
    args = parser.parse_args()
    if args.database in {"fieldservice", "fieldservice_large", args.template}:
        raise SystemExit("--database must name a new, throwaway database")

    copy_database(args.template, args.database)
    os.environ["DATABASE_URL"] = f"postgres:///{args.database}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fieldservice.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from assets.models import Equipment, EquipmentModel, Site

    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE assets_site SET external_id = 'BENCH-SITE-' || id")
        sites = [f"BENCH-SITE-{pk}" for pk in Site.objects.values_list("pk", flat=True)]
        models = list(EquipmentModel.objects.values_list("manufacturer", "model_number"))
        before = Equipment.objects.count()
        print(
            f"database {args.database} (a copy of {args.template}): "
            f"{len(sites)} sites, {len(models)} models, {before} units"
        )
        with tempfile.TemporaryDirectory() as folder:
            first = Path(folder) / "equipment.csv"
            changed = Path(folder) / "equipment-changed.csv"
            started = time.perf_counter()
            generate(first, rows=args.rows, sites=sites, models=models, status_shift=0)
            generate(changed, rows=args.rows, sites=sites, models=models, status_shift=1)
            size = first.stat().st_size / 1024 / 1024
            print(f"generated {args.rows:,} rows ({size:.1f} MB) in {time.perf_counter() - started:.1f} s")
            figures = [
                ("dry run", run_import(first, "--dry-run")),
                ("import", run_import(first)),
                ("re-import (no change)", run_import(first)),
                ("import with every status changed", run_import(changed)),
            ]
        for label, (seconds, summary) in figures:
            print(f"{label:<34} {seconds:7.1f} s   {summary}")
        print(f"units now: {Equipment.objects.count()} ({Equipment.objects.count() - before:+,})")
    finally:
        connection.close()
        if not args.keep:
            subprocess.run(["dropdb", args.database], check=True)


if __name__ == "__main__":
    main()
