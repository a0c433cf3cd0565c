"""mobile_api/steps.py: the technician's steps, one table that the server applies events by,
that each job carries (`next_steps`), and that the app's page carries whole."""

from __future__ import annotations

import html
import json
import re
from typing import get_args

import pytest
from django.contrib.auth.models import User
from django.test import Client

from mobile_api import schemas, steps
from tests.mobile_api.conftest import App, JobMaker
from tickets import lifecycle, site_visit
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db
Status = WorkOrder.Status
OFFERED = [(status, step["event"]) for status, offered in steps.step_table().items() for step in offered]


def test_the_table_has_every_event_the_api_takes_and_no_other() -> None:
    assert set(steps.STEPS) == set(get_args(schemas.EventType))


def test_every_step_offered_is_a_legal_move_of_the_lifecycle() -> None:
    """The app is never offered what tickets.lifecycle would refuse (a completion from on site
    starts the work first, as the app's "complete" does)."""
    for status, event in OFFERED:
        route = steps.route(status, event)
        assert route, (status, event)
        for here, there in zip([status, *route], route, strict=False):
            assert there in lifecycle.TRANSITIONS[here], (status, event, here, there)


@pytest.mark.parametrize(("status", "event"), OFFERED, ids=[f"{s}-{e}" for s, e in OFFERED])
def test_every_step_a_job_offers_is_taken_to_where_it_says(
    technician_a: User, app_a: App, make_job: JobMaker, status: str, event: str
) -> None:
    job = make_job(technician=technician_a, status=Status.IN_PROGRESS if status == Status.ON_HOLD else status)
    if status == Status.ON_HOLD:
        job = site_visit.work_order_hold(work_order=job, by=technician_a, version=job.version, reason="Parts")
    (listed,) = app_a.get("/jobs").json()
    assert listed["status"] == status
    assert listed["next_steps"] == steps.next_steps(status)
    [step] = [step for step in listed["next_steps"] if step["event"] == event]

    answer = app_a.event(job, event, reason="Waiting for parts", resolution="Replaced the seal")

    assert answer.status_code == 200, answer.content
    assert (answer.json()["applied"], answer.json()["job"]["status"]) == (True, step["to"])
    assert answer.json()["job"]["next_steps"] == steps.next_steps(step["to"])


def test_a_job_past_the_visit_offers_nothing() -> None:
    for status in (Status.COMPLETED, Status.CLOSED, Status.CANCELLED, Status.NEW):
        assert steps.next_steps(status) == [], status
        assert status not in steps.step_table()


def test_the_apps_page_carries_the_whole_table() -> None:
    """For the steps after one queued with no signal: the app codes none of them."""
    page = Client().get("/app/").content.decode()
    carried = re.search(r'data-steps="([^"]*)"', page)
    assert carried is not None
    assert json.loads(html.unescape(carried.group(1))) == steps.step_table()


def test_the_schema_states_the_next_steps_of_a_job() -> None:
    schema = Client().get("/api/mobile/v1/openapi.json").json()
    job = schema["components"]["schemas"]["JobOut"]
    assert "next_steps" in job["required"]
    assert job["properties"]["next_steps"]["items"] == {"$ref": "#/components/schemas/StepOut"}
