"""The renewal quote: its PDF, its draft on the opportunity, and the year of service it shows.

A worked example: a 2026 contract quoted on 1 November 2026. The clock is pinned to that
morning so the example reads the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pypdf import PdfReader

from contracts.models import RenewalOpportunity, ServiceContract
from retention.quote import render_renewal_quote, renewal_quote_draft
from retention.selectors import account_service_summary
from tests import factories
from tests.clock_pin import clock_at
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db

ACCOUNT_NAME = "苏州精密电子有限公司"
ADDRESS = "苏州工业园区星湖街328号"
QUOTE_DATE = dt.date(2026, 11, 1)
Kind, Status = WorkOrder.Kind, WorkOrder.Status


_clock_on_the_quote_date = clock_at(dt.datetime.combine(QUOTE_DATE, dt.time(9), factories.SHANGHAI))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def agreement() -> ServiceContract:
    customer = factories.account(name=ACCOUNT_NAME)
    site = factories.site(account=customer, name="二号厂房", address=ADDRESS)
    units = [factories.equipment(site=site, serial_number=f"QT-{n}") for n in (1, 2)]
    return factories.contract(
        account=customer,
        covers=units,
        number="SC-2026-0042",
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
        annual_value=Decimal("100000.00"),
        uplift_percent=Decimal("3.50"),
    )


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=factories.SHANGHAI)


def test_the_quote_shows_customer_contract_equipment_price_and_validity(agreement) -> None:
    pdf = render_renewal_quote(
        contract=agreement, quote_date=QUOTE_DATE, valid_until=dt.date(2026, 12, 16), language="zh-hans"
    )

    text = text_of(pdf)
    assert pdf.startswith(b"%PDF")
    assert "SC-2026-0042" in text
    assert ACCOUNT_NAME in text and ADDRESS in text
    assert "2026-01-01 – 2026-12-31" in text
    assert "QT-1" in text and "QT-2" in text
    assert "103500.00 CNY" in text
    assert "2026-12-16" in text


def test_drafting_stores_the_quote_on_the_opportunity(agreement) -> None:
    opportunity = RenewalOpportunity.objects.create(contract=agreement)

    renewal_quote_draft(opportunity=opportunity, today=QUOTE_DATE)

    opportunity.refresh_from_db()
    assert opportunity.proposed_value == Decimal("103500.00")
    assert opportunity.quote_valid_until == dt.date(2026, 12, 16)
    assert opportunity.stage == RenewalOpportunity.Stage.QUOTED
    with opportunity.quote_pdf.open("rb") as stored:
        text = text_of(stored.read())
    assert "SC-2026-0042" in text and ACCOUNT_NAME in text
    assert "103500.00" in text and "2026-12-16" in text


def test_a_leftover_quote_file_is_replaced_not_kept_beside_a_copy(agreement, media_root: Path) -> None:
    """A worker killed after writing the quote and before committing left this file."""
    leftover = media_root / f"quotes/{QUOTE_DATE:%Y}/SC-2026-0042-{QUOTE_DATE:%Y%m%d}.pdf"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"partial")
    opportunity = RenewalOpportunity.objects.create(contract=agreement)

    renewal_quote_draft(opportunity=opportunity, today=QUOTE_DATE)

    assert opportunity.quote_pdf.name == f"quotes/{QUOTE_DATE:%Y}/SC-2026-0042-{QUOTE_DATE:%Y%m%d}.pdf"
    assert [path.name for path in leftover.parent.iterdir()] == [leftover.name]
    assert leftover.read_bytes().startswith(b"%PDF")


def test_drafting_leaves_a_later_stage_alone(agreement) -> None:
    opportunity = RenewalOpportunity.objects.create(
        contract=agreement, stage=RenewalOpportunity.Stage.NEGOTIATING
    )

    renewal_quote_draft(opportunity=opportunity, today=QUOTE_DATE)

    opportunity.refresh_from_db()
    assert opportunity.stage == RenewalOpportunity.Stage.NEGOTIATING


def test_the_quote_shows_the_year_of_service(agreement) -> None:
    unit = agreement.covered_equipment.first()
    order(
        agreement,
        equipment=unit,
        created_at=at(dt.date(2026, 3, 1), 8),
        completed_at=at(dt.date(2026, 3, 1), 10),
        sla_resolution_due=at(dt.date(2026, 3, 1), 12),
        first_time_fix=True,
    )

    text = text_of(render_renewal_quote(contract=agreement, quote_date=QUOTE_DATE, valid_until=QUOTE_DATE))

    assert "2025-11-01 – 2026-11-01" in text
    assert "100.0% (1 / 1)" in text
    assert "2.0 h" in text


def order(agreement: ServiceContract, **fields: Any) -> WorkOrder:
    site = agreement.covered_equipment.get(serial_number="QT-1").site
    defaults: dict[str, Any] = {"status": Status.COMPLETED}
    return factories.work_order(site=site, **{**defaults, **fields})


def test_the_service_summary_counts_the_twelve_months_before_the_quote(agreement) -> None:
    unit = agreement.covered_equipment.first()
    day = dt.date
    # Met: resolved and responded in time; fixed first time; 2 h down.
    order(
        agreement,
        equipment=unit,
        created_at=at(day(2026, 3, 1), 8),
        responded_at=at(day(2026, 3, 1), 8),
        sla_response_due=at(day(2026, 3, 1), 9),
        completed_at=at(day(2026, 3, 1), 10),
        sla_resolution_due=at(day(2026, 3, 1), 12),
        first_time_fix=True,
    )
    # Resolution breached; not fixed first time; 12 h down.
    order(
        agreement,
        kind=Kind.EMERGENCY,
        equipment=unit,
        created_at=at(day(2026, 5, 1), 8),
        completed_at=at(day(2026, 5, 1), 20),
        sla_resolution_due=at(day(2026, 5, 1), 16),
        first_time_fix=False,
    )
    # Response breached (closed counts as done); no equipment, so no downtime.
    order(
        agreement,
        status=Status.CLOSED,
        created_at=at(day(2026, 6, 1), 8),
        responded_at=at(day(2026, 6, 1), 9),
        sla_response_due=at(day(2026, 6, 1), 8),
        completed_at=at(day(2026, 6, 1), 10),
        sla_resolution_due=at(day(2026, 6, 1), 12),
    )
    # Preventive: one planned and done, one planned and still open.
    order(agreement, kind=Kind.PREVENTIVE, pm_due_date=day(2026, 4, 1), completed_at=at(day(2026, 4, 2), 11))
    order(agreement, kind=Kind.PREVENTIVE, status=Status.NEW, pm_due_date=day(2026, 10, 20))
    # Outside the window or the account: not counted.
    order(agreement, completed_at=at(day(2025, 10, 31), 23), sla_resolution_due=at(day(2025, 11, 1), 1))
    order(agreement, kind=Kind.PREVENTIVE, status=Status.NEW, pm_due_date=QUOTE_DATE)
    factories.work_order(status=Status.COMPLETED, completed_at=at(day(2026, 3, 1), 10), first_time_fix=True)

    with CaptureQueriesContext(connection) as queries:
        summary = account_service_summary(
            account_id=agreement.account_id, start=day(2025, 11, 1), end=QUOTE_DATE
        )

    assert len(queries) == 1
    assert summary.visits == 4
    assert (summary.pm_completed, summary.pm_planned) == (1, 2)
    assert (summary.sla_met, summary.sla_measured) == (1, 3)
    assert summary.sla_compliance_percent == Decimal("33.3")
    assert (summary.ftf_fixed, summary.ftf_measured) == (1, 2)
    assert summary.first_time_fix_percent == Decimal("50.0")
    assert summary.downtime_hours == Decimal("14.0")


def test_an_account_without_service_has_no_rates(agreement) -> None:
    summary = account_service_summary(
        account_id=agreement.account_id, start=dt.date(2025, 11, 1), end=QUOTE_DATE
    )

    assert summary.visits == 0 and summary.downtime_hours == Decimal("0.0")
    assert summary.sla_compliance_percent is None and summary.first_time_fix_percent is None
