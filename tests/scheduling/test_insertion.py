"""Urgent insertion's rules live in scheduling.insertion: a job below P2 is refused there, so
the API and the dispatch board give the same answer (the placing itself: test_runs.py)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from fieldservice import clock
from fieldservice.errors import Conflict
from scheduling import insertion
from scheduling.models import Territory
from tests import factories
from tickets import creation
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db
ONLY_URGENT = "Only P1 and P2 jobs are inserted as urgent; run the optimizer for the rest."


@pytest.fixture
def routine_job() -> WorkOrder:
    """A new P4 job inside the territory, which a technician could take today."""
    area = factories.territory()
    technician = factories.technician(skills={"compressor": 2}, territory=area)
    factories.shift(technician=technician, date=clock.today(), start="00:00", end="23:59")
    return creation.work_order_create(
        site=factories.site(access_weekdays=[0, 1, 2, 3, 4, 5, 6]),
        kind="corrective",
        title="Annual check",
        by=None,
        priority=4,
        required_skills={"compressor": 1},
    )


def logged_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_the_service_refuses_a_job_below_p2(routine_job: WorkOrder, dispatcher: User) -> None:
    with pytest.raises(Conflict) as refused:
        insertion.schedule_insert(work_order=routine_job, by=dispatcher)
    assert (refused.value.code, refused.value.message) == ("not_urgent", ONLY_URGENT)
    assert refused.value.details == {"priority": 4, "urgent_max_priority": 2}
    assert WorkOrder.objects.get(pk=routine_job.pk).version == routine_job.version


def test_the_api_and_the_board_refuse_it_alike(routine_job: WorkOrder, dispatcher: User) -> None:
    client = logged_in(dispatcher)
    api = client.post("/api/v1/schedule/insert", {"work_order_id": routine_job.pk}, "application/json")
    assert api.status_code == 409, api.content
    assert api.json() == {
        "code": "not_urgent",
        "message": ONLY_URGENT,
        "details": {"priority": 4, "urgent_max_priority": 2},
    }
    board = client.post(
        "/dispatch/insert/",
        {
            "work_order": routine_job.pk,
            "day": clock.today().isoformat(),
            "territory": Territory.objects.get().pk,
        },
        follow=True,
    )
    assert ONLY_URGENT in board.content.decode()
    unchanged = WorkOrder.objects.get(pk=routine_job.pk)
    assert (unchanged.status, unchanged.version) == ("new", routine_job.version)


def test_the_refusal_is_in_the_readers_language(routine_job: WorkOrder, dispatcher: User) -> None:
    api = logged_in(dispatcher).post(
        "/api/v1/schedule/insert",
        {"work_order_id": routine_job.pk},
        "application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert api.status_code == 409
    assert api.json()["message"] == "只有 P1 和 P2 任务可紧急插单；其余任务请运行优化器。"


def test_the_board_offers_insertion_for_urgent_jobs_only(routine_job: WorkOrder, dispatcher: User) -> None:
    urgent = creation.work_order_create(
        site=routine_job.site, kind="corrective", title="Line down", by=None, priority=2
    )
    page = logged_in(dispatcher).get(f"/dispatch/?day={clock.today().isoformat()}").content.decode()
    assert f"Insert {urgent.number} as urgent" in page
    assert f"Insert {routine_job.number} as urgent" not in page
