"""One business clock: the product reads "now" from fieldservice.clock only, and the suite pins
it (tests/clock_pin.py) for every test, every process a test starts, and the database work."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from fieldservice import clock
from tests import clock_pin
from tests.project import PROJECT_PACKAGES

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = (*PROJECT_PACKAGES, "bench")
OTHER_CLOCKS = re.compile(
    r"timezone\.now\(|timezone\.localdate\(\)|date\.today\(|datetime\.now\(|datetime\.utcnow\("
    r"|default=timezone\.now"
)
# The database's clock in SQL the product writes (triggers included).
DATABASE_CLOCK = re.compile(
    r"(?<![.\w])now\(\)|CURRENT_DATE|CURRENT_TIMESTAMP|LOCALTIMESTAMP|statement_timestamp\("
)
# Migrations keep the history as it was: a later migration replaced what these wrote.
SUPERSEDED = {
    "mobile_api/migrations/0002_job_change_trigger.py",
    "mobile_api/migrations/0003_job_change_on_records.py",
    "mobile_api/migrations/0005_change_stamp_triggers.py",
}


def product_files() -> list[Path]:
    """Every Python file of the product but the clock itself."""
    files = (path for app in PRODUCT for path in (ROOT / app).rglob("*.py"))
    return sorted(path for path in files if path != ROOT / "fieldservice" / "clock.py")


def test_the_product_reads_now_from_the_business_clock_only() -> None:
    offenders = []
    for path in product_files():
        name = str(path.relative_to(ROOT))
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "/migrations/" in name and "default=" in line:
                continue  # a migration records the default its model had then
            if OTHER_CLOCKS.search(line) and "# device clock" not in line:
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == []


def test_no_sql_of_the_product_asks_the_database_for_the_time() -> None:
    offenders = []
    for path in product_files():
        name = str(path.relative_to(ROOT))
        if name in SUPERSEDED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if DATABASE_CLOCK.search(line):
                offenders.append(f"{name}:{number}: {line.strip()}")
    assert offenders == []


def test_every_test_starts_at_the_pinned_instant() -> None:
    pinned = clock_pin.pinned_instant()
    assert abs((clock.now() - pinned).total_seconds()) < 5
    assert clock.today() == pinned.astimezone(clock.local_now().tzinfo).date()


def test_a_test_that_travels_leaves_the_next_one_at_the_pin() -> None:
    import time_machine

    with time_machine.travel(clock.now() + dt.timedelta(days=1)):
        assert clock.now() - clock_pin.pinned_instant() > dt.timedelta(hours=23)
    # Minutes into the run, this test still starts at the pinned instant.
    assert abs((clock.now() - clock_pin.pinned_instant()).total_seconds()) < 5


def test_a_process_started_by_a_test_runs_at_the_pinned_instant() -> None:
    code = "from fieldservice import clock; print(clock.now().isoformat())"
    seen = subprocess.run(
        clock_pin.pinned_command([sys.executable, "manage.py", "shell", "-c", code]),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1"},
        timeout=60,
    )
    then = dt.datetime.fromisoformat(seen.stdout.strip().splitlines()[-1])
    assert abs((then - clock_pin.pinned_instant()).total_seconds()) < 60


def test_the_same_commit_always_draws_the_same_instant() -> None:
    start = clock.today()
    assert clock_pin.draw_instant("abc123", start) == clock_pin.draw_instant("abc123", start)
    assert clock_pin.draw_instant("abc123", start) != clock_pin.draw_instant("abc124", start)


def test_the_draw_covers_two_years_and_leans_to_the_awkward_instants() -> None:
    start = clock.today()
    draws = [clock_pin.draw_instant(f"commit {k}", start) for k in range(2000)]
    assert all(start <= d.date() <= start + dt.timedelta(days=clock_pin.HORIZON_DAYS) for d in draws)
    assert {d.year for d in draws} >= {start.year + 1}
    hours = Counter(d.hour for d in draws)
    night = sum(n for hour, n in hours.items() if hour >= 21 or hour < 7)
    assert night / len(draws) > 0.6  # against 10/24 for a uniform draw
    assert sum(d.weekday() >= 5 for d in draws) / len(draws) > 0.35  # against 2/7
    assert sum(d.month == 12 and d.day >= 29 or d.month == 1 and d.day <= 1 for d in draws) > 100
    new_years = set(clock_pin.CHINESE_NEW_YEAR.values())
    assert sum(any(abs((d.date() - day).days) <= 3 for day in new_years) for d in draws) > 200
    assert len(set(draws)) > 1900


def test_an_instant_without_an_offset_is_refused() -> None:
    with pytest.raises(pytest.UsageError, match="offset"):
        clock_pin.parse_instant("2027-12-31T23:50:00")
    assert clock_pin.parse_instant("2027-12-31T23:50:00+08:00").utcoffset() == dt.timedelta(hours=8)
