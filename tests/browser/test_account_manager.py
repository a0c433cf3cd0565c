"""The account manager's morning on the small demo: log in, open the riskiest account, read
its health reasons, download the renewal quote, open the KPIs and download their CSV."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from playwright.sync_api import Page, expect

from assets.visibility import accounts_visible_to
from contracts.models import HealthScore, RenewalOpportunity, ServiceContract
from fieldservice import clock
from retention.health import accounts_by_risk
from retention.quote import renewal_quote_draft
from tests.browser.conftest import keep_for_readme, login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


MANAGER = "manager"


@pytest.fixture
def renewals(demo: None, settings: Any, tmp_path: Path) -> None:
    """The small demo computes neither health nor renewals: a year of month-end snapshots
    for the trend, today's, and the renewal run (opportunities, quotes at T−60)."""
    settings.MEDIA_ROOT = tmp_path
    call_command("compute_health", history_months=12, verbosity=0)
    call_command("run_renewals", verbosity=0)
    mine = accounts_visible_to(User.objects.get(username=MANAGER))
    if not RenewalOpportunity.objects.filter(contract__account__in=mine, closed_at__isnull=True).exists():
        # On some days none of the manager's small-demo contracts is inside the 120-day window:
        # run the renewals as of the day the soonest-ending one is 60 days from its end.
        soonest = (
            ServiceContract.objects.filter(account__in=mine, status=ServiceContract.Status.ACTIVE)
            .filter(end_date__gt=clock.today() + dt.timedelta(days=60))
            .order_by("end_date")
            .first()
        )
        assert soonest is not None, "the demo manager has no contract to renew"
        quote_day = soonest.end_date - dt.timedelta(days=60)
        call_command("run_renewals", today=quote_day.isoformat(), verbosity=0)
    for opportunity in RenewalOpportunity.objects.filter(
        contract__account__in=mine, closed_at__isnull=True, quote_pdf=""
    ):
        renewal_quote_draft(opportunity=opportunity, today=clock.today())


def riskiest_account_id() -> int:
    mine = set(accounts_visible_to(User.objects.get(username=MANAGER)).values_list("pk", flat=True))
    ranked = [row for row in accounts_by_risk(today=clock.today()) if row.account_id in mine]
    assert ranked, "the demo manager has no scored account"
    return ranked[0].account_id


def ensure_quote(account_id: int) -> RenewalOpportunity | None:
    """The riskiest account's open renewal, with its quote drafted if the run has not yet
    (its key date may still be over 60 days away); None when it has no renewal under way."""
    opportunity = (
        RenewalOpportunity.objects.filter(contract__account_id=account_id, closed_at__isnull=True)
        .select_related("contract__account")
        .order_by("contract__end_date")
        .first()
    )
    if opportunity is not None and not opportunity.quote_pdf:
        renewal_quote_draft(opportunity=opportunity, today=clock.today())
    return opportunity


def test_account_manager_reads_health_downloads_quote_and_kpis(
    renewals: None, page: Page, live_server: Any, screenshot_dir: Path
) -> None:
    account_id = riskiest_account_id()
    opportunity = ensure_quote(account_id)
    snapshot = HealthScore.objects.filter(account_id=account_id).order_by("-date").first()
    assert snapshot is not None and snapshot.components
    worst = max(snapshot.components, key=lambda c: c["points_lost"])

    login(page, live_server, MANAGER)
    expect(page).to_have_url(re.compile(r"/accounts/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Renewals & accounts")
    assert page.locator("table.am-renewals tbody tr").count() > 0  # the run opened renewals
    assert page.locator("table.am-renewals .badge").count() > 0  # with health bands
    page.screenshot(path=screenshot_dir / "accounts-home.png", full_page=True)

    # The risk list is ranked: its first row is the riskiest account.
    first = page.locator("table.am-risk-table tbody tr").first
    expect(first).to_have_attribute("data-account", str(account_id))
    first.get_by_role("link").click()
    page.wait_for_load_state("networkidle")
    expect(page).to_have_url(re.compile(rf"/accounts/{account_id}/$"))
    reasons = page.locator("table.components")
    expect(reasons.locator(f'tr[data-component="{worst["key"]}"] td.reason')).to_have_text(
        worst["reason"]["en"]
    )
    expect(page.get_by_role("img", name="Health score")).to_be_visible()

    if opportunity is None:
        # No renewal under way for the riskiest account: the quote comes from the pipeline.
        page.goto(f"{live_server.url}/accounts/")
        # An open renewal's row (a won or lost one keeps its quote link, but its stage is closed).
        open_with_quote = page.locator("table.am-renewals tbody tr:has(a.quote-link):has(select:enabled)")
        open_with_quote.first.locator("td").first.get_by_role("link").click()
        page.wait_for_load_state("networkidle")
    quote = page.get_by_role("link", name="Download the quote PDF")
    expect(quote).to_be_visible()
    page.screenshot(path=screenshot_dir / "account-360-full.png", full_page=True)
    path = screenshot_dir / "account-360.png"  # the first screen (health, trend, renewal) reads in a README
    page.screenshot(path=path)
    keep_for_readme(path, "account-360.png")
    with page.expect_download() as download_info:
        quote.click()
    download = download_info.value
    assert download.suggested_filename.startswith("quote-") and download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes().startswith(b"%PDF")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="KPIs").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", level=1)).to_have_text("Service and retention KPIs")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    csv_download = download_info.value
    assert re.fullmatch(r"kpis-\d{4}-\d{2}-\d{2}\.csv", csv_download.suggested_filename)
    assert Path(csv_download.path()).read_text(encoding="utf-8").startswith("Month,")


def test_keyboard_reaches_the_stage_select_with_a_visible_focus(
    renewals: None, page: Page, live_server: Any
) -> None:
    login(page, live_server, MANAGER)
    select = page.locator("table.am-renewals select:enabled").first  # a closed renewal's is disabled
    select.focus()
    expect(select).to_be_focused()
    label = page.locator(f'label[for="{select.get_attribute("id")}"]')
    assert label.count() == 1 and "Stage of the renewal of" in label.inner_text()
    page.keyboard.press("Tab")
    save = select.locator("xpath=ancestor::form").get_by_role("button")
    expect(save).to_be_focused()
    assert save.evaluate("el => getComputedStyle(el).outlineStyle") != "none"
    # Choose "Contacted" and save with the keyboard: htmx swaps the form with the outcome.
    select.select_option("contacted")
    save.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".stage-form .saved").first).to_have_text("Saved.")


def test_tablet_shows_one_column(renewals: None, page: Page, live_server: Any, screenshot_dir: Path) -> None:
    page.set_viewport_size({"width": 820, "height": 1180})
    login(page, live_server, MANAGER)
    pipeline = page.locator(".am-pipeline").bounding_box()
    tasks = page.locator(".am-tasks").bounding_box()
    assert pipeline and tasks and tasks["y"] > pipeline["y"] + pipeline["height"] - 1
    overflow = page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    assert not overflow
    page.screenshot(path=screenshot_dir / "accounts-home-tablet.png", full_page=True)
