"""The service desk: a phone call from search to a work order in the board's queue."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from assets.labels import label_token
from fieldservice import roles
from tests import factories
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(dispatcher: User) -> Client:
    client = Client()
    client.force_login(dispatcher)
    return client


@pytest.fixture
def chiller() -> dict:
    account = factories.account(name="苏州精密机械有限公司")
    plant = factories.site(account=account, name="吴中工厂")
    unit = factories.equipment(site=plant, serial_number="CHL-2024-00817")
    contract = factories.contract(account=account, covers=[unit])
    return {"account": account, "plant": plant, "unit": unit, "contract": contract}


def test_the_search_answers_as_the_dispatcher_types(desk: Client, chiller: dict) -> None:
    page = desk.get("/desk/search/", {"q": "00817"}).content.decode()
    assert f"/desk/?equipment={chiller['unit'].pk}" in page
    assert "CHL-2024-00817" in page


def test_choosing_the_machine_shows_coverage_sla_and_the_likely_duplicate(
    desk: Client, chiller: dict
) -> None:
    open_one = factories.work_order(
        site=chiller["plant"], equipment=chiller["unit"], title="Compressor trips"
    )
    page = desk.get("/desk/", {"equipment": chiller["unit"].pk}).content.decode()
    assert chiller["contract"].number in page
    assert open_one.number in page and "Same machine: is this the same fault?" in page
    assert "Asia/Shanghai" in page


def test_opening_goes_through_work_order_create_and_lands_in_the_queue(desk: Client, chiller: dict) -> None:
    response = desk.post(
        "/desk/",
        {
            "equipment": chiller["unit"].pk,
            "kind": "emergency",
            "priority": 1,
            "title": "Chiller stopped",
            "description": "",
        },
    )
    assert response.status_code == 302 and response["Location"].startswith("/dispatch/")
    work_order = WorkOrder.objects.get(title="Chiller stopped")
    assert (work_order.status, work_order.priority, work_order.site, work_order.contract) == (
        WorkOrder.Status.NEW,
        1,
        chiller["plant"],
        chiller["contract"],
    )
    assert work_order.number and work_order.sla_response_due is not None
    assert work_order.events.filter(type="created").exists()


def test_a_bad_form_writes_nothing_and_names_the_field(desk: Client, chiller: dict) -> None:
    response = desk.post(
        "/desk/", {"equipment": chiller["unit"].pk, "kind": "emergency", "priority": 9, "title": ""}
    )
    assert response.status_code == 400
    assert WorkOrder.objects.count() == 0
    assert 'id="id_priority"' in response.content.decode()


def test_a_decommissioned_machine_is_refused_clearly(desk: Client, chiller: dict) -> None:
    chiller["unit"].status = "decommissioned"
    chiller["unit"].save()
    response = desk.post(
        "/desk/", {"equipment": chiller["unit"].pk, "kind": "corrective", "priority": 3, "title": "x"}
    )
    assert response.status_code == 400 and "decommissioned" in response.content.decode()
    assert WorkOrder.objects.count() == 0


def test_only_dispatchers_and_admins_use_the_desk(chiller: dict) -> None:
    technician = Client()
    technician.force_login(factories.user(role=roles.TECHNICIAN))
    assert technician.get("/desk/").status_code == 403
    assert Client().get("/desk/").status_code == 302  # to the login page
    assert technician.get("/desk/", {"equipment": 999999}).status_code == 403


def test_the_same_machines_open_job_is_shown_however_busy_the_site(desk: Client, chiller: dict) -> None:
    old = factories.work_order(site=chiller["plant"], equipment=chiller["unit"], title="Old fault")
    for index in range(12):
        factories.work_order(site=chiller["plant"], title=f"Other job {index}")
    page = desk.get("/desk/", {"equipment": chiller["unit"].pk}).content.decode()
    assert old.number in page and page.count('class="likely-duplicate"') == 1


def test_a_label_url_pasted_or_scanned_names_its_machine(desk: Client, chiller: dict) -> None:
    url = f"https://fs.example.com/l/{label_token(chiller['unit'])}/"
    page = desk.get("/desk/search/", {"q": url}).content.decode()
    assert f"/desk/?equipment={chiller['unit'].pk}" in page
    forged = url.replace(label_token(chiller["unit"])[-4:], "abcd")
    assert "/desk/?equipment=" not in desk.get("/desk/search/", {"q": forged}).content.decode()
