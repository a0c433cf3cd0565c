"""The work order page: who sees it (object level through the selector), what it shows,
and the permission-checked signature image."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from fieldservice import clock
from tests import factories
from tickets.models import (
    Attachment,
    ChecklistItem,
    PartUsage,
    Signature,
    WorkOrder,
    WorkOrderEvent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def own_job(account_manager: User, tech_a: User) -> WorkOrder:
    """A completed job of the manager's account, with everything recorded on it."""
    account = factories.account(account_manager=account_manager)
    site = factories.site(account=account, name="二号厂房")
    now = clock.now()
    job = factories.work_order(
        site=site,
        status=WorkOrder.Status.COMPLETED,
        assigned_technician=tech_a,
        sla_response_due=now - dt.timedelta(hours=5),
        responded_at=now - dt.timedelta(hours=6),
        sla_resolution_due=now - dt.timedelta(hours=1),
        completed_at=now,
    )
    WorkOrderEvent.objects.create(
        work_order=job,
        type="status_changed",
        from_status="en_route",
        to_status="on_site",
        at=now,
        by=tech_a,
        location=Point(120.9, 31.5, srid=4326),
        distance_from_site_m=2400,
        flagged=True,
        flag_reason=WorkOrderEvent.FlagReason.FAR_FROM_SITE,
    )
    ChecklistItem.objects.create(work_order=job, position=1, label="Oil level checked", result="pass")
    for number, quantity, cost in (("AC-1", "2", "10.05"), ("AC-2", "1.5", "3.10")):
        PartUsage.objects.create(
            work_order=job,
            part_number=number,
            quantity=Decimal(quantity),
            unit_cost=Decimal(cost),
            recorded_at=now,
        )
    photo = default_storage.save("attachments/p.png", ContentFile(_png()))
    Attachment.objects.create(
        work_order=job,
        file=photo,
        content_type="image/png",
        size_bytes=10,
        sha256="0" * 64,
        caption="Cooler fins",
        uploaded_at=now,
    )
    signature = default_storage.save("signatures/s.png", ContentFile(_png()))
    Signature.objects.create(work_order=job, image=signature, signer_name="李娜", signed_at=now)
    return job


@pytest.fixture
def other_job() -> WorkOrder:
    return factories.work_order(site=factories.site(account=factories.account()))


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_account_manager_sees_own_accounts_only(
    account_manager: User, own_job: WorkOrder, other_job: WorkOrder
) -> None:
    client = logged_in(account_manager)
    assert client.get(f"/work-orders/{own_job.pk}/").status_code == 200
    assert client.get(f"/work-orders/{other_job.pk}/").status_code == 404
    assert client.get(f"/work-orders/{other_job.pk}/signature.png").status_code == 404


@pytest.mark.parametrize(("persona", "status"), [("dispatcher", 200), ("admin_user", 200), ("tech_a", 403)])
def test_roles(request: pytest.FixtureRequest, persona: str, status: int, own_job: WorkOrder) -> None:
    client = logged_in(request.getfixturevalue(persona))
    assert client.get(f"/work-orders/{own_job.pk}/").status_code == status


def test_anonymous_goes_to_login(own_job: WorkOrder) -> None:
    response = Client().get(f"/work-orders/{own_job.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_missing_work_order_is_404(dispatcher: User) -> None:
    assert logged_in(dispatcher).get("/work-orders/999999/").status_code == 404


def test_page_shows_everything_about_the_job(dispatcher: User, own_job: WorkOrder) -> None:
    response = logged_in(dispatcher).get(f"/work-orders/{own_job.pk}/")
    page = response.content.decode()
    assert own_job.number in page and "二号厂房" in page
    # Timeline: who, where, and the flagged arrival.
    assert (
        "flagged: Far from the site" in page
        and "2400 m from the site" in page
        and "31.50000, 120.90000" in page
    )
    assert "Oil level checked" in page
    # Parts: 2 × 10.05 + 1.5 × 3.10 = 24.75, in Decimal.
    assert response.context["part_totals"] == [("CNY", Decimal("24.75"))]
    assert "24.75 CNY" in page
    photo = own_job.attachments.get()
    assert f'src="/api/v1/work-orders/{own_job.pk}/attachments/{photo.pk}"' in page
    assert f'src="/work-orders/{own_job.pk}/signature.png"' in page
    assert f'href="/api/v1/work-orders/{own_job.pk}/report.pdf"' in page
    clocks = {clock.label: clock for clock in response.context["sla_clocks"]}
    assert clocks["Response"].state == "met" and clocks["Resolution"].state == "breached"
    assert "breached by 1 h 00 min" in page


def test_an_unpriced_part_shows_a_dash_and_stays_out_of_the_total(
    dispatcher: User, own_job: WorkOrder
) -> None:
    """A part the office has not priced yet (the phone sends no price) is "—", never "None
    CNY" or 0.00, and the total counts the priced parts only."""
    PartUsage.objects.create(
        work_order=own_job, part_number="AC-3", quantity=Decimal(1), unit_cost=None, recorded_at=clock.now()
    )
    response = logged_in(dispatcher).get(f"/work-orders/{own_job.pk}/")
    page = response.content.decode()
    row = re.search(r"<tr><td>AC-3<br>.*?</tr>", page, re.S)
    assert row is not None
    assert "None" not in row.group(0) and row.group(0).count("—") == 2
    assert response.context["part_totals"] == [("CNY", Decimal("24.75"))]


def test_open_job_shows_running_clock_and_no_report(dispatcher: User) -> None:
    job = factories.work_order(sla_resolution_due=clock.now() + dt.timedelta(hours=3, minutes=10))
    response = logged_in(dispatcher).get(f"/work-orders/{job.pk}/")
    page = response.content.decode()
    assert "report.pdf" not in page and "Not signed yet" in page
    resolution = response.context["sla_clocks"][1]
    assert resolution.state == "running" and "3 h" in resolution.text


def test_signature_is_served_to_who_may_see_it(account_manager: User, own_job: WorkOrder) -> None:
    response = logged_in(account_manager).get(f"/work-orders/{own_job.pk}/signature.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")


def test_photo_through_the_api_url_is_permission_checked(
    account_manager: User, own_job: WorkOrder, other_job: WorkOrder
) -> None:
    client = logged_in(account_manager)
    photo = own_job.attachments.get()
    assert client.get(f"/api/v1/work-orders/{own_job.pk}/attachments/{photo.pk}").status_code == 200
    assert client.get(f"/api/v1/work-orders/{other_job.pk}/attachments/{photo.pk}").status_code == 404
