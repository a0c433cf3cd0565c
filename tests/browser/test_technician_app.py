"""The technician app (/app/) on a phone-sized screen against the live small demo: a whole
job done with no signal, reloaded while still offline, then synced exactly once; and a
dispatcher's reassignment during the offline spell shown as a conflict, not overwritten."""

from __future__ import annotations

import functools
import io
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, ViewportSize, expect

from tests.browser.conftest import keep_for_readme
from tickets import services
from tickets.models import ServiceReport, WorkOrder, WorkOrderEvent

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE: ViewportSize = {"width": 360, "height": 740}


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
        timezone_id=settings.TIME_ZONE,
        service_workers="allow",
    )
    yield context
    context.close()


def open_app(context: BrowserContext, live_server: Any, username: str) -> Page:
    """Log in, and wait until the service worker controls the page (the shell is cached)."""
    page = context.new_page()
    page.goto(f"{live_server.url}/app/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".job-card").first).to_be_visible()
    page.wait_for_function("navigator.serviceWorker.controller?.state === 'activated'")
    return page


def todays_jobs(username: str) -> list[WorkOrder]:
    today = timezone.localdate()
    return list(
        WorkOrder.objects.filter(
            assigned_technician__username=username, planned_start__date=today, status="dispatched"
        ).order_by("planned_start", "pk")
    )


@functools.cache
def camera_picture() -> bytes:
    """A big, detailed picture, as a phone camera takes: the app must shrink it before queuing."""
    rng = random.Random(7)
    picture = Image.new("RGB", (2400, 1800))
    picture.putdata([(rng.randrange(256), rng.randrange(256), 90) for _ in range(2400 * 1800)])
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def waiting(page: Page, actions: int) -> None:
    """The sync indicator counts the queued actions (and the screen has redrawn)."""
    expect(page.locator("#sync-status")).to_have_text(f"Offline · {actions} waiting")


def test_a_whole_job_done_offline_reaches_the_server_exactly_once(
    phone: BrowserContext, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    jobs = todays_jobs("tech01")
    job = next(j for j in jobs if j.checklist.exists())
    page = open_app(phone, live_server, "tech01")
    planned_today = WorkOrder.objects.filter(
        assigned_technician__username="tech01", planned_start__date=timezone.localdate()
    ).order_by("planned_start", "pk")
    shown = page.locator('section[aria-label="Today"] .job-card')
    expect(shown.first).to_be_visible()
    assert [shown.nth(i).get_attribute("data-job") for i in range(shown.count())] == [
        j.number for j in planned_today
    ]
    page.screenshot(path=str(screenshot_dir / "app-today.png"))
    keep_for_readme(screenshot_dir / "app-today.png", "app-today.png")

    phone.set_offline(True)
    page.locator(f'.job-card[data-job="{job.number}"]').click()
    page.get_by_role("button", name="Start driving").click()
    expect(page.get_by_test_id("job-status")).to_have_text("En route")
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_test_id("job-status")).to_have_text("On site")
    waiting(page, 2)

    for item in job.checklist.order_by("position"):
        row = page.locator(f'fieldset[data-position="{item.position}"]')
        if item.kind == "pass_fail":
            row.get_by_text("Pass", exact=True).click()
        elif item.kind == "value":
            row.locator("input").fill("7.5")
        else:
            row.locator("textarea").fill("All good")
    page.get_by_role("button", name="Save checklist").click()
    waiting(page, 3)

    page.get_by_label("Part number").fill("FLT-100")
    page.get_by_label("Description").fill("Oil filter")
    page.get_by_role("button", name="Add part").click()
    expect(page.locator("ul.parts")).to_contain_text("FLT-100")
    waiting(page, 4)

    page.get_by_label("Caption").fill("Seal after cleaning")
    page.locator("#photo-file").set_input_files(
        files=FilePayload(name="seal.png", mimeType="image/png", buffer=camera_picture())
    )
    expect(page.locator("ul.photos")).to_contain_text("Seal after cleaning")
    waiting(page, 5)

    pad = page.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 22, box["y"] + 100 - (step % 3) * 25)
    page.mouse.up()
    page.get_by_label("Name of the person signing").fill("Wang Fang")
    page.get_by_role("button", name="Save signature").click()
    expect(page.locator(".signed")).to_contain_text("Wang Fang")
    waiting(page, 6)

    page.get_by_label("What was done").fill("Serviced per checklist, filter replaced.")
    page.get_by_role("button", name="Complete job").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Completed")
    waiting(page, 7)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "app-job-offline.png"))
    keep_for_readme(screenshot_dir / "app-job-offline.png", "app-job-offline.png")
    assert not WorkOrderEvent.objects.filter(work_order=job, by__username="tech01").exists()

    # Reloaded with no signal: the shell comes from the worker, the work from IndexedDB.
    page.reload()
    expect(page.get_by_test_id("job-status")).to_have_text("Completed")
    waiting(page, 7)

    phone.set_offline(False)
    expect(page.locator("#sync-status")).to_contain_text("Synced", timeout=20_000)
    job.refresh_from_db()
    assert job.status == WorkOrder.Status.COMPLETED
    assert job.resolution == "Serviced per checklist, filter replaced."
    moves = list(
        WorkOrderEvent.objects.filter(work_order=job, type="status_changed", by__username="tech01")
        .order_by("at", "pk")
        .values_list("to_status", flat=True)
    )
    assert moves == ["en_route", "on_site", "in_progress", "completed"]
    assert job.parts.filter(part_number="FLT-100").count() == 1
    assert job.signature.signer_name == "Wang Fang"
    assert not job.checklist.filter(required=True, result="", value__isnull=True, text="").exists()
    photo = job.attachments.get()
    assert photo.caption == "Seal after cleaning"
    assert photo.content_type == "image/jpeg" and photo.size_bytes < len(camera_picture())
    assert ServiceReport.objects.filter(work_order=job).count() == 1
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0")


def test_a_reassignment_while_offline_is_shown_as_a_conflict(
    phone: BrowserContext, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    job = todays_jobs("tech01")[0]
    page = open_app(phone, live_server, "tech01")
    page.locator(f'.job-card[data-job="{job.number}"]').click()

    phone.set_offline(True)
    dispatcher = User.objects.get(username="dispatcher")
    other = User.objects.get(username="tech02")
    assert job.planned_start is not None and job.planned_end is not None
    services.work_order_schedule(
        work_order=job,
        technician=other,
        planned_start=job.planned_start,
        planned_end=job.planned_end,
        by=dispatcher,
        version=job.version,
        reason="customer asked for tech02",
    )
    page.get_by_role("button", name="Start driving").click()
    waiting(page, 1)

    phone.set_offline(False)
    problem = page.locator('.problem[data-code="reassigned"]')
    expect(problem).to_be_visible(timeout=20_000)
    expect(problem).to_contain_text("Changed by the office while you were offline")
    expect(problem).to_contain_text(f"{job.number} was reassigned")
    expect(page.locator("#sync-status")).to_contain_text("1 to resolve")
    page.screenshot(path=str(screenshot_dir / "app-conflict.png"))
    keep_for_readme(screenshot_dir / "app-conflict.png", "app-conflict.png")
    job.refresh_from_db()
    assert job.assigned_technician == other
    assert job.status == WorkOrder.Status.SCHEDULED
    assert not WorkOrderEvent.objects.filter(work_order=job, by__username="tech01").exists()

    page.get_by_role("button", name="OK, remove it from my list").click()
    expect(page.locator(f'.job-card[data-job="{job.number}"]')).to_have_count(0)
    expect(page.locator("#sync-status")).to_contain_text("Synced")


def test_the_app_speaks_chinese_on_a_chinese_phone(
    browser: Browser, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id=settings.TIME_ZONE, service_workers="allow"
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/app/")
    expect(page.get_by_role("heading", name="技术员登录")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_label("用户名").fill("tech01")
    page.get_by_label("密码").fill("demo")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("今日")
    expect(page.locator("#sync-status")).to_contain_text("已同步")
    page.screenshot(path=str(screenshot_dir / "app-today-zh.png"))
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Today")
    context.close()
