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
from django.test import Client
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


# --- what the schema states (issue 14) ------------------------------------------------------------

MUTATIONS = [
    ("post", "/api/mobile/v1/jobs/{job_id}/events"),
    ("post", "/api/mobile/v1/jobs/{job_id}/checklist"),
    ("post", "/api/mobile/v1/jobs/{job_id}/parts"),
    ("post", "/api/mobile/v1/jobs/{job_id}/meter-readings"),
    ("post", "/api/mobile/v1/jobs/{job_id}/signature"),
    ("post", "/api/mobile/v1/jobs/{job_id}/photos"),
]


def _spec() -> dict[str, Any]:
    return Client().get(f"{API}/openapi.json").json()


def _resolved(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _unbounded(spec: dict[str, Any], node: dict[str, Any], where: str) -> Iterator[str]:
    """Every value in `node` that the schema lets be as long, as big or as many as a client likes."""
    node = _resolved(spec, node)
    branches = [_resolved(spec, branch) for branch in node.get("anyOf", [])]
    if branches:
        # A decimal is a bounded number or the same number as a string (pydantic's schema).
        if any(branch.get("type") == "number" for branch in branches):
            branches = [branch for branch in branches if branch.get("type") != "string"]
        for branch in branches:
            if branch.get("type") != "null":
                yield from _unbounded(spec, branch, where)
        return
    kind = node.get("type")
    if kind == "object":
        for name, child in node.get("properties", {}).items():
            yield from _unbounded(spec, child, f"{where}.{name}")
    elif kind == "array":
        if "maxItems" not in node:
            yield where
        yield from _unbounded(spec, node["items"], f"{where}[]")
    elif kind == "string":
        if node.get("format") in ("date", "date-time"):
            if not {"formatMinimum", "formatMaximum"} <= set(node):
                yield where
        elif "maxLength" not in node and "enum" not in node and node.get("format") != "binary":
            yield where
    elif kind in ("integer", "number") and not {"maximum"} & set(node):
        yield where


def test_every_input_is_bounded_in_the_schema() -> None:
    """Lengths, numbers, dates, lists: a generated client or a fuzzer knows every limit, and
    a value outside it is a 422 naming the field (`caption` had none: a 500 from the database).
    Path ids are not bounded: an id that is no job is 404, whatever its size."""
    spec = _spec()
    unbounded: list[str] = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "path":
                    where = f"{method} {path} {parameter['in']} {parameter['name']}"
                    unbounded += _unbounded(spec, parameter["schema"], where)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                unbounded += _unbounded(spec, content["schema"], f"{method} {path} body")
    assert unbounded == []


@pytest.mark.parametrize(("method", "path"), MUTATIONS)
def test_every_change_states_its_required_idempotency_key(method: str, path: str) -> None:
    parameters = {p["name"]: p for p in _spec()["paths"][path][method]["parameters"]}
    key = parameters["Idempotency-Key"]
    assert key["in"] == "header" and key["required"] is True
    assert key["schema"]["maxLength"] == 100 and key["schema"]["minLength"] == 1
    assert parameters["Device-Time"]["required"] is False


def test_the_sync_cursor_states_its_format() -> None:
    [cursor] = _spec()["paths"]["/api/mobile/v1/sync"]["get"]["parameters"]
    [stated, _none] = cursor["schema"]["anyOf"]
    assert stated["pattern"] == "^[A-Za-z0-9_-]+$" and stated["maxLength"] == 4096
