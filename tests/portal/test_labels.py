"""QR labels: a sheet per site with one label per machine in service (read back with pypdf),
and what a scanned label opens: the machine for its contact; for anyone else a form that
shows nothing of it, whose report becomes a work order only through the emailed link, once."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from pypdf import PdfReader

from assets.labels import label_token
from assets.models import Equipment
from portal.models import FaultReport
from tests import factories
from tests.portal.conftest import Customer, signed_in
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db

CONFIRM = re.compile(r"http://testserver(/portal/confirm/[\w-]+/)")
FORM = {"name": "李娜", "email": "li.na@example.com", "phone": "", "symptom": "Oil on the floor"}


def test_the_sheet_has_one_label_per_machine_in_service(mine: Customer, dispatcher: User) -> None:
    units = [
        mine.unit,
        factories.equipment(site=mine.site, asset_tag="AT-0002"),
        factories.equipment(site=mine.site),
    ]
    retired = factories.equipment(site=mine.site, status=Equipment.Status.DECOMMISSIONED)
    client = Client()
    client.force_login(dispatcher)
    answer = client.get(f"/portal/labels/site/{mine.site.pk}.pdf")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    for unit in units:
        assert text.count(unit.serial_number) == 1, unit.serial_number
    assert retired.serial_number not in text and mine.other_site_unit.serial_number not in text
    assert "AT-0002" in text and "扫码报修" in text
    assert text.count("Scan to report a fault") == 3


def test_a_label_opens_the_machine_for_its_contact(mine: Customer, theirs: Customer) -> None:
    url = f"/l/{label_token(mine.unit)}/"
    opened = signed_in(mine.contact).get(url)
    assert opened.status_code == 302 and opened["Location"] == f"/portal/equipment/{mine.unit.pk}/"
    stranger = signed_in(theirs.contact).get(url)  # another customer's contact: the public form
    assert stranger.status_code == 200
    for secret in (
        mine.unit.serial_number,
        mine.account.name,
        mine.site.name,
        mine.unit.equipment_model.name,
    ):
        assert secret not in stranger.content.decode()


def test_the_confirmation_link_makes_one_work_order(
    mine: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/l/{label_token(mine.unit)}/", FORM)
    assert sent.status_code == 200 and not WorkOrder.objects.exists()
    assert mail.outbox[-1].to == ["li.na@example.com"]
    link = CONFIRM.search(str(mail.outbox[-1].body))
    assert link
    assert client.get(link[1]).status_code == 200 and not WorkOrder.objects.exists()  # GET shows a button
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(link[1])
        again = Client().post(link[1])
    assert confirmed.status_code == again.status_code == 200
    work_order = WorkOrder.objects.get()
    assert work_order.status == WorkOrder.Status.NEW and work_order.equipment == mine.unit
    assert work_order.priority == 3 and "李娜" in work_order.description
    assert work_order.number in confirmed.content.decode()
    assert FaultReport.objects.get().work_order == work_order
    assert work_order.number in mail.outbox[-1].subject


def test_a_decommissioned_machines_label_is_refused(mine: Customer) -> None:
    Equipment.objects.filter(pk=mine.unit.pk).update(status=Equipment.Status.DECOMMISSIONED)
    url = f"/l/{label_token(mine.unit)}/"
    assert Client().get(url).status_code == 410
    refused = Client().post(url, FORM)
    assert refused.status_code == 410 and "decommissioned" in refused.content.decode()
    assert not FaultReport.objects.exists() and mail.outbox == []


def test_a_forged_label_is_unknown(mine: Customer) -> None:
    assert Client().get(f"/l/{mine.unit.pk}/").status_code == 404
    assert Client().get(f"/l/{label_token(mine.unit)[:-2]}xx/").status_code == 404


def test_label_reports_are_limited_per_label_and_per_address(mine: Customer, settings: Any) -> None:
    settings.PORTAL_LABEL_REPORTS_PER_LABEL = 2
    url = f"/l/{label_token(mine.unit)}/"
    answers = [
        Client(REMOTE_ADDR=f"10.1.0.{n}").post(url, {**FORM, "email": f"p{n}@example.com"}).status_code
        for n in range(3)
    ]
    assert answers == [200, 200, 429]
    settings.PORTAL_LABEL_REPORTS_PER_EMAIL = 1
    other = f"/l/{label_token(mine.other_site_unit)}/"
    assert Client(REMOTE_ADDR="10.2.0.1").post(other, {**FORM, "email": "x@example.com"}).status_code == 200
    assert Client(REMOTE_ADDR="10.2.0.2").post(other, {**FORM, "email": "X@example.com"}).status_code == 429
    assert FaultReport.objects.count() == 3


def test_a_report_without_an_email_is_400(mine: Customer) -> None:
    answer = Client().post(f"/l/{label_token(mine.unit)}/", {**FORM, "email": ""})
    assert answer.status_code == 400 and "email" in answer.context["form"].errors


def test_the_label_sheet_is_for_the_office(mine: Customer, tech_a: User) -> None:
    assert signed_in(mine.contact).get(f"/portal/labels/site/{mine.site.pk}.pdf").status_code == 403
    client = Client()
    client.force_login(tech_a)
    assert client.get(f"/portal/labels/site/{mine.site.pk}.pdf").status_code == 403
