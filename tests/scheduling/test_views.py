"""The dispatch board: who may open it, what it shows, in how many queries; optimizer runs
through the board (a run that found no plan shown as failed, a plan placing fewer P1/P2 jobs
accepted only when confirmed); urgent insertion and its reasons; manual moves refused, warned
or applied, and stale boards refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fieldservice import clock, ranges, roles
from scheduling import services
from scheduling.models import Absence, ScheduleRun, Technician, Territory
from scheduling.solver import planner as solver_planner
from tests import factories
from tickets import creation, lifecycle
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db
DAY = clock.today() + dt.timedelta(days=1)


def at(clock: str, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.fromisoformat(clock), tzinfo=factories.SHANGHAI)


def add_technician(area: Territory, name: str, skills: dict[str, int]) -> Technician:
    person = factories.user(username=name, role=roles.TECHNICIAN, first_name=name.title())
    tech = factories.technician(
        person=person, skills=skills, territory=area, home_base=area.boundary.centroid
    )
    factories.shift(technician=tech, date=DAY)
    return tech


def new_job(*, skills: dict[str, int], priority: int = 3, title: str = "Service", **fields: Any) -> WorkOrder:
    site = factories.site(lat=31.32, lon=120.72, access_weekdays=[0, 1, 2, 3, 4, 5, 6])
    return creation.work_order_create(
        site=site,
        kind="corrective",
        title=title,
        by=None,
        priority=priority,
        required_skills=skills,
        estimated_minutes=60,
        **fields,
    )


def planned_job(tech: Technician, start: str, skills: dict[str, int] | None = None) -> WorkOrder:
    work_order = new_job(skills=skills or {"compressor": 1})
    return lifecycle.work_order_schedule(
        work_order=work_order,
        technician=tech.user,
        planned_start=at(start),
        planned_end=at(start) + dt.timedelta(hours=1),
        by=None,
        version=work_order.version,
    )


@pytest.fixture
def area() -> Territory:
    return factories.territory()


@pytest.fixture
def crew(area: Territory) -> dict[str, Any]:
    compressor = add_technician(area, "lin", {"compressor": 2})
    smt = add_technician(area, "zhao", {"smt": 3})
    return {
        "compressor": compressor,
        "smt": smt,
        "planned": planned_job(compressor, "09:00"),
        "waiting": new_job(skills={"compressor": 2}, title="Compressor trips"),
    }


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def board_url(area: Territory) -> str:
    return f"/dispatch/?day={DAY.isoformat()}&territory={area.pk}"


# --- who may open it -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("dispatcher", 200), ("admin_user", 200), ("tech_a", 403), ("account_manager", 403)],
)
def test_only_planners_open_the_board(
    request: pytest.FixtureRequest, persona: str, status: int, crew: dict[str, Any], area: Territory
) -> None:
    client = logged_in(request.getfixturevalue(persona))
    assert client.get(board_url(area)).status_code == status
    post = client.post("/dispatch/runs/", {"day": DAY.isoformat(), "territory": area.pk})
    assert post.status_code == (403 if status == 403 else 200)


def test_anonymous_goes_to_login(area: Territory) -> None:
    response = Client().get(board_url(area))
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- what it shows ---------------------------------------------------------------------------------------


def test_board_shows_timeline_queue_and_map(dispatcher: User, crew: dict[str, Any], area: Territory) -> None:
    response = logged_in(dispatcher).get(board_url(area))
    page = response.content.decode()
    assert crew["planned"].number in page and crew["waiting"].number in page
    assert f'href="/work-orders/{crew["planned"].pk}/"' in page
    assert 'id="queue-count">1<' in page
    assert "compressor ≥2" in page
    assert 'class="tl-block lunch"' in page and 'class="tl-block travel"' in page
    assert 'id="board-map-data"' in page
    rows = response.context["board"].rows
    assert [row.technician.pk for row in rows] == [crew["compressor"].pk, crew["smt"].pk]
    job = next(b for b in rows[0].blocks if b.kind == "job")
    # 09:00–10:00 on a 06:00–20:00 track.
    assert job.left == pytest.approx(180 / 840 * 100, abs=0.01)
    assert job.width == pytest.approx(60 / 840 * 100, abs=0.01)


def test_queue_shows_the_latest_runs_reason(dispatcher: User, crew: dict[str, Any], area: Territory) -> None:
    """Reasons are stored as a code and parameters and rendered for the reader; an entry
    stored before (with its text) is shown as it was."""
    waiting = crew["waiting"]
    ScheduleRun.objects.create(
        horizon_start=DAY,
        territory=area,
        status="succeeded",
        unplaced=[
            {
                "work_order_id": waiting.pk,
                "number": waiting.number,
                "reason": "no_shift_time",
                "params": {"qualified": 2, "pinned": False},
            }
        ],
    )
    page = logged_in(dispatcher).get(board_url(area)).content.decode()
    assert 'data-reason="no_shift_time"' in page
    assert "None of the qualified technicians (2) has shift time left in this plan" in page
    ScheduleRun.objects.create(
        horizon_start=DAY,
        territory=area,
        status="succeeded",
        unplaced=[
            {
                "work_order_id": waiting.pk,
                "number": waiting.number,
                "reason": "no_skilled_technician",
                "message": "Nobody holds compressor at level 2 with room.",
            }
        ],
    )
    page = logged_in(dispatcher).get(board_url(area)).content.decode()
    assert 'data-reason="no_skilled_technician"' in page and "Nobody holds compressor" in page


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_board_queries_do_not_grow_with_technicians_or_jobs(dispatcher: User, area: Territory) -> None:
    client = logged_in(dispatcher)
    first = add_technician(area, "t0", {"compressor": 2})
    planned_job(first, "09:00")
    new_job(skills={"compressor": 1})
    client.get(board_url(area))  # sessions, content types: warm
    small = _queries(client, board_url(area))
    for n in range(1, 5):
        tech = add_technician(area, f"t{n}", {"compressor": 2, "chiller": 1})
        planned_job(tech, "09:00")
        planned_job(tech, "13:00")
        new_job(skills={"chiller": 1}, priority=2)
    ScheduleRun.objects.create(horizon_start=DAY, territory=area, status="succeeded")
    assert _queries(client, board_url(area)) == small
    assert small <= 10


# --- optimizer runs from the board ---------------------------------------------------------------------


def test_run_shows_progress_then_kpis_then_accepts(
    dispatcher: User, crew: dict[str, Any], area: Territory, django_capture_on_commit_callbacks: Any
) -> None:
    client = logged_in(dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            "/dispatch/runs/",
            {"day": DAY.isoformat(), "territory": area.pk, "time_limit_s": 1},
            HTTP_HX_REQUEST="true",
        )
    # In a test the run is solved after the response (on commit): the fragment polls.
    fragment = started.content.decode()
    run = ScheduleRun.objects.get()
    assert f'hx-get="/dispatch/runs/{run.pk}/status/"' in fragment and 'hx-trigger="every 1s"' in fragment
    assert run.parameters["time_limit_s"] == 1
    status = client.get(f"/dispatch/runs/{run.pk}/status/", HTTP_HX_REQUEST="true")
    done = status.content.decode()
    assert 'data-status="succeeded"' in done and "hx-trigger" not in done
    kpis = {row["key"]: row for row in status.context["kpi_rows"]}
    assert kpis["unplaced"]["before"] == 1 and kpis["unplaced"]["after"] == 0
    assert "Accept the plan" in done

    accepted = client.post(f"/dispatch/runs/{run.pk}/accept/")
    assert accepted.status_code == 302 and accepted["Location"] == board_url(area)
    crew["waiting"].refresh_from_db()
    assert crew["waiting"].status == "scheduled"
    page = client.get(board_url(area)).content.decode()
    assert "Plan accepted" in page and 'id="queue-count">0<' in page


def test_a_run_that_found_no_plan_is_shown_as_failed_with_its_cause(
    dispatcher: User, crew: dict[str, Any], area: Territory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not "Succeeded" with nothing placed and a live "Accept the plan" button: failed, why,
    and nothing to accept."""
    monkeypatch.setattr(solver_planner, "run_ortools", lambda *args: None)
    client = logged_in(dispatcher)
    started = client.post(
        "/dispatch/runs/", {"day": DAY.isoformat(), "territory": area.pk, "time_limit_s": 1}
    )
    run = ScheduleRun.objects.get()
    services.schedule_run_solve_part(run_id=run.pk, part=str(area.pk))  # no broker in the tests
    fragment = client.get(f"/dispatch/runs/{run.pk}/status/").content.decode()
    assert started.status_code == 200 and 'data-status="failed"' in fragment
    assert f"Optimizer run #{run.pk} failed:" in fragment
    assert "Suzhou: the optimizer found no plan (solver status NO_SOLUTION)." in fragment
    assert "Accept the plan" not in fragment
    assert client.post(f"/dispatch/runs/{run.pk}/accept/").status_code == 302
    crew["waiting"].refresh_from_db()
    assert crew["waiting"].status == "new"


def test_the_board_asks_to_confirm_a_plan_placing_fewer_urgent_jobs(
    dispatcher: User, crew: dict[str, Any], area: Territory
) -> None:
    """The P1 planned on Lin's day cannot stay there (Lin is off now, and no one else has the
    skill): the board says so and accepts only with the box ticked; the rule is the service's."""
    lin = crew["compressor"]
    urgent = planned_job(lin, "13:00", skills={"compressor": 2})
    WorkOrder.objects.filter(pk=urgent.pk).update(priority=1)
    Absence.objects.create(technician=lin, starts_at=at("07:00"), ends_at=at("18:00"))
    client = logged_in(dispatcher)
    client.post("/dispatch/runs/", {"day": DAY.isoformat(), "territory": area.pk, "time_limit_s": 1})
    run = ScheduleRun.objects.get()
    services.schedule_run_solve_part(run_id=run.pk, part=str(area.pk))
    fragment = client.get(f"/dispatch/runs/{run.pk}/status/").content.decode()
    assert 'data-status="succeeded"' in fragment
    assert "This plan places 0 P1/P2 jobs; 1 are placed now." in fragment
    assert 'name="confirm_fewer_urgent"' in fragment and "Accept the plan" in fragment

    refused = client.post(f"/dispatch/runs/{run.pk}/accept/", follow=True).content.decode()
    assert "This plan places 0 P1/P2 jobs; 1 are placed now." in refused and "confirm" in refused
    assert WorkOrder.objects.get(pk=urgent.pk).status == "scheduled"
    assert ScheduleRun.objects.get().status == "succeeded"

    accepted = client.post(f"/dispatch/runs/{run.pk}/accept/", {"confirm_fewer_urgent": "1"}, follow=True)
    assert "Plan accepted" in accepted.content.decode()
    assert WorkOrder.objects.get(pk=urgent.pk).status == "new"


def test_insert_urgent_after_the_shifts_have_ended_says_so(dispatcher: User, area: Territory) -> None:
    today = clock.today()
    evening = dt.datetime.combine(today, dt.time(21), tzinfo=factories.SHANGHAI)
    with time_machine.travel(evening, tick=True):
        for name, level in (("he", 2), ("wu", 3), ("xu", 3)):
            tech = factories.technician(
                person=factories.user(username=name, role=roles.TECHNICIAN),
                territory=area,
                home_base=area.boundary.centroid,
                skills={"hvac": level},
            )
            factories.shift(technician=tech, date=today)
        urgent = new_job(skills={"hvac": 2}, priority=1, title="Cleanroom HVAC down")
        response = logged_in(dispatcher).post(
            "/dispatch/insert/",
            {"work_order": urgent.pk, "day": today.isoformat(), "territory": area.pk},
            follow=True,
        )
    page = response.content.decode()
    assert f"{urgent.number} could not be placed today:" in page
    assert "None of the qualified technicians (3) has shift time left in this plan" in page
    assert "required skills" not in page


def test_insert_urgent_job(dispatcher: User, area: Territory) -> None:
    today = clock.today()
    # In the morning: late in the evening the site's access hours leave no window today.
    morning = dt.datetime.combine(today, dt.time(9), tzinfo=timezone.get_current_timezone())
    with time_machine.travel(morning, tick=True):
        tech = factories.technician(
            person=factories.user(role=roles.TECHNICIAN, first_name="Wu"),
            territory=area,
            home_base=area.boundary.centroid,
            skills={"compressor": 2},
        )
        factories.shift(technician=tech, date=today, start="00:00", end="23:59")
        urgent = new_job(skills={"compressor": 1}, priority=1, title="Line down")
        client = logged_in(dispatcher)
        response = client.post(
            "/dispatch/insert/",
            {"work_order": urgent.pk, "day": today.isoformat(), "territory": area.pk},
            follow=True,
        )
        urgent.refresh_from_db()
        assert urgent.status == "scheduled" and urgent.assigned_technician == tech.user
        assert f"{urgent.number} inserted: Wu" in response.content.decode()


# --- manual moves --------------------------------------------------------------------------------------


def move(
    client: Client, work_order: WorkOrder, tech: Technician, start: str, version: int | None = None
) -> Any:
    return client.post(
        f"/dispatch/work-orders/{work_order.pk}/move/save/",
        {
            "technician": tech.pk,
            "start": start,
            "day": DAY.isoformat(),
            "version": work_order.version if version is None else version,
            "territory": tech.territory_id,
        },
        HTTP_HX_REQUEST="true",
    )


def test_move_form_carries_the_version_seen(dispatcher: User, crew: dict[str, Any]) -> None:
    planned = crew["planned"]
    response = logged_in(dispatcher).get(
        f"/dispatch/work-orders/{planned.pk}/move/?version=1&day={DAY.isoformat()}", HTTP_HX_REQUEST="true"
    )
    page = response.content.decode()
    assert 'name="version" value="1"' in page and '<label for="reassign-technician">' in page


def test_move_refused_without_the_skill(dispatcher: User, crew: dict[str, Any]) -> None:
    planned = crew["planned"]
    response = move(logged_in(dispatcher), planned, crew["smt"], "10:30")
    page = response.content.decode()
    assert response.status_code == 200 and "Refused" in page
    assert "does not have the skill “compressor”" in page
    unchanged = WorkOrder.objects.get(pk=planned.pk)
    assert (unchanged.assigned_technician, unchanged.version) == (crew["compressor"].user, planned.version)


def test_move_refused_below_the_skill_level(dispatcher: User, crew: dict[str, Any], area: Territory) -> None:
    junior = add_technician(area, "junior", {"compressor": 1})
    page = move(logged_in(dispatcher), crew["waiting"], junior, "10:00").content.decode()
    assert "“compressor” at level 1; this job needs level 2" in page
    assert WorkOrder.objects.get(pk=crew["waiting"].pk).status == "new"


def test_move_refused_outside_the_shift(dispatcher: User, crew: dict[str, Any]) -> None:
    page = move(logged_in(dispatcher), crew["waiting"], crew["compressor"], "16:30").content.decode()
    assert "outside" in page and "shift (08:00–17:00)" in page
    assert WorkOrder.objects.get(pk=crew["waiting"].pk).status == "new"


def test_move_refused_when_overlapping(dispatcher: User, crew: dict[str, Any]) -> None:
    page = move(logged_in(dispatcher), crew["waiting"], crew["compressor"], "09:30").content.decode()
    assert f"It overlaps {crew['planned'].number} (09:00–10:00)" in page
    assert WorkOrder.objects.get(pk=crew["waiting"].pk).status == "new"


def test_move_late_vs_sla_is_allowed_with_a_warning(dispatcher: User, crew: dict[str, Any]) -> None:
    waiting = crew["waiting"]
    WorkOrder.objects.filter(pk=waiting.pk).update(sla_resolution_due=at("11:00"))
    waiting.refresh_from_db()
    client = logged_in(dispatcher)
    response = move(client, waiting, crew["compressor"], "14:00")
    assert response.status_code == 204 and response["HX-Redirect"].startswith("/dispatch/?day=")
    moved = WorkOrder.objects.get(pk=waiting.pk)
    assert (moved.status, moved.assigned_technician, moved.planned_start) == (
        "scheduled",
        crew["compressor"].user,
        at("14:00"),
    )
    page = client.get(response["HX-Redirect"]).content.decode()
    assert "Late vs SLA" in page and "240 min after" in page


def test_move_on_a_stale_board_is_refused_and_changes_nothing(
    dispatcher: User, crew: dict[str, Any], area: Territory
) -> None:
    planned = crew["planned"]
    seen = planned.version
    other = add_technician(area, "qian", {"compressor": 3})
    # Someone else moves it meanwhile.
    lifecycle.work_order_schedule(
        work_order=planned,
        technician=other.user,
        planned_start=at("13:00"),
        planned_end=at("14:00"),
        by=None,
        version=seen,
    )
    after_other = WorkOrder.objects.get(pk=planned.pk)
    page = move(logged_in(dispatcher), planned, crew["compressor"], "15:00", version=seen).content.decode()
    assert f"{planned.number} was changed by someone else" in page and "Reload the board" in page
    now = WorkOrder.objects.get(pk=planned.pk)
    assert (now.assigned_technician, now.planned_start, now.version) == (
        other.user,
        at("13:00"),
        after_other.version,
    )


def test_move_without_javascript_renders_a_page(dispatcher: User, crew: dict[str, Any]) -> None:
    response = logged_in(dispatcher).post(
        f"/dispatch/work-orders/{crew['planned'].pk}/move/save/",
        {
            "technician": crew["smt"].pk,
            "start": "10:30",
            "day": DAY.isoformat(),
            "version": crew["planned"].version,
        },
    )
    page = response.content.decode()
    assert "<html" in page and "does not have the skill" in page


# --- a day out of range (issue 14) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        ("0001-01-01", "Enter a date between 1970-01-01 and 2099-12-31."),  # the day before: 500
        ("9999-12-31", "Enter a date between 1970-01-01 and 2099-12-31."),  # the day after: 500
        ("2100-01-01", "Enter a date between 1970-01-01 and 2099-12-31."),
        ("abc", "Enter a valid date."),
    ],
)
def test_a_board_asked_for_a_day_out_of_range_is_400_showing_today_and_why(
    dispatcher: User, crew: dict[str, Any], area: Territory, day: str, reason: str
) -> None:
    response = logged_in(dispatcher).get(
        f"/dispatch/?day={day}&territory={area.pk}", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert response.context["board"].day == clock.today()
    assert f"The day asked for cannot be shown: {reason} Today is shown instead." in response.content.decode()


def test_the_board_opens_on_the_range_s_first_and_last_days(
    dispatcher: User, crew: dict[str, Any], area: Territory
) -> None:
    client = logged_in(dispatcher)
    for day in (ranges.EARLIEST_DATE, ranges.LATEST_DATE):
        response = client.get(f"/dispatch/?day={day.isoformat()}&territory=all")
        assert (day, response.status_code, response.context["board"].day) == (day, 200, day)


def test_a_move_form_for_a_day_out_of_range_says_why(dispatcher: User, crew: dict[str, Any]) -> None:
    planned = crew["planned"]
    url = f"/dispatch/work-orders/{planned.pk}/move/?version=1&day=0001-01-01"
    page = logged_in(dispatcher).get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert "Enter a date between 1970-01-01 and 2099-12-31." in page.content.decode()
    # htmx swaps only a 2xx answer: the form comes back with the reason in it.
    fragment = logged_in(dispatcher).get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en")
    assert fragment.status_code == 200 and "Enter a date between" in fragment.content.decode()


def test_a_move_to_a_day_out_of_range_is_refused_and_changes_nothing(
    dispatcher: User, crew: dict[str, Any]
) -> None:
    planned = crew["planned"]
    response = logged_in(dispatcher).post(
        f"/dispatch/work-orders/{planned.pk}/move/save/",
        {
            "technician": crew["compressor"].pk,
            "start": "10:00",
            "day": "9999-12-31",
            "version": planned.version,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400 and "Enter a date between" in response.content.decode()
    unchanged = WorkOrder.objects.get(pk=planned.pk)
    assert (unchanged.planned_start, unchanged.version) == (planned.planned_start, planned.version)


def test_a_run_for_a_day_out_of_range_is_refused_and_none_is_queued(
    dispatcher: User, area: Territory
) -> None:
    response = logged_in(dispatcher).post(
        "/dispatch/runs/", {"day": "9999-12-31", "territory": area.pk}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400 and "Enter a date between" in response.content.decode()
    assert not ScheduleRun.objects.exists()


def test_an_insert_of_a_work_order_that_is_not_a_number_is_404(dispatcher: User, area: Territory) -> None:
    """It was a 500: the id went to the database as it came."""
    response = logged_in(dispatcher).post("/dispatch/insert/", {"work_order": "abc", "day": DAY.isoformat()})
    assert response.status_code == 404


def test_a_job_planned_to_9999_still_shows_on_the_board_and_can_be_moved(
    dispatcher: User, crew: dict[str, Any], area: Territory
) -> None:
    """Stored before the API's range: the board answered 500, for its territory and for all."""
    planned = crew["planned"]
    WorkOrder.objects.filter(pk=planned.pk).update(
        planned_end=dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    )
    client = logged_in(dispatcher)
    for url in (board_url(area), f"/dispatch/?day={DAY.isoformat()}&territory=all"):
        response = client.get(url)
        assert (url, response.status_code) == (url, 200)
        assert planned.number in response.content.decode()
    response = move(client, WorkOrder.objects.get(pk=planned.pk), crew["compressor"], "11:00")
    assert response.status_code == 204
    moved = WorkOrder.objects.get(pk=planned.pk)
    assert (moved.planned_start, moved.planned_end) == (at("11:00"), at("11:00") + dt.timedelta(minutes=60))
