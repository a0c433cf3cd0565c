"""Me and my jobs (mobile_api/api.py, selectors.py, serializers.py): what a technician sees,
and that nothing of another technician's is reachable through any route."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assets.models import MeterReading
from fieldservice import clock
from mobile_api.api import MAX_RANGE_DAYS
from scheduling.models import Technician
from tests import factories
from tests.mobile_api.conftest import API, PNG, App, JobMaker
from tickets import creation, site_visit
from tickets.models import WorkOrder, WorkOrderEvent
from tickets.records import files, parts_used
from tickets.reports import service_report_create

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status


def _local_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), tzinfo=timezone.get_current_timezone())


# --- /me ------------------------------------------------------------------------------------------


def test_me_shows_my_skills_and_todays_shift_only(technician_a: User, app_a: App) -> None:
    profile = Technician.objects.get(user=technician_a)
    today = clock.today()
    factories.shift(technician=profile, date=today - dt.timedelta(days=1), start="06:00", end="14:00")
    factories.shift(technician=profile, date=today, start="08:00", end="17:00")
    factories.shift(technician=profile, date=today + dt.timedelta(days=1), start="10:00", end="18:00")
    me = app_a.get("/me").json()
    assert me["username"] == "tech01" and me["employee_code"] == profile.employee_code
    assert sorted((s["code"], s["level"]) for s in me["skills"]) == [("chiller", 1), ("compressor", 3)]
    assert me["today_shift"]["date"] == today.isoformat()
    assert dt.datetime.fromisoformat(me["today_shift"]["starts_at"]).astimezone(factories.SHANGHAI).hour == 8


def test_me_without_a_shift_today_says_so(app_a: App) -> None:
    assert app_a.get("/me").json()["today_shift"] is None


# --- /jobs ----------------------------------------------------------------------------------------


def test_jobs_default_to_today_in_planned_order(
    technician_a: User, technician_b: User, app_a: App, make_job: JobMaker
) -> None:
    today = clock.today()
    late = make_job(technician=technician_a, start=_local_noon(today) + dt.timedelta(hours=3))
    early = make_job(technician=technician_a, start=_local_noon(today) - dt.timedelta(hours=3))
    make_job(technician=technician_a, start=_local_noon(today + dt.timedelta(days=1)))
    make_job(technician=technician_b, start=_local_noon(today))
    response = app_a.get("/jobs")
    assert response.status_code == 200
    assert [job["id"] for job in response.json()] == [early.pk, late.pk]


def test_jobs_between_two_dates_include_both_ends(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    today = clock.today()
    days = [today + dt.timedelta(days=offset) for offset in (-1, 0, 2, 3)]
    jobs = [make_job(technician=technician_a, start=_local_noon(day)) for day in days]
    response = app_a.get("/jobs", **{"from": days[1].isoformat(), "to": days[2].isoformat()})
    assert [job["id"] for job in response.json()] == [jobs[1].pk, jobs[2].pk]


@pytest.mark.parametrize(
    ("from_offset", "to_offset", "status"),
    [(0, 0, 200), (0, MAX_RANGE_DAYS, 200), (0, MAX_RANGE_DAYS + 1, 422), (1, 0, 422)],
)
def test_jobs_range_is_validated(app_a: App, from_offset: int, to_offset: int, status: int) -> None:
    today = clock.today()
    response = app_a.get(
        "/jobs",
        **{
            "from": (today + dt.timedelta(days=from_offset)).isoformat(),
            "to": (today + dt.timedelta(days=to_offset)).isoformat(),
        },
    )
    assert response.status_code == status, response.content
    if status == 422:
        assert response.json()["code"] == "bad_range"


def test_jobs_with_a_malformed_date_are_422(app_a: App) -> None:
    assert app_a.get("/jobs", **{"from": "tomorrow"}).status_code == 422


@pytest.mark.parametrize(
    ("params", "field"),
    [({"from": "9999-12-31"}, "from"), ({"to": "9999-12-31"}, "to"), ({"from": "0001-01-01"}, "from")],
)
def test_jobs_with_a_date_out_of_range_are_422_naming_it(
    app_a: App, params: dict[str, str], field: str
) -> None:
    """`from=9999-12-31` answered 500: the day after it does not exist."""
    response = app_a.get("/jobs", **params)
    assert response.status_code == 422, response.content
    assert [error["loc"] for error in response.json()["details"]] == [["query", field]]


def _busy_job(technician: User, make_job: JobMaker, start: dt.datetime) -> WorkOrder:
    """A job with everything the list shows: contract, checklist, parts, a photo, past visits."""
    job = make_job(
        technician=technician,
        status=Status.ON_SITE,
        start=start,
        contract=True,
        checklist=[{"label": "Pressure"}, {"label": "Noise"}],
    )
    parts_used.part_record(
        work_order=job, part_number="SEAL-1", quantity=Decimal(1), unit_cost=Decimal(2), by=technician
    )
    photo = SimpleUploadedFile("a.png", PNG, content_type="image/png")
    files.attachment_add(work_order=job, upload=photo, by=technician)
    assert job.equipment is not None
    for days_ago, kind in ((30, "operating_hours"), (1, "operating_hours"), (1, "cycles")):
        _reading(job, kind, value=Decimal(1000 - days_ago), days_ago=days_ago)
    factories.work_order(
        site=job.site,
        equipment=job.equipment,
        status=Status.COMPLETED,
        completed_at=start,
        assigned_technician=technician,
    )
    return job


def test_jobs_list_query_count_does_not_grow_with_the_jobs(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    start = _local_noon(clock.today())
    app_a.get("/me")  # the token is looked up (and cached) once: not in the counts
    _busy_job(technician_a, make_job, start)
    with CaptureQueriesContext(connection) as one_job:
        assert len(app_a.get("/jobs").json()) == 1
    for hour in range(1, 5):
        _busy_job(technician_a, make_job, start + dt.timedelta(hours=hour))
    with CaptureQueriesContext(connection) as five_jobs:
        listed = app_a.get("/jobs").json()
    assert len(listed) == 5
    assert all(job["parts"] and job["attachments"] and job["equipment"]["last_visits"] for job in listed)
    assert all(len(job["equipment"]["last_meter_readings"]) == 2 for job in listed)
    assert len(five_jobs) == len(one_job), [q["sql"] for q in five_jobs.captured_queries]
    # Unchanged since: served from the cache after one query for the change stamp.
    with CaptureQueriesContext(connection) as again:
        assert app_a.get("/jobs").json() == listed
    assert len(again) == 1


def _reading(job: WorkOrder, kind: str, *, value: Decimal, days_ago: int) -> MeterReading:
    """A reading that arrived by telemetry (not through the job), `days_ago` before now."""
    assert job.equipment is not None
    at = (clock.now() - dt.timedelta(days=days_ago)).replace(microsecond=0)
    return MeterReading.objects.create(
        equipment=job.equipment, kind=kind, value=value, read_at=at, source=MeterReading.Source.TELEMETRY
    )


def test_a_jobs_equipment_comes_with_the_last_reading_of_each_meter(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    bare = make_job(technician=technician_a, status=Status.ON_SITE)
    _reading(job, "operating_hours", value=Decimal("1000.50"), days_ago=60)
    latest_hours = _reading(job, "operating_hours", value=Decimal("1200.25"), days_ago=30)
    latest_cycles = _reading(job, "cycles", value=Decimal(42), days_ago=2)
    listed = {row["id"]: row for row in app_a.get("/jobs").json()}
    readings = sorted(listed[job.pk]["equipment"]["last_meter_readings"], key=lambda r: r["kind"])
    assert [(r["kind"], Decimal(r["value"]), dt.datetime.fromisoformat(r["read_at"])) for r in readings] == [
        ("cycles", Decimal(42), latest_cycles.read_at),
        ("operating_hours", Decimal("1200.25"), latest_hours.read_at),
    ]
    assert listed[bare.pk]["equipment"]["last_meter_readings"] == []


def test_a_reading_taken_on_the_job_is_the_last_one_in_the_answer(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    _reading(job, "operating_hours", value=Decimal(1000), days_ago=30)
    answer = app_a.post(f"/jobs/{job.pk}/meter-readings", {"kind": "operating_hours", "value": "1010.5"})
    assert answer.status_code == 200, answer.content
    (reading,) = answer.json()["equipment"]["last_meter_readings"]
    assert Decimal(reading["value"]) == Decimal("1010.5")


def test_a_lower_reading_is_refused_with_the_last_one_for_the_app_to_show(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    last = _reading(job, "operating_hours", value=Decimal(1000), days_ago=30)
    answer = app_a.post(f"/jobs/{job.pk}/meter-readings", {"kind": "operating_hours", "value": "999.99"})
    assert answer.status_code == 422
    refusal = answer.json()
    assert refusal["code"] == "meter_went_down"
    previous = refusal["details"]["previous"]
    assert previous["kind"] == "operating_hours" and Decimal(previous["value"]) == Decimal(1000)
    assert dt.datetime.fromisoformat(previous["read_at"]) == last.read_at
    assert MeterReading.objects.filter(equipment=job.equipment).count() == 1


def test_completion_needs_are_what_a_completion_would_be_refused_for(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    """The app decides what a queued completion waits for from `completion_needs`: it must be
    the server's own refusal, field for field (but the resolution, which the completion carries)."""
    job = make_job(
        technician=technician_a,
        status=Status.IN_PROGRESS,
        contract=True,
        checklist=[{"label": "Pressure"}, {"label": "Noise"}, {"label": "Paint", "required": False}],
    )
    (listed,) = app_a.get("/jobs").json()
    assert listed["completion_needs"] == ["checklist[1]", "checklist[2]", "signature"]
    refused = app_a.event(job, "completed", resolution="")
    assert refused.status_code == 422
    fields = [gap["field"] for gap in refused.json()["details"]["missing"]]
    assert fields == [*listed["completion_needs"], "resolution"]

    answered = app_a.post(f"/jobs/{job.pk}/checklist", {"answers": [{"position": 2, "result": "na"}]})
    assert answered.json()["completion_needs"] == ["checklist[1]", "signature"]
    signature = {"png_base64": base64.b64encode(PNG).decode(), "signer_name": "李娜"}
    assert app_a.post(f"/jobs/{job.pk}/signature", signature).json()["completion_needs"] == ["checklist[1]"]
    answered = app_a.post(f"/jobs/{job.pk}/checklist", {"answers": [{"position": 1, "result": "pass"}]})
    assert answered.json()["completion_needs"] == []
    assert app_a.event(job, "completed", resolution="Replaced seal").status_code == 200


def test_jobs_list_cache_is_refreshed_when_a_job_changes(
    technician_a: User, app_a: App, make_job: JobMaker, dispatcher: User
) -> None:
    job = make_job(technician=technician_a, status=Status.DISPATCHED)
    assert app_a.get("/jobs").json()[0]["title"] == job.title
    creation.work_order_update(work_order=job, by=dispatcher, version=job.version, title="Moved to bay 4")
    assert app_a.get("/jobs").json()[0]["title"] == "Moved to bay 4"


# --- object-level authorization -------------------------------------------------------------------


def _b_job_with_everything(technician_b: User, make_job: JobMaker) -> WorkOrder:
    """B's completed job with its service report, so that every route has something to find."""
    job = make_job(technician=technician_b, status=Status.IN_PROGRESS)
    site_visit.work_order_complete(work_order=job, by=technician_b, version=job.version, resolution="Fixed")
    service_report_create(work_order_id=job.pk)
    return WorkOrder.objects.get(pk=job.pk)


def _request_for(client: Client, method: str, path: str, job: WorkOrder) -> Any:
    """A well-formed request for each route with `{job_id}`, so only the job can be refused."""
    url = path.replace("{job_id}", str(job.pk))
    at = clock.now().isoformat()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    bodies: dict[str, dict[str, Any]] = {
        "events": {"type": "en_route", "at": at, "version": job.version},
        "checklist": {"answers": [{"position": 1, "result": "pass"}]},
        "parts": {"parts": [{"part_number": "P-1", "quantity": "1"}]},
        "meter-readings": {"kind": "operating_hours", "value": "10"},
        "signature": {"png_base64": base64.b64encode(PNG).decode(), "signer_name": "李娜"},
    }
    action = url.rsplit("/", 1)[-1]
    if method == "get":
        return client.get(url)
    if action == "photos":
        return client.post(url, {"file": SimpleUploadedFile("p.png", PNG, "image/png")}, headers=key)
    return client.post(url, bodies[action], "application/json", headers=key)


def test_every_route_with_a_job_id_is_404_for_another_technicians_job(
    technician_b: User, app_a: App, app_b: App, make_job: JobMaker
) -> None:
    job = _b_job_with_everything(technician_b, make_job)
    schema = Client(HTTP_HOST="localhost").get(f"{API}/openapi.json").json()
    routes = [
        (method, path) for path, item in schema["paths"].items() if "{job_id}" in path for method in item
    ]
    assert len(routes) >= 8  # the walk below must not pass by walking nothing
    events_before = WorkOrderEvent.objects.filter(work_order=job).count()
    for method, path in routes:
        response = _request_for(app_a.client, method, path, job)
        assert response.status_code == 404, (method, path, response.content)
        assert response.json()["code"] == "not_found"
        # The same request from the job's own technician finds it: the 404 was about A.
        assert _request_for(app_b.client, method, path, job).status_code != 404, (method, path)
    job.refresh_from_db()
    assert job.status == Status.COMPLETED
    assert WorkOrderEvent.objects.filter(work_order=job).count() == events_before


@pytest.mark.django_db(
    transaction=True, serialized_rollback=True
)  # the sync cursor sees committed transactions only
def test_list_and_sync_show_none_of_another_technicians_jobs(
    technician_a: User, technician_b: User, app_a: App, make_job: JobMaker
) -> None:
    mine = make_job(technician=technician_a)
    theirs = make_job(technician=technician_b)
    assert [job["id"] for job in app_a.get("/jobs").json()] == [mine.pk]
    first = app_a.get("/sync").json()
    assert [change["id"] for change in first["changes"]] == [mine.pk]
    creation.work_order_update(work_order=theirs, by=None, version=theirs.version, title="Their change")
    creation.work_order_update(work_order=mine, by=None, version=mine.version, title="My change")
    later = app_a.get("/sync", cursor=first["cursor"]).json()
    assert [(change["op"], change["id"]) for change in later["changes"]] == [("upsert", mine.pk)]
