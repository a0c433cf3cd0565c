"""The mobile API against its own OpenAPI schema, with generated requests (schemathesis).

Authenticated as technician A with a real token; every call carries a fresh Idempotency-Key,
and `{job_id}` is A's own job (on site, so records can be added), so generated bodies reach
the services instead of stopping at 404. Bounded and derandomized so the run is repeatable.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fieldservice.wsgi import application
from tests.mobile_api.conftest import API, JobMaker, login
from tickets.models import WorkOrder

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# Loaded at import (the app serves its schema without the database). Not via
# schemathesis.pytest.from_fixture: its lazy loader sets `node._nodeid`, which pytest 9 no
# longer has (AttributeError).
schema = schemathesis.openapi.from_wsgi(f"{API}/openapi.json", application, headers={"Host": "localhost"})


@contextmanager
def _test_connection_kept() -> Iterator[None]:
    """Calls go straight to the WSGI app, which would close the test's database connection
    at the end of each request; keep it open, as django.test.Client does (per request,
    because the Client reconnects the signals after each of its own)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def technician_session(db: None, technician_a: User, make_job: JobMaker) -> tuple[str, WorkOrder]:
    job = make_job(
        technician=technician_a, status=WorkOrder.Status.ON_SITE, checklist=[{"label": "Pressure"}]
    )
    return login(technician_a.username).token, job


@schema.parametrize()
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_schema(case: Any, technician_session: tuple[str, WorkOrder]) -> None:
    token, job = technician_session
    if case.path_parameters and "job_id" in case.path_parameters:
        case.path_parameters["job_id"] = job.pk
    headers = {
        "Authorization": f"Bearer {token}",
        "Idempotency-Key": str(uuid.uuid4()),
        "Host": "localhost",
    }
    with _test_connection_kept():
        case.call_and_validate(headers=headers, checks=CHECKS)
