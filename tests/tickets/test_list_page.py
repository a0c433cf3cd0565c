"""The dispatcher's work-order list: search and filters, SLA state included, paginated."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.test import Client

from fieldservice import clock
from tests import factories

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@pytest.fixture
def office(dispatcher: User) -> Client:
    client = Client()
    client.force_login(dispatcher)
    return client


def listed(client: Client, **query: str | int) -> str:
    response = client.get("/work-orders/", query)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_search_by_customer_serial_and_number(office: Client) -> None:
    account = factories.account(name="常州恒力化工")
    unit = factories.equipment(site=factories.site(account=account), serial_number="PMP-77123")
    mine = factories.work_order(site=unit.site, equipment=unit, title="Pump seal leaking")
    other = factories.work_order(title="Chiller noisy")
    assert mine.number in listed(office, q="恒力") and other.number not in listed(office, q="恒力")
    assert mine.number in listed(office, q="77123") and other.number not in listed(office, q="77123")
    assert other.number in listed(office, q=other.number[-4:])
    assert mine.number in listed(office, q="seal")


def test_sla_states_breached_at_risk_and_on_time(office: Client) -> None:
    now = clock.now()
    breached = factories.work_order(
        title="late", sla_response_due=now - 3 * H, sla_resolution_due=now + 9 * H
    )
    at_risk = factories.work_order(title="soon", sla_response_due=now + H, sla_resolution_due=now + 20 * H)
    fine = factories.work_order(title="fine", sla_response_due=now + 30 * H, sla_resolution_due=now + 60 * H)
    shown = {state: listed(office, sla=state) for state in ("breached", "at_risk", "fine")}
    assert [wo.number in shown["breached"] for wo in (breached, at_risk, fine)] == [True, False, False]
    assert [wo.number in shown["at_risk"] for wo in (breached, at_risk, fine)] == [False, True, False]
    assert [wo.number in shown["fine"] for wo in (breached, at_risk, fine)] == [False, False, True]


def test_filters_combine_and_pages_hold_fifty(office: Client) -> None:
    site = factories.site()
    for index in range(55):
        factories.work_order(site=site, title=f"Job {index}", priority=1 if index < 3 else 3)
    first = listed(office)
    assert "55 work orders" in first and "Page 1 of 2" in first
    assert "3 work orders" in listed(office, priority=1)
    assert "Page 2 of 2" in listed(office, page=2)
    assert "Page 2 of 2" in listed(office, page="999999999999999999999")  # the last page, not a 500


def test_a_bad_filter_is_a_400_naming_the_field(office: Client) -> None:
    response = office.get("/work-orders/", {"created_from": "0001-01-01", "sla": "soonish"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="id_created_from"' in page and "sla" in page


def test_technicians_do_not_use_the_list() -> None:
    technician = Client()
    technician.force_login(factories.user(role="technician"))
    assert technician.get("/work-orders/").status_code == 403
