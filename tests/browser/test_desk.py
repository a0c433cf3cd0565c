"""A phone call at the service desk: the dispatcher finds the caller's machine by a fragment
of its serial, sees its coverage and SLA, opens a P1, and inserts it urgently on today's board."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from playwright.sync_api import Page, expect

from fieldservice import clock
from scheduling import insertion
from tests.browser.conftest import keep_for_readme, login
from tests.clock_pin import clock_at, pinned_instant
from tickets.creation import work_order_create
from tickets.models import WorkOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PAGE_LOAD_MS = 30_000
SHANGHAI = ZoneInfo("Asia/Shanghai")


def a_working_morning(instant: dt.datetime) -> dt.datetime:
    """The call comes in at 10:30 on a weekday (the suite's own day, or the next weekday):
    urgent insertion places work in what is left of today's shifts, and late at night or on a
    Sunday nothing is left."""
    day = instant.astimezone(SHANGHAI).date()
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(10, 30), SHANGHAI)


_clock = clock_at(a_working_morning(pinned_instant()))


class DryRun(Exception):
    pass


def a_machine_an_urgent_job_fits_today() -> WorkOrder:
    """A job planned for today whose machine a P1 opened now can be inserted for: tried with
    the real services in a transaction that is rolled back. Which machine fits depends on the
    hour and the demo's day; the test is about the desk and the board, not about one of them."""
    dispatcher = User.objects.get(username="dispatcher")
    planned = WorkOrder.objects.filter(
        status__in=("scheduled", "dispatched"), planned_start__date=clock.today(), equipment__isnull=False
    ).select_related("equipment", "site")
    for known in planned.order_by("-planned_start", "pk")[:20]:
        try:
            with transaction.atomic():
                trial = work_order_create(
                    site=known.site,
                    equipment=known.equipment,
                    kind="emergency",
                    priority=1,
                    title="trial",
                    by=None,
                )
                placed = insertion.schedule_insert(work_order=trial, by=dispatcher)["placed"]
                raise DryRun
        except DryRun:
            if placed:
                return known
    raise AssertionError("no machine of today's plan takes an urgent job now")


def test_a_phone_call_becomes_an_urgent_job_on_todays_board(
    page: Page, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    known = a_machine_an_urgent_job_fits_today()
    serial = known.equipment.serial_number  # type: ignore[union-attr]
    login(page, live_server, "dispatcher")
    page.get_by_role("link", name="New work order").click()
    page.wait_for_load_state("load")  # htmx (a deferred script) answers the typing from here
    page.get_by_label("Account, site, contact, phone, serial number or asset tag").fill(serial[-8:])
    result = page.locator("#desk-results a", has_text=serial)
    expect(result.first).to_be_visible()  # answered as typed, without submitting
    result.first.click()
    expect(page.get_by_role("heading", level=2).first).to_contain_text(serial)
    expect(page.locator(".desk-facts")).to_contain_text("Response due")
    expect(page.locator(".likely-duplicate").first).to_contain_text(known.number)
    page.get_by_label("Kind").select_option("emergency")
    page.get_by_label("Priority").select_option("1")
    page.get_by_label("What is wrong").fill("Line stopped: compressor tripped")
    shot = screenshot_dir / "desk.png"
    page.screenshot(path=str(shot), full_page=True)
    keep_for_readme(shot, "desk.png")
    page.get_by_role("button", name="Open work order").click()

    created = WorkOrder.objects.get(title="Line stopped: compressor tripped")
    assert (created.priority, created.status, created.equipment_id) == (1, "new", known.equipment_id)
    page.get_by_role("button", name=f"Insert {created.number} as urgent").click()
    expect(page.locator(".messages")).to_contain_text(f"{created.number} inserted", timeout=PAGE_LOAD_MS)
    created.refresh_from_db()
    assert created.status == "scheduled" and created.planned_start.date() == clock.today()  # type: ignore[union-attr]
