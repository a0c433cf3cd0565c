"""Both APIs against their own OpenAPI schemas, with generated requests, as every kind of caller.

`/api/v1/` (dispatchers and integrations) is called with the integration tokens of a
dispatcher, an account manager, a technician and an admin, and with a dispatcher's web
session (with its CSRF token, as the pages send it); `/api/mobile/v1/` with technician
A's app token and, misissued, a dispatcher's (which it must refuse with a documented 401).
Every generated request is sent as each of them in turn: whatever a role may or may not do,
no answer is a 5xx, and every answer keeps to the schema (status, content type, body).

Path ids are real objects (technician A's job on site, the account manager's account and
renewal, a schedule run), so generated bodies reach the services instead of stopping at 404.
Dates and date-times are drawn half from the edges (0001-01-01, 1969-12-31, 2100-01-01,
9999-12-31, without a time zone, at ±14:00) and half from inside fieldservice.ranges.
Bounded (20 examples per operation, each sent as every caller) and derandomized, so the run is
repeatable and takes about a minute.

Then every parameter of every operation (path, query, header, each property of a body, nested
ones included) is tried in turn at its edges, the rest of the request valid: dates past either
end of the range, malformed or without a time zone; strings empty, one past the longest text,
100 000 characters; numbers 0, -1, 2^31, 2^63, 1e308, NaN; and the wrong type (null, [], {}).
No answer may be a 5xx, a date malformed or past fieldservice.ranges must be refused (4xx), and
once a date or a number at its edge is accepted, the pages that show what it was written to (the
job's page, the board, its back-office form) must still open. The
sweep runs as the caller who reaches furthest (the admin's token on /api/v1/, technician A's on
the app's API).

The deeper run (`make deep`), about five minutes on two cores: 100 examples per operation,
schemathesis's coverage phase too, and the sweep as every caller:
    FUZZ_DEEP=1 .venv/bin/pytest tests/faults/test_schemas_all_roles.py
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import Client
from django.utils.crypto import get_random_string
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from ninja.openapi.schema import OpenAPISchema
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cases import services as case_services
from contracts.models import AccountTask, RenewalOpportunity
from fieldservice import clock, ranges, roles
from fieldservice.api import api as dispatcher_api
from fieldservice.models import ApiToken
from fieldservice.tokens import token_issue
from fieldservice.wsgi import application
from mobile_api.api import api as mobile_api
from scheduling.models import ScheduleRun
from tests import factories
from tests.conftest import own_cache_keys
from tests.mobile_api.conftest import PNG
from tickets import creation, lifecycle, site_visit
from tickets.models import ServiceReport, WorkOrder
from tickets.records import files

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
HOST = {"Host": "localhost"}
PDF = b"%PDF-1.4\n%%EOF\n"
# The deeper run (FUZZ_DEEP=1): more examples per operation, schemathesis's coverage phase (a
# case per constraint of the schema: each maxLength, maximum, enum... and one past it), and the
# sweep below as every caller. FUZZ_EXAMPLES sets the examples per operation in either run.
DEEP = os.environ.get("FUZZ_DEEP", "") not in ("", "0")
EXAMPLES = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "100" if DEEP else "20")),
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

# The edges of every date and date-time: either side of fieldservice.ranges, the first and last
# days Python knows (one day more overflows), days that do not exist, no time zone, ±14:00.
EDGE_DATES = [
    "0001-01-01",
    "1969-12-31",
    "1970-01-01",
    "2099-12-31",
    "2100-01-01",
    "9999-12-31",
    "2027-02-29",
    "2027-13-01",
    "27-3-14",
    "",
]
EDGE_DATETIMES = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+14:00",
    "1969-12-31T23:59:59+00:00",
    "1970-01-01T00:00:00+00:00",
    "2099-12-31T23:59:59+00:00",
    "2099-12-31T23:59:59-12:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31",
    "2027-03-14T09:00:00",
    "2027-03-14T24:00:01+08:00",
    "",
]


def _inside_dates() -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=ranges.EARLIEST_DATE, max_value=ranges.LATEST_DATE)


# Half the generated dates are edges, half inside the range (those reach the services).
schemathesis.openapi.format(
    "date", st.one_of(st.sampled_from(EDGE_DATES), _inside_dates().map(dt.date.isoformat))
)
schemathesis.openapi.format(
    "date-time",
    st.one_of(
        st.sampled_from(EDGE_DATETIMES),
        st.builds(
            lambda day, minute, offset: (
                dt.datetime.combine(day, dt.time(), dt.timezone(dt.timedelta(hours=offset)))
                + dt.timedelta(minutes=minute)
            ).isoformat(),
            _inside_dates(),
            st.integers(0, 24 * 60 - 1),
            st.integers(-12, 14),
        ),
    ),
)

# Loaded at import: the app serves its schemas without the database.
dispatcher_schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application, headers=HOST)
mobile_schema = schemathesis.openapi.from_wsgi("/api/mobile/v1/openapi.json", application, headers=HOST)
if not DEEP:
    # Three cases in four were the coverage phase's; every parameter's edges are tried by the
    # sweep below instead, once, rather than as each of the seven callers.
    for schema in (dispatcher_schema, mobile_schema):
        schema.config.phases.update(phases=["examples", "fuzzing"])


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
    office: dict[str, str]  # the admin's web session, for the pages


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
    job = creation.work_order_create(
        site=site,
        equipment=unit,
        kind="corrective",
        title="Trips",
        by=dispatcher,
        checklist=[{"label": "Oil"}],
    )
    job = lifecycle.work_order_schedule(
        work_order=job,
        technician=technician,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        by=dispatcher,
        version=job.version,
    )
    for move in (
        lifecycle.work_order_dispatch,
        site_visit.work_order_start_travel,
        site_visit.work_order_arrive,
    ):
        job = move(work_order=job, by=technician, version=job.version)
    attachment = files.attachment_add(work_order=job, upload=_upload("p.png", PNG), by=technician)
    ServiceReport.objects.create(
        work_order=WorkOrder.objects.get(pk=job.pk),
        pdf=default_storage.save("reports/r.pdf", ContentFile(PDF)),
        generated_at=clock.now(),
    )
    run = ScheduleRun.objects.create(created_by=dispatcher, horizon_start=clock.today())
    area = factories.territory()
    new_job = creation.work_order_create(site=site, kind="corrective", title="Leak", by=dispatcher)
    case = case_services.case_open(
        account=account, kind="complaint", severity=2, channel="phone", title="Noise", by=dispatcher
    )

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
            "case_id": case.pk,
            # Not in any path: the sweep's valid values of the body's and the query's ids.
            "site_id": site.pk,
            "equipment_id": unit.pk,
            "territory_id": area.pk,
            "owner_id": manager.pk,
            "version": WorkOrder.objects.get(pk=job.pk).version,
            "new_job_id": new_job.pk,
        },
        office=web_session(admin),
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


# --- every parameter at its edges ------------------------------------------------------------

EDGE_STRINGS = [
    "",
    " ",
    "x" * (ranges.LONG_TEXT_LENGTH + 1),  # one past the longest text any field takes
    "长" * 100_000,
    "\u202etxt.exe",  # right-to-left override
    "😀" * (ranges.SHORT_TEXT_LENGTH + 1),  # one past a short text, in 4-byte characters
    "'; DROP TABLE tickets_workorder; --",
    "%s%n%(x)s{0}",
]
EDGE_NUMBERS: list[Any] = [
    0,
    -1,
    2**31,
    -(2**31) - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    1e308,
    -1e308,
    0.5,
    float("nan"),
    float("inf"),
    "1e400",
]
WRONG_TYPES: list[Any] = [None, [], {}, True]
# What is shown of the objects the requests write to; each must still open after a write of a
# date or number at its edge.
PAGES_AFTER_A_WRITE = (
    "/work-orders/{work_order_id}/",
    "/work-orders/{new_job_id}/",
    "/dispatch/?territory=all",
    "/admin/tickets/workorder/{new_job_id}/change/",
    "/accounts/{account_id}/",
)
EDGE_IDS = [0, 2**63, 10**30]  # in a path (a negative one does not match the route)
Schema = dict[str, Any]


def _resolve(schema: Schema, components: Schema) -> Schema:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _options(schema: Schema, components: Schema) -> list[Schema]:
    """The schema's alternatives (anyOf, oneOf, allOf flattened), `null` left out."""
    schema = _resolve(schema, components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return [option for sub in schema[key] for option in _options(sub, components)]
    return [] if schema.get("type") == "null" else [schema]


def _example(schema: Schema, components: Schema, name: str, good: dict[str, Any]) -> Any:
    """A valid value for the schema (every property of an object, optional ones too), taking
    real objects' ids and the like from `good` by the property's name."""
    if name in good:
        return good[name]
    options = _options(schema, components)
    if not options:
        return None
    chosen = options[0]
    if "enum" in chosen:
        return chosen["enum"][0]
    if "const" in chosen:
        return chosen["const"]
    kind = chosen.get("type")
    if kind == "object":
        properties = chosen.get("properties", {})
        return {key: _example(value, components, key, good) for key, value in properties.items()}
    if kind == "array":
        return [_example(chosen.get("items", {}), components, name, good)]
    if kind == "string":
        fmt = chosen.get("format")
        if fmt == "date":
            return clock.today().isoformat()
        if fmt == "date-time":
            return clock.now().isoformat()
        return "x" * max(1, chosen.get("minLength", 1))
    if kind in ("integer", "number"):
        return max(1, chosen.get("minimum", 1))
    return False if kind == "boolean" else None


def _edges(schema: Schema, components: Schema) -> list[Any]:
    """The values to try in place of a valid one: the edges of each type it may take, and the
    wrong types."""
    values = list(WRONG_TYPES)
    for option in _options(schema, components):
        kind, fmt = option.get("type"), option.get("format")
        if fmt == "date":
            values += EDGE_DATES
        elif fmt == "date-time":
            values += EDGE_DATETIMES
        elif fmt == "binary":
            continue
        elif kind == "string" or "enum" in option:
            values += EDGE_STRINGS
        elif kind in ("integer", "number"):
            values += EDGE_NUMBERS
        elif kind == "array":
            values += [[value] for value in _edges(option.get("items", {}), components)[len(WRONG_TYPES) :]]
    return values


Path = tuple[str | int, ...]


def _body_leaves(schema: Schema, components: Schema, prefix: Path = ()) -> Iterator[tuple[Path, Schema]]:
    """Every property of a body, and those of its nested objects and of its lists' items."""
    for option in _options(schema, components):
        if option.get("type") == "object":
            for key, value in option.get("properties", {}).items():
                yield (*prefix, key), value
                yield from _body_leaves(value, components, (*prefix, key))
        elif option.get("type") == "array":
            yield from _body_leaves(option.get("items", {}), components, (*prefix, 0))


def _replaced(body: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(head, int):
        items = list(body) if isinstance(body, list) and body else [{}]
        items[0] = _replaced(items[0], rest, value)
        return items
    copy = dict(body) if isinstance(body, dict) else {}
    copy[head] = _replaced(copy.get(head), rest, value)
    return copy


@dataclass(frozen=True)
class Try:
    """One request of the sweep: an operation with one parameter at one of its edges."""

    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    multipart: bool
    where: str
    value: Any = None  # the edge value tried

    def describe(self) -> str:
        return f"{self.method.upper()} {self.path} with {self.where}"


def _tries(api: Any, good: dict[str, Any]) -> Iterator[Try]:
    """For every operation of `api`, a valid request, then one per parameter and edge value."""
    document = api.get_openapi_schema()
    components = document.get("components", {}).get("schemas", {})
    for template, methods in document["paths"].items():
        for method, operation in methods.items():
            yield from _operation_tries(template, method, operation, components, good)


def _operation_tries(
    template: str, method: str, operation: Schema, components: Schema, good: dict[str, Any]
) -> Iterator[Try]:
    good = {**good, **good.get(f"{method.upper()} {template}", {})}
    parameters = operation.get("parameters", [])
    path_values = {p["name"]: good.get(p["name"], 1) for p in parameters if p["in"] == "path"}
    query = {
        p["name"]: _example(p["schema"], components, p["name"], good)
        for p in parameters
        if p["in"] == "query" and p.get("required")
    }
    headers = {
        p["name"]: str(_example(p["schema"], components, p["name"], good))
        for p in parameters
        if p["in"] == "header"
    }
    content = operation.get("requestBody", {}).get("content", {})
    multipart = "multipart/form-data" in content
    body_schema = next(iter(content.values()))["schema"] if content else None
    body = _example(body_schema, components, "", good) if body_schema else None

    def one(where: str, *, path: dict[str, Any] | None = None, **changes: Any) -> Try:
        url = template.format(**{**path_values, **(path or {})})
        fields = {"query": query, "headers": headers, "body": body, **changes}
        return Try(method, url, multipart=multipart, where=where, **fields)

    yield one("valid values")
    for name in path_values:
        for value in EDGE_IDS:
            yield one(f"path {name}={value}", path={name: value})
    for p in parameters:
        if p["in"] not in ("query", "header"):
            continue
        for value in _edges(p["schema"], components):
            if value is None:
                continue
            where = f"{p['in']} {p['name']}={_short(value)}"
            if p["in"] == "query":
                yield one(where, query={**query, p["name"]: value}, value=value)
            else:
                yield one(where, headers={**headers, p["name"]: _query_text(value)}, value=value)
    if body_schema is None:
        return
    for leaf, leaf_schema in _body_leaves(body_schema, components):
        for value in _edges(leaf_schema, components):
            if multipart and not isinstance(value, str):
                continue  # a form field is text
            where = f"body {'.'.join(map(str, leaf))}={_short(value)}"
            yield one(where, body=_replaced(body, leaf, value), value=value)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}… ({len(text)} characters)"


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _in_range(value: str) -> bool:
    """Whether a date or an aware date-time is one fieldservice.ranges allows."""
    try:
        return ranges.in_date_range(dt.date.fromisoformat(value))
    except ValueError:
        pass
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return moment.tzinfo is not None and ranges.EARLIEST_DATETIME <= moment <= ranges.LATEST_DATETIME


# The edge dates and date-times every schema must refuse: malformed, without a time zone, or
# outside fieldservice.ranges. ("" is left out: an optional query parameter may be empty.)
REFUSED_DATES = {value for value in EDGE_DATES + EDGE_DATETIMES if value and not _in_range(value)}


def _stored_edge(attempt: Try) -> bool:
    """Whether the request tried a date or a number at its edge, which, once stored, a page might
    not be able to show (a planned end of 9999-12-31 broke the board and the work order's page)."""
    value = attempt.value
    return (
        attempt.method != "get"
        and value != ""
        and (
            value in EDGE_DATES
            or value in EDGE_DATETIMES
            or isinstance(value, int | float)
            and not isinstance(value, bool)
        )
    )


def _pages_broken(office: Client, ids: dict[str, int]) -> list[str]:
    broken = []
    for page in PAGES_AFTER_A_WRITE:
        url = page.format(**ids)
        status = office.get(url).status_code
        if status >= 500:
            broken.append(f"{url} answered {status}")
    return broken


def _send(client: Client, attempt: Try, headers: dict[str, str], *, after: Any = None) -> tuple[int, Any]:
    """The status of one request, and what `after` (called if it was accepted) returned; its
    writes are undone, so every request sees one world."""
    outcome = None
    query = [
        (name, _query_text(item))
        for name, value in attempt.query.items()
        for item in (value if isinstance(value, list) else [value])
        if item is not None
    ]
    url = f"{attempt.path}?{urlencode(query)}" if query else attempt.path
    meta = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in {**attempt.headers, **headers}.items()
    }
    method = getattr(client, attempt.method)
    with transaction.atomic():
        try:
            if attempt.body is None:
                response = method(url, **meta)
            elif attempt.multipart:
                form = {
                    **attempt.body,
                    "file": SimpleUploadedFile("p.png", PNG, content_type="image/png"),
                }
                response = method(url, form, **meta)
            else:
                # allow_nan: NaN and Infinity as JSON numbers, as a careless client sends them.
                payload = json.dumps(attempt.body, allow_nan=True)
                response = method(url, payload, content_type="application/json", **meta)
            if response.streaming:
                b"".join(response.streaming_content)
            if after is not None and response.status_code < 300:
                outcome = after()
        finally:
            transaction.set_rollback(True)
    return response.status_code, outcome


@pytest.mark.parametrize("api_name", ["dispatcher", "mobile"])
def test_every_parameter_at_its_edges_is_refused_or_served_never_a_server_error(
    api_name: str, callers: Callers
) -> None:
    """And a date or number at its edge that is accepted leaves every page able to show it."""
    api, credentials = (
        (dispatcher_api, callers.dispatcher_api)
        if api_name == "dispatcher"
        else (mobile_api, callers.mobile_api)
    )
    furthest = "admin" if api_name == "dispatcher" else "technician"
    roles_tried = credentials if DEEP else {furthest: credentials[furthest]}
    now = clock.now().replace(microsecond=0)
    new_job = WorkOrder.objects.get(pk=callers.ids["new_job_id"])
    good = {
        **callers.ids,
        "technician": "tech01",
        "username": "tech01",
        "password": "demo",
        "png_base64": base64.b64encode(PNG).decode(),
        "Idempotency-Key": "edge",
        "Device-Time": now.isoformat(),
        # Scheduling the new job, so that its planned times are stored and shown.
        "POST /api/v1/work-orders/{work_order_id}/transition": {
            "work_order_id": new_job.pk,
            "version": new_job.version,
            "to": WorkOrder.Status.SCHEDULED,
            "planned_start": now.isoformat(),
            "planned_end": (now + dt.timedelta(hours=1)).isoformat(),
        },
    }
    tries = list(_tries(api, good))
    office = _client_with(callers.office)
    failures, sent = [], 0
    for role, credential in roles_tried.items():
        client = _client_with(credential)
        auth = {key: value for key, value in credential.items() if key != "Cookie"}
        for attempt in tries:
            headers = {**auth, "Idempotency-Key": str(uuid.uuid4())}
            after = (lambda: _pages_broken(office, callers.ids)) if _stored_edge(attempt) else None
            status, broken = _send(client, attempt, headers, after=after)
            sent += 1
            if status >= 500:
                failures.append(f"{status} as {role}: {attempt.describe()}")
            elif status < 400 and isinstance(attempt.value, str) and attempt.value in REFUSED_DATES:
                # A date past the range must be refused by the schema, not left to a page.
                failures.append(f"{status} as {role}: {attempt.describe()} was accepted")
            failures += [f"{page}, once {attempt.describe()} was accepted" for page in broken or ()]
    assert sent > 500
    assert sum(isinstance(attempt.value, str) and attempt.value in REFUSED_DATES for attempt in tries) > 20
    assert failures == [], f"{len(failures)} of {sent} requests failed:\n" + "\n".join(failures)


def _client_with(credential: dict[str, str]) -> Client:
    client = Client(raise_request_exception=False)
    for pair in filter(None, credential.get("Cookie", "").split("; ")):
        name, value = pair.split("=", 1)
        client.cookies[name] = value
    return client
