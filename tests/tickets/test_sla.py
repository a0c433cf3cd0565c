"""tickets/sla.py: working-time arithmetic in a 24x7 and a business-hours calendar.

Pure functions, no database. Calendars are built explicitly (08:00–18:00, Monday to Friday)
so every expected time below can be checked by hand; one test pins `for_site` to settings.
Nothing here reads the clock: the dates of March 2026 are plain data, so no clock is pinned.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pytest_django.fixtures import Settings

from tickets import sla
from tickets.sla import Calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC

OFFICE = Calendar(kind=sla.BUSINESS_HOURS, zone=SHANGHAI, day_start=dt.time(8), day_end=dt.time(18))
ALWAYS = Calendar(kind=sla.ALWAYS, zone=SHANGHAI, day_start=dt.time(8), day_end=dt.time(18))
BERLIN_OFFICE = Calendar(kind=sla.BUSINESS_HOURS, zone=BERLIN, day_start=dt.time(8), day_end=dt.time(18))
BERLIN_ALWAYS = Calendar(kind=sla.ALWAYS, zone=BERLIN, day_start=dt.time(8), day_end=dt.time(18))


def shanghai(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in March 2026 in Shanghai: 2 March is a Monday, 6 March a Friday."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


# --- for_site ---------------------------------------------------------------------------------


def test_for_site_takes_business_hours_from_settings_and_zone_from_the_site(
    settings: Settings,
) -> None:
    settings.SLA_BUSINESS_DAY_START = "07:30"
    settings.SLA_BUSINESS_DAY_END = "16:00"

    calendar = Calendar.for_site(kind=sla.BUSINESS_HOURS, time_zone="America/Chicago")

    assert calendar == Calendar(
        kind=sla.BUSINESS_HOURS,
        zone=ZoneInfo("America/Chicago"),
        day_start=dt.time(7, 30),
        day_end=dt.time(16),
    )


# --- add: 24x7 --------------------------------------------------------------------------------


def test_24x7_add_is_plain_elapsed_time_across_midnight_and_weekend() -> None:
    assert ALWAYS.add(shanghai(2, 23), 120) == shanghai(3, 1)
    # Friday 16:00 + 24 h: the weekend counts like any other day.
    assert ALWAYS.add(shanghai(6, 16), 24 * 60) == shanghai(7, 16)
    assert ALWAYS.add(shanghai(6, 16), 0) == shanghai(6, 16)


def test_24x7_add_counts_real_hours_across_a_dst_change() -> None:
    # Clocks in Berlin go forward on Sunday 29 March 2026 at 02:00: 24 real hours after
    # Saturday 12:00 CET is Sunday 13:00 CEST, not Sunday 12:00 (which is only 23 h later).
    start = dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)

    due = BERLIN_ALWAYS.add(start, 24 * 60)

    assert due.astimezone(UTC) == dt.datetime(2026, 3, 29, 11, 0, tzinfo=UTC)
    assert due == dt.datetime(2026, 3, 29, 13, 0, tzinfo=BERLIN)


# --- add: business hours ----------------------------------------------------------------------


def test_business_add_within_one_day() -> None:
    assert OFFICE.add(shanghai(2, 9), 90) == shanghai(2, 10, 30)


def test_business_add_exact_boundaries() -> None:
    # A whole working day from the opening ends exactly at the close, not next morning.
    assert OFFICE.add(shanghai(2, 8), 10 * 60) == shanghai(2, 18)
    assert OFFICE.add(shanghai(2, 16), 120) == shanghai(2, 18)
    # One minute past the close carries into the next opening.
    assert OFFICE.add(shanghai(2, 16), 121) == shanghai(3, 8, 1)
    assert OFFICE.add(shanghai(2, 18), 1) == shanghai(3, 8, 1)


def test_business_add_carries_across_midnight_into_the_next_morning() -> None:
    assert OFFICE.add(shanghai(2, 17), 120) == shanghai(3, 9)


def test_business_add_starting_before_opening_starts_the_clock_at_opening() -> None:
    assert OFFICE.add(shanghai(2, 6, 30), 60) == shanghai(2, 9)
    assert OFFICE.add(shanghai(2, 0, 0), 60) == shanghai(2, 9)


def test_business_add_starting_after_close_starts_next_working_morning() -> None:
    assert OFFICE.add(shanghai(2, 20), 60) == shanghai(3, 9)
    # After Friday's close the next working morning is Monday.
    assert OFFICE.add(shanghai(6, 19), 60) == shanghai(9, 9)


def test_business_add_skips_the_weekend() -> None:
    # Friday 16:00 + 8 h: 2 h on Friday, nothing on Saturday or Sunday, 6 h on Monday.
    assert OFFICE.add(shanghai(6, 16), 8 * 60) == shanghai(9, 14)
    # Starting on Saturday: the clock starts Monday 08:00.
    assert OFFICE.add(shanghai(7, 12), 60) == shanghai(9, 9)
    assert OFFICE.add(shanghai(8, 23, 59), 60) == shanghai(9, 9)


def test_business_add_spans_several_weeks() -> None:
    # 120 working hours from Monday 09:00: 9 h Monday, 4 × 10 h, a weekend, 5 × 10 h,
    # 10 h + 10 h, then 1 h on Wednesday 18 March.
    assert OFFICE.add(shanghai(2, 9), 120 * 60) == shanghai(18, 9)


def test_business_add_is_done_in_the_calendar_zone_whatever_the_input_zone() -> None:
    # Friday 16:00 Shanghai given as 08:00 UTC: same answer, returned as an aware moment.
    due = OFFICE.add(dt.datetime(2026, 3, 6, 8, 0, tzinfo=UTC), 8 * 60)
    assert due == shanghai(9, 14)
    assert due.utcoffset() is not None


def test_business_add_across_a_dst_weekend_keeps_local_business_hours() -> None:
    # Berlin moves to summer time on Sunday 29 March 2026; Monday still opens at 08:00 local.
    start = dt.datetime(2026, 3, 27, 17, 0, tzinfo=BERLIN)  # Friday, CET (UTC+1)
    due = BERLIN_OFFICE.add(start, 120)
    assert due == dt.datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)
    assert due.astimezone(UTC) == dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)  # CEST (UTC+2)


def test_due_after_takes_hours_as_decimal() -> None:
    assert sla.due_after(OFFICE, shanghai(2, 9), Decimal("1.50")) == shanghai(2, 10, 30)
    assert sla.due_after(ALWAYS, shanghai(2, 9), 24) == shanghai(3, 9)


# --- minutes_between --------------------------------------------------------------------------


def test_24x7_minutes_between_is_elapsed_minutes() -> None:
    assert ALWAYS.minutes_between(shanghai(2, 23), shanghai(3, 1)) == 120
    assert ALWAYS.minutes_between(shanghai(6, 18), shanghai(9, 8)) == 62 * 60


def test_24x7_minutes_between_counts_real_minutes_across_a_dst_change() -> None:
    # Saturday 12:00 CET to Sunday 12:00 CEST is 23 real hours.
    start = dt.datetime(2026, 3, 28, 12, 0, tzinfo=BERLIN)
    end = dt.datetime(2026, 3, 29, 12, 0, tzinfo=BERLIN)
    assert BERLIN_ALWAYS.minutes_between(start, end) == 23 * 60


@pytest.mark.parametrize("calendar", [ALWAYS, OFFICE], ids=["24x7", "business"])
def test_minutes_between_is_zero_when_end_is_not_after_start(calendar: Calendar) -> None:
    assert calendar.minutes_between(shanghai(2, 10), shanghai(2, 10)) == 0
    assert calendar.minutes_between(shanghai(2, 11), shanghai(2, 10)) == 0


def test_business_minutes_between_within_a_day() -> None:
    assert OFFICE.minutes_between(shanghai(2, 9), shanghai(2, 10, 30)) == 90


def test_business_minutes_between_ignores_time_outside_hours() -> None:
    assert OFFICE.minutes_between(shanghai(2, 6), shanghai(2, 9)) == 60
    assert OFFICE.minutes_between(shanghai(2, 17), shanghai(2, 22)) == 60
    assert OFFICE.minutes_between(shanghai(2, 19), shanghai(3, 7)) == 0
    # Across midnight: 1 h Monday evening, 1 h Tuesday morning.
    assert OFFICE.minutes_between(shanghai(2, 17), shanghai(3, 9)) == 120


def test_business_minutes_between_exact_boundaries() -> None:
    assert OFFICE.minutes_between(shanghai(2, 8), shanghai(2, 18)) == 600
    assert OFFICE.minutes_between(shanghai(2, 18), shanghai(3, 8)) == 0


def test_business_minutes_between_skips_the_weekend() -> None:
    # Friday 17:00 to Monday 09:00: 1 h + 1 h.
    assert OFFICE.minutes_between(shanghai(6, 17), shanghai(9, 9)) == 120
    assert OFFICE.minutes_between(shanghai(7, 0), shanghai(9, 0)) == 0
    # A whole week, Monday midnight to Monday midnight: five 10-hour days.
    assert OFFICE.minutes_between(shanghai(2, 0), shanghai(9, 0)) == 5 * 600


def test_business_minutes_between_across_a_dst_weekend() -> None:
    start = dt.datetime(2026, 3, 27, 17, 0, tzinfo=BERLIN)
    end = dt.datetime(2026, 3, 30, 9, 0, tzinfo=BERLIN)
    assert BERLIN_OFFICE.minutes_between(start, end) == 120
    # Same moments expressed in UTC give the same working time.
    assert BERLIN_OFFICE.minutes_between(start.astimezone(UTC), end.astimezone(UTC)) == 120


@pytest.mark.parametrize(
    ("start", "minutes"),
    [
        (shanghai(2, 9), 45),
        (shanghai(2, 17, 30), 90),
        (shanghai(6, 16), 8 * 60),
        (shanghai(4, 12), 48 * 60),
    ],
)
def test_business_add_and_minutes_between_agree(start: dt.datetime, minutes: int) -> None:
    assert OFFICE.minutes_between(start, OFFICE.add(start, minutes)) == minutes
