"""Both APIs against their own OpenAPI schemas, with generated requests, as every kind of caller.

`/api/v1/` (dispatchers and integrations) is called with the integration tokens of a
dispatcher, an account manager, a technician and an admin, and with a dispatcher's web
session (with its CSRF token, as the pages send it); `/api/mobile/v1/` with technician
A's app token and, misissued, a dispatcher's (which it must refuse with a documented 401).
Every generated request is sent as each of them in turn: whatever a role may or may not do,
no answer is a 5xx, and every answer keeps to the schema (status, content type, body).

Path ids are real objects (technician A's job on site, the account manager's account and
renewal, a schedule run), so generated bodies reach the services instead of stopping at 404.
Bounded (20 examples per operation, each sent as every caller) and derandomized, so the run is
repeatable and takes about a minute. (At 100 examples it passes too, in about two minutes.)
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from ninja.openapi.schema import OpenAPISchema
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts.models import AccountTask, RenewalOpportunity
from fieldservice import clock, roles
from fieldservice.api import api as dispatcher_api
from fieldservice.models import ApiToken
from fieldservice.tokens import token_issue
from fieldservice.wsgi import application
from mobile_api.api import api as mobile_api
from scheduling.models import ScheduleRun
from tests import factories
from tests.conftest import own_cache_keys
from tickets import records
from tickets import services as work_orders
from tickets.models import ServiceReport, WorkOrder

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HOST = {"Host": "localhost"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.4\n%%EOF\n"
EXAMPLES = settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# Loaded at import: the app serves its schemas without the database.
dispatcher_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, headers=HOST)
mobile_schema = schemathesis.openapi.from_wsgi("/api/mobile/v1/openapi.json", application, headers=HOST)


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    """Calls go straight to the WSGI app, which would close the test's database connection at
    the end of each request; keep it open, as django.test.Client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@dataclass
class Callers:
    """Each caller's credentials (headers) per API, and the real ids to put in paths."""

    dispatcher_api: dict[str, dict[str, str]]
    mobile_api: dict[str, dict[str, str]]
    ids: dict[str, int]


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Uploads in a temporary media root; failed logins (generated /auth/token calls) and cached
    answers under this test's own cache prefix, deleted afterwards."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with own_cache_keys(settings, "schemas"):
        yield


@pytest.fixture
def callers(db: None) -> Callers:
    technician = factories.user(username="tech01", role=roles.TECHNICIAN)
    factories.technician(person=technician, skills={"compressor": 3})
    dispatcher = factories.user(username="dispatcher", role=roles.DISPATCHER, is_staff=True)
    manager = factories.user(username="manager", role=roles.ACCOUNT_MANAGER, is_staff=True)
    admin = factories.user(username="admin", role=roles.ADMIN, is_staff=True, is_superuser=True)

    account = factories.account(account_manager=manager)
    site = factories.site(account=account)
    unit = factories.equipment(site=site)
    factories.contact(site=site, is_primary=True)
    contract = factories.contract(account=account, covers=[unit])  # a term around today
    opportunity = RenewalOpportunity.objects.create(
        contract=contract, owner=manager, quote_pdf=default_storage.save("quotes/q.pdf", ContentFile(PDF))
    )
    task = AccountTask.objects.create(
        account=account, owner=manager, kind=AccountTask.Kind.RENEWAL_REMINDER, title="Call the plant"
    )
    start = clock.now().replace(microsecond=0)
    job = work_orders.work_order_create(
        site=site,
        equipment=unit,
        kind="corrective",
        title="Trips",
        by=dispatcher,
        checklist=[{"label": "Oil"}],
    )
    job = work_orders.work_order_schedule(
        work_order=job,
        technician=technician,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        by=dispatcher,
        version=job.version,
    )
    for move in (
        work_orders.work_order_dispatch,
        work_orders.work_order_start_travel,
        work_orders.work_order_arrive,
    ):
        job = move(work_order=job, by=technician, version=job.version)
    attachment = records.attachment_add(work_order=job, upload=_upload("p.png", PNG), by=technician)
    ServiceReport.objects.create(
        work_order=WorkOrder.objects.get(pk=job.pk),
        pdf=default_storage.save("reports/r.pdf", ContentFile(PDF)),
        generated_at=clock.now(),
    )
    run = ScheduleRun.objects.create(created_by=dispatcher, horizon_start=clock.today())

    def integration(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_issue(user=user, kind=ApiToken.Kind.INTEGRATION)[0]}"}

    def mobile(user: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_issue(user=user, kind=ApiToken.Kind.MOBILE)[0]}"}

    def web_session(user: Any) -> dict[str, str]:
        browser = Client()
        browser.force_login(user)
        session = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
        csrf = get_random_string(32)
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={session}; {django_settings.CSRF_COOKIE_NAME}={csrf}"
        return {"Cookie": cookie, "X-CSRFToken": csrf}

    return Callers(
        dispatcher_api={
            "dispatcher": integration(dispatcher),
            "dispatcher (web session)": web_session(dispatcher),
            "account manager": integration(manager),
            "technician": integration(technician),
            "admin": integration(admin),
        },
        mobile_api={"technician": mobile(technician), "dispatcher (refused)": mobile(dispatcher)},
        ids={
            "work_order_id": job.pk,
            "job_id": job.pk,
            "attachment_id": attachment.pk,
            "account_id": account.pk,
            "opportunity_id": opportunity.pk,
            "task_id": task.pk,
            "run_id": run.pk,
        },
    )


def _upload(name: str, content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/png")


def _call_as_everyone(case: Any, credentials: dict[str, dict[str, str]], ids: dict[str, int]) -> None:
    for name in list(case.path_parameters or {}):
        if name in ids:
            case.path_parameters[name] = ids[name]
    for role, credential in credentials.items():
        headers = {**HOST, **credential, "Idempotency-Key": str(uuid.uuid4())}
        try:
            with _test_connection_kept():
                case.call_and_validate(headers=headers, checks=CHECKS)
        except BaseException as failure:
            failure.add_note(f"Called as: {role}")
            raise


@dispatcher_schema.parametrize()
@EXAMPLES
def test_the_dispatcher_api_keeps_to_its_schema_for_every_role(case: Any, callers: Callers) -> None:
    _call_as_everyone(case, callers.dispatcher_api, callers.ids)


@mobile_schema.parametrize()
@EXAMPLES
def test_the_mobile_api_keeps_to_its_schema_for_every_role(case: Any, callers: Callers) -> None:
    _call_as_everyone(case, callers.mobile_api, callers.ids)


def test_no_two_types_share_a_name_in_either_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-ninja merges every model's definitions into one `components` section by name,
    silently keeping the last: two enums called "Status" made the schema lie about one of
    them. Any such clash, now or later, fails here."""
    clashes: list[str] = []
    merge = OpenAPISchema.add_schema_definitions

    def merge_checking(self: OpenAPISchema, definitions: dict[str, Any]) -> None:
        for name, definition in definitions.items():
            if name in self.schemas and self.schemas[name] != definition:
                clashes.append(f"{name}: {self.schemas[name]} vs {definition}")
        merge(self, definitions)

    monkeypatch.setattr(OpenAPISchema, "add_schema_definitions", merge_checking)
    for api in (dispatcher_api, mobile_api):
        api.get_openapi_schema()
    assert clashes == []


# (method, path, JSON body, the refusal: 422 in a query string, 400 in a body)
NulRequest = tuple[str, str, dict[str, Any] | None, int]
NUL_REQUESTS: dict[str, list[NulRequest]] = {
    "mobile": [
        ("post", "/api/mobile/v1/auth/token", {"username": "tech01\x00", "password": "demo"}, 400),
        ("get", "/api/mobile/v1/sync?cursor=%00", None, 422),
        (
            "post",
            "/api/mobile/v1/jobs/{job_id}/parts",
            {"parts": [{"part_number": "F\x00", "quantity": 1}]},
            400,
        ),
    ],
    "dispatcher": [
        ("get", "/api/v1/work-orders?search=%00", None, 422),
        ("get", "/api/v1/renewals?band=%00", None, 422),
        ("patch", "/api/v1/work-orders/{work_order_id}", {"version": 1, "description": "\x00"}, 400),
    ],
}


@pytest.mark.parametrize("api", ["mobile", "dispatcher"])
def test_text_holding_a_nul_character_is_refused_not_a_server_error(api: str, callers: Callers) -> None:
    """PostgreSQL cannot store U+0000 in text: the schema run found it as 500s (fieldservice.parsers)."""
    credential = callers.mobile_api["technician"] if api == "mobile" else callers.dispatcher_api["admin"]
    client = Client(raise_request_exception=False, HTTP_AUTHORIZATION=credential["Authorization"])
    answers, expected = [], []
    for method, path, body, refusal in NUL_REQUESTS[api]:
        url = path.format(**callers.ids)
        response = getattr(client, method)(
            url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
        )
        answers.append((url, response.status_code))
        expected.append((url, refusal))
    assert answers == expected
