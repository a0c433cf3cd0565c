"""What the technician does, possibly late and retried (mobile_api/services.py, idempotency.py)."""

from __future__ import annotations

import base64
import datetime as dt
import io
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from PIL import Image

from assets.models import MeterReading
from fieldservice import clock
from tests.mobile_api.conftest import API, PNG, App, JobMaker, login
from tickets import creation, lifecycle
from tickets.models import Attachment, WorkOrder, WorkOrderEvent

# Queued a while ago on the phone, within the offline allowance (MOBILE_EVENT_MAX_AGE_DAYS), on
# a job dispatched before that (EARLIER): an event may not precede the job's previous one.
RECENT = (clock.now() - dt.timedelta(hours=3)).replace(microsecond=0)
EARLIER = RECENT - dt.timedelta(hours=1)

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status
CONCURRENT_RETRIES = 50


def _moves(job: WorkOrder) -> list[str]:
    events = WorkOrderEvent.objects.filter(work_order=job, type=WorkOrderEvent.Type.STATUS_CHANGED)
    return list(events.order_by("pk").values_list("to_status", flat=True))


# --- Idempotency-Key ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_fifty_concurrent_retries_with_one_key_apply_once_and_answer_alike(
    technician_a: User, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, at=EARLIER)
    token = login("tech01").token
    body = {"type": "en_route", "at": RECENT.isoformat(), "version": job.version}
    key = str(uuid.uuid4())
    start = threading.Barrier(CONCURRENT_RETRIES)
    answers: list[tuple[int, bytes]] = []

    def retry() -> None:
        try:
            client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
            start.wait()
            response = client.post(
                f"{API}/jobs/{job.pk}/events", body, "application/json", HTTP_IDEMPOTENCY_KEY=key
            )
            answers.append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(CONCURRENT_RETRIES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == CONCURRENT_RETRIES
    assert {status for status, _ in answers} == {200}
    assert len({content for _, content in answers}) == 1
    assert _moves(job)[-1:] == [Status.EN_ROUTE]
    assert WorkOrderEvent.objects.filter(work_order=job, to_status=Status.EN_ROUTE).count() == 1
    assert WorkOrder.objects.get(pk=job.pk).version == job.version + 1


def test_a_replay_returns_the_first_answer_even_after_the_job_moved_on(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, at=EARLIER)
    body = {"type": "en_route", "at": RECENT.isoformat(), "version": job.version}
    first = app_a.post(f"/jobs/{job.pk}/events", body, key="k-1")
    app_a.event(job, "arrived", version=first.json()["job"]["version"])
    replay = app_a.post(f"/jobs/{job.pk}/events", body, key="k-1")
    assert replay.status_code == 200 and replay.json() == first.json()
    assert replay.json()["job"]["status"] == Status.EN_ROUTE
    assert _moves(job).count(Status.EN_ROUTE) == 1


def test_a_refusal_is_replayed_too(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    job = make_job(technician=technician_a, at=EARLIER)
    body = {"type": "resumed", "at": RECENT.isoformat(), "version": job.version}
    first = app_a.post(f"/jobs/{job.pk}/events", body, key="not-on-hold")
    assert first.status_code == 409
    assert app_a.post(f"/jobs/{job.pk}/events", body, key="not-on-hold").json() == first.json()


def test_the_same_key_with_another_body_is_422(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    job = make_job(technician=technician_a)
    assert app_a.event(job, "en_route", key="k-1").status_code == 200
    response = app_a.event(job, "arrived", key="k-1")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert WorkOrder.objects.get(pk=job.pk).status == Status.EN_ROUTE


def test_one_key_is_per_technician(
    technician_a: User, technician_b: User, app_a: App, app_b: App, make_job: JobMaker
) -> None:
    mine, theirs = make_job(technician=technician_a), make_job(technician=technician_b)
    assert app_a.event(mine, "en_route", key="shared").status_code == 200
    assert app_b.event(theirs, "en_route", key="shared").status_code == 200
    assert WorkOrder.objects.get(pk=theirs.pk).status == Status.EN_ROUTE


@pytest.mark.parametrize("key", [None, "", "   ", "k" * 101])
def test_a_change_without_a_usable_key_is_422_and_does_nothing(
    technician_a: User, app_a: App, make_job: JobMaker, key: str | None
) -> None:
    job = make_job(technician=technician_a, at=EARLIER)
    headers = {} if key is None else {"Idempotency-Key": key}
    body = {"type": "en_route", "at": RECENT.isoformat(), "version": job.version}
    response = app_a.client.post(f"{API}/jobs/{job.pk}/events", body, "application/json", headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_required"
    assert WorkOrder.objects.get(pk=job.pk).status == Status.DISPATCHED


# --- late and out-of-order events -----------------------------------------------------------------


def test_a_stale_but_legal_event_is_applied_and_keeps_the_dispatchers_change(
    technician_a: User, dispatcher: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a)
    seen = job.version
    creation.work_order_update(work_order=job, by=dispatcher, version=seen, title="Bring the ladder")
    response = app_a.event(job, "en_route", version=seen)
    assert response.status_code == 200, response.content
    assert response.json()["applied"] is True
    job.refresh_from_db()
    assert (job.status, job.title, job.version) == (Status.EN_ROUTE, "Bring the ladder", seen + 2)


def test_a_stale_and_illegal_event_is_409_with_the_current_state(
    technician_a: User, dispatcher: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a)
    seen = job.version
    lifecycle.work_order_cancel(work_order=job, by=dispatcher, version=seen, reason="Customer closed")
    response = app_a.event(job, "en_route", version=seen)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale_version"
    assert body["details"]["current"] == {
        "id": job.pk,
        "number": job.number,
        "status": Status.CANCELLED,
        "version": seen + 1,
    }
    assert WorkOrder.objects.get(pk=job.pk).status == Status.CANCELLED


def test_a_stale_event_does_not_undo_the_dispatchers_recall(
    technician_a: User, dispatcher: User, app_a: App, make_job: JobMaker
) -> None:
    """The dispatcher took the job back (dispatched → scheduled) while the app was offline;
    the technician's late `en_route` must not dispatch it again behind the dispatcher's back."""
    job = make_job(technician=technician_a)
    seen = job.version
    lifecycle.work_order_recall(work_order=job, by=dispatcher, version=seen)
    response = app_a.event(job, "en_route", version=seen)
    assert response.status_code == 409, response.content
    assert response.json()["details"]["current"]["status"] == Status.SCHEDULED
    assert WorkOrder.objects.get(pk=job.pk).status == Status.SCHEDULED


def test_an_event_on_a_job_reassigned_while_offline_is_409_reassigned(
    technician_a: User, technician_b: User, dispatcher: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a)
    assert job.planned_start and job.planned_end
    lifecycle.work_order_schedule(
        work_order=job,
        technician=technician_b,
        planned_start=job.planned_start,
        planned_end=job.planned_end,
        by=dispatcher,
        version=job.version,
    )
    for event in ("arrived", "en_route"):
        response = app_a.event(job, event, version=job.version)
        assert response.status_code == 409
        assert response.json()["code"] == "reassigned"
        assert response.json()["details"]["current"]["assigned_to_you"] is False
    photo = {"file": SimpleUploadedFile("p.png", PNG, "image/png")}
    upload = app_a.client.post(f"{API}/jobs/{job.pk}/photos", photo, HTTP_IDEMPOTENCY_KEY="p")
    assert upload.json()["code"] == "reassigned"
    job.refresh_from_db()
    assert (job.status, job.assigned_technician_id) == (Status.SCHEDULED, technician_b.pk)


def test_an_event_on_a_job_that_was_never_mine_is_404(
    technician_b: User, app_a: App, make_job: JobMaker
) -> None:
    theirs = make_job(technician=technician_b)
    assert app_a.event(theirs, "en_route").status_code == 404


def test_arrived_straight_from_dispatched_fills_in_en_route(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, at=EARLIER)
    response = app_a.event(job, "arrived", at=RECENT.isoformat())
    assert response.status_code == 200, response.content
    assert response.json()["job"]["status"] == Status.ON_SITE
    assert _moves(job)[-2:] == [Status.EN_ROUTE, Status.ON_SITE]
    filled = WorkOrderEvent.objects.filter(work_order=job, to_status=Status.EN_ROUTE).get()
    assert filled.at == RECENT
    assert WorkOrder.objects.get(pk=job.pk).version == job.version + 2


def test_an_event_for_a_step_already_passed_changes_nothing_but_is_noted(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    response = app_a.event(job, "en_route")
    assert response.status_code == 200
    assert response.json()["applied"] is False
    assert response.json()["job"]["version"] == job.version
    note = WorkOrderEvent.objects.get(work_order=job, type=WorkOrderEvent.Type.NOTE)
    assert note.payload == {"late_event": "en_route", "status_then": Status.ON_SITE}
    assert note.by == technician_a


def test_pause_and_resume(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    job = make_job(technician=technician_a, status=Status.IN_PROGRESS)
    paused = app_a.event(job, "paused", reason="Waiting for parts")
    assert paused.json()["job"]["status"] == Status.ON_HOLD
    assert app_a.event(job, "paused", version=paused.json()["job"]["version"]).status_code == 409
    resumed = app_a.event(job, "resumed", version=paused.json()["job"]["version"])
    assert resumed.json()["job"]["status"] == Status.IN_PROGRESS


def test_pausing_a_job_not_in_progress_is_409_illegal(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    response = app_a.event(job, "paused")
    assert response.status_code == 409 and response.json()["code"] == "illegal_transition"


# --- arrival far from the site --------------------------------------------------------------------


@pytest.mark.parametrize(("north_degrees", "flagged"), [(0.0, False), (0.001, False), (0.02, True)])
def test_an_arrival_far_from_the_site_is_accepted_but_flagged(
    technician_a: User, app_a: App, make_job: JobMaker, north_degrees: float, flagged: bool
) -> None:
    """0.001° of latitude is ~111 m, 0.02° ~2.2 km (settings.ARRIVAL_MAX_DISTANCE_M is 500)."""
    job = make_job(technician=technician_a, status=Status.EN_ROUTE)
    site = job.site.location
    location = {"lat": site.y + north_degrees, "lon": site.x}
    response = app_a.event(job, "arrived", location=location)
    assert response.status_code == 200
    body = response.json()
    assert body["job"]["status"] == Status.ON_SITE
    assert (body["flagged"], body["flag_reason"]) == (flagged, "far_from_site" if flagged else "")
    assert body["distance_from_site_m"] == pytest.approx(north_degrees * 110_900, abs=50)
    arrival = WorkOrderEvent.objects.get(work_order=job, to_status=Status.ON_SITE)
    assert arrival.flagged is flagged


def test_a_skipped_arrival_far_away_is_flagged_on_the_arrival(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a)
    site = job.site.location
    body = app_a.event(job, "arrived", location={"lat": site.y + 0.05, "lon": site.x}).json()
    assert body["flagged"] is True and body["job"]["status"] == Status.ON_SITE


# --- completion -----------------------------------------------------------------------------------


def _signature() -> dict[str, str]:
    return {"png_base64": base64.b64encode(PNG).decode(), "signer_name": "李娜"}


def test_completion_is_refused_with_what_is_missing_and_keeps_nothing(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(
        technician=technician_a,
        status=Status.IN_PROGRESS,
        contract=True,
        checklist=[{"label": "Pressure"}, {"label": "Noise"}, {"label": "Paint", "required": False}],
    )
    response = app_a.event(
        job,
        "completed",
        resolution="Replaced seal",
        checklist=[{"position": 1, "result": "pass"}],
        parts=[{"part_number": "SEAL-42", "quantity": "1"}],
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "completion_incomplete"
    assert [m["field"] for m in body["details"]["missing"]] == ["checklist[2]", "signature"]
    job.refresh_from_db()
    assert job.status == Status.IN_PROGRESS
    assert not job.parts.exists() and not job.checklist.exclude(result="").exists()


def test_completion_with_everything_required(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    job = make_job(
        technician=technician_a, status=Status.IN_PROGRESS, contract=True, checklist=[{"label": "Pressure"}]
    )
    response = app_a.event(
        job,
        "completed",
        resolution="Replaced seal",
        checklist=[{"position": 1, "result": "pass"}],
        signature=_signature(),
        meter_reading={"value": "1200"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["job"]["status"] == Status.COMPLETED
    assert response.json()["job"]["signed_by"] == "李娜"


def test_completion_without_a_contract_needs_no_signature(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.IN_PROGRESS)
    missing = app_a.event(job, "completed", resolution=" ").json()["details"]["missing"]
    assert [m["field"] for m in missing] == ["resolution"]
    assert app_a.event(job, "completed", resolution="Reset the controller").status_code == 200


def test_completion_of_a_job_on_hold_resumes_it_first(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.IN_PROGRESS)
    paused = app_a.event(job, "paused", reason="Parts").json()["job"]
    response = app_a.event(job, "completed", version=paused["version"], resolution="Done")
    assert response.status_code == 200, response.content
    assert _moves(job)[-3:] == [Status.ON_HOLD, Status.IN_PROGRESS, Status.COMPLETED]


def test_completion_on_site_starts_the_work_first(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    response = app_a.event(job, "completed", resolution="Done")
    assert response.status_code == 200, response.content
    assert _moves(job)[-2:] == [Status.IN_PROGRESS, Status.COMPLETED]


# --- photos ---------------------------------------------------------------------------------------


def _upload(app: App, job: WorkOrder, content: bytes, *, key: str, name: str = "photo.png") -> Any:
    return app.client.post(
        f"{API}/jobs/{job.pk}/photos",
        {"file": SimpleUploadedFile(name, content, "image/png"), "caption": "Seal"},
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_a_photo_over_the_limit_is_413(
    technician_a: User, app_a: App, make_job: JobMaker, settings: Any
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    assert _upload(app_a, job, PNG + b"\x00" * 1024, key="big").status_code == 413
    assert _upload(app_a, job, PNG + b"\x00" * (1024 - len(PNG)), key="fits").status_code == 200
    assert Attachment.objects.filter(work_order=job).count() == 1


def test_a_file_that_is_not_an_image_is_422_whatever_it_claims(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    response = _upload(app_a, job, b"#!/bin/sh\necho hello\n", key="script")
    assert response.status_code == 422
    assert response.json()["code"] == "unsupported_type"
    assert not Attachment.objects.filter(work_order=job).exists()


def test_a_photo_retried_with_the_same_key_is_stored_once(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    first = _upload(app_a, job, PNG, key="photo-1")
    again = _upload(app_a, job, PNG, key="photo-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert Attachment.objects.filter(work_order=job).count() == 1
    other_photo = _upload(app_a, job, PNG + b"\x01", key="photo-1")
    assert other_photo.status_code == 422 and other_photo.json()["code"] == "idempotency_key_reused"


@pytest.mark.parametrize("at", ["2000-01-01T08:00:00+08:00", "2099-01-01T08:00:00+08:00"])
def test_an_event_from_a_phone_with_a_wrong_clock_is_refused(
    technician_a: User, app_a: App, make_job: JobMaker, at: str
) -> None:
    job = make_job(technician=technician_a)
    response = app_a.event(job, "en_route", at=at)
    assert response.status_code == 422
    assert response.json()["code"] == "implausible_time"
    job.refresh_from_db()
    assert job.status == WorkOrder.Status.DISPATCHED


# --- issue 14: backdated events, wrong clocks --------------------------------------------------------


def test_an_arrival_before_the_jobs_dispatch_is_refused_and_changes_nothing(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    """`arrived` 29 days in the past was applied, before the job existed, and moved its SLA."""
    job = make_job(technician=technician_a, status=Status.EN_ROUTE)
    response = app_a.event(job, "arrived", at=(clock.now() - dt.timedelta(days=29)).isoformat())
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "event_out_of_order"
    job.refresh_from_db()
    assert (job.status, job.responded_at, job.arrived_at) == (Status.EN_ROUTE, None, None)


def test_a_completion_before_the_arrival_is_refused(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a, status=Status.IN_PROGRESS, at=EARLIER)
    assert job.arrived_at is not None
    before = (job.arrived_at - dt.timedelta(minutes=90)).isoformat()
    response = app_a.event(job, "completed", resolution="Replaced the seal", at=before)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "event_out_of_order"
    job.refresh_from_db()
    assert (job.status, job.completed_at) == (Status.IN_PROGRESS, None)


def test_a_phone_whose_clock_is_wrong_is_recorded_at_the_servers_time_and_flagged(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    """The app sends its clock (Device-Time): three days behind ours, its times are not used."""
    job = make_job(technician=technician_a, status=Status.EN_ROUTE)
    phone_now = clock.now() - dt.timedelta(days=3)
    body = {"type": "arrived", "at": phone_now.isoformat(), "version": job.version}
    response = app_a.client.post(
        f"{API}/jobs/{job.pk}/events",
        body,
        "application/json",
        HTTP_IDEMPOTENCY_KEY="wrong-clock",
        HTTP_DEVICE_TIME=phone_now.isoformat(),
    )
    assert response.status_code == 200, response.content
    assert (response.json()["flagged"], response.json()["flag_reason"]) == (True, "device_clock")
    job.refresh_from_db()
    assert job.responded_at is not None and abs(job.responded_at - clock.now()) < dt.timedelta(minutes=1)
    arrival = WorkOrderEvent.objects.get(work_order=job, to_status=Status.ON_SITE)
    assert arrival.flag_reason == WorkOrderEvent.FlagReason.DEVICE_CLOCK
    said = arrival.payload["device_clock"]
    assert abs(dt.datetime.fromisoformat(said["at"]) - phone_now) < dt.timedelta(milliseconds=1)
    assert said["skew_minutes"] == -3 * 24 * 60


def test_a_phone_whose_clock_is_right_is_trusted(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    job = make_job(technician=technician_a, status=Status.EN_ROUTE, at=EARLIER)
    body = {"type": "arrived", "at": RECENT.isoformat(), "version": job.version}
    response = app_a.client.post(
        f"{API}/jobs/{job.pk}/events",
        body,
        "application/json",
        HTTP_IDEMPOTENCY_KEY="right-clock",
        HTTP_DEVICE_TIME=clock.now().isoformat(),
    )
    assert response.status_code == 200
    assert (response.json()["flagged"], response.json()["flag_reason"]) == (False, "")
    job.refresh_from_db()
    assert job.responded_at == RECENT


def test_a_device_time_that_is_not_a_time_is_422_naming_it(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    job = make_job(technician=technician_a)
    body = {"type": "en_route", "at": clock.now().isoformat(), "version": job.version}
    response = app_a.client.post(
        f"{API}/jobs/{job.pk}/events",
        body,
        "application/json",
        HTTP_IDEMPOTENCY_KEY="k",
        HTTP_DEVICE_TIME="soon",
    )
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["details"]] == [["header", "Device-Time"]]


# --- issue 14: lengths, and nothing kept of a refusal ----------------------------------------------


def test_a_caption_over_its_limit_is_422_and_keeps_no_file(
    technician_a: User, app_a: App, make_job: JobMaker, settings: Any
) -> None:
    """A 201-character caption answered 500 (DataError) after the file was written, and the
    app retried it forever, holding its whole queue back."""
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    upload = {"file": SimpleUploadedFile("p.png", PNG, "image/png"), "caption": "长" * 201}
    response = app_a.client.post(f"{API}/jobs/{job.pk}/photos", upload, HTTP_IDEMPOTENCY_KEY="long")
    assert response.status_code == 422, response.content
    assert [error["loc"] for error in response.json()["details"]] == [["form", "caption"]]
    assert not Attachment.objects.filter(work_order=job).exists()
    assert not [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


TOO_LONG: list[tuple[str, str, dict[str, Any]]] = [
    ("events", "reason", {"type": "paused", "reason": "x" * 201}),
    ("events", "resolution", {"type": "completed", "resolution": "x" * 10_001}),
    ("events", "resolution_code", {"type": "completed", "resolution": "Done", "resolution_code": "X" * 65}),
    ("checklist", "text", {"answers": [{"position": 1, "text": "x" * 10_001}]}),
    ("parts", "description", {"parts": [{"part_number": "F-1", "quantity": "1", "description": "x" * 201}]}),
    ("parts", "part_number", {"parts": [{"part_number": "F" * 65, "quantity": "1"}]}),
    ("signature", "signer_name", {"png_base64": base64.b64encode(PNG).decode(), "signer_name": "王" * 201}),
]


@pytest.mark.parametrize(("path", "field", "body"), TOO_LONG, ids=[f"{p}.{f}" for p, f, _ in TOO_LONG])
def test_every_text_over_its_limit_is_422_naming_the_field(
    technician_a: User, app_a: App, make_job: JobMaker, path: str, field: str, body: dict[str, Any]
) -> None:
    job = make_job(
        technician=technician_a, status=Status.IN_PROGRESS, checklist=[{"label": "Notes", "kind": "text"}]
    )
    if path == "events":
        body = {**body, "at": clock.now().isoformat(), "version": job.version}
    response = app_a.post(f"/jobs/{job.pk}/{path}", body)
    assert response.status_code == 422, response.content
    assert [error["loc"][-1] for error in response.json()["details"]] == [field]
    job.refresh_from_db()
    assert job.status == Status.IN_PROGRESS and job.version == WorkOrder.objects.get(pk=job.pk).version


# --- issue 14: values a technician should not set -----------------------------------------------------


def test_the_phone_cannot_price_a_part(technician_a: User, app_a: App, make_job: JobMaker) -> None:
    """A part priced 9,999,999,999.99 on the phone became the total of the customer's PDF."""
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    part = {"part_number": "F-1", "quantity": "1", "unit_cost": "9999999999.99", "currency": "USD"}
    response = app_a.post(f"/jobs/{job.pk}/parts", {"parts": [part]})
    assert response.status_code == 200, response.content
    assert response.json()["parts"] == [
        {"part_number": "F-1", "description": "", "quantity": "1.000", "unit_cost": None, "currency": "CNY"}
    ]
    assert job.parts.get().unit_cost is None


def test_a_mistyped_meter_reading_is_held_and_the_next_one_is_taken(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    """123,456,789,012.99 was stored, and every later reading of the machine was refused as
    lower than it until an admin deleted it."""
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    assert job.equipment is not None
    MeterReading.objects.create(
        equipment=job.equipment,
        kind="operating_hours",
        value=1000,
        read_at=clock.now() - dt.timedelta(days=30),
    )
    typo = app_a.post(
        f"/jobs/{job.pk}/meter-readings", {"kind": "operating_hours", "value": "123456789012.99"}
    )
    assert typo.status_code == 200, typo.content
    assert [r["value"] for r in typo.json()["equipment"]["last_meter_readings"]] == ["1000.00"]
    held = WorkOrderEvent.objects.get(work_order=job, type="meter_read")
    assert held.flagged and held.flag_reason == WorkOrderEvent.FlagReason.METER_JUMP
    right = app_a.post(f"/jobs/{job.pk}/meter-readings", {"kind": "operating_hours", "value": "1240"})
    assert right.status_code == 200, right.content
    assert [r["value"] for r in right.json()["equipment"]["last_meter_readings"]] == ["1240.00"]


# --- issue 14: images ----------------------------------------------------------------------------------


def test_a_decompression_bomb_is_422_and_keeps_no_file(
    technician_a: User, app_a: App, make_job: JobMaker, settings: Any
) -> None:
    job = make_job(technician=technician_a, status=Status.ON_SITE)
    bomb = png_of(8000, 8000)
    response = _upload(app_a, job, bomb, key="bomb")
    assert response.status_code == 422
    assert response.json()["code"] == "too_many_pixels"
    assert not [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def png_of(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG")
    return out.getvalue()


def test_a_photo_keeps_the_time_it_was_taken_and_not_one_before_the_arrival(
    technician_a: User, app_a: App, make_job: JobMaker
) -> None:
    """The app shrinks a photo before it queues, which drops its EXIF: the time it was taken
    comes with it (`at`), checked as every record's is, not the time it reached us."""
    job = make_job(technician=technician_a, status=Status.ON_SITE, at=EARLIER)

    def upload(at: dt.datetime, key: str) -> Any:
        photo = SimpleUploadedFile("photo.jpg", PNG, "image/png")
        body = {"file": photo, "caption": "Seal", "at": at.isoformat()}
        return app_a.client.post(f"{API}/jobs/{job.pk}/photos", body, HTTP_IDEMPOTENCY_KEY=key)

    response = upload(RECENT, "taken")
    assert response.status_code == 200, response.content
    assert Attachment.objects.get(work_order=job).uploaded_at == RECENT

    before = upload(EARLIER - dt.timedelta(days=2), "backdated")
    assert before.status_code == 422, before.content
    assert before.json()["code"] == "event_out_of_order"
    assert Attachment.objects.filter(work_order=job).count() == 1
