"""Schedule runs on real data: build the solver's input, solve per territory, store, accept
(with a conflict), insert an urgent job; and who may do it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.test import Client
from django.utils import timezone

from fieldservice import roles
from scheduling import selectors, services
from scheduling.models import ScheduleRun, Technician, Territory
from tests import factories
from tickets import services as work_orders
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db
TOMORROW = timezone.localdate() + dt.timedelta(days=1)
SUZHOU = (31.30, 120.62)


def square(name: str, lon: float, lat: float) -> Territory:
    west, east, south, north = lon - 0.5, lon + 0.5, lat - 0.5, lat + 0.5
    box = Polygon(((west, south), (east, south), (east, north), (west, north), (west, south)))
    return Territory.objects.create(name=name, boundary=MultiPolygon(box, srid=4326))


def crew(
    territory: Territory, count: int, skills: dict[str, int], day: dt.date, prefix: str
) -> list[Technician]:
    """Technicians based at the centre of their territory, with a shift on `day`."""
    people = []
    for n in range(count):
        person = factories.user(
            username=f"{prefix}{n}", role=roles.TECHNICIAN, first_name=prefix, last_name=str(n)
        )
        tech = factories.technician(
            person=person, skills=skills, territory=territory, home_base=territory.boundary.centroid
        )
        factories.shift(technician=tech, date=day)
        people.append(tech)
    return people


def job(
    *,
    lat: float,
    lon: float,
    skills: dict[str, int],
    priority: int = 3,
    title: str = "Service",
    minutes: int = 60,
) -> WorkOrder:
    site = factories.site(lat=lat, lon=lon, access_weekdays=[0, 1, 2, 3, 4, 5, 6])
    return work_orders.work_order_create(
        site=site,
        kind="corrective",
        title=title,
        by=None,
        priority=priority,
        required_skills=skills,
        estimated_minutes=minutes,
    )


@pytest.fixture
def suzhou_day() -> dict[str, Any]:
    area = square("Suzhou", SUZHOU[1], SUZHOU[0])
    techs = crew(area, 3, {"compressor": 2}, TOMORROW, "sz")
    jobs = [
        job(lat=SUZHOU[0] + 0.01 * n, lon=SUZHOU[1] + 0.01 * n, skills={"compressor": 1}) for n in range(6)
    ]
    nobody = job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"smt": 3}, title="SMT line")
    return {"area": area, "techs": techs, "jobs": jobs, "nobody": nobody}


def run_now(first_day: dt.date = TOMORROW, territory: Territory | None = None) -> ScheduleRun:
    run = services.schedule_run_create(
        by=None, first_day=first_day, territory=territory, time_limit_s=1, enqueue=False
    )
    for part in services.run_parts(run):
        services.schedule_run_solve_part(run_id=run.pk, part=part)
    run.refresh_from_db()
    return run


def test_problem_has_windows_shifts_skills_and_lunch(suzhou_day: dict[str, Any]) -> None:
    problem, context = selectors.build_problem(first_day=TOMORROW, days=1, territory=suzhou_day["area"])
    assert len(problem.technicians) == 3 and len(problem.jobs) == 7
    tech = problem.technicians[0]
    assert tech.skills == {"compressor": 2} and tech.lunch is not None
    assert [(s.start, s.end) for s in tech.shifts] == [(8 * 60, 17 * 60)]
    # The site is open 08:00-17:00 local: the job's window is that, in minutes from midnight.
    assert problem.jobs[0].windows[0].start == 8 * 60 and problem.jobs[0].windows[0].end == 17 * 60
    assert context.moment(8 * 60).hour == 8


def test_run_places_jobs_and_explains_the_rest(suzhou_day: dict[str, Any]) -> None:
    run = run_now(territory=suzhou_day["area"])
    assert run.status == "succeeded", run.error
    placed = set(run.assignments.values_list("work_order_id", flat=True))
    assert placed == {wo.pk for wo in suzhou_day["jobs"]}
    assert run.unplaced == [
        {
            "work_order_id": suzhou_day["nobody"].pk,
            "number": suzhou_day["nobody"].number,
            "reason": "no_skilled_technician",
            "message": run.unplaced[0]["message"],
        }
    ]
    assert run.kpis["before"]["placed"] == 0 and run.kpis["after"]["placed"] == 6
    assert all("compressor ≥1" in a.reason for a in run.assignments.all())
    assignment = run.assignments.first()
    assert assignment is not None and assignment.planned_start.date() == TOMORROW


def test_all_territories_are_solved_in_parts(suzhou_day: dict[str, Any]) -> None:
    hangzhou = square("Hangzhou", 120.15, 30.27)
    crew(hangzhou, 1, {"compressor": 1}, TOMORROW, "hz")
    far = job(lat=30.27, lon=120.15, skills={"compressor": 1})
    run = run_now()
    assert (run.parts_total, run.parts_done, run.status) == (2, 2, "succeeded")
    hangzhou_tech = Technician.objects.get(territory=hangzhou)
    assert run.assignments.get(work_order=far).technician == hangzhou_tech
    assert run.assignments.count() == 7


def test_running_a_part_twice_stores_it_once(suzhou_day: dict[str, Any]) -> None:
    run = run_now(territory=suzhou_day["area"])
    count = run.assignments.count()
    services.schedule_run_solve_part(run_id=run.pk, part=str(suzhou_day["area"].pk))
    assert ScheduleRun.objects.get(pk=run.pk).assignments.count() == count


def test_accept_applies_the_plan_and_reports_conflicts(suzhou_day: dict[str, Any], dispatcher: User) -> None:
    run = run_now(territory=suzhou_day["area"])
    changed = suzhou_day["jobs"][0]
    work_orders.work_order_update(
        work_order=changed, by=dispatcher, version=changed.version, title="Edited meanwhile"
    )
    result = services.schedule_run_accept(run=run, by=dispatcher)
    assert result["applied"] == 5
    assert [c["number"] for c in result["conflicts"]] == [changed.number]
    assert result["conflicts"][0]["code"] == "version_conflict"
    changed.refresh_from_db()
    assert (changed.status, changed.title) == ("new", "Edited meanwhile")
    scheduled = WorkOrder.objects.filter(status="scheduled")
    assert scheduled.count() == 5
    assert all(wo.events.filter(type="status_changed", to_status="scheduled").exists() for wo in scheduled)
    run.refresh_from_db()
    assert run.status == "accepted"


def test_dispatched_job_stays_with_its_technician(suzhou_day: dict[str, Any]) -> None:
    first, techs = suzhou_day["jobs"][0], suzhou_day["techs"]
    start = dt.datetime.combine(TOMORROW, dt.time(9), tzinfo=factories.SHANGHAI)
    end = start + dt.timedelta(hours=1)
    first = work_orders.work_order_schedule(
        work_order=first, technician=techs[2].user, planned_start=start, planned_end=end, by=None, version=1
    )
    work_orders.work_order_dispatch(work_order=first, by=None, version=first.version)
    run = run_now(territory=suzhou_day["area"])
    assert run.assignments.get(work_order=first).technician == techs[2]


def test_insert_urgent_job_into_today(suzhou_day: dict[str, Any], dispatcher: User) -> None:
    today = timezone.localdate()
    for tech in suzhou_day["techs"]:
        factories.shift(technician=tech, date=today, start="00:00", end="23:59")
    urgent = job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"compressor": 1}, priority=1, title="Line down")
    # In the morning: late in the evening the site's access hours leave no window today.
    morning = dt.datetime.combine(today, dt.time(9), tzinfo=timezone.get_current_timezone())
    result = services.schedule_insert(work_order=urgent, by=dispatcher, now=morning)
    assert result["placed"] is True, result
    urgent.refresh_from_db()
    assert urgent.status == "scheduled" and urgent.assigned_technician is not None
    assert result["seconds"] < 10


def test_a_job_pushed_off_by_an_urgent_one_goes_back_to_the_queue(dispatcher: User) -> None:
    """One technician, a morning with room for two 90-minute jobs: the urgent third takes
    the P4's place, and the P4 is unassigned rather than left overlapping it."""
    today = timezone.localdate()
    area = square("Suzhou", SUZHOU[1], SUZHOU[0])
    person = factories.user(username="solo", role=roles.TECHNICIAN)
    tech = factories.technician(
        person=person, skills={"compressor": 2}, territory=area, home_base=area.boundary.centroid
    )
    factories.shift(technician=tech, date=today, start="09:00", end="12:20")

    def at(clock: str) -> dt.datetime:
        return dt.datetime.combine(
            today, dt.time.fromisoformat(clock), tzinfo=timezone.get_current_timezone()
        )

    planned: dict[int, WorkOrder] = {}
    for priority, start, end in ((3, "09:00", "10:30"), (4, "10:30", "12:00")):
        planned[priority] = work_orders.work_order_schedule(
            work_order=job(
                lat=SUZHOU[0], lon=SUZHOU[1], skills={"compressor": 1}, priority=priority, minutes=90
            ),
            technician=person,
            planned_start=at(start),
            planned_end=at(end),
            by=dispatcher,
            version=None,
        )
    urgent = job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"compressor": 1}, priority=1, minutes=90)
    result = services.schedule_insert(work_order=urgent, by=dispatcher, now=at("08:00"))
    assert result["placed"] is True, result
    assert result["returned_to_queue"] == [planned[4].number]
    planned[4].refresh_from_db()
    assert planned[4].status == "new" and planned[4].assigned_technician is None
    planned[3].refresh_from_db()
    urgent.refresh_from_db()
    assert planned[3].assigned_technician == person and urgent.assigned_technician == person
    kept, inserted = planned[3], urgent
    assert kept.planned_start and kept.planned_end and inserted.planned_start and inserted.planned_end
    assert kept.planned_end <= inserted.planned_start or inserted.planned_end <= kept.planned_start


@pytest.mark.parametrize(
    ("persona", "status"),
    [("dispatcher", 202), ("admin_user", 202), ("tech_a", 403), ("account_manager", 403)],
)
def test_only_planners_run_the_optimizer(
    suzhou_day: dict[str, Any],
    request: pytest.FixtureRequest,
    persona: str,
    status: int,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    body = {"date": TOMORROW.isoformat(), "territory_id": suzhou_day["area"].pk, "time_limit_s": 1}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/schedule/runs", body, "application/json")
    assert response.status_code == status, response.content
    if status != 202:
        assert client.get("/api/v1/schedule/runs/1").status_code == 403
        return
    run_id = response.json()["id"]
    run = client.get(f"/api/v1/schedule/runs/{run_id}").json()
    assert run["status"] == "succeeded" and len(run["assignments"]) == 6
    assert run["unplaced"][0]["reason"] == "no_skilled_technician"
    accepted = client.post(f"/api/v1/schedule/runs/{run_id}/accept")
    assert accepted.status_code == 200 and accepted.json()["applied"] == 6
    again = client.post(f"/api/v1/schedule/runs/{run_id}/accept")
    assert again.status_code == 409 and again.json()["code"] == "not_ready"


def test_run_input_is_validated(dispatcher: User) -> None:
    client = Client()
    client.force_login(dispatcher)
    assert (
        client.post(
            "/api/v1/schedule/runs", {"date": "2026-12-01", "days": 30}, "application/json"
        ).status_code
        == 422
    )
    unknown = client.post(
        "/api/v1/schedule/runs", {"date": "2026-12-01", "territory_id": 999}, "application/json"
    )
    assert unknown.json()["code"] == "unknown_territory"
    assert client.get("/api/v1/schedule/runs/424242").status_code == 404
