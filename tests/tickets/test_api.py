"""The dispatcher and integration API for work orders: who sees and changes what, filters,
pagination, errors, token auth, and a list whose query count does not grow with the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fieldservice import clock, ranges
from fieldservice.models import ApiToken
from fieldservice.tokens import token_forget, token_issue, token_revoke
from tests import factories
from tests.mobile_api.conftest import png
from tickets import creation, lifecycle
from tickets.models import PartUsage, WorkOrder

pytestmark = pytest.mark.django_db
URL = "/api/v1/work-orders"


def tomorrow_at_9() -> dt.datetime:
    """09:00 tomorrow where the factory's sites are (Shanghai)."""
    return dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(9), tzinfo=factories.SHANGHAI)


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(tech_a: User, tech_b: User, account_manager: User) -> dict[str, Any]:
    """Two accounts, the manager owns the first; one job for each technician, one unassigned."""
    planned_start = tomorrow_at_9()
    mine = factories.account(account_manager=account_manager, name="苏州精密电子有限公司")
    other = factories.account(name="Ningbo Beilun Chillers")
    unit = factories.equipment(site=factories.site(account=mine))
    job_a = creation.work_order_create(
        site=unit.site, equipment=unit, kind="corrective", title="Leak", by=None
    )
    job_b = creation.work_order_create(
        site=factories.site(account=other), kind="inspection", title="Check", by=None
    )
    for job, tech in ((job_a, tech_a), (job_b, tech_b)):
        lifecycle.work_order_schedule(
            work_order=job,
            technician=tech,
            planned_start=planned_start,
            planned_end=planned_start + dt.timedelta(hours=2),
            by=None,
            version=1,
        )
    free = creation.work_order_create(site=unit.site, kind="corrective", title="Noise", priority=1, by=None)
    return {"job_a": job_a, "job_b": job_b, "free": free, "mine": mine, "unit": unit}


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["items"]}


# --- who sees what -----------------------------------------------------------------------------


def test_list_scope_per_role(
    world: dict[str, Any], dispatcher: User, admin_user: User, tech_a: User, account_manager: User
) -> None:
    everything = {world["job_a"].pk, world["job_b"].pk, world["free"].pk}
    assert ids(client_for(dispatcher).get(URL)) == everything
    assert ids(client_for(admin_user).get(URL)) == everything
    assert ids(client_for(tech_a).get(URL)) == {world["job_a"].pk}
    assert ids(client_for(account_manager).get(URL)) == {world["job_a"].pk, world["free"].pk}


@pytest.mark.parametrize(
    ("persona", "job", "status"),
    [
        ("dispatcher", "job_b", 200),
        ("admin_user", "job_b", 200),
        ("tech_a", "job_a", 200),
        ("tech_a", "job_b", 404),  # another technician's work order does not exist for them
        ("account_manager", "job_a", 200),
        ("account_manager", "job_b", 404),  # not one of their accounts
    ],
)
def test_read_one_per_role(
    world: dict[str, Any], request: pytest.FixtureRequest, persona: str, job: str, status: int
) -> None:
    user = request.getfixturevalue(persona)
    response = client_for(user).get(f"{URL}/{world[job].pk}")
    assert response.status_code == status
    if status == 404:
        assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("persona", "status"),
    [("dispatcher", 200), ("admin_user", 200), ("tech_a", 403), ("account_manager", 403)],
)
def test_only_planners_change_work_orders(
    world: dict[str, Any], request: pytest.FixtureRequest, persona: str, status: int
) -> None:
    client = client_for(request.getfixturevalue(persona))
    job = world["job_a"]
    response = client.patch(
        f"{URL}/{job.pk}", {"version": job.version + 1, "title": "Leak at valve"}, "application/json"
    )
    assert response.status_code == status, response.content
    created = client.post(URL, {"site_id": job.site_id, "title": "New"}, "application/json")
    assert created.status_code == (201 if status == 200 else 403)


def test_technician_gets_404_not_403_on_other_job_writes(world: dict[str, Any], tech_a: User) -> None:
    job_b = world["job_b"]
    response = client_for(tech_a).post(
        f"{URL}/{job_b.pk}/cancel", {"version": 2, "reason": "x"}, "application/json"
    )
    assert response.status_code == 404


def test_anonymous_is_401_with_json(world: dict[str, Any]) -> None:
    response = Client().get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


# --- create, update, transition, cancel --------------------------------------------------------


def test_create_sets_number_contract_and_sla(world: dict[str, Any], dispatcher: User) -> None:
    unit = world["unit"]
    factories.contract(account=unit.site.account, covers=[unit])  # a term around today
    payload = {"site_id": unit.site_id, "equipment_id": unit.pk, "title": "Compressor trips", "priority": 2}
    response = client_for(dispatcher).post(URL, payload, "application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith(f"WO-{clock.today().year}-")  # the company's year, not UTC's
    assert body["contract_number"] and body["billable"] is False
    assert body["sla_response_due"] and body["required_skills"] == {"compressor": 1}
    assert WorkOrder.objects.get(pk=body["id"]).events.filter(type="created").exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "x", "priority": 5}, "priority"),
        ({"title": "x", "estimated_minutes": 0}, "estimated_minutes"),
        ({"title": "x", "required_skills": {"HVAC!": 2}}, "required_skills"),
        ({"title": "x", "kind": "magic"}, "kind"),
    ],
)
def test_create_validation_errors_are_422_json(
    world: dict[str, Any], dispatcher: User, payload: dict[str, Any], field: str
) -> None:
    response = client_for(dispatcher).post(
        URL, {"site_id": world["unit"].site_id, **payload}, "application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert field in str(body["details"])


def test_create_for_unknown_site_and_foreign_equipment(world: dict[str, Any], dispatcher: User) -> None:
    client = client_for(dispatcher)
    assert (
        client.post(URL, {"site_id": 999999, "title": "x"}, "application/json").json()["code"]
        == "unknown_site"
    )
    elsewhere = factories.site()
    response = client.post(
        URL, {"site_id": elsewhere.pk, "equipment_id": world["unit"].pk, "title": "x"}, "application/json"
    )
    assert response.status_code == 422
    assert response.json()["code"] == "equipment_not_at_site"


def test_update_with_stale_version_is_409(world: dict[str, Any], dispatcher: User) -> None:
    job = world["job_a"]
    response = client_for(dispatcher).patch(
        f"{URL}/{job.pk}", {"version": 1, "title": "Stale"}, "application/json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "version_conflict"
    job.refresh_from_db()
    assert job.title == "Leak"


def test_transition_walk_and_illegal_transition(
    world: dict[str, Any], dispatcher: User, tech_b: User
) -> None:
    client = client_for(dispatcher)
    job = world["free"]
    planned_start = tomorrow_at_9()
    schedule = {
        "to": "scheduled",
        "version": 1,
        "technician": tech_b.username,
        "planned_start": planned_start.isoformat(),
        "planned_end": (planned_start + dt.timedelta(hours=1)).isoformat(),
    }
    body = client.post(f"{URL}/{job.pk}/transition", schedule, "application/json").json()
    assert (body["status"], body["technician"], body["version"]) == ("scheduled", "tech02", 2)
    body = client.post(
        f"{URL}/{job.pk}/transition", {"to": "dispatched", "version": 2}, "application/json"
    ).json()
    assert body["status"] == "dispatched"
    illegal = client.post(f"{URL}/{job.pk}/transition", {"to": "completed", "version": 3}, "application/json")
    assert illegal.status_code == 409
    assert illegal.json()["code"] == "illegal_transition"
    assert illegal.json()["details"] == {"current": "dispatched", "requested": "completed"}


def test_a_dispatched_job_is_recalled_and_keeps_its_technician_and_times(
    world: dict[str, Any], dispatcher: User, tech_a: User
) -> None:
    """`scheduled` without a technician recalls a dispatched job (work_order_recall), which
    the route once took for a reassignment that lacked its fields."""
    job = lifecycle.work_order_dispatch(work_order=world["job_a"], by=dispatcher, version=2)
    planned_start = job.planned_start
    client = client_for(dispatcher)

    response = client.post(
        f"{URL}/{job.pk}/transition", {"to": "scheduled", "version": 3}, "application/json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["technician"], body["version"]) == ("scheduled", tech_a.username, 4)
    assert dt.datetime.fromisoformat(body["planned_start"]) == planned_start
    recall = job.events.get(to_status="scheduled", from_status="dispatched")
    assert (recall.by, recall.payload) == (dispatcher, {})  # a reassignment names its technician
    # And nothing a recall cannot do: from `new` the same call still asks for the assignment.
    free = world["free"]
    missing = client.post(
        f"{URL}/{free.pk}/transition", {"to": "scheduled", "version": 1}, "application/json"
    )
    assert (missing.status_code, missing.json()["code"]) == (422, "missing_fields")


def test_a_dispatched_job_given_a_technician_is_reassigned_not_recalled(
    world: dict[str, Any], dispatcher: User, tech_b: User
) -> None:
    job = lifecycle.work_order_dispatch(work_order=world["job_a"], by=dispatcher, version=2)
    planned_start = tomorrow_at_9() + dt.timedelta(hours=3)
    response = client_for(dispatcher).post(
        f"{URL}/{job.pk}/transition",
        {
            "to": "scheduled",
            "version": 3,
            "technician": tech_b.username,
            "planned_start": planned_start.isoformat(),
            "planned_end": (planned_start + dt.timedelta(hours=1)).isoformat(),
        },
        "application/json",
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["technician"]) == ("scheduled", tech_b.username)
    move = job.events.get(to_status="scheduled", from_status="dispatched")
    assert move.payload["technician"] == tech_b.username


def test_cancel(world: dict[str, Any], dispatcher: User) -> None:
    job = world["free"]
    response = client_for(dispatcher).post(
        f"{URL}/{job.pk}/cancel", {"version": 1, "reason": "Duplicate"}, "application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert job.events.filter(to_status="cancelled", payload__reason="Duplicate").exists()


# --- filters and pagination --------------------------------------------------------------------


def test_filters(world: dict[str, Any], dispatcher: User) -> None:
    client = client_for(dispatcher)
    assert ids(client.get(URL, {"status": "new"})) == {world["free"].pk}
    assert ids(client.get(URL, {"priority": 1})) == {world["free"].pk}
    assert ids(client.get(URL, {"technician": "tech02"})) == {world["job_b"].pk}
    assert ids(client.get(URL, {"account_id": world["mine"].pk})) == {world["job_a"].pk, world["free"].pk}
    day = (clock.today() + dt.timedelta(days=1)).isoformat()
    assert ids(client.get(URL, {"planned_from": day, "planned_to": day})) == {
        world["job_a"].pk,
        world["job_b"].pk,
    }
    assert ids(client.get(URL, {"search": "Noise"})) == {world["free"].pk}
    WorkOrder.objects.filter(pk=world["free"].pk).update(
        sla_resolution_due=clock.now() - dt.timedelta(hours=1)
    )
    assert ids(client.get(URL, {"overdue_sla": "true"})) == {world["free"].pk}


def test_territory_filter(world: dict[str, Any], dispatcher: User) -> None:
    area = factories.territory("Suzhou")  # the factory sites stand at 31.32N 120.72E, inside
    hangzhou = factories.site(lat=30.27, lon=120.15)
    outside = creation.work_order_create(site=hangzhou, kind="inspection", title="Far", by=None)
    found = ids(client_for(dispatcher).get(URL, {"territory_id": area.pk}))
    assert outside.pk not in found and world["free"].pk in found
    assert client_for(dispatcher).get(URL, {"territory_id": 99999}).status_code == 404


def test_pagination_and_query_count_do_not_grow_with_page_size(
    world: dict[str, Any], dispatcher: User
) -> None:
    for n in range(12):
        creation.work_order_create(site=world["unit"].site, kind="inspection", title=f"Round {n}", by=None)
    client = client_for(dispatcher)
    page = client.get(URL, {"limit": 5, "offset": 0}).json()
    assert page["count"] == 15 and len(page["items"]) == 5

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"limit": limit}).status_code == 200
        return len(captured)

    assert queries(2) == queries(15)


# --- integration tokens ------------------------------------------------------------------------


def test_bearer_token_auth_expiry_and_revocation(world: dict[str, Any], dispatcher: User) -> None:
    raw, token = token_issue(user=dispatcher, kind=ApiToken.Kind.INTEGRATION, ttl=dt.timedelta(days=1))
    headers = {"Authorization": f"Bearer {raw}"}
    assert Client().get(URL, headers=headers).status_code == 200
    # Token-authenticated writes need no CSRF token (there is no cookie to ride on).
    created = Client(enforce_csrf_checks=True).post(
        URL, {"site_id": world["unit"].site_id, "title": "From ERP"}, "application/json", headers=headers
    )
    assert created.status_code == 201
    assert Client().get(URL, HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=clock.now() - dt.timedelta(seconds=1))
    token_forget(token=token)  # as the admin does on an edit; the cached copy would last a minute
    assert Client().get(URL, headers=headers).status_code == 401
    raw2, token2 = token_issue(user=dispatcher, kind=ApiToken.Kind.INTEGRATION)
    token_revoke(token=token2)
    assert Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {raw2}").status_code == 401
    assert not ApiToken.objects.filter(key_hash__contains=raw[:8]).exists()  # stored hashed only


def test_mobile_token_is_not_an_integration_token(world: dict[str, Any], dispatcher: User) -> None:
    raw, _ = token_issue(user=dispatcher, kind=ApiToken.Kind.MOBILE)
    assert Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_session_writes_need_csrf(world: dict[str, Any], dispatcher: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(dispatcher)
    response = client.post(URL, {"site_id": world["unit"].site_id, "title": "x"}, "application/json")
    assert response.status_code == 403


def test_openapi_schema_and_docs_serve() -> None:
    schema = Client().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/work-orders/{work_order_id}/transition" in schema.json()["paths"]
    assert Client().get("/api/v1/docs").status_code == 200


def test_report_pdf_is_rendered_on_first_request_without_email(
    world: dict[str, Any], dispatcher: User, tech_b: User, mailoutbox: list[Any]
) -> None:
    job = world["free"]
    client = client_for(dispatcher)
    assert client.get(f"{URL}/{job.pk}/report.pdf").json()["code"] == "not_completed"
    WorkOrder.objects.filter(pk=job.pk).update(
        status="completed", completed_at=clock.now(), resolution="Fixed"
    )
    response = client.get(f"{URL}/{job.pk}/report.pdf")
    assert response.status_code == 200
    assert response.getvalue().startswith(b"%PDF")
    assert mailoutbox == []
    assert client_for(tech_b).get(f"{URL}/{job.pk}/report.pdf").status_code == 404


# --- every input has a range (issue 14) -----------------------------------------------------------

RANGE_END = f"{ranges.LATEST_DATE.isoformat()}T23:59:59+00:00"


def _refused_naming(response: Any, field: str) -> None:
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["code"] == "invalid"
    assert [error["loc"][-1] for error in body["details"]] == [field]


@pytest.mark.parametrize(
    "planned_end",
    [
        "9999-12-31T23:59:59Z",  # stored, it broke the board, this page and its admin form
        "9999-12-31",  # read as a naive date-time: a 500 comparing it with the start
        f"{(ranges.LATEST_DATE + dt.timedelta(days=1)).isoformat()}T00:00:00+00:00",
        f"{tomorrow_at_9().replace(tzinfo=None).isoformat()}",  # no time zone
    ],
)
def test_a_planned_end_out_of_range_is_refused_naming_it_and_nothing_changes(
    world: dict[str, Any], dispatcher: User, planned_end: str
) -> None:
    job = world["free"]
    response = client_for(dispatcher).post(
        f"{URL}/{job.pk}/transition",
        {
            "to": "scheduled",
            "version": job.version,
            "technician": "tech01",
            "planned_start": tomorrow_at_9().isoformat(),
            "planned_end": planned_end,
        },
        "application/json",
    )
    _refused_naming(response, "planned_end")
    job.refresh_from_db()
    assert (job.status, job.planned_end, job.version) == ("new", None, 1)


def test_the_range_s_last_second_is_accepted_and_its_pages_still_open(
    world: dict[str, Any], dispatcher: User, admin_user: User
) -> None:
    job = world["free"]
    client = client_for(dispatcher)
    response = client.post(
        f"{URL}/{job.pk}/transition",
        {
            "to": "scheduled",
            "version": job.version,
            "technician": "tech01",
            "planned_start": tomorrow_at_9().isoformat(),
            "planned_end": RANGE_END,
        },
        "application/json",
    )
    assert response.status_code == 200, response.content
    day = tomorrow_at_9().date().isoformat()
    for url in (f"/work-orders/{job.pk}/", f"/dispatch/?day={day}&territory=all"):
        assert (url, client.get(url).status_code) == (url, 200)
    admin_page = f"/admin/tickets/workorder/{job.pk}/change/"
    assert client_for(admin_user).get(admin_page).status_code == 200


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("planned_to=9999-12-31", "planned_to"),  # a day was added to it: 500
        ("created_to=9999-12-31", "created_to"),
        ("planned_from=0001-01-01", "planned_from"),
        ("created_from=2100-01-01", "created_from"),
        ("planned_from=2027-02-30", "planned_from"),
    ],
)
def test_a_date_filter_out_of_range_is_refused_naming_it(
    world: dict[str, Any], dispatcher: User, query: str, field: str
) -> None:
    _refused_naming(client_for(dispatcher).get(f"{URL}?{query}"), field)


def test_the_date_filters_take_the_range_s_ends(world: dict[str, Any], dispatcher: User) -> None:
    first, last = ranges.EARLIEST_DATE.isoformat(), ranges.LATEST_DATE.isoformat()
    everything = {world["job_a"].pk, world["job_b"].pk, world["free"].pk}
    assert ids(client_for(dispatcher).get(f"{URL}?created_from={first}&created_to={last}")) == everything


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": None}, "title"),  # reached the NOT NULL column: 500
        ({"description": None}, "description"),
        ({"priority": None}, "priority"),
        ({"estimated_minutes": None}, "estimated_minutes"),
        ({"required_skills": None}, "required_skills"),
        ({"description": "x" * (ranges.LONG_TEXT_LENGTH + 1)}, "description"),
        ({"earliest_start": "0001-01-01T00:00:00+14:00"}, "earliest_start"),  # 500 at the SLA clock
        ({"latest_end": "9999-12-31"}, "latest_end"),
        ({"version": 2**31}, "version"),
    ],
)
def test_a_change_out_of_range_or_null_is_refused_naming_it(
    world: dict[str, Any], dispatcher: User, change: dict[str, Any], field: str
) -> None:
    job = world["free"]
    response = client_for(dispatcher).patch(
        f"{URL}/{job.pk}", {"version": job.version, **change}, "application/json"
    )
    _refused_naming(response, field)
    job.refresh_from_db()
    assert job.version == 1


def test_a_window_end_may_still_be_cleared_with_null(world: dict[str, Any], dispatcher: User) -> None:
    job = world["free"]
    client = client_for(dispatcher)
    window = {"earliest_start": tomorrow_at_9().isoformat(), "latest_end": RANGE_END}
    assert client.patch(f"{URL}/{job.pk}", {"version": 1, **window}, "application/json").status_code == 200
    response = client.patch(f"{URL}/{job.pk}", {"version": 2, "latest_end": None}, "application/json")
    assert response.status_code == 200 and response.json()["latest_end"] is None


def test_a_caption_longer_than_its_column_is_refused_naming_it(
    world: dict[str, Any], dispatcher: User
) -> None:
    """Over 200 characters it failed in the database: 500."""
    job = world["job_a"]
    WorkOrder.objects.filter(pk=job.pk).update(status=WorkOrder.Status.ON_SITE)
    photo = SimpleUploadedFile("p.png", png(), content_type="image/png")
    response = client_for(dispatcher).post(
        f"{URL}/{job.pk}/attachments", {"file": photo, "caption": "长" * (ranges.SHORT_TEXT_LENGTH + 1)}
    )
    _refused_naming(response, "caption")


def test_a_part_not_priced_yet_reads_as_null(dispatcher: User) -> None:
    """The phone sends no price (issue 14): a work order with such a part answered 500."""
    job = factories.work_order()
    PartUsage.objects.create(
        work_order=job, part_number="GSK-7", quantity=Decimal(2), unit_cost=None, recorded_at=clock.now()
    )
    response = client_for(dispatcher).get(f"/api/v1/work-orders/{job.pk}")
    assert response.status_code == 200
    assert [(part["part_number"], part["unit_cost"]) for part in response.json()["parts"]] == [
        ("GSK-7", None)
    ]
