"""A contact sees their own account only (a site-only contact, their own site only): every id
of another account's work order, machine, report or contract is a 404."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.base import ContentFile

from contracts.models import RenewalOpportunity
from fieldservice import clock
from tests import factories
from tests.portal.conftest import Customer, signed_in
from tickets.models import ServiceReport, WorkOrder

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% stand-in\n%%EOF\n"


def furnished(customer: Customer) -> dict[str, int]:
    """A completed work order with its report, an open one, a contract with a sent quote."""
    done = factories.work_order(
        site=customer.site,
        equipment=customer.unit,
        status=WorkOrder.Status.COMPLETED,
        completed_at=clock.now(),
    )
    ServiceReport.objects.create(
        work_order=done, pdf=ContentFile(PDF, name="r.pdf"), generated_at=clock.now()
    )
    open_order = factories.work_order(site=customer.other_site, equipment=customer.other_site_unit)
    contract = factories.contract(
        account=customer.account,
        covers=[customer.unit],
        start_date=clock.today() - dt.timedelta(days=300),
        end_date=clock.today() + dt.timedelta(days=65),
    )
    RenewalOpportunity.objects.create(
        contract=contract, stage=RenewalOpportunity.Stage.QUOTED, quote_pdf=ContentFile(PDF, name="q.pdf")
    )
    return {"done": done.pk, "open": open_order.pk, "contract": contract.pk}


def urls(ids: dict[str, int], customer: Customer) -> list[str]:
    return [
        f"/portal/equipment/{customer.unit.pk}/",
        f"/portal/work-orders/{ids['done']}/report.pdf",
        f"/portal/contracts/{ids['contract']}/quote.pdf",
    ]


def test_own_account_everything_another_account_nothing(mine: Customer, theirs: Customer) -> None:
    own, other = furnished(mine), furnished(theirs)
    client = signed_in(mine.contact)
    for url in urls(own, mine):
        answer = client.get(url)
        assert answer.status_code == 200, url
    for url in urls(other, theirs):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/portal/report/?equipment={theirs.unit.pk}").status_code == 200  # not offered
    before = WorkOrder.objects.count()
    refused = client.post(
        "/portal/report/", {"equipment": theirs.unit.pk, "symptom": "Noise", "line_stopped": "no"}
    )
    assert refused.status_code == 400 and WorkOrder.objects.count() == before

    pages = "".join(
        client.get(url).content.decode()
        for url in ("/portal/", "/portal/equipment/", "/portal/work-orders/", "/portal/contracts/")
    )
    assert theirs.unit.serial_number not in pages and theirs.account.name not in pages
    assert mine.unit.serial_number in pages and mine.other_site_unit.serial_number in pages
    assert WorkOrder.objects.get(pk=own["open"]).number in pages


def test_a_quote_is_the_customers_once_sent(mine: Customer) -> None:
    ids = furnished(mine)
    RenewalOpportunity.objects.filter(contract_id=ids["contract"]).update(
        stage=RenewalOpportunity.Stage.CONTACTED
    )
    client = signed_in(mine.contact)
    assert client.get(f"/portal/contracts/{ids['contract']}/quote.pdf").status_code == 404
    assert "quote.pdf" not in client.get("/portal/contracts/").content.decode()


def test_an_open_work_orders_report_is_not_there(mine: Customer) -> None:
    ids = furnished(mine)
    assert signed_in(mine.contact).get(f"/portal/work-orders/{ids['open']}/report.pdf").status_code == 404


def test_a_site_only_contact_sees_their_site_only(mine: Customer) -> None:
    ids = furnished(mine)
    client = signed_in(mine.contact, site_only=True)
    assert client.get(f"/portal/equipment/{mine.unit.pk}/").status_code == 200
    assert client.get(f"/portal/equipment/{mine.other_site_unit.pk}/").status_code == 404
    orders = client.get("/portal/work-orders/").content.decode()
    assert WorkOrder.objects.get(pk=ids["done"]).number in orders
    assert WorkOrder.objects.get(pk=ids["open"]).number not in orders
    assert mine.other_site_unit.serial_number not in client.get("/portal/equipment/").content.decode()


def test_en_route_shows_the_eta(mine: Customer, settings: Any) -> None:
    start = clock.now().replace(microsecond=0) + dt.timedelta(minutes=40)
    factories.work_order(
        site=mine.site, equipment=mine.unit, status=WorkOrder.Status.EN_ROUTE, planned_start=start
    )
    page = signed_in(mine.contact).get("/portal/").content.decode()
    assert "on the way" in page
