"""The edges of the inputs that are not one field of one schema: a body past the size Django
reads, a query string with too many parameters, the optimizer's first day; and that every date
any schema or form takes, of later features too, is bounded by fieldservice.ranges.

Before issue 14 a JSON body over DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB; nginx lets 11 MB through,
for uploads) got Django's HTML 400 page from either API, and a run could be queued for
9999-12-31, whose horizon no day can be added to.
"""

from __future__ import annotations

import importlib
import io
import json
import pkgutil
from collections.abc import Iterator
from typing import Any

import pytest
from django import forms
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from ninja import NinjaAPI

from fieldservice import clock, ranges
from fieldservice.api import api as dispatcher_api
from mobile_api.api import api as mobile_api
from scheduling.models import ScheduleRun
from tests.mobile_api.conftest import API as MOBILE_API
from tests.project import PROJECT_PACKAGES

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_json_body_over_the_limit_is_413_with_the_error_json_on_both_apis(
    dispatcher: User, tech_a: User, settings: Any
) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    expected = {
        "code": "too_large",
        "message": f"The request body is over the limit of {limit // 1024 // 1024} MB.",
        "details": {"limit_bytes": limit},
    }
    too_big = json.dumps({"date": clock.today().isoformat(), "padding": "x" * limit})
    response = client_for(dispatcher).post("/api/v1/schedule/runs", too_big, "application/json")
    assert (response.status_code, response.json()) == (413, expected)
    assert not ScheduleRun.objects.exists()

    # The app's login: a body is read before anyone is known.
    body = json.dumps({"username": tech_a.username, "password": "x" * limit})
    response = Client().post(f"{MOBILE_API}/auth/token", body, "application/json")
    assert (response.status_code, response.json()) == (413, expected)


def test_a_query_string_with_too_many_parameters_is_400_with_the_error_json(
    dispatcher: User, settings: Any
) -> None:
    many = "&".join(f"status=new&x{n}=1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    response = client_for(dispatcher).get(f"/api/v1/work-orders?{many}")
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2100-01-01", "1969-12-31"])
def test_a_run_for_a_day_out_of_range_is_refused_naming_it(dispatcher: User, day: str) -> None:
    response = client_for(dispatcher).post("/api/v1/schedule/runs", {"date": day}, "application/json")
    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["details"]] == ["date"]
    assert not ScheduleRun.objects.exists()


def test_a_run_on_the_range_s_last_day_is_queued(dispatcher: User) -> None:
    body = {"date": ranges.LATEST_DATE.isoformat(), "days": 14}
    response = client_for(dispatcher).post("/api/v1/schedule/runs", body, "application/json")
    assert response.status_code == 202
    assert ScheduleRun.objects.get().horizon_start == ranges.LATEST_DATE


# --- every date in every schema and form is in fieldservice.ranges -----------------------------------

RANGE = {
    "date": (ranges.EARLIEST_DATE.isoformat(), ranges.LATEST_DATE.isoformat()),
    "date-time": (ranges.EARLIEST_DATETIME.isoformat(), ranges.LATEST_DATETIME.isoformat()),
}
Node = dict[str, Any]


def _dates_in(
    node: Node, components: Node, where: str, seen: frozenset[str] = frozenset()
) -> Iterator[tuple[str, Node]]:
    """Every date or date-time in a schema, nested objects, lists, maps and alternatives included."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        if name not in seen:  # a type that contains itself
            yield from _dates_in(components[name], components, where, seen | {name})
        return
    if node.get("format") in RANGE:
        yield where, node
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key, []):
            yield from _dates_in(option, components, where, seen)
    for name, child in node.get("properties", {}).items():
        yield from _dates_in(child, components, f"{where}.{name}", seen)
    if isinstance(node.get("items"), dict):
        yield from _dates_in(node["items"], components, f"{where}[]", seen)
    if isinstance(node.get("additionalProperties"), dict):
        yield from _dates_in(node["additionalProperties"], components, f"{where}{{}}", seen)


def _input_dates(api: NinjaAPI) -> Iterator[tuple[str, Node]]:
    """Every date an operation takes: in its path, query string, headers or body."""
    document = api.get_openapi_schema()
    components = document.get("components", {}).get("schemas", {})
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['in']} {parameter['name']}"
                yield from _dates_in(parameter["schema"], components, where)
            for content in operation.get("requestBody", {}).get("content", {}).values():
                yield from _dates_in(content["schema"], components, f"{method.upper()} {path} body")


def test_every_date_either_api_takes_states_the_range() -> None:
    """Those of later operations too: a date typed `dt.date` rather than ranges.BoundedDate (or
    BoundedDateTime) has no bounds in the schema, and fails here. The sweep of
    tests/faults/test_schemas_all_roles.py checks that each is refused past them."""
    found = [
        (where, node["format"], node.get("formatMinimum"), node.get("formatMaximum"))
        for api in (dispatcher_api, mobile_api)
        for where, node in _input_dates(api)
    ]
    unbounded = [
        f"{where} ({kind}): {low}..{high}" for where, kind, low, high in found if (low, high) != RANGE[kind]
    ]
    assert unbounded == []
    places = {where for where, *_ in found}
    assert {
        "POST /api/v1/work-orders/{work_order_id}/transition body.planned_end",
        "GET /api/v1/work-orders query planned_to",
        "POST /api/v1/schedule/runs body.date",
        "GET /api/mobile/v1/jobs query from",
    } <= places


DATE_FIELDS = (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField)


def _project_modules() -> list[Any]:
    """Every module of the project's packages, imported (views, admin, forms...)."""
    modules = []
    for package_name in PROJECT_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if ".migrations" in info.name or ".management" in info.name or info.name.endswith("wsgi"):
                continue
            modules.append(importlib.import_module(info.name))
    return modules


def _form_classes(base: type) -> Iterator[type]:
    for subclass in base.__subclasses__():
        yield subclass
        yield from _form_classes(subclass)


def _bounded(field: forms.Field) -> bool:
    return all(validator in field.validators for validator in ranges.DATE_VALIDATORS)


def test_every_date_a_form_takes_is_in_the_range() -> None:
    """Every form of the project, and every field a view cleans a query parameter with.

    A model form in an admin module gets its model fields from the admin, which takes them from
    fieldservice.ranges (tests/test_admin.py checks every registered model's); only the fields
    it declares itself are checked here."""
    modules = _project_modules()
    checked: dict[str, bool] = {}
    for module in modules:
        for name, value in vars(module).items():
            if isinstance(value, DATE_FIELDS):
                checked[f"{module.__name__}.{name}"] = _bounded(value)
    for form in set(_form_classes(forms.BaseForm)):
        if not form.__module__.startswith(PROJECT_PACKAGES):
            continue
        in_admin = issubclass(form, forms.BaseModelForm) and "admin" in form.__module__.split(".")
        fields = form.declared_fields if in_admin else form.base_fields  # type: ignore[attr-defined]
        for name, field in fields.items():
            if isinstance(field, DATE_FIELDS):
                checked[f"{form.__module__}.{form.__qualname__}.{name}"] = _bounded(field)
    assert {"scheduling.views.DAY_FIELD", "fieldservice.kpis.views.KpiFilterForm.until"} <= set(checked)
    assert [where for where, bounded in checked.items() if not bounded] == []


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("compute_health", "--today"),
        ("run_renewals", "--today"),
        ("generate_pm", "--today"),
        ("solve_day", "--date"),
        ("seed_demo", "--today"),
    ],
)
@pytest.mark.parametrize("day", ["9999-12-31", "1969-12-31"])
def test_a_command_refuses_a_date_outside_the_range_naming_the_option(
    command: str, option: str, day: str
) -> None:
    """The commands' dates are bounded by fieldservice.ranges too: a clear error, nothing run."""
    with pytest.raises(CommandError) as refused:
        call_command(command, option, day, stdout=io.StringIO(), stderr=io.StringIO())
    message = str(refused.value)
    assert day in message and f"{ranges.EARLIEST_DATE} and {ranges.LATEST_DATE}" in message
