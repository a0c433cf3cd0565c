"""`manage.py seed_demo`: deterministic, refuses in production, consistent with itself, and
fit for the demo and the tests at whatever hour it is seeded.

The command truncates tables, so these tests are transactional; serialized_rollback
restores the role groups (made by a migration) that a transactional test's flush removes.
The seed is of the suite's pinned day; a test that needs an hour of that day travels to it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, time, timedelta
from io import StringIO
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from assets.models import Account, Contact, Equipment, Site
from contracts.models import CoveredEquipment, ServiceContract
from fieldservice import clock, roles
from fieldservice.demo.context import TZ
from fieldservice.demo.customers import DEMO_PORTAL_EMAIL
from scheduling.models import Shift, Technician, TechnicianSkill, Territory
from tickets.models import ChecklistItem, PartUsage, Survey, WorkOrder, WorkOrderEvent
from tickets.sla_clocks import sla_breaches_record

SEED = 7
transactional = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def seed_small(seed: int = SEED) -> str:
    out = StringIO()
    # The test runner turns DEBUG off; the seeded development setup has it on.
    with override_settings(DEBUG=True):
        call_command("seed_demo", scale="small", seed=seed, today=clock.today().isoformat(), stdout=out)
    return out.getvalue()


def at_hour(hour: int, minute: int = 0) -> time_machine.travel:
    """The pinned day at this local time, frozen (a seed of the same minute is the same)."""
    return time_machine.travel(datetime.combine(clock.today(), time(hour, minute), TZ), tick=False)


def _canonical(rows: object) -> str:
    return json.dumps(rows, default=str, ensure_ascii=False, sort_keys=True)


def digest() -> str:
    """A hash of the domain rows by natural key, without auto timestamps or password salts."""
    parts = {
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "first_name", "last_name", "is_staff", "is_superuser"
            )
        ),
        "accounts": list(
            Account.objects.order_by("name").values_list(
                "name", "industry", "tier", "annual_contract_value", "account_manager__username", "created_at"
            )
        ),
        "sites": [
            (
                s.account.name,
                s.name,
                s.address,
                round(s.location.x, 6),
                round(s.location.y, 6),
                s.access_opens,
                s.access_closes,
                s.access_weekdays,
            )
            for s in Site.objects.select_related("account").order_by("account__name", "name", "address")
        ],
        "equipment": list(
            Equipment.objects.order_by("manufacturer", "serial_number").values_list(
                "manufacturer",
                "serial_number",
                "asset_tag",
                "site__name",
                "install_date",
                "warranty_end",
                "status",
                "criticality",
                "parent__serial_number",
                "average_daily_usage",
            )
        ),
        "contracts": list(
            ServiceContract.objects.order_by("number", "start_date").values_list(
                "number",
                "account__name",
                "start_date",
                "end_date",
                "status",
                "annual_value",
                "predecessor__number",
            )
        ),
        "coverage": list(
            CoveredEquipment.objects.order_by("contract__number", "equipment__serial_number").values_list(
                "contract__number", "equipment__serial_number"
            )
        ),
        "technicians": [
            (
                t.user.username,
                t.employee_code,
                round(t.home_base.x, 6),
                round(t.home_base.y, 6),
                t.territory.name if t.territory else None,
            )
            for t in Technician.objects.select_related("user", "territory").order_by("employee_code")
        ],
        "skills": list(
            TechnicianSkill.objects.order_by("technician__employee_code", "skill__code").values_list(
                "technician__employee_code", "skill__code", "level"
            )
        ),
        "work_orders": list(
            WorkOrder.objects.order_by("number").values_list(
                "number",
                "kind",
                "status",
                "priority",
                "account__name",
                "equipment__serial_number",
                "contract__number",
                "created_at",
                "sla_response_due",
                "sla_resolution_due",
                "responded_at",
                "planned_start",
                "completed_at",
                "assigned_technician__username",
                "first_time_fix",
                "resolution_code",
            )
        ),
        "events": WorkOrderEvent.objects.count(),
        "checklist": ChecklistItem.objects.count(),
        "parts": list(
            PartUsage.objects.order_by("work_order__number", "part_number").values_list(
                "work_order__number", "part_number", "quantity", "unit_cost"
            )
        ),
        "surveys": list(
            Survey.objects.order_by("work_order__number").values_list("work_order__number", "csat", "nps")
        ),
    }
    return hashlib.sha256(_canonical(parts).encode()).hexdigest()


@transactional
def test_same_seed_gives_same_data_and_another_seed_does_not() -> None:
    with time_machine.travel(clock.now(), tick=False):
        seed_small()
        first = digest()
        assert WorkOrder.objects.count() > 500
        seed_small()
        assert digest() == first
        seed_small(seed=SEED + 1)
        assert digest() != first


@transactional
@override_settings(DEBUG=False)
def test_refuses_without_debug_unless_forced() -> None:
    with pytest.raises(CommandError, match="DEBUG"):
        call_command(
            "seed_demo", scale="small", seed=SEED, today=clock.today().isoformat(), stdout=StringIO()
        )
    assert not Account.objects.exists()


@transactional
def test_demo_logins_have_their_roles_and_the_demo_password() -> None:
    seed_small()
    expected = {
        "admin": roles.ADMIN,
        "dispatcher": roles.DISPATCHER,
        "manager": roles.ACCOUNT_MANAGER,
        "director": roles.ACCOUNT_MANAGER,
        "tech01": roles.TECHNICIAN,
        "tech06": roles.TECHNICIAN,
    }
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert user.check_password("demo"), username
        assert list(user.groups.values_list("name", flat=True)) == [role]
    assert User.objects.get(username="admin").is_superuser
    boss = User.objects.get(username="manager").profile.reports_to
    assert boss is not None and boss.username == "director"
    managed = Account.objects.filter(account_manager__username="manager").count()
    assert managed * 2 >= Account.objects.count()
    assert not User.objects.filter(username="tech07").exists()
    # The README's portal login: one contact, of an account with equipment to report on.
    contact = Contact.objects.get(email=DEMO_PORTAL_EMAIL)
    assert Equipment.objects.filter(site__account=contact.account).exists()


@transactional
def test_every_technician_has_jobs_today_and_tomorrow_inside_their_shift() -> None:
    seed_small()
    today = clock.today()
    for tech in Technician.objects.select_related("user"):
        for offset in (0, 1):
            day = today + timedelta(days=offset)
            shift = Shift.objects.get(technician=tech, date=day)
            start = datetime.combine(day, datetime.min.time(), TZ)
            # The day's plan (done, under way or ahead); the history may add a finished night call.
            jobs = WorkOrder.objects.filter(
                assigned_technician=tech.user,
                planned_start__gte=shift.starts_at,
                planned_end__lte=shift.ends_at,
            ).exclude(status="cancelled")
            assert jobs.count() >= 2, (tech.user.username, day)
            levels = dict(tech.skill_levels.values_list("skill__code", "level"))
            for job in jobs:
                assert all(levels.get(code, 0) >= level for code, level in job.required_skills.items())
            still_open = WorkOrder.objects.filter(
                assigned_technician=tech.user,
                planned_start__gte=start,
                planned_start__lt=start + timedelta(1),
            ).exclude(status__in=["completed", "closed", "cancelled"])
            assert not still_open.exclude(planned_start__gte=shift.starts_at, planned_end__lte=shift.ends_at)
    assert WorkOrder.objects.filter(status="new", assigned_technician__isnull=True).exists()


UNDER_WAY = {"en_route", "on_site", "in_progress"}
# Local time of the seed: statuses today's planned jobs must include, and must not have then
# (the history may hold jobs of today too, finished before the seeded instant).
TODAYS_PROGRESS = {
    (3, 15): ({"scheduled"}, {"dispatched", *UNDER_WAY}),
    (7, 45): ({"dispatched"}, {"scheduled", *UNDER_WAY}),
    (10, 0): (UNDER_WAY | {"completed"}, {"scheduled"}),
    (23, 50): ({"completed", "closed"}, {"scheduled", "dispatched", *UNDER_WAY}),
}


@transactional
@pytest.mark.parametrize("hour_minute", list(TODAYS_PROGRESS))
def test_todays_jobs_are_as_far_along_as_the_hour_and_nothing_happens_later(
    hour_minute: tuple[int, int],
) -> None:
    some_of, none_of = TODAYS_PROGRESS[hour_minute]
    with at_hour(*hour_minute):
        seed_small()
        now = clock.now()
        start = datetime.combine(clock.today(), time.min, TZ)
        today = WorkOrder.objects.filter(
            assigned_technician__isnull=False,
            planned_start__gte=start,
            planned_start__lt=start + timedelta(1),
        )
        statuses = set(today.values_list("status", flat=True))
        assert statuses & some_of and not statuses & none_of, statuses
        assert not WorkOrderEvent.objects.filter(at__gt=now).exists()
        assert not WorkOrder.objects.filter(created_at__gt=now).exists()
        for job in today.exclude(status__in=["scheduled", "dispatched"]):
            assert job.version == 1 + job.events.filter(type="status_changed").count(), job.number
        if statuses & {"completed", "closed"}:
            done = today.filter(status__in=["completed", "closed"]).first()
            assert done is not None and done.completed_at is not None and done.resolution
            assert done.responded_at is not None and done.completed_at <= now


@transactional
@pytest.mark.parametrize("hour_minute", [(3, 15), (12, 0), (23, 50)])
def test_at_any_hour_the_sla_sweep_has_a_breach_to_record(hour_minute: tuple[int, int]) -> None:
    with at_hour(*hour_minute):
        seed_small()
        assert sla_breaches_record() >= 1
        assert sla_breaches_record() == 0


@transactional
def test_tomorrow_has_unassigned_work_that_a_technician_of_its_territory_can_do() -> None:
    seed_small()
    tomorrow = clock.today() + timedelta(days=1)
    opens = datetime.combine(tomorrow, time(8), TZ)
    doable = 0
    for job in WorkOrder.objects.filter(status="new").select_related("site"):
        site = job.site
        if tomorrow.weekday() not in site.access_weekdays or (job.latest_end and job.latest_end < opens):
            continue
        territory = Territory.objects.filter(boundary__covers=site.location).first()
        crew = Technician.objects.filter(territory=territory)
        for tech in crew:
            levels = dict(tech.skill_levels.values_list("skill__code", "level"))
            if all(levels.get(code, 0) >= level for code, level in job.required_skills.items()):
                doable += 1
                break
    assert doable >= 1


@transactional
def test_open_inspections_and_maintenance_carry_their_checklist_unanswered() -> None:
    """The technician app has something to fill on a planned visit; repairs have no checklist."""
    seed_small()
    planned_visits = WorkOrder.objects.filter(
        status__in=["scheduled", "dispatched"], kind__in=["preventive", "inspection"]
    )
    assert planned_visits.exists()
    for job in planned_visits:
        items = list(job.checklist.all())
        assert items, job.number
        assert all(not i.result and i.value is None and not i.text and i.answered_at is None for i in items)
        assert any(i.required for i in items)
    assert not WorkOrder.objects.filter(
        status__in=["scheduled", "dispatched"], kind="corrective", checklist__isnull=False
    ).exists()


def _scalar(sql: str, params: tuple[Any, ...] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


@transactional
def test_seeded_data_is_internally_consistent() -> None:
    seed_small()
    assert (
        _scalar(
            "SELECT count(*) FROM tickets_workorder w JOIN assets_site s ON s.id = w.site_id "
            "WHERE s.account_id <> w.account_id"
        )
        == 0
    )
    assert (
        _scalar(
            "SELECT count(*) FROM tickets_workorder w JOIN assets_equipment e ON e.id = w.equipment_id "
            "WHERE e.site_id <> w.site_id"
        )
        == 0
    )
    assert (
        _scalar(
            "SELECT count(*) FROM contracts_coveredequipment c "
            "JOIN contracts_servicecontract k ON k.id = c.contract_id "
            "JOIN assets_equipment e ON e.id = c.equipment_id JOIN assets_site s ON s.id = e.site_id "
            "WHERE s.account_id <> k.account_id"
        )
        == 0
    )
    # A work order's contract was in force on the day it was created and covers its equipment.
    assert (
        _scalar(
            "SELECT count(*) FROM tickets_workorder w "
            "JOIN contracts_servicecontract c ON c.id = w.contract_id "
            "WHERE (w.created_at AT TIME ZONE 'Asia/Shanghai')::date NOT BETWEEN c.start_date AND c.end_date "
            "OR NOT EXISTS (SELECT 1 FROM contracts_coveredequipment ce "
            "               WHERE ce.contract_id = c.id AND ce.equipment_id = w.equipment_id)"
        )
        == 0
    )
    assert not WorkOrder.objects.filter(contract__isnull=True, billable=False).exists()
    # Every site and home base lies inside exactly one territory.
    for table, column in (("assets_site", "location"), ("scheduling_technician", "home_base")):
        assert (
            _scalar(
                f"SELECT count(*) FROM {table} x WHERE (SELECT count(*) FROM scheduling_territory t "
                f"WHERE ST_Covers(t.boundary, x.{column})) <> 1"
            )
            == 0
        ), table
    # Completed work happened in order and before the seeded instant.
    assert (
        _scalar(
            "SELECT count(*) FROM tickets_workorder WHERE status IN ('completed', 'closed') AND NOT ("
            "created_at <= responded_at AND responded_at <= arrived_at AND arrived_at <= actual_start "
            "AND actual_start <= actual_end AND actual_end = completed_at AND completed_at <= %s)",
            (clock.now(),),
        )
        == 0
    )
    for number in WorkOrder.objects.values_list("number", flat=True)[:50]:
        assert number.startswith("WO-") and len(number) == len("WO-2026-000001")
    assert ServiceContract.objects.filter(status="active").exists()
    assert ServiceContract.objects.filter(status="renewed", successor__isnull=False).exists()
