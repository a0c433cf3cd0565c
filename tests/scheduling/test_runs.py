"""Schedule runs on real data: build the solver's input, solve per territory, store, accept
(with a conflict, and with fewer urgent jobs only when confirmed), fail visibly when no plan is
found, give each unplaced job its true reason, insert an urgent job; and who may do it."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.management import call_command
from django.test import Client
from django.utils import timezone, translation

from fieldservice import clock, roles
from fieldservice.errors import Conflict
from scheduling import insertion, selectors, services
from scheduling.models import Absence, ScheduleRun, Technician, TechnicianSkill, Territory
from scheduling.reasons import unplaced_entry_text
from scheduling.solver import check_plan, solve
from scheduling.solver import model as solver
from scheduling.solver import planner as solver_planner
from tests import factories
from tests.solver.helpers import false_capacity_claims
from tickets import creation, lifecycle
from tickets.models import WorkOrder

pytestmark = pytest.mark.django_db
TOMORROW = clock.today() + dt.timedelta(days=1)
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
    return creation.work_order_create(
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
    # Stored as data (a code and parameters), rendered when read.
    assert run.unplaced == [
        {
            "work_order_id": suzhou_day["nobody"].pk,
            "number": suzhou_day["nobody"].number,
            "reason": "no_skilled_technician",
            "params": {"skills": {"smt": 3}, "pinned": False},
        }
    ]
    assert run.kpis["before"]["placed"] == 0 and run.kpis["after"]["placed"] == 6
    for row in run.assignments.select_related("technician__user"):
        assert row.reason["code"] == "assigned" and row.reason["params"]["skills"] == {"compressor": 1}
        assert row.reason_text.startswith(f"{row.technician}: skilled: compressor ≥1; ")
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
    creation.work_order_update(
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
    first = lifecycle.work_order_schedule(
        work_order=first, technician=techs[2].user, planned_start=start, planned_end=end, by=None, version=1
    )
    lifecycle.work_order_dispatch(work_order=first, by=None, version=first.version)
    run = run_now(territory=suzhou_day["area"])
    assert run.assignments.get(work_order=first).technician == techs[2]


def test_insert_urgent_job_into_today(suzhou_day: dict[str, Any], dispatcher: User) -> None:
    today = clock.today()
    for tech in suzhou_day["techs"]:
        factories.shift(technician=tech, date=today, start="00:00", end="23:59")
    urgent = job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"compressor": 1}, priority=1, title="Line down")
    # In the morning: late in the evening the site's access hours leave no window today.
    morning = dt.datetime.combine(today, dt.time(9), tzinfo=timezone.get_current_timezone())
    result = insertion.schedule_insert(work_order=urgent, by=dispatcher, now=morning)
    assert result["placed"] is True, result
    urgent.refresh_from_db()
    assert urgent.status == "scheduled" and urgent.assigned_technician is not None
    assert result["seconds"] < 10


def test_a_job_pushed_off_by_an_urgent_one_goes_back_to_the_queue(dispatcher: User) -> None:
    """One technician, a morning with room for two 90-minute jobs: the urgent third takes
    the P4's place, and the P4 is unassigned rather than left overlapping it."""
    today = clock.today()
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
        planned[priority] = lifecycle.work_order_schedule(
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
    result = insertion.schedule_insert(work_order=urgent, by=dispatcher, now=at("08:00"))
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
    assert run["unplaced"][0]["params"] == {"skills": {"smt": 3}, "pinned": False}
    assert run["unplaced"][0]["message"] == "No technician in the plan has the required skills (smt level 3)."
    assert run["assignments"][0]["reason_code"] == "assigned"
    assert "compressor ≥1" in run["assignments"][0]["reason"]
    assert (run["error"], run["error_code"]) == ("", "")
    # No body at all: the confirmation is optional.
    accepted = client.post(f"/api/v1/schedule/runs/{run_id}/accept", content_type="application/json")
    assert accepted.status_code == 200 and accepted.json()["applied"] == 6
    again = client.post(f"/api/v1/schedule/runs/{run_id}/accept", {}, "application/json")
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


# --- the run's answer: a plan, or a failure that says why -------------------------------------------


def beijing(tech: Technician) -> None:
    """The technician's phone last reported from Beijing, now: 1,100 km from home."""
    Technician.objects.filter(pk=tech.pk).update(
        current_position=Point(116.40, 39.90, srid=4326), position_at=clock.now()
    )


def test_a_live_position_counts_for_todays_shift_only(suzhou_day: dict[str, Any]) -> None:
    """Seen in Beijing today: today's shift starts there, tomorrow's from home (the local day,
    not the UTC date, which in the early morning is still yesterday's)."""
    tech = suzhou_day["techs"][0]
    today = clock.today()
    factories.shift(technician=tech, date=today, start="00:00", end="23:59")
    beijing(tech)
    tomorrow, _ = selectors.build_problem(first_day=TOMORROW, days=1, territory=suzhou_day["area"])
    starts = {t.id: [s.start_location for s in t.shifts] for t in tomorrow.technicians}
    assert starts[str(tech.pk)] == [None]
    two_days, _ = selectors.build_problem(first_day=today, days=2, territory=suzhou_day["area"])
    ours = next(t for t in two_days.technicians if t.id == str(tech.pk))
    assert [s.start_location for s in ours.shifts] == [solver.Location(39.90, 116.40), None]
    assert ours.start_location == ours.end_location == solver.Location(tech.home_base.y, tech.home_base.x)


def test_a_technician_far_from_home_today_does_not_fail_the_plan(suzhou_day: dict[str, Any]) -> None:
    """The issue's day: the model was infeasible as a whole (NO_SOLUTION in 0.0 s, every job
    `capacity`, the board "Succeeded" with nothing placed). That technician-day is left out."""
    today = clock.today()
    morning = dt.datetime.combine(today, dt.time(10), tzinfo=factories.SHANGHAI)
    stranded = suzhou_day["techs"][0]
    for tech in suzhou_day["techs"]:
        factories.shift(technician=tech, date=today)
    Technician.objects.filter(pk=stranded.pk).update(
        current_position=Point(116.40, 39.90, srid=4326), position_at=morning
    )
    problem, _ = selectors.build_problem(first_day=today, days=1, territory=suzhou_day["area"], now=morning)
    plan = solve(problem, solver.SolveParams(time_limit_s=1))
    assert plan.stats.status != solver.STATUS_NO_SOLUTION
    assert check_plan(problem, plan) == [] and false_capacity_claims(problem, plan) == []
    assert plan.kpis.placed == 6
    assert str(stranded.pk) not in {route.technician_id for route in plan.routes}


def test_a_run_that_finds_no_plan_fails_and_says_why(
    suzhou_day: dict[str, Any], dispatcher: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No plan must never look like a plan that unassigns the day: the run fails with its cause,
    stores nothing, and cannot be accepted."""
    monkeypatch.setattr(solver_planner, "run_ortools", lambda *args: None)
    run = run_now(territory=suzhou_day["area"])
    assert (run.status, run.error_code) == ("failed", "no_plan")
    assert run.error_params == {"territory": "Suzhou", "status": "NO_SOLUTION", "jobs": 7}
    with translation.override("en"):
        assert run.error_text.startswith("Suzhou: the optimizer found no plan (solver status NO_SOLUTION).")
    assert run.assignments.count() == 0 and run.unplaced == [] and run.kpis == {}
    with pytest.raises(Conflict) as refused:
        services.schedule_run_accept(run=run, by=dispatcher)
    assert refused.value.code == "not_ready"
    client = Client()
    client.force_login(dispatcher)
    body = client.get(f"/api/v1/schedule/runs/{run.pk}").json()
    assert (body["status"], body["error_code"]) == ("failed", "no_plan")
    assert body["error"] == run.error_text


def test_each_reason_is_stored_as_a_code_and_rendered_when_read(dispatcher: User) -> None:
    """One job for each reason, on a case built for it; the board and the API show the text."""
    area = square("Suzhou", SUZHOU[1], SUZHOU[0])
    (worker,) = crew(area, 1, {"hvac": 2}, TOMORROW, "sz")
    off = factories.technician(
        person=factories.user(username="off", role=roles.TECHNICIAN),
        skills={"ups": 3},
        territory=area,
        home_base=area.boundary.centroid,
    )
    factories.shift(technician=off, date=TOMORROW)
    Absence.objects.create(
        technician=off,
        starts_at=dt.datetime.combine(TOMORROW, dt.time.min, tzinfo=factories.SHANGHAI),
        ends_at=dt.datetime.combine(TOMORROW, dt.time.max, tzinfo=factories.SHANGHAI),
    )
    cases = {
        "no_skilled_technician": job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"smt": 3}),
        "no_shift_time": job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"ups": 2}),
        "outside_all_shifts": job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"hvac": 1}),
        "unreachable_in_window": job(lat=SUZHOU[0] + 0.45, lon=SUZHOU[1] + 0.45, skills={"hvac": 1}),
        "capacity": job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"hvac": 1}, priority=4, minutes=300),
    }
    placed = job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"hvac": 1}, priority=1, minutes=300)
    # Open at night only; open an hour a day, an hour's drive away.
    Site = type(placed.site)
    Site.objects.filter(pk=cases["outside_all_shifts"].site_id).update(
        access_opens=dt.time(19), access_closes=dt.time(23)
    )
    Site.objects.filter(pk=cases["unreachable_in_window"].site_id).update(
        access_opens=dt.time(8), access_closes=dt.time(9, 30)
    )
    run = run_now(territory=area)
    assert run.status == "succeeded", run.error_text
    assert set(run.assignments.values_list("work_order_id", flat=True)) == {placed.pk}
    stored = {entry["work_order_id"]: entry for entry in run.unplaced}
    assert {code: stored[wo.pk]["reason"] for code, wo in cases.items()} == {code: code for code in cases}
    assert all("message" not in entry for entry in run.unplaced)
    with translation.override("en"):
        texts = {code: unplaced_entry_text(stored[wo.pk]) for code, wo in cases.items()}
    assert texts == {
        "no_skilled_technician": "No technician in the plan has the required skills (smt level 3).",
        "no_shift_time": "None of the qualified technicians (1) has shift time left in this plan "
        "(off duty, absent, or the shift is over).",
        "outside_all_shifts": "None of the job's time windows leaves room for its 60 min of service "
        "inside a qualified technician's shift.",
        "unreachable_in_window": "No qualified technician can drive there, do the 60 min of service "
        "inside a time window, take the lunch break and get back before the shift ends.",
        "capacity": "No qualified technician has room left for it: their days are full with other work.",
    }
    client = Client()
    client.force_login(dispatcher)
    page = client.get(f"/dispatch/?day={TOMORROW.isoformat()}&territory={area.pk}").content.decode()
    for code, text in texts.items():
        assert f'data-reason="{code}"' in page and html.escape(text) in page
    api = client.get(f"/api/v1/schedule/runs/{run.pk}").json()
    assert {entry["reason"]: entry["message"] for entry in api["unplaced"]} == texts


def test_insert_after_every_shift_has_ended_names_the_real_cause(dispatcher: User) -> None:
    """Three technicians hold hvac 2-3, but their shifts are over: the job waits for time,
    not for a skill."""
    area = square("Suzhou", SUZHOU[1], SUZHOU[0])
    today = clock.today()
    for level in (2, 3, 3):
        (tech,) = crew(area, 1, {"hvac": level}, today, f"hv{level}{Technician.objects.count()}")
    # The day's work, done or not, stays planned on a technician whose shift is over.
    morning = dt.datetime.combine(today, dt.time(10), tzinfo=factories.SHANGHAI)
    lifecycle.work_order_schedule(
        work_order=job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"hvac": 2}),
        technician=tech.user,
        planned_start=morning,
        planned_end=morning + dt.timedelta(hours=1),
        by=dispatcher,
        version=None,
    )
    urgent = job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"hvac": 2}, priority=1)
    late_evening = dt.datetime.combine(today, dt.time(21), tzinfo=factories.SHANGHAI)
    result = insertion.schedule_insert(work_order=urgent, by=dispatcher, now=late_evening)
    assert (result["placed"], result["reason"]) == (False, "no_shift_time")
    assert result["params"] == {"qualified": 3, "pinned": False}
    client = Client()
    client.force_login(dispatcher)
    with time_machine.travel(late_evening, tick=False):
        body = client.post("/api/v1/schedule/insert", {"work_order_id": urgent.pk}, "application/json").json()
    assert body["reason"] == "no_shift_time"
    assert body["message"].startswith("None of the qualified technicians (3) has shift time left")


# --- accepting a plan that places fewer urgent jobs --------------------------------------------------


@pytest.fixture
def urgent_on_a_day_off(suzhou_day: dict[str, Any], dispatcher: User) -> ScheduleRun:
    """A P1 planned for tomorrow on a technician who has since been given the day off (the only
    one with its skill): the run cannot place it, and accepting would unassign it."""
    tech = suzhou_day["techs"][0]
    TechnicianSkill.objects.create(technician=tech, skill=factories.skill("ups"), level=3)
    urgent = job(lat=SUZHOU[0], lon=SUZHOU[1], skills={"ups": 3}, priority=1, title="UPS down")
    start = dt.datetime.combine(TOMORROW, dt.time(9), tzinfo=factories.SHANGHAI)
    lifecycle.work_order_schedule(
        work_order=urgent,
        technician=tech.user,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        by=dispatcher,
        version=urgent.version,
    )
    Absence.objects.create(
        technician=tech, starts_at=start - dt.timedelta(hours=3), ends_at=start + dt.timedelta(hours=12)
    )
    run = run_now(territory=suzhou_day["area"])
    assert run.status == "succeeded", run.error_text
    assert selectors.run_urgent_placed(run=run) == selectors.UrgentPlaced(now=1, by_plan=0)
    return run


def test_accepting_fewer_urgent_jobs_needs_a_confirmation(
    urgent_on_a_day_off: ScheduleRun, dispatcher: User
) -> None:
    run = urgent_on_a_day_off
    with pytest.raises(Conflict) as refused:
        services.schedule_run_accept(run=run, by=dispatcher)
    assert refused.value.code == "fewer_urgent_placed"
    assert refused.value.details == {"urgent_placed_now": 1, "urgent_placed_by_plan": 0}
    run.refresh_from_db()
    assert run.status == "succeeded" and WorkOrder.objects.filter(status="scheduled", priority=1).count() == 1
    result = services.schedule_run_accept(run=run, by=dispatcher, confirm_fewer_urgent=True)
    assert result["applied"] == 7  # six placed, and the P1 unassigned
    assert WorkOrder.objects.filter(status="scheduled", priority=1).count() == 0


def test_the_api_asks_for_the_same_confirmation(urgent_on_a_day_off: ScheduleRun, dispatcher: User) -> None:
    client = Client()
    client.force_login(dispatcher)
    url = f"/api/v1/schedule/runs/{urgent_on_a_day_off.pk}/accept"
    refused = client.post(url, content_type="application/json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "fewer_urgent_placed"
    assert refused.json()["details"] == {"urgent_placed_now": 1, "urgent_placed_by_plan": 0}
    assert client.post(url, {"confirm_fewer_urgent": False}, "application/json").status_code == 409
    assert client.post(url, {"confirm_fewer_urgent": "maybe"}, "application/json").status_code == 422
    accepted = client.post(url, {"confirm_fewer_urgent": True}, "application/json")
    assert accepted.status_code == 200 and accepted.json()["applied"] == 7


# --- the territory, on the demo's data ---------------------------------------------------------


@pytest.fixture
def small_demo(settings: Any) -> None:
    settings.DEBUG = True  # seed_demo refuses to run without it
    call_command("seed_demo", scale="small", seed=1, today=clock.today().isoformat(), verbosity=0)


def test_hangzhou_jiaxing_tomorrow_with_a_technician_in_beijing(small_demo: None) -> None:
    """The issue, on the territory the dispatcher lands on: one technician's phone is in
    Beijing. Tomorrow starts from home; today's run leaves that technician-day out; both
    return a plan, every `capacity` reason is true, and the run stores one."""
    territory = Territory.objects.get(name="Hangzhou-Jiaxing")
    stranded = Technician.objects.filter(territory=territory).order_by("pk").first()
    assert stranded is not None
    beijing(stranded)
    for first_day in (clock.today(), TOMORROW):
        problem, _ = selectors.build_problem(first_day=first_day, days=1, territory=territory)
        ours = next(t for t in problem.technicians if t.id == str(stranded.pk))
        from_beijing = [s.start_location is not None for s in ours.shifts]
        assert from_beijing == (
            [True] * len(ours.shifts) if first_day == clock.today() else [False] * len(ours.shifts)
        )
        plan = solve(problem, solver.SolveParams(time_limit_s=1))
        assert plan.stats.status != solver.STATUS_NO_SOLUTION, first_day
        assert check_plan(problem, plan) == []
        assert false_capacity_claims(problem, plan) == [], first_day
        assert str(stranded.pk) not in {r.technician_id for r in plan.routes} or first_day == TOMORROW
    run = run_now(territory=territory)
    assert run.status == "succeeded", run.error_text
    assert run.kpis["after"]["placed"] + run.kpis["after"]["unplaced"] == run.kpis["after"]["jobs"]
