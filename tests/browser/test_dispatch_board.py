"""The dispatcher's morning on the small demo: open tomorrow's board, run the optimizer,
accept its plan, and try a move the server refuses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from scheduling.board import unassigned_work_orders
from scheduling.models import Technician, Territory
from tests.browser.conftest import keep_for_readme, login
from tickets.models import WorkOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def busiest_territory(day: dt.date) -> Territory:
    """The territory with the most unassigned work that day: the optimizer has work to do."""
    return max(Territory.objects.order_by("pk"), key=lambda t: unassigned_work_orders(day, t).count())


def job_and_unskilled_technician(day: dt.date, territory: Territory) -> tuple[WorkOrder, Technician, str]:
    """A planned job on the board and a technician of the territory, on shift, without one of its skills."""
    technicians = list(
        Technician.objects.filter(territory=territory, shifts__date=day).prefetch_related(
            "skill_levels__skill"
        )
    )
    planned = WorkOrder.objects.filter(
        status__in=("scheduled", "dispatched"),
        assigned_technician__technician__territory=territory,
        planned_start__date=day,
    ).order_by("pk")
    for work_order in planned:
        for technician in technicians:
            held = {level.skill.code for level in technician.skill_levels.all()}
            missing = sorted(set(work_order.required_skills) - held)
            if missing:
                return work_order, technician, missing[0]
    raise AssertionError("the demo has no planned job some technician is not skilled for")


def queue_count(page: Page) -> int:
    return int(page.locator("#queue-count").inner_text())


def test_dispatcher_runs_accepts_and_is_refused_a_move(
    page: Page, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    territory = busiest_territory(tomorrow)
    login(page, live_server, "dispatcher")
    page.goto(f"{live_server.url}/dispatch/?day={tomorrow.isoformat()}&territory={territory.pk}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(territory.name)
    before = queue_count(page)
    assert before > 0
    assert page.locator("#board-map .leaflet-interactive").count() > 0  # markers without tiles

    page.get_by_label("Time limit (s)").fill("2")
    page.get_by_role("button", name="Run the optimizer").click()
    status = page.locator('#run-status[data-status="succeeded"]')
    expect(status).to_be_visible(timeout=90_000)
    unplaced = status.locator('tr[data-kpi="unplaced"] td')
    assert int(unplaced.nth(0).inner_text()) > int(unplaced.nth(1).inner_text())
    page.screenshot(path=screenshot_dir / "dispatch-board-run.png", full_page=True)

    page.get_by_role("button", name="Accept the plan").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("Plan accepted")
    after = queue_count(page)
    assert after < before, (before, after)

    work_order, technician, skill = job_and_unskilled_technician(tomorrow, territory)
    page.get_by_role("button", name=f"Move {work_order.number}").click()
    form = page.locator("#reassign-panel")
    expect(form.get_by_role("heading")).to_contain_text(work_order.number)
    form.get_by_label("Technician").select_option(str(technician.pk))
    form.get_by_role("button", name="Move").click()
    refusal = page.locator("#reassign-panel .refusal")
    expect(refusal).to_contain_text(f"does not have the skill “{skill}”")
    version_before = work_order.version
    work_order.refresh_from_db()
    assert work_order.version == version_before

    path = screenshot_dir / "dispatch-board.png"
    page.screenshot(path=path, full_page=True)
    keep_for_readme(path, "dispatch-board.png")

    page.locator(f'a[href="/work-orders/{work_order.pk}/"]').first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(work_order.number)
    expect(page.get_by_role("heading", name="SLA clocks")).to_be_visible()
    page.screenshot(path=screenshot_dir / "work-order.png", full_page=True)
