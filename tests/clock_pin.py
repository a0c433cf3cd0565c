"""The suite's clock: every test runs at one pinned instant (a pytest plugin, see pyproject).

`pytest --now 2027-12-31T23:50:00+08:00` (or FIELDSERVICE_TEST_NOW, which `make test NOW=...`
passes) pins it. Without either, the instant is drawn from the commit under test: the same
commit always gets the same instant, here and in CI, so a clock bug shows before it is
submitted; over many commits the suite meets every kind of hour. The draw covers the two
years after the commit and leans towards the instants that break code: late evenings and
early mornings in the company's time zone, weekends, month and year ends, Chinese New Year.

The instant is printed in the header (`now = ... (--now to repeat)`). Python's clock is frozen
with time-machine from configuration on, and re-pinned at the start of every test (so a run
that starts at 23:50 does not cross midnight halfway); time then ticks on from the pin.
Processes a test starts run pinned through `pinned_command()`, and browser tests install the
same instant in Chromium (tests/browser/conftest.py). None of this exists outside the tests:
the product's clock is fieldservice.clock, which reads the machine's time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

ENVIRONMENT_VARIABLE = "FIELDSERVICE_TEST_NOW"
ROOT = Path(__file__).resolve().parent.parent
# The company's home time zone in the tests' settings (TIME_ZONE's default).
HOME = ZoneInfo(os.environ.get("TIME_ZONE", "Asia/Shanghai"))
HORIZON_DAYS = 2 * 365
# Chinese New Year's Day (the first day of the first lunar month), for the years the draw
# can reach; the holiday around it is the week when offices and plants in China stop.
CHINESE_NEW_YEAR = {
    2026: dt.date(2026, 2, 17),
    2027: dt.date(2027, 2, 6),
    2028: dt.date(2028, 1, 26),
    2029: dt.date(2029, 2, 13),
    2030: dt.date(2030, 2, 3),
    2031: dt.date(2031, 1, 23),
}
# How often each kind of day and of time of day is drawn (weights).
DAY_KINDS = {"any": 30, "weekend": 20, "month_end": 15, "year_end": 15, "chinese_new_year": 20}
TIME_KINDS = {"late_evening": 35, "early_morning": 30, "any": 35}

_pinned: dict[str, dt.datetime] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--now",
        default=os.environ.get(ENVIRONMENT_VARIABLE) or None,
        help=f"pin the business clock of every test to this ISO instant (or ${ENVIRONMENT_VARIABLE}); "
        "default: an instant drawn from the commit under test",
    )


def parse_instant(value: str) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(f"--now {value!r} is not an ISO 8601 instant") from None
    if instant.tzinfo is None:
        raise pytest.UsageError(f"--now {value!r} needs an offset, e.g. 2027-12-31T23:50:00+08:00")
    return instant


def commit_under_test() -> tuple[str, dt.datetime] | None:
    """The HEAD commit's id and its commit date, or None outside a git checkout."""
    try:
        shown = subprocess.run(
            ["git", "show", "-s", "--format=%H %cI", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    return shown[0], dt.datetime.fromisoformat(shown[1])


def draw_instant(seed: str, start: dt.date) -> dt.datetime:
    """An instant in the HORIZON_DAYS after `start`, in HOME, biased to awkward ones."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    day = _draw_day(rng, start)
    time_kind = rng.choices(list(TIME_KINDS), weights=list(TIME_KINDS.values()))[0]
    if time_kind == "late_evening":
        minute = rng.randrange(21 * 60, 24 * 60)
    elif time_kind == "early_morning":
        minute = rng.randrange(0, 7 * 60)
    else:
        minute = rng.randrange(0, 24 * 60)
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=HOME)


def _draw_day(rng: random.Random, start: dt.date) -> dt.date:
    end = start + dt.timedelta(days=HORIZON_DAYS)
    kind = rng.choices(list(DAY_KINDS), weights=list(DAY_KINDS.values()))[0]
    day = start + dt.timedelta(days=rng.randrange(HORIZON_DAYS))
    if kind == "weekend":
        day += dt.timedelta(days=(5 - day.weekday()) % 7 + rng.randrange(2))
    elif kind == "month_end":
        first_of_next = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        day = first_of_next - dt.timedelta(days=1 + rng.randrange(2))
    elif kind == "year_end":
        day = dt.date(day.year, 12, 31) + dt.timedelta(days=rng.randrange(-2, 2))
    elif kind == "chinese_new_year":
        near = [d for d in CHINESE_NEW_YEAR.values() if start <= d < end] or [day]
        day = rng.choice(near) + dt.timedelta(days=rng.randrange(-2, 7))
    return min(max(day, start), end)


def suite_instant(config: pytest.Config) -> tuple[dt.datetime, str]:
    """The instant for this run and where it came from."""
    asked = config.getoption("--now")
    if asked:
        return parse_instant(asked), "given"
    commit = commit_under_test()
    if commit is None:  # an exported tree: the same instant all day
        today = dt.datetime.now(HOME).date()
        return draw_instant(f"no commit {today}", today), "no git checkout: drawn from today's date"
    sha, committed = commit
    return draw_instant(sha, committed.astimezone(HOME).date()), f"drawn from commit {sha[:10]}"


def pytest_configure(config: pytest.Config) -> None:
    instant, source = suite_instant(config)
    _pinned["instant"] = instant
    config.stash[_source_key] = source
    # From here on, so module constants, collection and session fixtures see it too.
    time_machine.travel(instant, tick=True).start()


_source_key = pytest.StashKey[str]()


def pytest_report_header(config: pytest.Config) -> str:
    instant = _pinned["instant"]
    return f"now = {instant.isoformat(timespec='minutes')} ({config.stash[_source_key]}; --now to repeat)"


def pinned_instant() -> dt.datetime:
    """The instant every test starts at."""
    return _pinned["instant"]


@pytest.fixture(autouse=True)
def _pin_the_clock() -> Iterator[None]:
    with time_machine.travel(pinned_instant(), tick=True):
        yield


def clock_at(instant: dt.datetime) -> Callable[[], Iterator[None]]:
    """An autouse fixture that moves a module's tests to `instant` (time ticks on from there),
    for a worked example whose written dates make it readable:

        _clock = clock_at(dt.datetime(2026, 3, 25, 9, tzinfo=SHANGHAI))
    """

    @pytest.fixture(autouse=True)
    def _clock_at_instant() -> Iterator[None]:
        with time_machine.travel(instant, tick=True):
            yield

    return _clock_at_instant


def pinned_command(command: list[str]) -> list[str]:
    """`command`, a Python program (`[sys.executable, "manage.py", ...]`, `[sys.executable, "-m",
    "celery", ...]` or a console script of this virtualenv such as gunicorn), run with its clock
    pinned to this test's current instant."""
    from fieldservice import clock

    program = Path(command[0])
    if command[0] == sys.executable:
        rest = command[1:]
    elif program.parent == Path(sys.executable).parent:  # a console script: run its module
        rest = ["-m", program.name, *command[1:]]
    else:
        raise ValueError(f"only Python programs can be pinned, not {command[0]}")
    return [sys.executable, "-m", "tests.pinned_process", clock.now().isoformat(), *rest]


def main() -> None:
    """`python -m tests.clock_pin --draw N`: N instants drawn as the default one is, each from
    the commit under test and its own salt (for `make sweep`)."""
    parser = argparse.ArgumentParser(prog="python -m tests.clock_pin")
    parser.add_argument("--draw", type=int, default=1, help="how many instants (default 1)")
    args = parser.parse_args()
    commit = commit_under_test()
    sha, start = (commit[0], commit[1].astimezone(HOME).date()) if commit else ("no commit", dt.date.today())
    for k in range(args.draw):
        print(draw_instant(f"{sha} sweep {k}", start).isoformat())


if __name__ == "__main__":
    main()
