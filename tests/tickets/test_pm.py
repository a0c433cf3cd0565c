"""Preventive work orders from calendar and meter plans: a worked example in the spring of 2026.

Every run names its own `today`; the clock is pinned to 25 March 2026, the day most of them
use, so the example reads the same whenever the suite runs. The factory anchors calendar
plans on 1 January of the clock's year: 1 January 2026 here.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from assets.models import ChecklistTemplate, Equipment, MaintenancePlan, MeterReading
from fieldservice import clock
from tests import factories
from tests.clock_pin import clock_at
from tickets import pm
from tickets.models import ChecklistItem, WorkOrder
from tickets.tasks import preventive_work_orders_generate

pytestmark = pytest.mark.django_db

SHANGHAI = factories.SHANGHAI
CHECKS = [
    {"label": "Replace air filter", "kind": "pass_fail", "unit": "", "required": True},
    {"label": "Oil pressure", "kind": "value", "unit": "bar", "required": True},
    {"label": "Remarks", "kind": "text", "unit": "", "required": False},
]


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SHANGHAI)


_clock_on_25_march_2026 = clock_at(at(dt.date(2026, 3, 25)))


def covered_unit(**fields: Any) -> Equipment:
    """Equipment under an active contract for the year 2026."""
    unit = factories.equipment(**fields)
    factories.contract(
        account=unit.site.account,
        covers=[unit],
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 12, 31),
    )
    return unit


def meter_plan(*, equipment: Equipment, **fields: Any) -> MaintenancePlan:
    defaults: dict[str, Any] = {
        "name": "500-hour service",
        "trigger": MaintenancePlan.Trigger.METER,
        "meter_kind": MeterReading.Kind.OPERATING_HOURS,
        "meter_interval": Decimal("500"),
        "required_skill": "compressor",
    }
    return MaintenancePlan.objects.create(equipment=equipment, **{**defaults, **fields})


def read(unit: Equipment, when: dt.datetime, value: str) -> None:
    MeterReading.objects.create(
        equipment=unit, kind=MeterReading.Kind.OPERATING_HOURS, read_at=when, value=Decimal(value)
    )


def completed_pm(plan: MaintenancePlan, *, completed_at: dt.datetime, due: dt.date) -> WorkOrder:
    return factories.work_order(
        site=plan.equipment.site,
        equipment=plan.equipment,
        kind=WorkOrder.Kind.PREVENTIVE,
        maintenance_plan=plan,
        pm_due_date=due,
        status=WorkOrder.Status.COMPLETED,
        completed_at=completed_at,
    )


def pm_orders(plan: MaintenancePlan) -> list[dt.date | None]:
    return list(
        WorkOrder.objects.filter(maintenance_plan=plan, status=WorkOrder.Status.NEW)
        .order_by("pm_due_date")
        .values_list("pm_due_date", flat=True)
    )


# --- calendar, fixed ------------------------------------------------------------------------------


def test_fixed_plan_creates_the_next_due_date_with_the_plan_details() -> None:
    unit = covered_unit()
    template = ChecklistTemplate.objects.create(name="Compressor quarterly", items=CHECKS)
    # Every 90 days from 1 January 2026: 1 April is next.
    plan = factories.calendar_plan(equipment=unit, checklist_template=template, estimated_minutes=120)

    created = pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14)

    assert [wo.pm_due_date for wo in created] == [dt.date(2026, 4, 1)]
    work_order = WorkOrder.objects.get(maintenance_plan=plan)
    assert work_order.kind == WorkOrder.Kind.PREVENTIVE
    assert work_order.title == "Quarterly service"
    assert work_order.priority == 4
    assert work_order.required_skills == {"compressor": 1}
    assert work_order.estimated_minutes == 120
    assert work_order.equipment == unit and work_order.site == unit.site
    assert work_order.earliest_start == at(dt.date(2026, 3, 29), 0)
    assert work_order.latest_end == at(dt.date(2026, 4, 9), 0)  # the end of 8 April
    items = list(work_order.checklist.values_list("position", "label", "kind", "unit", "required"))
    assert items == [
        (1, "Replace air filter", ChecklistItem.Kind.PASS_FAIL, "", True),
        (2, "Oil pressure", ChecklistItem.Kind.VALUE, "bar", True),
        (3, "Remarks", ChecklistItem.Kind.TEXT, "", False),
    ]


def test_critical_equipment_gets_p3_and_no_template_means_no_checklist() -> None:
    unit = covered_unit(criticality=Equipment.Criticality.CRITICAL)
    factories.calendar_plan(equipment=unit)

    (work_order,) = pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14)

    assert work_order.priority == 3
    assert not work_order.checklist.exists()


def test_fixed_plan_outside_the_horizon_waits() -> None:
    plan = factories.calendar_plan(equipment=covered_unit())
    completed_pm(plan, completed_at=at(dt.date(2026, 1, 2)), due=dt.date(2026, 1, 1))

    assert pm.pm_generate(today=dt.date(2026, 3, 17), horizon_days=14) == []
    assert [wo.pm_due_date for wo in pm.pm_generate(today=dt.date(2026, 3, 18), horizon_days=14)] == [
        dt.date(2026, 4, 1)
    ]
    assert pm_orders(plan) == [dt.date(2026, 4, 1)]


def test_fixed_plan_before_its_anchor_starts_at_the_anchor() -> None:
    plan = factories.calendar_plan(equipment=covered_unit(), anchor_date=dt.date(2026, 2, 10))

    pm.pm_generate(today=dt.date(2026, 2, 1), horizon_days=14)

    assert pm_orders(plan) == [dt.date(2026, 2, 10)]


def test_fixed_plan_creates_the_current_cycle_as_overdue_but_never_backfills() -> None:
    plan = factories.calendar_plan(equipment=covered_unit())

    # 10 April: 1 April (current cycle) was missed and 30 June is beyond the horizon.
    run = pm.pm_run(today=dt.date(2026, 4, 10), horizon_days=14)

    assert pm_orders(plan) == [dt.date(2026, 4, 1)]
    (work_order,) = run.created
    # An overdue job stays schedulable: its window runs to the grace days after today.
    assert work_order.latest_end == at(dt.date(2026, 4, 18), 0)
    assert run.skipped == []


def test_fixed_plan_missed_occurrence_is_superseded_when_the_next_is_within_the_horizon() -> None:
    plan = factories.calendar_plan(equipment=covered_unit())

    # 20 June: 1 April missed (and 1 January before it); 30 June is within 14 days.
    run = pm.pm_run(today=dt.date(2026, 6, 20), horizon_days=14)

    assert pm_orders(plan) == [dt.date(2026, 6, 30)]
    assert [(skip.reason, skip.due) for skip in run.skipped] == [
        (pm.SkipReason.SUPERSEDED, dt.date(2026, 4, 1))
    ]


def test_fixed_plan_with_a_short_interval_creates_every_occurrence_in_the_horizon() -> None:
    plan = factories.calendar_plan(equipment=covered_unit(), interval_days=7)

    # 1 March 2026 is 59 days after the anchor: the current cycle started 26 February.
    pm.pm_generate(today=dt.date(2026, 3, 1), horizon_days=14)

    assert pm_orders(plan) == [dt.date(2026, 3, 5), dt.date(2026, 3, 12)]


def test_fixed_plan_occurrence_done_already_is_not_superseded_again() -> None:
    plan = factories.calendar_plan(equipment=covered_unit())
    completed_pm(plan, completed_at=at(dt.date(2026, 4, 2)), due=dt.date(2026, 4, 1))

    run = pm.pm_run(today=dt.date(2026, 6, 20), horizon_days=14)

    assert [wo.pm_due_date for wo in run.created] == [dt.date(2026, 6, 30)]
    assert run.skipped == []


# --- calendar, floating -----------------------------------------------------------------------------


def test_floating_plan_is_due_interval_days_after_the_last_completion_local_date() -> None:
    plan = factories.calendar_plan(equipment=covered_unit(), schedule=MaintenancePlan.Schedule.FLOATING)
    completed_pm(plan, completed_at=at(dt.date(2025, 11, 3)), due=dt.date(2025, 11, 1))
    # 9 February 17:00 UTC is already 10 February in Shanghai: that is the day it was done.
    completed_pm(plan, completed_at=dt.datetime(2026, 2, 9, 17, 0, tzinfo=dt.UTC), due=dt.date(2026, 2, 1))

    created = pm.pm_generate(today=dt.date(2026, 5, 1), horizon_days=14)

    assert [wo.pm_due_date for wo in created] == [dt.date(2026, 5, 11)]


def test_floating_plan_never_done_counts_from_the_anchor() -> None:
    plan = factories.calendar_plan(equipment=covered_unit(), schedule=MaintenancePlan.Schedule.FLOATING)

    pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14)

    assert pm_orders(plan) == [dt.date(2026, 4, 1)]


def test_floating_plan_overdue_is_created_once_and_not_again_while_open() -> None:
    plan = factories.calendar_plan(equipment=covered_unit(), schedule=MaintenancePlan.Schedule.FLOATING)

    pm.pm_generate(today=dt.date(2026, 4, 20), horizon_days=14)
    run = pm.pm_run(today=dt.date(2026, 4, 21), horizon_days=14)

    assert pm_orders(plan) == [dt.date(2026, 4, 1)]
    assert run.created == [] and run.already_generated == 1


# --- meter --------------------------------------------------------------------------------------------


def test_meter_plan_projects_from_the_usage_in_the_window_and_the_last_pm_reading() -> None:
    unit = covered_unit(average_daily_usage=Decimal("1"))
    template = ChecklistTemplate.objects.create(name="500 h", items=CHECKS[:1])
    plan = meter_plan(equipment=unit, checklist_template=template)
    # Long before the window (90 days before the last reading): ignored for usage.
    read(unit, at(dt.date(2025, 6, 1), 8), "100")
    # 20 h a day since the last PM on 19 February, read just before it was completed.
    read(unit, at(dt.date(2026, 2, 19), 8), "900")
    completed_pm(plan, completed_at=at(dt.date(2026, 2, 19), 12), due=dt.date(2026, 2, 18))
    read(unit, at(dt.date(2026, 3, 1), 8), "1100")
    read(unit, at(dt.date(2026, 3, 11), 8), "1300")

    created = pm.pm_generate(today=dt.date(2026, 3, 12), horizon_days=14)

    # Target 900 + 500 = 1400, 100 h to go at 20 h/day: 5 days after 11 March.
    assert [wo.pm_due_date for wo in created] == [dt.date(2026, 3, 16)]
    assert list(created[0].checklist.values_list("label", flat=True)) == ["Replace air filter"]


def test_meter_plan_falls_back_to_the_equipment_average_and_the_anchor_reading() -> None:
    unit = covered_unit(average_daily_usage=Decimal("10"))
    plan = meter_plan(equipment=unit, anchor_date=dt.date(2026, 1, 1))
    read(unit, at(dt.date(2025, 12, 31), 10), "2000")  # the reading at the anchor: the baseline
    # 100 days later: the window holds this reading alone, so usage is the equipment's.
    read(unit, at(dt.date(2026, 4, 10), 10), "2400")

    pm.pm_generate(today=dt.date(2026, 4, 12), horizon_days=14)

    # Target 2500, 100 h to go at 10 h/day: 20 April (the slope, 4 h/day, would give 5 May).
    assert pm_orders(plan) == [dt.date(2026, 4, 20)]


def test_meter_plan_past_its_target_is_due_on_the_last_reading_day() -> None:
    # Never serviced under this plan and no anchor: the baseline is 0.
    plan = meter_plan(equipment=covered_unit())
    read(plan.equipment, at(dt.date(2026, 3, 10)), "2450")

    pm.pm_generate(today=dt.date(2026, 3, 12), horizon_days=14)

    assert pm_orders(plan) == [dt.date(2026, 3, 10)]


def test_meter_plan_without_usage_is_skipped_and_says_why() -> None:
    unit = covered_unit()  # no average_daily_usage
    plan = meter_plan(equipment=unit, anchor_date=dt.date(2026, 1, 1))
    read(unit, at(dt.date(2025, 12, 31)), "2000")
    read(unit, at(dt.date(2026, 4, 10)), "2400")
    unread = meter_plan(equipment=factories.equipment(site=unit.site), name="No readings")

    run = pm.pm_run(today=dt.date(2026, 4, 12), horizon_days=14)

    assert run.created == []
    assert {(skip.plan, skip.reason) for skip in run.skipped} == {
        (plan, pm.SkipReason.NO_USAGE_DATA),
        (unread, pm.SkipReason.NO_USAGE_DATA),
    }


def test_meter_plan_gets_no_second_work_order_while_one_is_open() -> None:
    unit = covered_unit(average_daily_usage=Decimal("10"))
    plan = meter_plan(equipment=unit)
    read(unit, at(dt.date(2026, 3, 1)), "450")
    pm.pm_generate(today=dt.date(2026, 3, 1), horizon_days=14)  # due 6 March
    read(unit, at(dt.date(2026, 3, 2)), "470")  # faster usage moves the projection

    assert pm.pm_generate(today=dt.date(2026, 3, 2), horizon_days=14) == []
    assert pm_orders(plan) == [dt.date(2026, 3, 6)]


# --- idempotency and eligibility --------------------------------------------------------------------


def test_running_twice_creates_nothing_twice() -> None:
    unit = covered_unit(average_daily_usage=Decimal("20"))
    factories.calendar_plan(equipment=unit)
    factories.calendar_plan(equipment=unit, name="Floating", schedule=MaintenancePlan.Schedule.FLOATING)
    meter_plan(equipment=unit)
    read(unit, at(dt.date(2026, 3, 20)), "300")
    today = dt.date(2026, 3, 25)

    first = pm.pm_generate(today=today, horizon_days=14)
    count = WorkOrder.objects.count()
    checklist_count = ChecklistItem.objects.count()
    second = pm.pm_run(today=today, horizon_days=14)

    assert len(first) == 3
    assert second.created == [] and second.already_generated == 3
    assert WorkOrder.objects.count() == count
    assert ChecklistItem.objects.count() == checklist_count


def test_rerun_reads_in_a_constant_number_of_queries(django_assert_num_queries: Any) -> None:
    for _ in range(4):
        unit = covered_unit(average_daily_usage=Decimal("20"))
        factories.calendar_plan(equipment=unit)
        factories.calendar_plan(equipment=unit, name="Floating", schedule=MaintenancePlan.Schedule.FLOATING)
        meter_plan(equipment=unit)
        read(unit, at(dt.date(2026, 3, 20)), "300")
    factories.calendar_plan(equipment=factories.equipment(status=Equipment.Status.DECOMMISSIONED))
    pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14)

    # Plans with their annotations, existing (plan, due date) pairs; nothing left to cover.
    with django_assert_num_queries(2):
        assert pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14) == []


def test_decommissioned_equipment_gets_no_work_order() -> None:
    unit = covered_unit(status=Equipment.Status.DECOMMISSIONED)
    plan = factories.calendar_plan(equipment=unit)

    run = pm.pm_run(today=dt.date(2026, 3, 25), horizon_days=14)

    assert run.created == [] and not WorkOrder.objects.exists()
    assert [(skip.plan, skip.reason) for skip in run.skipped] == [(plan, pm.SkipReason.DECOMMISSIONED)]


def test_inactive_plan_gets_no_work_order() -> None:
    factories.calendar_plan(equipment=covered_unit(), active=False)

    assert pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14) == []


def test_equipment_without_a_contract_gets_no_work_order() -> None:
    unit = factories.equipment()
    other = factories.equipment(site=unit.site)
    # Contracts that do not count: another unit's, a draft one, one that starts later.
    factories.contract(account=unit.site.account, covers=[other])
    factories.contract(account=unit.site.account, covers=[unit], status="draft")
    factories.contract(account=unit.site.account, covers=[unit], start_date=dt.date(2026, 4, 2))
    plan = factories.calendar_plan(equipment=unit)

    run = pm.pm_run(today=dt.date(2026, 3, 25), horizon_days=14)

    assert run.created == []
    # 1 January, the anchor, was missed and is superseded by 1 April, which is not covered.
    assert [(skip.plan, skip.reason, skip.due) for skip in run.skipped] == [
        (plan, pm.SkipReason.SUPERSEDED, dt.date(2026, 1, 1)),
        (plan, pm.SkipReason.NOT_COVERED, dt.date(2026, 4, 1)),
    ]


def test_contract_ending_before_the_due_date_gets_no_work_order() -> None:
    unit = factories.equipment()
    factories.contract(account=unit.site.account, covers=[unit], end_date=dt.date(2026, 3, 31))
    factories.calendar_plan(equipment=unit)

    run = pm.pm_run(today=dt.date(2026, 3, 25), horizon_days=14)

    assert run.created == []
    assert run.skipped_by_reason()[pm.SkipReason.NOT_COVERED] == 1


def test_contract_ending_on_the_due_date_still_covers_it() -> None:
    unit = factories.equipment()
    factories.contract(account=unit.site.account, covers=[unit], end_date=dt.date(2026, 4, 1))
    factories.calendar_plan(equipment=unit)

    assert len(pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14)) == 1


def test_overdue_work_needs_a_contract_today_not_on_the_missed_day() -> None:
    unit = factories.equipment()
    factories.contract(account=unit.site.account, covers=[unit], end_date=dt.date(2026, 4, 5))
    factories.calendar_plan(equipment=unit)

    # Due 1 April, still covered then, but by 10 April the contract has ended.
    run = pm.pm_run(today=dt.date(2026, 4, 10), horizon_days=14)

    assert run.created == []
    assert run.skipped_by_reason() == {pm.SkipReason.NOT_COVERED: 1}


def test_a_lost_race_on_the_constraint_is_not_an_error() -> None:
    """Another run inserts the work order between our check and our insert."""
    plan = factories.calendar_plan(equipment=covered_unit())
    pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14)

    with mock.patch.object(pm, "_existing_pairs", return_value=set()):
        run = pm.pm_run(today=dt.date(2026, 3, 25), horizon_days=14)

    assert run.created == [] and run.already_generated == 1
    assert pm_orders(plan) == [dt.date(2026, 4, 1)]


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_create_each_work_order_once() -> None:
    plans = []
    for _ in range(5):
        unit = covered_unit()
        plans.append(factories.calendar_plan(equipment=unit))
        plans.append(
            factories.calendar_plan(
                equipment=unit, name="Floating", schedule=MaintenancePlan.Schedule.FLOATING
            )
        )
    start = threading.Barrier(2)
    results: list[list[WorkOrder]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(pm.pm_generate(today=dt.date(2026, 3, 25), horizon_days=14))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(len(created) for created in results) == len(plans)
    assert WorkOrder.objects.count() == len(plans)
    assert sorted(WorkOrder.objects.values_list("maintenance_plan_id", flat=True)) == sorted(
        plan.pk for plan in plans
    )


# --- the command and the task -----------------------------------------------------------------------


def test_command_prints_what_it_created_and_skipped() -> None:
    unit = covered_unit()
    factories.calendar_plan(equipment=unit)
    meter_plan(equipment=unit)  # no readings
    factories.calendar_plan(equipment=factories.equipment(status=Equipment.Status.DECOMMISSIONED))
    out = StringIO()

    call_command("generate_pm", "--today", "2026-03-25", "--horizon-days", "14", stdout=out)

    output = out.getvalue()
    assert "2026-03-25 to 2026-04-08" in output
    assert "Created 1 work order(s)." in output
    assert "calendar (fixed): 1" in output
    assert "meter: 0" in output
    assert "decommissioned: 1" in output
    assert "no usage data: 1" in output
    assert "no operating_hours readings" in output
    assert WorkOrder.objects.get().pm_due_date == dt.date(2026, 4, 1)

    again = StringIO()
    call_command("generate_pm", "--today", "2026-03-25", stdout=again)
    assert "Created 0 work order(s)." in again.getvalue()
    assert "Already generated: 1." in again.getvalue()


@pytest.mark.parametrize("value", ["25/03/2026", "2026-02-30", "tomorrow"])
def test_command_refuses_a_bad_date(value: str) -> None:
    with pytest.raises(CommandError, match="--today: .* is not a date as YYYY-MM-DD"):
        call_command("generate_pm", "--today", value, stdout=StringIO())


def test_command_refuses_a_negative_horizon() -> None:
    with pytest.raises(CommandError, match="--horizon-days"):
        call_command("generate_pm", "--horizon-days", "-1", stdout=StringIO())


def test_daily_task_uses_today_and_the_configured_horizon(settings: Any) -> None:
    settings.PM_HORIZON_DAYS = 5

    today = clock.today()
    unit = factories.equipment()
    factories.contract(
        account=unit.site.account,
        covers=[unit],
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=300),
    )
    factories.calendar_plan(equipment=unit, anchor_date=today + dt.timedelta(days=5))
    factories.calendar_plan(equipment=unit, name="Later", anchor_date=today + dt.timedelta(days=6))

    assert preventive_work_orders_generate() == 1
