"""The account manager opens the KPIs on the small demo, sees the charts, downloads the CSV."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MONTH = re.compile(r"^\d{4}-\d{2}$")


def test_account_manager_sees_charts_and_downloads_csv(
    page: Any, live_server: Any, demo: None, screenshot_dir: Path
) -> None:
    login(page, live_server, "manager")
    page.goto(f"{live_server.url}/kpis/")
    page.wait_for_load_state("networkidle")

    assert page.get_by_role("heading", name="Service and retention KPIs").is_visible()
    charts = page.locator("svg.kpi-chart")
    assert charts.count() == 12
    sla = page.get_by_role("img", name="SLA compliance")
    assert sla.is_visible()
    assert sla.locator("circle.dot").count() > 0  # the demo has completed work in these months
    assert page.locator("#note-sla_compliance").is_visible()
    # An account manager sees their own accounts: no account manager filter to choose.
    assert page.locator("select[name=account_manager]").count() == 0
    page.screenshot(path=str(screenshot_dir / "kpis.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    download = download_info.value
    assert re.fullmatch(r"kpis-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "Month" and "SLA compliance (%)" in header
    assert len(body) == 12 and all(MONTH.match(row[0]) for row in body)
    assert any(row[header.index("SLA compliance (%)")] for row in body)
