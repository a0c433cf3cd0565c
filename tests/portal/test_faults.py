"""A contact's fault report becomes one work order in `new` (P1 if the line is stopped, else
P3), with its photos kept and an email back; a photo over the limit is a 413 and nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from assets.models import Equipment
from portal.models import FaultPhoto, FaultReport
from tests.portal.conftest import Customer, jpeg, signed_in
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db


def report(client: Any, unit: Equipment, **fields: Any) -> Any:
    data = {
        "equipment": unit.pk,
        "symptom": "Compressor trips on high temperature\nAlarm E42",
        "line_stopped": "yes",
    }
    return client.post("/portal/report/", {**data, **fields})


def test_a_fault_report_is_one_new_work_order_and_an_email(
    mine: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(mine.contact)
    photo = SimpleUploadedFile("leak.jpg", jpeg(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        answer = report(client, mine.unit, photos=[photo])
    assert answer.status_code == 302 and answer["Location"] == "/portal/work-orders/"
    work_order = WorkOrder.objects.get()
    assert work_order.status == WorkOrder.Status.NEW and work_order.priority == 1
    assert work_order.equipment == mine.unit and work_order.created_by is None
    assert work_order.title == "Compressor trips on high temperature"
    fault = FaultReport.objects.get()
    assert fault.channel == "portal" and fault.contact == mine.contact and fault.work_order == work_order
    assert FaultPhoto.objects.filter(report=fault).count() == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [mine.contact.email]
    assert work_order.number in mail.outbox[0].subject
    listed = client.get("/portal/work-orders/").content.decode()
    assert work_order.number in listed and "Compressor trips" in listed


def test_a_running_line_is_p3(mine: Customer) -> None:
    report(signed_in(mine.contact), mine.unit, line_stopped="no")
    assert WorkOrder.objects.get().priority == 3


def test_a_photo_over_the_limit_is_413_and_nothing(mine: Customer, settings: Any) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1000
    photo = SimpleUploadedFile("big.jpg", jpeg((400, 400)) + b"\0" * 2000, content_type="image/jpeg")
    answer = report(signed_in(mine.contact), mine.unit, photos=[photo])
    assert answer.status_code == 413
    assert not WorkOrder.objects.exists() and not FaultReport.objects.exists()


def test_not_a_photo_is_400(mine: Customer) -> None:
    fake = SimpleUploadedFile("x.jpg", b"MZ not an image at all", content_type="image/jpeg")
    assert report(signed_in(mine.contact), mine.unit, photos=[fake]).status_code == 400
    assert not WorkOrder.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"symptom": ""}, "symptom"),
        ({"symptom": "x" * 10_001}, "symptom"),
        ({"line_stopped": "maybe"}, "line_stopped"),
    ],
)
def test_bad_input_is_400_naming_the_field(mine: Customer, fields: dict[str, str], field: str) -> None:
    answer = report(signed_in(mine.contact), mine.unit, **fields)
    assert answer.status_code == 400 and field in answer.context["form"].errors
    assert not WorkOrder.objects.exists()


def test_a_decommissioned_machine_is_not_offered(mine: Customer) -> None:
    Equipment.objects.filter(pk=mine.unit.pk).update(status=Equipment.Status.DECOMMISSIONED)
    assert report(signed_in(mine.contact), mine.unit).status_code == 400
    assert not WorkOrder.objects.exists()
