"""SLA clock arithmetic: adding working time in a 24x7 or business-hours calendar.

Business hours are counted in the site's time zone, Monday to Friday, between
settings.SLA_BUSINESS_DAY_START and SLA_BUSINESS_DAY_END. All datetimes are aware;
results are returned in UTC-independent aware form (the input's zone arithmetic is done
in the site's zone, so daylight-saving changes are handled by zoneinfo).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

ALWAYS = "24x7"
BUSINESS_HOURS = "business_hours"
WORKING_WEEKDAYS = frozenset({0, 1, 2, 3, 4})
MINUTES_PER_HOUR = 60


@dataclass(frozen=True)
class Calendar:
    kind: str
    zone: ZoneInfo
    day_start: dt.time
    day_end: dt.time

    @classmethod
    def for_site(cls, *, kind: str, time_zone: str) -> Calendar:
        return cls(
            kind=kind,
            zone=ZoneInfo(time_zone),
            day_start=dt.time.fromisoformat(settings.SLA_BUSINESS_DAY_START),
            day_end=dt.time.fromisoformat(settings.SLA_BUSINESS_DAY_END),
        )

    def _working_span(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        if day.weekday() not in WORKING_WEEKDAYS:
            return None
        return (
            dt.datetime.combine(day, self.day_start, tzinfo=self.zone),
            dt.datetime.combine(day, self.day_end, tzinfo=self.zone),
        )

    def add(self, start: dt.datetime, minutes: float) -> dt.datetime:
        """The moment `minutes` of working time after `start`."""
        if self.kind == ALWAYS:
            # In UTC: wall-clock arithmetic in a zone would gain or lose an hour across DST.
            return (start.astimezone(dt.UTC) + dt.timedelta(minutes=minutes)).astimezone(self.zone)
        remaining = dt.timedelta(minutes=minutes)
        cursor = start.astimezone(self.zone)
        day = cursor.date()
        while True:
            span = self._working_span(day)
            if span is not None:
                opens, closes = span
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            day += dt.timedelta(days=1)
            cursor = dt.datetime.combine(day, dt.time.min, tzinfo=self.zone)

    def minutes_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working minutes from `start` to `end` (0 if end is not after start)."""
        if end <= start:
            return 0.0
        if self.kind == ALWAYS:
            return (end.astimezone(dt.UTC) - start.astimezone(dt.UTC)).total_seconds() / 60
        total = dt.timedelta()
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            span = self._working_span(day)
            if span is not None:
                begin, finish = max(start, span[0]), min(end, span[1])
                if finish > begin:
                    total += finish - begin
            day += dt.timedelta(days=1)
        return total.total_seconds() / 60


def due_after(calendar: Calendar, start: dt.datetime, hours: Decimal | float) -> dt.datetime:
    return calendar.add(start, float(hours) * MINUTES_PER_HOUR)
