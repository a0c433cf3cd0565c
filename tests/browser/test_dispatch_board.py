"""The dispatcher's morning on the small demo: open tomorrow's board, run the optimizer,
accept its plan, and try a move the server refuses; a run that finds no plan is shown as
failed, and a plan that places fewer P1/P2 jobs is accepted only when confirmed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from fieldservice import clock
from scheduling import services
from scheduling.board import unassigned_work_orders
from scheduling.models import Absence, ScheduleRun, Technician, Territory
from scheduling.selectors import URGENT_MAX_PRIORITY, horizon_origin
from scheduling.solver import planner as solver_planner
from tests.browser.conftest import keep_for_readme, login
from tickets.models import WorkOrder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
# A page after a POST and its redirect, on a loaded machine (the default is 5 s).
PAGE_LOAD_MS = 30_000


def doable_work(day: dt.date, territory: Territory) -> list[WorkOrder]:
    """Unassigned jobs for `day` at sites open that day that a technician of the territory,
    on shift that day, is qualified for: work the optimizer can place."""
    crews = [
        {level.skill.code: level.level for level in tech.skill_levels.all()}
        for tech in Technician.objects.filter(territory=territory, active=True, shifts__date=day)
        .distinct()
        .prefetch_related("skill_levels__skill")
    ]
    return [
        work_order
        for work_order in unassigned_work_orders(day, territory)
        if day.weekday() in work_order.site.access_weekdays
        and any(
            all(held.get(code, 0) >= level for code, level in work_order.required_skills.items())
            for held in crews
        )
    ]


def territory_with_most_doable_work(day: dt.date) -> Territory:
    """Not the one with the most unassigned work: that may be work nobody there can do."""
    territory = max(Territory.objects.order_by("pk"), key=lambda t: len(doable_work(day, t)))
    assert doable_work(day, territory), "the demo has no doable unassigned work for tomorrow"
    return territory


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


def open_board(page: Page, live_server: Any, day: dt.date, territory: Territory) -> None:
    page.goto(f"{live_server.url}/dispatch/?day={day.isoformat()}&territory={territory.pk}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(territory.name)


def run_the_optimizer(page: Page) -> None:
    page.get_by_label("Time limit (s)").fill("2")
    page.get_by_role("button", name="Run the optimizer").click()


def test_dispatcher_runs_accepts_and_is_refused_a_move(
    page: Page, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    tomorrow = clock.today() + dt.timedelta(days=1)
    territory = territory_with_most_doable_work(tomorrow)
    login(page, live_server, "dispatcher")
    open_board(page, live_server, tomorrow, territory)
    before = queue_count(page)
    assert before > 0
    assert page.locator("#board-map .leaflet-interactive").count() > 0  # markers without tiles

    run_the_optimizer(page)
    status = page.locator('#run-status[data-status="succeeded"]')
    expect(status).to_be_visible(timeout=90_000)
    unplaced = status.locator('tr[data-kpi="unplaced"] td')
    assert int(unplaced.nth(0).inner_text()) > int(unplaced.nth(1).inner_text())
    page.screenshot(path=screenshot_dir / "dispatch-board-run.png", full_page=True)

    if status.locator(".fewer-urgent").count():  # the demo's own plan had more P1/P2 placed
        status.locator('input[name="confirm_fewer_urgent"]').check()
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


def test_no_plan_is_a_failure_and_fewer_urgent_jobs_need_a_confirmation(
    page: Page, live_server: Any, demo: None, screenshot_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tomorrow = clock.today() + dt.timedelta(days=1)
    territory = territory_with_most_doable_work(tomorrow)
    # The plan as it stands has urgent work on tomorrow's board: the optimizer's, accepted.
    run = services.schedule_run_create(
        by=None, first_day=tomorrow, territory=territory, time_limit_s=2, enqueue=False
    )
    services.schedule_run_solve_part(run_id=run.pk, part=str(territory.pk))
    services.schedule_run_accept(run=ScheduleRun.objects.get(pk=run.pk), by=None, confirm_fewer_urgent=True)
    tomorrows = WorkOrder.objects.filter(
        status="scheduled", assigned_technician__technician__territory=territory, planned_start__date=tomorrow
    ).order_by("pk")
    assert tomorrows.exists()
    if not tomorrows.filter(priority__lte=URGENT_MAX_PRIORITY).exists():
        WorkOrder.objects.filter(pk=tomorrows[0].pk).update(priority=1)
    login(page, live_server, "dispatcher")
    open_board(page, live_server, tomorrow, territory)

    # An engine that finds no plan: the run fails, says why, and offers nothing to accept.
    with monkeypatch.context() as patched:
        patched.setattr(solver_planner, "run_ortools", lambda *args: None)
        run_the_optimizer(page)
        failed = page.locator('#run-status[data-status="failed"]')
        expect(failed).to_be_visible(timeout=90_000)
    expect(failed).to_contain_text(f"{territory.name}: the optimizer found no plan", timeout=PAGE_LOAD_MS)
    expect(failed.get_by_role("button", name="Accept the plan")).to_have_count(0)
    page.screenshot(path=screenshot_dir / "dispatch-board-failed-run.png", full_page=True)

    # Everyone is off tomorrow now: the next plan places no P1/P2 job, and says so.
    day = horizon_origin(tomorrow)
    Absence.objects.bulk_create(
        Absence(technician=tech, starts_at=day, ends_at=day + dt.timedelta(days=1))
        for tech in Technician.objects.filter(territory=territory)
    )
    open_board(page, live_server, tomorrow, territory)
    urgent = WorkOrder.objects.filter(
        status="scheduled",
        priority__lte=URGENT_MAX_PRIORITY,
        assigned_technician__technician__territory=territory,
        planned_start__date=tomorrow,
    )
    urgent_before = urgent.count()
    run_the_optimizer(page)
    status = page.locator('#run-status[data-status="succeeded"]')
    expect(status).to_be_visible(timeout=90_000)
    expect(status.locator(".fewer-urgent")).to_contain_text(
        "This plan places 0 P1/P2 jobs", timeout=PAGE_LOAD_MS
    )
    page.screenshot(path=screenshot_dir / "dispatch-board-fewer-urgent.png", full_page=True)

    status.get_by_role("button", name="Accept the plan").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("confirm to accept it anyway", timeout=PAGE_LOAD_MS)
    assert urgent.count() == urgent_before > 0

    page.get_by_label("Accept it anyway, with fewer P1/P2 jobs placed").check()
    page.get_by_role("button", name="Accept the plan").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("Plan accepted", timeout=PAGE_LOAD_MS)
    assert urgent.count() == 0
