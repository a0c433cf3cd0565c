"""On-site records: checklist answers, parts, photos (type and size limits), signature,
meter readings; each only while the technician is on site, each in the audit trail.

Every visit starts at START (Monday 30 November 2026, 09:00) and the clock is pinned there:
the services that take no time of their own (dispatch, travel, arrival) stamp the clock's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assets.models import MeterReading
from fieldservice.errors import Conflict, Invalid, TooLarge
from tests import factories
from tests.clock_pin import clock_at
from tickets import records, services
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
START = dt.datetime(2026, 11, 30, 9, tzinfo=factories.SHANGHAI)
CHECKS: list[dict[str, Any]] = [
    {"label": "Oil level", "kind": "pass_fail"},
    {"label": "Discharge pressure", "kind": "value", "unit": "bar"},
    {"label": "Notes", "kind": "text", "required": False},
]


_clock_at_start = clock_at(START)


def on_site(technician: User, *, checklist: list[dict[str, Any]] = CHECKS) -> WorkOrder:
    unit = factories.equipment()
    job = services.work_order_create(
        site=unit.site,
        equipment=unit,
        kind="preventive",
        title="Service",
        by=None,
        checklist=checklist,
        at=START,
    )
    job = services.work_order_schedule(
        work_order=job,
        technician=technician,
        planned_start=START,
        planned_end=START + dt.timedelta(hours=2),
        by=None,
        version=job.version,
    )
    for step in (services.work_order_dispatch, services.work_order_start_travel, services.work_order_arrive):
        job = step(work_order=job, by=technician, version=job.version)
    return job


def test_checklist_answers_by_kind(tech_a: User) -> None:
    job = on_site(tech_a)
    with pytest.raises(Invalid, match="needs a result"):
        records.checklist_answer(work_order=job, position=1, by=tech_a, result="maybe")
    with pytest.raises(Invalid, match="needs a value in bar"):
        records.checklist_answer(work_order=job, position=2, by=tech_a)
    with pytest.raises(Invalid) as unknown:
        records.checklist_answer(work_order=job, position=9, by=tech_a, result="pass")
    assert unknown.value.code == "unknown_checklist_item"
    records.checklist_answer(work_order=job, position=1, by=tech_a, result="pass")
    item = records.checklist_answer(work_order=job, position=2, by=tech_a, value=Decimal("7.5"))
    assert item.value == Decimal("7.5") and item.answered_by == tech_a
    assert job.events.filter(type="checklist_answered").count() == 2


def test_required_items_block_completion_until_answered(tech_a: User) -> None:
    job = on_site(tech_a)
    job = services.work_order_start_work(work_order=job, by=tech_a, version=job.version)
    with pytest.raises(Invalid) as refused:
        services.work_order_complete(work_order=job, by=tech_a, version=job.version, resolution="Done")
    missing = {entry["field"] for entry in refused.value.details["missing"]}
    assert missing == {"checklist[1]", "checklist[2]"}  # the notes are optional
    records.checklist_answer(work_order=job, position=1, by=tech_a, result="fail")
    records.checklist_answer(work_order=job, position=2, by=tech_a, result="na")
    done = services.work_order_complete(work_order=job, by=tech_a, version=job.version, resolution="Done")
    assert done.status == "completed"


def test_parts_are_positive_and_decimal(tech_a: User) -> None:
    job = on_site(tech_a)
    with pytest.raises(Invalid):
        records.part_record(
            work_order=job, part_number="F-1", quantity=Decimal(0), unit_cost=Decimal(1), by=tech_a
        )
    part = records.part_record(
        work_order=job,
        part_number="2901-0339-00",
        description="Oil filter",
        quantity=Decimal("2"),
        unit_cost=Decimal("385.50"),
        by=tech_a,
    )
    assert part.quantity * part.unit_cost == Decimal("771.00")
    assert job.events.get(type="part_used").payload["unit_cost"] == "385.50"


def test_records_only_while_on_site(tech_a: User) -> None:
    job = services.work_order_create(
        site=factories.site(), kind="corrective", title="x", by=None, checklist=CHECKS
    )
    with pytest.raises(Conflict) as refused:
        records.checklist_answer(work_order=job, position=1, by=tech_a, result="pass")
    assert refused.value.code == "not_on_site"


def test_attachment_type_is_judged_by_content(tech_a: User) -> None:
    job = on_site(tech_a)
    photo = records.attachment_add(work_order=job, upload=SimpleUploadedFile("a.jpg", JPEG), by=tech_a)
    assert (photo.content_type, photo.kind, photo.size_bytes) == ("image/jpeg", "photo", len(JPEG))
    with pytest.raises(Invalid) as refused:
        disguised = SimpleUploadedFile("evil.jpg", b"#!/bin/sh\nrm -rf /\n", content_type="image/jpeg")
        records.attachment_add(work_order=job, upload=disguised, by=tech_a)
    assert refused.value.code == "unsupported_type"


def test_attachment_over_the_limit_is_413_through_the_api(
    dispatcher: User, tech_a: User, tech_b: User, settings: Any
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    job = on_site(tech_a)
    client = Client()
    client.force_login(dispatcher)
    url = f"/api/v1/work-orders/{job.pk}/attachments"
    too_big = SimpleUploadedFile("big.png", PNG + b"\x00" * 2048, content_type="image/png")
    response = client.post(url, {"file": too_big})
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    ok = client.post(url, {"file": SimpleUploadedFile("ok.png", PNG), "caption": "Valve"})
    assert ok.status_code == 201, ok.content
    download = ok.json()["url"]
    assert client.get(download).status_code == 200
    # The file is served only to those who may see the work order.
    other = Client()
    other.force_login(tech_b)
    assert other.get(download).status_code == 404
    assert Client().get(download).status_code == 401


def test_signature_is_a_png_with_a_name_once(tech_a: User) -> None:
    job = on_site(tech_a)
    with pytest.raises(Invalid, match="PNG"):
        records.signature_capture(work_order=job, png=JPEG, signer_name="李娜", by=tech_a)
    with pytest.raises(Invalid, match="name"):
        records.signature_capture(work_order=job, png=PNG, signer_name=" ", by=tech_a)
    signature = records.signature_capture(work_order=job, png=PNG, signer_name="李娜", by=tech_a)
    assert signature.image.read() == PNG
    with pytest.raises(Conflict):
        records.signature_capture(work_order=job, png=PNG, signer_name="李娜", by=tech_a)


def test_signature_over_the_limit(tech_a: User, settings: Any) -> None:
    settings.MAX_SIGNATURE_BYTES = 10
    with pytest.raises(TooLarge):
        records.signature_capture(work_order=on_site(tech_a), png=PNG, signer_name="李娜", by=tech_a)


def test_meter_reading_goes_up_and_refreshes_usage(tech_a: User) -> None:
    job = on_site(tech_a)
    assert job.equipment is not None
    MeterReading.objects.create(
        equipment=job.equipment, kind="operating_hours", value=1000, read_at=START - dt.timedelta(days=10)
    )
    with pytest.raises(Invalid) as refused:
        records.meter_reading_record(
            work_order=job, kind="operating_hours", value=Decimal(900), by=tech_a, at=START
        )
    assert refused.value.code == "meter_went_down"
    records.meter_reading_record(
        work_order=job, kind="operating_hours", value=Decimal(1200), by=tech_a, at=START
    )
    job.equipment.refresh_from_db()
    assert job.equipment.average_daily_usage == Decimal("20.00")
    assert job.events.filter(type="meter_read").count() == 1


def test_a_late_reading_may_not_exceed_the_one_taken_after_it(tech_a: User) -> None:
    """A reading queued offline arrives after a later one (telemetry, another visit): it must
    fit between its neighbours, or the meter would go down over time."""
    job = on_site(tech_a)
    assert job.equipment is not None
    MeterReading.objects.create(
        equipment=job.equipment, kind="operating_hours", value=1000, read_at=START - dt.timedelta(days=10)
    )
    MeterReading.objects.create(
        equipment=job.equipment, kind="operating_hours", value=1100, read_at=START + dt.timedelta(hours=2)
    )
    with pytest.raises(Invalid) as refused:
        records.meter_reading_record(
            work_order=job, kind="operating_hours", value=Decimal(1150), by=tech_a, at=START
        )
    assert refused.value.code == "meter_above_later_reading"
    assert refused.value.details["next"]["value"] == 1100
    records.meter_reading_record(
        work_order=job, kind="operating_hours", value=Decimal(1050), by=tech_a, at=START
    )
    assert MeterReading.objects.filter(equipment=job.equipment).count() == 3


def test_a_meter_jump_too_soon_or_too_big_to_average_keeps_the_reading_and_the_average(tech_a: User) -> None:
    """Found by the schema tests: 1 h, then 6371 h a second later, overflowed the average (500)."""
    job = on_site(tech_a)
    assert job.equipment is not None
    job.equipment.average_daily_usage = Decimal("8.00")
    job.equipment.save()
    records.meter_reading_record(
        work_order=job, kind="operating_hours", value=Decimal(1), by=tech_a, at=START
    )
    records.meter_reading_record(
        work_order=job,
        kind="operating_hours",
        value=Decimal(6371),
        by=tech_a,
        at=START + dt.timedelta(seconds=1),
    )
    records.meter_reading_record(
        work_order=job,
        kind="operating_hours",
        value=Decimal("999999999999"),
        by=tech_a,
        at=START + dt.timedelta(days=2),
    )
    job.equipment.refresh_from_db()
    assert job.equipment.average_daily_usage == Decimal("8.00")
    assert MeterReading.objects.filter(equipment=job.equipment).count() == 3
