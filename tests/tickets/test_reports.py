"""Service reports: the PDF of a completed visit, stored and emailed once, and the sweep.

The visit is a worked example on Monday 30 November 2026, from NOW to FINISHED; the clock is
pinned to FINISHED, when the report is made, so it reads the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image
from pypdf import PdfReader

from fieldservice import clock
from fieldservice.errors import Conflict
from tests import factories
from tests.clock_pin import clock_at
from tickets import creation, lifecycle, site_visit
from tickets.models import (
    Attachment,
    ChecklistItem,
    PartUsage,
    ServiceReport,
    Signature,
    WorkOrder,
    WorkOrderEvent,
)
from tickets.pdf import render_service_report
from tickets.reports import (
    REPORT_SWEEP_GRACE,
    REPORT_SWEEP_WINDOW,
    report_file_name,
    report_recipient,
    reports_missing,
    service_report_create,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 30, 9, 0, tzinfo=factories.SHANGHAI)  # a Monday
FINISHED = NOW + dt.timedelta(minutes=180)
ACCOUNT_NAME = "苏州精密电子有限公司"
SIGNER = "李娜"
PART_NUMBER = "AC-1622-0654-01"


_clock_when_the_visit_ends = clock_at(FINISHED)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _image(fmt: str, size: tuple[int, int], color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def _stored(name: str, data: bytes) -> str:
    return default_storage.save(name, ContentFile(data))


@pytest.fixture
def customer_site():
    account = factories.account(name=ACCOUNT_NAME)
    site = factories.site(account=account, name="二号厂房", address="苏州工业园区星湖街328号")
    return site


@pytest.fixture
def contact(customer_site):
    return factories.contact(site=customer_site, name="王伟", email="wang.wei@example.cn", is_primary=True)


def _completed(site, technician: User, dispatcher: User) -> WorkOrder:
    """A work order taken through the real lifecycle services to completion."""
    unit = factories.equipment(site=site, serial_number="API-778812")
    factories.contract(account=site.account, covers=[unit])  # requires the customer's signature
    job = creation.work_order_create(
        site=site,
        kind=WorkOrder.Kind.CORRECTIVE,
        title="Compressor trips on high temperature",
        by=dispatcher,
        priority=2,
        equipment=unit,
        checklist=[
            {"label": "Oil level 油位", "kind": "pass_fail"},
            {"label": "Discharge temperature 排气温度", "kind": "value", "unit": "°C"},
        ],
        at=NOW,
    )
    job = lifecycle.work_order_schedule(
        work_order=job,
        technician=technician,
        planned_start=NOW + dt.timedelta(hours=2),
        planned_end=NOW + dt.timedelta(hours=4),
        by=dispatcher,
        version=job.version,
        at=NOW,
    )
    for step, minutes in (
        (lifecycle.work_order_dispatch, 5),
        (site_visit.work_order_start_travel, 60),
        (site_visit.work_order_arrive, 110),
        (site_visit.work_order_start_work, 120),
    ):
        job = step(work_order=job, by=technician, version=job.version, at=NOW + dt.timedelta(minutes=minutes))
    ChecklistItem.objects.filter(work_order=job, position=1).update(
        result=ChecklistItem.Result.PASS, answered_at=NOW, answered_by=technician
    )
    ChecklistItem.objects.filter(work_order=job, position=2).update(
        result=ChecklistItem.Result.PASS, value=Decimal("82.5"), answered_at=NOW, answered_by=technician
    )
    PartUsage.objects.create(
        work_order=job,
        part_number=PART_NUMBER,
        description="Thermostatic valve kit",
        quantity=Decimal("1"),
        unit_cost=Decimal("1850.00"),
        recorded_at=NOW + dt.timedelta(minutes=150),
        recorded_by=technician,
    )
    photo = _image("JPEG", (1600, 1200), "steelblue")
    Attachment.objects.create(
        work_order=job,
        kind=Attachment.Kind.PHOTO,
        file=_stored(f"attachments/{NOW:%Y/%m}/valve.jpg", photo),
        content_type="image/jpeg",
        size_bytes=len(photo),
        sha256="0" * 64,
        caption="更换后的温控阀",
        uploaded_at=NOW + dt.timedelta(minutes=160),
    )
    Signature.objects.create(
        work_order=job,
        image=_stored(f"signatures/{NOW:%Y/%m}/sig.png", _image("PNG", (400, 120), "white")),
        signer_name=SIGNER,
        signed_at=NOW + dt.timedelta(minutes=175),
        captured_by=technician,
    )
    return site_visit.work_order_complete(
        work_order=job,
        by=technician,
        version=job.version,
        resolution="Replaced the thermostatic valve; ran 30 minutes under load, 82 °C. 已更换温控阀。",
        at=FINISHED,
    )


@pytest.fixture
def completed(customer_site, contact, dispatcher, tech_a) -> WorkOrder:
    return _completed(customer_site, tech_a, dispatcher)


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_pdf_shows_the_work_order_customer_signer_and_parts(completed) -> None:
    pdf = render_service_report(completed, language="zh-hans")

    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert completed.number in text
    assert ACCOUNT_NAME in text
    assert "苏州工业园区星湖街328号" in text
    assert SIGNER in text
    assert PART_NUMBER in text
    assert "1850.00" in text
    assert "API-778812" in text
    assert "Met" in text  # both SLA clocks were met


def test_the_pdf_embeds_the_photo_and_signature_from_storage(completed) -> None:
    reader = PdfReader(io.BytesIO(render_service_report(completed)))
    # WeasyPrint shares one image resource between pages, so each page lists both.
    images = {image.data: image.image for page in reader.pages for image in page.images}
    assert len(images) == 2  # the photo and the signature
    # The 1600 × 1200 photo went in as a thumbnail.
    assert sorted(image.size for image in images.values() if image is not None) == [(400, 120), (640, 480)]


def test_rendering_fetches_nothing_but_storage(completed) -> None:
    with mock.patch("urllib.request.OpenerDirector.open", side_effect=AssertionError("network")) as opened:
        render_service_report(completed)
    opened.assert_not_called()


def test_rendering_reads_in_a_bounded_number_of_queries(completed) -> None:
    for n in range(5):
        PartUsage.objects.create(
            work_order=completed,
            part_number=f"P-{n}",
            quantity=Decimal("2.5"),
            unit_cost=Decimal("10.00"),
            recorded_at=NOW,
        )
    with CaptureQueriesContext(connection) as queries:
        render_service_report(completed)
    assert len(queries) <= 4


def test_report_is_stored_and_emailed_with_pdf_and_survey_link(completed, contact) -> None:
    report = service_report_create(work_order_id=completed.pk)

    assert report.pdf.name.startswith("reports/")
    with report.pdf.open("rb") as stored:
        assert stored.read().startswith(b"%PDF")
    assert report.emailed_to == contact.email and report.emailed_at is not None
    [message] = mail.outbox
    assert message.to == [contact.email]
    assert completed.number in message.subject and "服务报告" in message.subject  # the contact reads Chinese
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"{completed.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")
    assert "http://127.0.0.1:8000/survey/" in message.body
    event = WorkOrderEvent.objects.get(work_order=completed, type=WorkOrderEvent.Type.REPORT_SENT)
    assert event.idempotency_key == f"report-sent:{completed.pk}"


def test_a_leftover_file_is_replaced_not_kept_beside_a_copy(completed, media_root: Path) -> None:
    """A worker killed after writing the PDF and before committing its row left this file."""
    leftover = media_root / report_file_name(completed)
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"partial")

    report = service_report_create(work_order_id=completed.pk)

    assert report.pdf.name == report_file_name(completed)
    assert [path.name for path in leftover.parent.iterdir()] == [leftover.name]
    assert leftover.read_bytes().startswith(b"%PDF")


def test_the_sweep_finds_recent_completions_without_a_report(customer_site) -> None:
    now = clock.now()

    def completed_ago(age: dt.timedelta, status: str = WorkOrder.Status.COMPLETED) -> WorkOrder:
        return factories.work_order(site=customer_site, status=status, completed_at=now - age)

    lost = completed_ago(REPORT_SWEEP_GRACE + dt.timedelta(minutes=1))
    closed = completed_ago(REPORT_SWEEP_WINDOW - dt.timedelta(hours=1), status=WorkOrder.Status.CLOSED)
    completed_ago(REPORT_SWEEP_GRACE - dt.timedelta(minutes=1))  # its task may still be queued
    completed_ago(REPORT_SWEEP_WINDOW + dt.timedelta(hours=1))  # before the window
    reported = completed_ago(REPORT_SWEEP_GRACE * 2)
    ServiceReport.objects.create(work_order=reported, pdf="reports/x.pdf", generated_at=now)
    factories.work_order(site=customer_site, status=WorkOrder.Status.IN_PROGRESS)

    assert reports_missing(now=now) == [closed.pk, lost.pk]


def test_english_contact_gets_an_english_email(completed, contact) -> None:
    contact.language = "en"
    contact.save()
    service_report_create(work_order_id=completed.pk)
    [message] = mail.outbox
    assert message.subject.startswith(f"Service report {completed.number}")
    assert "Dear 王伟" in message.body


def test_running_twice_makes_one_report_one_email_one_event(completed) -> None:
    first = service_report_create(work_order_id=completed.pk)
    second = service_report_create(work_order_id=completed.pk)

    assert first.pk == second.pk
    assert ServiceReport.objects.filter(work_order=completed).count() == 1
    assert len(mail.outbox) == 1
    assert (
        WorkOrderEvent.objects.filter(work_order=completed, type=WorkOrderEvent.Type.REPORT_SENT).count() == 1
    )


def test_a_failed_send_is_released_so_the_retry_sends(completed) -> None:
    with (
        mock.patch("django.core.mail.EmailMessage.send", side_effect=ConnectionRefusedError),
        pytest.raises(ConnectionRefusedError),
    ):
        service_report_create(work_order_id=completed.pk)
    report = ServiceReport.objects.get(work_order=completed)
    assert report.emailed_at is None

    service_report_create(work_order_id=completed.pk)
    assert len(mail.outbox) == 1
    assert ServiceReport.objects.filter(work_order=completed).count() == 1


def test_completion_generates_and_sends_the_report_on_commit(
    customer_site, contact, dispatcher, tech_a, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        job = _completed(customer_site, tech_a, dispatcher)

    assert ServiceReport.objects.filter(work_order=job, emailed_to=contact.email).exists()
    assert len(mail.outbox) == 1


def test_a_work_order_that_is_not_completed_is_refused(customer_site, contact) -> None:
    job = factories.work_order(site=customer_site, status=WorkOrder.Status.IN_PROGRESS)
    with pytest.raises(Conflict) as refused:
        service_report_create(work_order_id=job.pk)
    assert refused.value.code == "not_completed"
    assert not ServiceReport.objects.exists()
    assert mail.outbox == []


def test_without_any_contact_email_the_report_is_stored_not_sent(completed, contact) -> None:
    contact.email = ""
    contact.save()
    report = service_report_create(work_order_id=completed.pk)
    assert report.pdf and report.emailed_at is None
    assert mail.outbox == []
    assert not WorkOrderEvent.objects.filter(type=WorkOrderEvent.Type.REPORT_SENT).exists()


def test_recipient_is_the_site_primary_else_an_account_contact(customer_site) -> None:
    other_site = factories.site(account=customer_site.account)
    elsewhere = factories.contact(site=other_site, email="li@example.cn")
    job = factories.work_order(site=customer_site)
    assert report_recipient(job) == elsewhere

    at_site = factories.contact(site=customer_site, email="zhao@example.cn")
    assert report_recipient(job) == at_site

    primary = factories.contact(site=customer_site, email="boss@example.cn", is_primary=True)
    factories.contact(site=customer_site, email="", name="no email")
    assert report_recipient(job) == primary


# --- issue 14 ------------------------------------------------------------------------------------


def test_an_unpriced_part_is_printed_without_a_price_and_left_out_of_the_total(completed) -> None:
    """The phone sends no price (the office sets it): such a part is "—" on the customer's
    report, never "0.00", and the total says it covers the priced parts only."""
    PartUsage.objects.create(
        work_order=completed,
        part_number="GASKET-7",
        description="Gasket",
        quantity=Decimal("2"),
        unit_cost=None,
        recorded_at=NOW + dt.timedelta(minutes=155),
    )
    text = _pdf_text(render_service_report(completed, language="en"))
    gasket = next(line for line in text.splitlines() if "GASKET-7" in line)
    assert "—" in gasket and "0.00" not in gasket
    assert "1850.00 CNY" in text  # the priced part and its total
    assert "priced parts only" in text


def test_a_report_with_only_unpriced_parts_has_no_total(completed) -> None:
    PartUsage.objects.filter(work_order=completed).update(unit_cost=None)
    text = _pdf_text(render_service_report(completed, language="en"))
    assert PART_NUMBER in text and "Total" not in text


def test_a_huge_image_stored_before_uploads_were_checked_is_left_out_not_decoded(completed) -> None:
    """An 8000 x 8000 PNG of 248 kB took 1.3 s and ~750 MB to render: the report now skips it."""
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, format="PNG")
    Attachment.objects.create(
        work_order=completed,
        kind=Attachment.Kind.PHOTO,
        file=_stored(f"attachments/{NOW:%Y/%m}/bomb.png", bomb.getvalue()),
        content_type="image/png",
        size_bytes=len(bomb.getvalue()),
        sha256="0" * 64,
        uploaded_at=NOW + dt.timedelta(minutes=170),
    )
    reader = PdfReader(io.BytesIO(render_service_report(completed)))
    images = {image.data: image.image for page in reader.pages for image in page.images}
    assert sorted(image.size for image in images.values() if image is not None) == [(400, 120), (640, 480)]
