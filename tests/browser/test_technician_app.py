"""The technician app (/app/) on a phone-sized screen against the live small demo: a whole
job done with no signal, reloaded while still offline, then synced exactly once; a
dispatcher's reassignment during the offline spell shown as a conflict, not overwritten; a
meter reading refused on the phone or by the server without holding the rest of the job back;
and a completion the server refused never shown as done."""

from __future__ import annotations

import datetime as dt
import functools
import io
import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import OperationalError
from django.templatetags.static import static
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, FilePayload, Page, ViewportSize, expect

from assets.models import Equipment, MeterReading
from fieldservice import clock
from tests.browser.conftest import keep_for_readme, pin_browser_clock
from tickets import creation, lifecycle
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
    pin_browser_clock(context)
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
    # A function, not an expression: Playwright evals the text once, while it evaluates (the
    # policy lets it), and polls the function it got; an expression it would eval at every poll,
    # which the page's Content-Security-Policy refuses once the first check has failed.
    page.wait_for_function("() => navigator.serviceWorker.controller?.state === 'activated'")
    return page


CHECKLIST: list[dict[str, Any]] = [
    {"label": "Belt tension", "kind": "pass_fail"},
    {"label": "Discharge pressure", "kind": "value", "unit": "bar"},
    {"label": "Remarks", "kind": "text", "required": False},
]


def urgent_call(*, about_the_unit: bool = True, checklist: list[dict[str, Any]] = CHECKLIST) -> WorkOrder:
    """What a dispatcher does with an urgent call: open a job, plan it for tech01 from now and
    dispatch it. About a unit with an operating-hours meter, or (`about_the_unit=False`) a
    visit to its site about no unit in particular, which no contract asks a signature for."""
    dispatcher = User.objects.get(username="dispatcher")
    unit = (
        Equipment.objects.exclude(status=Equipment.Status.DECOMMISSIONED)
        .filter(meter_readings__kind=MeterReading.Kind.OPERATING_HOURS)
        .select_related("site")
        .order_by("pk")
        .first()
    )
    assert unit is not None, "the demo has metered equipment"
    start = clock.now().replace(second=0, microsecond=0)
    job = creation.work_order_create(
        site=unit.site,
        equipment=unit if about_the_unit else None,
        kind="corrective",
        title="Urgent: unit stopped",
        by=dispatcher,
        checklist=checklist,
    )
    job = lifecycle.work_order_schedule(
        work_order=job,
        technician=User.objects.get(username="tech01"),
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        by=dispatcher,
        version=job.version,
    )
    return lifecycle.work_order_dispatch(work_order=job, by=dispatcher, version=job.version)


@pytest.fixture
def dispatched_job(demo: None) -> WorkOrder:
    """A job of tech01's planned today, dispatched, with equipment and a checklist. The demo has
    one only at some hours (its jobs are dispatched at 07:00 and done by the evening, and a day
    off has none): at other instants a dispatcher gives tech01 one, as for an urgent call."""
    demo_job = (
        WorkOrder.objects.filter(
            assigned_technician__username="tech01",
            planned_start__date=clock.today(),
            status=WorkOrder.Status.DISPATCHED,
            equipment__isnull=False,
            checklist__isnull=False,
        )
        .distinct()
        .order_by("planned_start", "pk")
        .first()
    )
    return demo_job or urgent_call()


def last_hours_reading(job: WorkOrder) -> MeterReading:
    reading = (
        MeterReading.objects.filter(equipment=job.equipment, kind=MeterReading.Kind.OPERATING_HOURS)
        .order_by("-read_at")
        .first()
    )
    assert reading is not None
    return reading


def shown_number(value: Decimal) -> str:
    """A number as the app shows it in English: grouped, at most two decimals."""
    return f"{value:,.2f}".rstrip("0").rstrip(".")


@functools.cache
def camera_picture() -> bytes:
    """A big, detailed picture, as a phone camera takes: the app must shrink it before queuing."""
    rng = random.Random(7)
    picture = Image.new("RGB", (2400, 1800))
    picture.putdata([(rng.randrange(256), rng.randrange(256), 90) for _ in range(2400 * 1800)])
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def app_module(name: str) -> str:
    """An expression (in an async function) for the exports of the app's ES module `name`: the
    very instance the page runs, as the browser keeps one module per URL."""
    return f"(await import({static(f'mobile_api/{name}')!r}))"


def waiting(page: Page, actions: int) -> None:
    """The sync indicator counts the queued actions (and the screen has redrawn)."""
    expect(page.locator("#sync-status")).to_have_text(f"Offline · {actions} waiting")


def sign(page: Page, signer: str) -> None:
    pad = page.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 22, box["y"] + 100 - (step % 3) * 25)
    page.mouse.up()
    page.get_by_label("Name of the person signing").fill(signer)
    page.get_by_role("button", name="Save signature").click()
    expect(page.locator(".signed")).to_contain_text(signer)


def answer_checklist(page: Page, job: WorkOrder) -> None:
    for item in job.checklist.order_by("position"):
        row = page.locator(f'fieldset[data-position="{item.position}"]')
        if item.kind == "pass_fail":
            row.get_by_text("Pass", exact=True).click()
        elif item.kind == "value":
            row.locator("input").fill("7.5")
        else:
            row.locator("textarea").fill("All good")
    page.get_by_role("button", name="Save checklist").click()


def test_a_whole_job_done_offline_reaches_the_server_exactly_once(
    phone: BrowserContext, live_server: Any, dispatched_job: WorkOrder, screenshot_dir: Path
) -> None:
    job = dispatched_job
    page = open_app(phone, live_server, "tech01")
    planned_today = WorkOrder.objects.filter(
        assigned_technician__username="tech01", planned_start__date=clock.today()
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
    expect(page.get_by_test_id("job-status")).to_have_text("En route — waiting to send")
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_test_id("job-status")).to_have_text("On site — waiting to send")
    waiting(page, 2)

    answer_checklist(page, job)
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

    sign(page, "Wang Fang")
    waiting(page, 6)

    page.get_by_label("What was done").fill("Serviced per checklist, filter replaced.")
    page.get_by_role("button", name="Complete job").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Completed — waiting to send")
    waiting(page, 7)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "app-job-offline.png"))
    keep_for_readme(screenshot_dir / "app-job-offline.png", "app-job-offline.png")
    assert not WorkOrderEvent.objects.filter(work_order=job, by__username="tech01").exists()

    # Reloaded with no signal: the shell comes from the worker, the work from IndexedDB.
    page.reload()
    expect(page.get_by_test_id("job-status")).to_have_text("Completed — waiting to send")
    waiting(page, 7)

    phone.set_offline(False)
    expect(page.locator("#sync-status")).to_contain_text("Synced", timeout=20_000)
    expect(page.get_by_test_id("job-status")).to_have_text("Completed")
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
    phone: BrowserContext, live_server: Any, dispatched_job: WorkOrder, screenshot_dir: Path
) -> None:
    job = dispatched_job
    page = open_app(phone, live_server, "tech01")
    page.locator(f'.job-card[data-job="{job.number}"]').click()

    phone.set_offline(True)
    dispatcher = User.objects.get(username="dispatcher")
    other = User.objects.get(username="tech02")
    assert job.planned_start is not None and job.planned_end is not None
    lifecycle.work_order_schedule(
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


def test_a_meter_reading_refused_holds_back_neither_the_signature_nor_the_completion(
    phone: BrowserContext, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    job = urgent_call()
    last = last_hours_reading(job)
    assert last.value > 10
    page = open_app(phone, live_server, "tech01")
    phone.set_offline(True)
    page.locator(f'.job-card[data-job="{job.number}"]').click()
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_test_id("job-status")).to_have_text("On site — waiting to send")
    waiting(page, 1)

    # The last reading stands beside the field; a lower one is refused on the phone.
    expect(page.locator("#meter-last")).to_contain_text(f"Last reading: {shown_number(last.value)} on ")
    page.locator("#meter-value").fill(str(last.value - 10))
    page.get_by_role("button", name="Save reading").click()
    refusal = page.locator('section[aria-label="Meter reading"] .error')
    expect(refusal).to_contain_text(f"Lower than the last reading ({shown_number(last.value)} on ")
    page.locator("#meter-value").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "app-meter-too-low.png"))
    waiting(page, 1)

    # A higher one queues; a reading that reached the server meanwhile will make it refuse it.
    reading = last.value + 10
    page.locator("#meter-value").fill(str(reading))
    page.get_by_role("button", name="Save reading").click()
    waiting(page, 2)
    expect(page.locator("#meter-last")).to_contain_text(f"{shown_number(reading)} on ")
    expect(page.locator("#meter-last")).to_contain_text("waiting to send")
    answer_checklist(page, job)
    waiting(page, 3)
    sign(page, "Li Na")
    waiting(page, 4)
    page.get_by_label("What was done").fill("Reset the overload relay.")
    page.get_by_role("button", name="Complete job").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Completed — waiting to send")
    waiting(page, 5)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "app-completed-waiting.png"))

    store = app_module("store.js")
    read_on_the_phone = dt.datetime.fromisoformat(
        page.evaluate(f"async () => (await {store}.all('outbox')).find((e) => e.kind === 'meter').body.at")
    )
    assert job.equipment is not None
    telemetry = MeterReading.objects.create(
        equipment=job.equipment,
        kind=MeterReading.Kind.OPERATING_HOURS,
        value=reading + 40,
        read_at=read_on_the_phone - dt.timedelta(minutes=1),
        source=MeterReading.Source.TELEMETRY,
    )

    phone.set_offline(False)
    problem = page.locator('.problem[data-kind="meter"]')
    expect(problem).to_be_visible(timeout=20_000)
    expect(problem).to_have_attribute("data-code", "meter_went_down")
    expect(problem).to_contain_text(f"Lower than the last reading ({shown_number(telemetry.value)} on ")
    expect(problem.locator(".held")).to_have_count(0)
    expect(page.get_by_test_id("job-status")).to_have_text("Completed")
    expect(page.locator("#sync-status")).to_have_text("1 to resolve")
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "app-meter-refused.png"))
    job.refresh_from_db()
    assert job.status == WorkOrder.Status.COMPLETED
    assert job.resolution == "Reset the overload relay."
    assert job.signature.signer_name == "Li Na"
    assert not job.checklist.filter(required=True, result="", value__isnull=True, text="").exists()
    assert not MeterReading.objects.filter(equipment=job.equipment, value=reading).exists()

    page.get_by_role("button", name="Dismiss and fix").click()
    expect(page.locator(".problem")).to_have_count(0)
    expect(page.locator("#sync-status")).to_contain_text("Synced")


def test_a_completion_the_server_refused_is_never_shown_as_done(
    phone: BrowserContext, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    job = urgent_call(about_the_unit=False, checklist=[])
    page = open_app(phone, live_server, "tech01")
    page.locator(f'.job-card[data-job="{job.number}"]').click()
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_test_id("job-status")).to_have_text("On site")
    expect(page.locator("#sync-status")).to_have_attribute("data-pending", "0")

    phone.set_offline(True)
    page.get_by_label("What was done").fill("Checked the plant room.")
    page.get_by_role("button", name="Complete job").click()
    expect(page.get_by_test_id("job-status")).to_have_text("Completed — waiting to send")
    waiting(page, 1)
    job.refresh_from_db()
    lifecycle.work_order_cancel(
        work_order=job,
        by=User.objects.get(username="dispatcher"),
        version=job.version,
        reason="customer fixed it themselves",
    )

    phone.set_offline(False)
    problem = page.locator('.problem[data-kind="event"]')
    expect(problem).to_be_visible(timeout=20_000)
    expect(problem).to_contain_text(f"{job.number} · Complete")
    expect(problem).to_contain_text("The job is now: Cancelled")
    expect(page.get_by_test_id("job-status")).to_have_text("Cancelled")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshot_dir / "app-completion-refused.png"))
    page.get_by_role("link", name="‹ Today").click()
    card = page.locator(f'.job-card[data-job="{job.number}"]')
    expect(card.locator(".status")).to_have_text("Cancelled")
    expect(card).to_contain_text("1 not accepted")
    job.refresh_from_db()
    assert job.status == WorkOrder.Status.CANCELLED


def test_the_app_speaks_chinese_on_a_chinese_phone(
    browser: Browser, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    context = browser.new_context(
        viewport=PHONE, locale="zh-CN", timezone_id=settings.TIME_ZONE, service_workers="allow"
    )
    pin_browser_clock(context)
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
    # Logged out, the sync indicator goes with the session (it once stayed, showing "Synced").
    page.locator("#sync-status").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Technician login")).to_be_visible()
    expect(page.locator("#sync-status")).to_be_hidden()
    context.close()


@functools.cache
def small_picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), "steelblue").save(out, format="PNG")
    return out.getvalue()


def outbox(page: Page) -> list[list[str]]:
    store = app_module("store.js")
    return page.evaluate(f"async () => (await {store}.all('outbox')).map((e) => [e.kind, e.state])")


def drain_passes(page: Page, passes: int) -> None:
    """What the retry timer does, without waiting for its backoff: passes over the queue."""
    for _ in range(passes):
        page.evaluate(f"async () => {app_module('outbox.js')}.drain()")


def test_an_action_the_server_keeps_failing_on_is_set_aside_and_the_queue_goes_on(
    phone: BrowserContext, live_server: Any, dispatched_job: WorkOrder, screenshot_dir: Path
) -> None:
    """A caption over 200 characters answered 500, and the app retried it forever, stopped at
    it: nothing after it reached the server. Now a 5xx on one action while the server takes the
    others sets it aside after a few tries, with "Retry", kept on the phone; and when the server
    answers nothing (its database restarting) the queue waits, and never gives up."""
    job = dispatched_job
    page = open_app(phone, live_server, "tech01")
    page.locator(f'.job-card[data-job="{job.number}"]').click()
    page.get_by_role("button", name="Arrived").click()
    expect(page.get_by_test_id("job-status")).to_have_text("On site")
    # Every text field stops where the API does.
    expect(page.get_by_label("Caption")).to_have_attribute("maxlength", "200")
    expect(page.get_by_label("Part number")).to_have_attribute("maxlength", "64")
    expect(page.get_by_label("Name of the person signing")).to_have_attribute("maxlength", "200")
    expect(page.get_by_label("What was done")).to_have_attribute("maxlength", "10000")

    # The database is down: every call answers 503. The queue waits as long as it takes.
    with mock.patch(
        "mobile_api.auth.token_lookup", side_effect=OperationalError("the database is restarting")
    ):
        page.get_by_label("Part number").fill("FLT-100")
        page.get_by_role("button", name="Add part").click()
        drain_passes(page, 8)
        assert outbox(page) == [["parts", "pending"]]
        expect(page.locator(".problem")).to_have_count(0)
    drain_passes(page, 1)
    assert outbox(page) == []
    assert job.parts.filter(part_number="FLT-100").count() == 1

    # The server errs on one photo (a bug it has with it) and takes everything else.
    with mock.patch(
        "tickets.records.files.attachment_add", side_effect=RuntimeError("a bug with this photo")
    ) as failing:
        page.get_by_label("Caption").fill("Seal after cleaning")
        page.locator("#photo-file").set_input_files(
            files=FilePayload(name="seal.png", mimeType="image/png", buffer=small_picture())
        )
        expect(page.locator("ul.photos")).to_contain_text("Seal after cleaning")
        page.get_by_label("Part number").fill("GSK-7")
        page.get_by_role("button", name="Add part").click()
        drain_passes(page, 6)
        assert job.parts.filter(part_number="GSK-7").count() == 1  # the queue went on past the photo
        assert outbox(page) == [["photo", "failed"]]  # kept, never deleted
        problem = page.locator('.problem[data-code="server_error"]')
        expect(problem).to_be_visible()
        expect(problem).to_contain_text("The server could not take this")
        expect(problem.get_by_role("button")).to_have_text("Retry")
        expect(page.locator("#sync-status")).to_have_text("1 to resolve")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(screenshot_dir / "app-server-error.png"))
        assert not job.attachments.exists()

    problem.get_by_role("button", name="Retry").click()
    expect(page.locator(".problem")).to_have_count(0)
    expect(page.locator("#sync-status")).to_contain_text("Synced")
    photo = job.attachments.get()
    assert photo.caption == "Seal after cleaning"
    # Shrunk on the phone, the photo has no EXIF: the time it was taken goes with it, the same
    # on every try, and is its time, not the time it finally got through.
    [taken] = {call.kwargs["at"] for call in failing.call_args_list}
    assert photo.uploaded_at == taken
    assert outbox(page) == []
