"""The business clock: the one place every "now" and "today" of the product comes from.

Code asks this module, never `timezone.now()`, `date.today()` or the database's `now()`, so
that the whole product sees one instant and tests can pin it (the test suite freezes Python's
clock with time-machine; see tests/clock_pin.py). Nothing in production moves this clock: it
is the machine's time, in UTC, made aware. `tests/test_clock.py` keeps other "now"s out.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone


def now() -> dt.datetime:
    """This instant, aware (UTC)."""
    return timezone.now()


def today(zone: ZoneInfo | None = None) -> dt.date:
    """Today's date in `zone`, by default the company's home time zone (TIME_ZONE)."""
    return timezone.localdate(now(), zone)


def local_now(zone: ZoneInfo | None = None) -> dt.datetime:
    """This instant in `zone`, by default the company's home time zone."""
    return timezone.localtime(now(), zone)
