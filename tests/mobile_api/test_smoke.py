"""A technician's day through the mobile API, end to end (the detailed cases live beside it)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from fieldservice import clock
from tests import factories
from tests.mobile_api.conftest import PNG
from tickets import creation, lifecycle
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db


def login(username: str) -> Client:
    response = Client().post(
        "/api/mobile/v1/auth/token", {"username": username, "password": "demo"}, "application/json"
    )
    assert response.status_code == 200, response.content
    return Client(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")


def post(client: Client, url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = client.post(url, body, "application/json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    return response.status_code, response.json()


def test_a_day_on_the_job(tech_a: User, django_capture_on_commit_callbacks: Any) -> None:
    unit = factories.equipment()
    factories.contact(site=unit.site, is_primary=True)
    factories.contract(
        account=unit.site.account, covers=[unit], start_date=dt.date(2020, 1, 1), end_date=dt.date(2099, 1, 1)
    )
    start = clock.now().replace(microsecond=0)
    job = creation.work_order_create(
        site=unit.site,
        equipment=unit,
        kind="corrective",
        title="Leak",
        by=None,
        checklist=[{"label": "Pressure test", "kind": "pass_fail"}],
    )
    lifecycle.work_order_schedule(
        work_order=job,
        technician=tech_a,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        by=None,
        version=job.version,
    )
    app = login("tech01")
    jobs = app.get("/api/mobile/v1/jobs").json()
    assert [j["number"] for j in jobs] == [job.number]
    version = jobs[0]["version"]
    site = jobs[0]["site"]
    url = f"/api/mobile/v1/jobs/{job.pk}/events"
    status, body = post(
        app,
        url,
        {
            "type": "arrived",
            "at": start.isoformat(),
            "version": version,
            "location": {"lat": site["lat"], "lon": site["lon"]},
        },
    )
    assert status == 200, body
    assert body["job"]["status"] == "on_site" and body["flagged"] is False
    status, body = post(
        app, url, {"type": "started", "at": start.isoformat(), "version": body["job"]["version"]}
    )
    version = body["job"]["version"]
    status, body = post(
        app, url, {"type": "completed", "at": start.isoformat(), "version": version, "resolution": ""}
    )
    assert status == 422
    assert {m["field"] for m in body["details"]["missing"]} == {"checklist[1]", "signature", "resolution"}
    completion = {
        "type": "completed",
        "at": start.isoformat(),
        "version": version,
        "resolution": "Replaced seal",
        "checklist": [{"position": 1, "result": "pass"}],
        "parts": [{"part_number": "SEAL-42", "quantity": "1", "unit_cost": "12.50"}],
        "signature": {"png_base64": base64.b64encode(PNG).decode(), "signer_name": "李娜"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        status, body = post(app, url, completion)
    assert status == 200, body
    assert body["job"]["status"] == "completed" and body["job"]["signed_by"] == "李娜"
    assert WorkOrder.objects.get(pk=job.pk).parts.count() == 1
    assert app.get(f"/api/mobile/v1/jobs/{job.pk}/report.pdf").status_code == 200
