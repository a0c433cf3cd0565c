"""Every page asked with query parameters (and form fields) at their edges or not parameters at
all, as every kind of user; every back-office list asked for a date past the calendar's end; and
a row stored out of range before fieldservice.ranges was enforced: no answer is a 5xx.

The pages come from the URL configuration, walked as tests/test_permission_matrix.py walks it,
so a page added later is tried too. Each is asked with GET by every persona, and with POST by
the admin (who passes every role gate), once per set of edge values below; a page reads the
parameters it knows and ignores the rest. Before issue 14, `/dispatch/?day=0001-01-01` and
`/kpis/?until=9999-12` answered 500 (OverflowError), and so did `/dispatch/insert/` given a
work order that is not a number.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from cases import services as case_services
from contracts.models import AccountTask, RenewalOpportunity
from fieldservice import clock
from fieldservice.admin import BackOfficeAdmin
from fieldservice.models import ApiToken
from fieldservice.tokens import token_issue
from scheduling.models import ScheduleRun, Technician
from tests import factories
from tests.conftest import own_cache_keys
from tests.mobile_api.conftest import ADVANCE, PATH_TO
from tests.mobile_api.conftest import API as MOBILE_API
from tests.test_audit import change_form
from tickets import creation, lifecycle, site_visit
from tickets.models import WorkOrder
from tickets.survey import survey_token_for

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "technician", "dispatcher", "manager", "admin")
# What the pages read from a query string or a form, at the edges of their range and past them.
EDGES: list[dict[str, str]] = [
    {"day": "0001-01-01", "until": "0001-01", "territory": "0", "version": "0", "time_limit_s": "0"},
    {
        "day": "9999-12-31",
        "until": "9999-12",
        "territory": "9" * 30,
        "version": "9" * 30,
        "work_order": "9" * 30,
    },
    {
        "day": "abc",
        "until": "abc",
        "territory": "²",
        "version": "-1",
        "technician": "abc",
        "work_order": "abc",
        "start": "25:00",
        "industry": "x" * 10_000,
        "account_manager": "abc",
        "stage": "x" * 300,
    },
    {"day": "2027-02-30", "until": "2027-13", "territory": "all", "time_limit_s": "9" * 30, "csat": "99"},
]
# Not tried: logging out ends the session the other requests use; the APIs have their own test
# (tests/faults/test_schemas_all_roles.py) and the back office's lists theirs (below).
SKIPPED = re.compile(r"^/(logout/|api/|admin/)")


def web_routes() -> list[str]:
    """Every route of the URL configuration but the skipped ones, as "/" + its pattern."""
    found: list[str] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif not SKIPPED.match("/" + route):
                found.append("/" + route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Uploads in a temporary media root; failed logins under this test's own cache prefix."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with own_cache_keys(settings, "bad-input-pages"):
        yield


@pytest.fixture
def world(dispatcher: User, account_manager: User, admin_user: User, tech_a: User) -> dict[str, Any]:
    """A day on the board (a technician with a shift and a job), an account with its renewal and
    task, a run, and a completed job with its survey link: every page has something to show."""
    area = factories.territory()
    technician = factories.technician(
        person=tech_a, skills={"compressor": 3}, territory=area, home_base=area.boundary.centroid
    )
    factories.shift(technician=technician, date=clock.today())
    account = factories.account(account_manager=account_manager)
    site = factories.site(account=account)
    unit = factories.equipment(site=site)
    contract = factories.contract(account=account, covers=[unit])
    opportunity = RenewalOpportunity.objects.create(contract=contract, owner=account_manager)
    task = AccountTask.objects.create(
        account=account, owner=account_manager, kind=AccountTask.Kind.RENEWAL_REMINDER, title="Call"
    )
    start = clock.now().replace(microsecond=0)
    jobs = []
    for equipment in (unit, None):  # the second is completed: with no unit, no checklist to fill
        job = creation.work_order_create(
            site=site, equipment=equipment, kind="corrective", title="Trips", by=None
        )
        job = lifecycle.work_order_schedule(
            work_order=job,
            technician=tech_a,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=1),
            by=None,
            version=job.version,
        )
        jobs.append(job)
    done = jobs[1]
    for state in PATH_TO[1:]:
        done = ADVANCE[state](work_order=done, by=tech_a, version=done.version)
    done = site_visit.work_order_complete(
        work_order=done, by=tech_a, version=done.version, resolution="Fixed"
    )
    run = ScheduleRun.objects.create(created_by=dispatcher, horizon_start=clock.today())
    case = case_services.case_open(
        account=account, kind="complaint", severity=2, channel="phone", title="Noise", by=dispatcher
    )
    return {
        "users": {
            "technician": tech_a,
            "dispatcher": dispatcher,
            "manager": account_manager,
            "admin": admin_user,
        },
        "ids": {
            "work_order_id": jobs[0].pk,
            "run_id": run.pk,
            "account_id": account.pk,
            "opportunity_id": opportunity.pk,
            "task_id": task.pk,
            "token": survey_token_for(done),
            "equipment_id": unit.pk,
            "contract_id": contract.pk,
            "site_id": site.pk,
            "case_id": case.pk,
        },
    }


def _client(world: dict[str, Any], role: str) -> Client:
    client = Client(raise_request_exception=False)
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


def _url(route: str, ids: dict[str, Any]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(ids[match[1]]), route)


def _status(response: Any) -> int:
    if response.streaming:
        b"".join(response.streaming_content)  # read to the end, so the file is closed
    return int(response.status_code)


def test_every_page_answers_edge_parameters_without_a_server_error(world: dict[str, Any]) -> None:
    routes = web_routes()
    assert {"/dispatch/", "/kpis/", "/kpis/export.csv", "/work-orders/<int:work_order_id>/"} <= set(routes)
    failures, tried = [], 0
    for role in ROLES:
        client = _client(world, role)
        for route in routes:
            url = _url(route, world["ids"])
            for edges in EDGES:
                tried += 1
                status = _status(client.get(url, edges))
                if status >= 500:
                    failures.append(f"GET {url}?{'&'.join(sorted(edges))} as {role}: {status}")
    office = _client(world, "admin")
    for route in routes:
        url = _url(route, world["ids"])
        for edges in EDGES:
            tried += 1
            status = _status(office.post(url, edges))
            if status >= 500:
                failures.append(f"POST {url} ({', '.join(sorted(edges))}) as admin: {status}")
    assert tried > 300
    assert failures == [], f"{len(failures)} of {tried} requests answered 5xx:\n" + "\n".join(failures)


def test_a_bad_day_or_month_is_refused_with_400_naming_it(world: dict[str, Any]) -> None:
    """Not quietly another day's board or another year's figures."""
    client = _client(world, "dispatcher")
    for url, shown in (
        ("/dispatch/?day=0001-01-01", "Enter a date between 1970-01-01 and 2099-12-31."),
        ("/dispatch/?day=abc", "Enter a valid date."),
        ("/kpis/?until=9999-12", "Enter a date between 1970-01-01 and 2099-12-31."),
    ):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert (url, response.status_code) == (url, 400)
        assert shown in response.content.decode(), url


# --- the back office's lists ------------------------------------------------------------------------


def test_every_back_office_admin_shares_the_safe_base() -> None:
    """fieldservice.admin.BackOfficeAdmin keeps the date drill-down from overflowing and opens
    a record stored out of range: an admin registered without it (as scheduling's were) has
    a list that a far date answers with 500."""
    without = [
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label != "auth" and not isinstance(model_admin, BackOfficeAdmin)
    ]
    assert without == []


def _admin_params() -> Iterator[Any]:
    for model in sorted(admin.site._registry, key=lambda model: model._meta.label_lower):
        label = model._meta.label_lower
        yield pytest.param(model, id=label)


def _list_edges(model: type[models.Model]) -> list[dict[str, str]]:
    """A back-office list's query strings at the calendar's ends: the date drill-down (the last
    day Django knows, a year past it, year 0), each date field's range filter, and the rest."""
    model_admin = admin.site._registry[model]
    edges = [{"q": "x" * 10_000, "p": "9" * 30, "o": "99"}]
    hierarchy = model_admin.date_hierarchy
    if hierarchy:
        edges += [
            {f"{hierarchy}__year": "9999", f"{hierarchy}__month": "12", f"{hierarchy}__day": "31"},
            {f"{hierarchy}__year": "9999", f"{hierarchy}__month": "12"},
            {f"{hierarchy}__year": "9999"},
            {f"{hierarchy}__year": "0"},
            {f"{hierarchy}__year": "9" * 30},
        ]
    for field in model._meta.get_fields():
        if isinstance(field, models.DateField):  # and DateTimeField, with a time zone
            zone = "T00:00:00+00:00" if isinstance(field, models.DateTimeField) else ""
            edges += [
                {f"{field.name}__gte": f"9999-12-31{zone}", f"{field.name}__lt": f"0001-01-01{zone}"},
                {f"{field.name}__gte": f"99999-01-01{zone}"},
            ]
    return edges


@pytest.mark.parametrize("model", list(_admin_params()))
def test_every_back_office_list_answers_dates_past_the_calendar_without_a_server_error(
    model: type[models.Model], admin_user: User
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
    answers = {str(sorted(edges)): client.get(url, edges).status_code for edges in _list_edges(model)}
    assert {query: status for query, status in answers.items() if status >= 500} == {}


# --- a row stored out of range, before the range was enforced ----------------------------------------


def test_a_job_stored_with_a_planned_end_of_9999_still_opens_everywhere(
    world: dict[str, Any], dispatcher: User
) -> None:
    """The API took `planned_end` = 9999-12-31 (it no longer does): the board, the job's page and
    its back-office form answered 500, so it could not even be repaired. They open now, and a
    move on the board gives the job a planned end in the range again."""
    job_id = world["ids"]["work_order_id"]
    WorkOrder.objects.filter(pk=job_id).update(
        planned_end=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    )
    office = _client(world, "admin")
    for url in (
        "/dispatch/",
        "/dispatch/?territory=all",
        f"/work-orders/{job_id}/",
        f"/admin/tickets/workorder/{job_id}/change/",
        f"/dispatch/work-orders/{job_id}/move/",
    ):
        assert (url, office.get(url).status_code) == (url, 200)
    technician = Technician.objects.get(user=world["users"]["technician"])
    job = WorkOrder.objects.get(pk=job_id)
    moved = _client(world, "dispatcher").post(
        f"/dispatch/work-orders/{job_id}/move/save/",
        {
            "version": job.version,
            "technician": technician.pk,
            "start": "10:00",
            "day": clock.today().isoformat(),
        },
    )
    assert moved.status_code in (200, 302)
    job.refresh_from_db()
    assert job.planned_end is not None and job.planned_end.year < 9999


# The values the dispatcher API took before fieldservice.ranges, at the calendar's ends in UTC
# (where a local time overflows): a planned or window time that no page could show.
FIRST_INSTANT = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
LAST_INSTANT = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
STORED_OUT_OF_RANGE = [
    {"planned_end": LAST_INSTANT},
    {"planned_start": FIRST_INSTANT},
    {"latest_end": LAST_INSTANT},
    {"earliest_start": FIRST_INSTANT, "latest_end": LAST_INSTANT},
]


@pytest.mark.parametrize("stored", STORED_OUT_OF_RANGE, ids=lambda stored: "+".join(stored))
def test_a_job_with_any_time_the_api_once_took_opens_on_every_page_and_api(
    world: dict[str, Any], stored: dict[str, dt.datetime]
) -> None:
    """Every page (as the admin, who passes every gate, and as the job's technician), the back
    office's list and form of the job, and the reads of both APIs that return it."""
    ids = world["ids"]
    WorkOrder.objects.filter(pk=ids["work_order_id"]).update(**stored)
    job = ids["work_order_id"]
    pages = [_url(route, ids) for route in web_routes()] + [
        "/admin/tickets/workorder/",
        f"/admin/tickets/workorder/{job}/change/",
        "/api/v1/work-orders",
        f"/api/v1/work-orders/{job}",
        f"/api/v1/accounts/{ids['account_id']}",
    ]
    failures = []
    for role in ("admin", "technician"):
        client = _client(world, role)
        failures += [f"{url} as {role}" for url in pages if _status(client.get(url)) >= 500]
    token, _ = token_issue(user=world["users"]["technician"], kind=ApiToken.Kind.MOBILE)
    app = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Bearer {token}")
    for path in ("/jobs", f"/jobs?from={clock.today()}&to={clock.today()}", f"/jobs/{job}", "/sync"):
        if app.get(f"{MOBILE_API}{path}").status_code >= 500:
            failures.append(f"{MOBILE_API}{path} in the app")
    assert failures == []


def test_a_window_end_stored_past_the_calendar_is_corrected_in_the_back_office(world: dict[str, Any]) -> None:
    """The job's form opens showing the stored value (in UTC: it has no local time), refuses to
    save it as it is, naming the field, and saves it corrected, through the API's service."""
    job = WorkOrder.objects.get(pk=world["ids"]["work_order_id"])
    WorkOrder.objects.filter(pk=job.pk).update(latest_end=LAST_INSTANT)
    office = _client(world, "admin")
    url = f"/admin/tickets/workorder/{job.pk}/change/"
    data = change_form(office, url)
    assert (data["latest_end_0"], data["latest_end_1"]) == ("9999-12-31", "23:59:59")
    refused = office.post(url, {**data, "_save": "Save"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 200
    assert list(refused.context["adminform"].form.errors) == ["latest_end"]
    corrected = clock.today() + dt.timedelta(days=7)
    data.update(latest_end_0=corrected.isoformat(), latest_end_1="18:00:00")
    assert office.post(url, {**data, "_save": "Save"}).status_code == 302
    job_now = WorkOrder.objects.get(pk=job.pk)
    assert job_now.latest_end is not None
    assert (timezone.localdate(job_now.latest_end), job_now.version) == (corrected, job.version + 1)
