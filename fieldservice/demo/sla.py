"""SLA terms offered in the demo contracts and a simple SLA clock.

The business-hours clock counts hours between SLA_BUSINESS_DAY_START and
SLA_BUSINESS_DAY_END, Monday to Friday, in the site's time zone (holidays ignored);
tickets.sla_clocks owns the exact calendars, this is only good enough for history.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.conf import settings

from fieldservice.demo.context import TZ

# {priority: (response hours, resolution hours)}
BUSINESS_HOURS_TERMS: dict[int, tuple[Decimal, Decimal]] = {
    1: (Decimal(4), Decimal(24)),
    2: (Decimal(8), Decimal(48)),
    3: (Decimal(24), Decimal(120)),
    4: (Decimal(72), Decimal(240)),
}
ROUND_THE_CLOCK_TERMS: dict[int, tuple[Decimal, Decimal]] = {
    1: (Decimal(2), Decimal(8)),
    2: (Decimal(4), Decimal(24)),
    3: (Decimal(12), Decimal(72)),
    4: (Decimal(48), Decimal(168)),
}
DEFAULT_TERMS: dict[int, tuple[Decimal, Decimal]] = {
    priority: (Decimal(response), Decimal(resolution))
    for priority, (response, resolution) in settings.DEFAULT_SLA_HOURS.items()
}
FRIDAY = 4


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


DAY_START = _clock(settings.SLA_BUSINESS_DAY_START)
DAY_END = _clock(settings.SLA_BUSINESS_DAY_END)


def add_business_hours(start: datetime, hours: float) -> datetime:
    remaining = timedelta(hours=hours)
    moment = start.astimezone(TZ)
    while True:
        day = moment.date()
        opens = datetime.combine(day, DAY_START, TZ)
        closes = datetime.combine(day, DAY_END, TZ)
        if day.weekday() > FRIDAY or moment >= closes:
            moment = datetime.combine(day + timedelta(days=1), DAY_START, TZ)
            continue
        moment = max(moment, opens)
        available = closes - moment
        if remaining <= available:
            return moment + remaining
        remaining -= available
        moment = datetime.combine(day + timedelta(days=1), DAY_START, TZ)


def due(start: datetime, hours: Decimal, calendar: str) -> datetime:
    if calendar == "24x7":
        return start + timedelta(hours=float(hours))
    return add_business_hours(start, float(hours))
