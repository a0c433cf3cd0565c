from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from fieldservice import clock
from tests import factories
from tickets.models import WORK_ORDER_NUMBER_SEQUENCE, PartUsage, Survey, WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db


def test_work_order_number_is_unique() -> None:
    factories.work_order(number="WO-TEST-000001")
    with pytest.raises(IntegrityError, match="number"), transaction.atomic():
        factories.work_order(number="WO-TEST-000001")


def test_work_order_window_and_plan_must_be_ordered() -> None:
    now = clock.now()
    with pytest.raises(IntegrityError, match="work_order_window_ordered"), transaction.atomic():
        factories.work_order(earliest_start=now, latest_end=now)
    with pytest.raises(IntegrityError, match="work_order_planned_ordered"), transaction.atomic():
        factories.work_order(planned_start=now, planned_end=now - dt.timedelta(minutes=1))


def test_work_order_estimate_and_priority_are_sane() -> None:
    with pytest.raises(IntegrityError, match="work_order_estimate_positive"), transaction.atomic():
        factories.work_order(estimated_minutes=0)
    with pytest.raises(IntegrityError, match="work_order_priority_range"), transaction.atomic():
        factories.work_order(priority=5)


def test_one_preventive_work_order_per_plan_and_due_date() -> None:
    unit = factories.equipment()
    plan = factories.calendar_plan(equipment=unit)
    due = clock.today()
    factories.work_order(site=unit.site, equipment=unit, maintenance_plan=plan, pm_due_date=due)
    with pytest.raises(IntegrityError, match="work_order_one_per_plan_due_date"), transaction.atomic():
        factories.work_order(site=unit.site, equipment=unit, maintenance_plan=plan, pm_due_date=due)
    # Corrective work (no plan) is not limited.
    factories.work_order(site=unit.site, equipment=unit)
    factories.work_order(site=unit.site, equipment=unit)


def test_event_idempotency_key_is_unique() -> None:
    job = factories.work_order()
    WorkOrderEvent.objects.create(work_order=job, type="note", at=clock.now(), idempotency_key="k1")
    with pytest.raises(IntegrityError, match="idempotency_key"), transaction.atomic():
        WorkOrderEvent.objects.create(work_order=job, type="note", at=clock.now(), idempotency_key="k1")


def test_part_quantity_positive_and_cost_not_negative() -> None:
    now = clock.now()
    job = factories.work_order()
    with pytest.raises(IntegrityError, match="part_usage_quantity_positive"), transaction.atomic():
        PartUsage.objects.create(work_order=job, part_number="F-1", quantity=0, unit_cost=1, recorded_at=now)
    with pytest.raises(IntegrityError, match="part_usage_cost_not_negative"), transaction.atomic():
        PartUsage.objects.create(
            work_order=job, part_number="F-1", quantity=1, unit_cost=Decimal("-1"), recorded_at=now
        )


def test_survey_scores_in_range() -> None:
    now = clock.now()
    job = factories.work_order()
    with pytest.raises(IntegrityError, match="survey_csat_range"), transaction.atomic():
        Survey.objects.create(work_order=job, csat=6, submitted_at=now)
    with pytest.raises(IntegrityError, match="survey_nps_range"), transaction.atomic():
        Survey.objects.create(work_order=job, nps=11, submitted_at=now)
    Survey.objects.create(work_order=job, csat=5, nps=0, submitted_at=now)


def test_number_sequence_hands_out_increasing_numbers() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s), nextval(%s)", [WORK_ORDER_NUMBER_SEQUENCE] * 2)
        first, second = cursor.fetchone()
    assert second == first + 1
    assert WorkOrder.objects.count() == 0
