from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from scheduling.models import Absence, Assignment, ScheduleRun, TechnicianSkill
from tests import factories

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 30)


def test_skill_level_between_1_and_3() -> None:
    tech = factories.technician(skills={})
    with pytest.raises(IntegrityError, match="technician_skill_level_range"), transaction.atomic():
        TechnicianSkill.objects.create(technician=tech, skill=factories.skill("cnc"), level=4)


def test_one_shift_per_technician_and_day_ending_after_start() -> None:
    tech = factories.technician()
    with pytest.raises(IntegrityError, match="shift_ends_after_start"), transaction.atomic():
        factories.shift(technician=tech, date=DAY, start="17:00", end="08:00")
    factories.shift(technician=tech, date=DAY)
    with pytest.raises(IntegrityError, match="shift_one_per_day"), transaction.atomic():
        factories.shift(technician=tech, date=DAY, start="09:00", end="18:00")


def test_absence_ends_after_start() -> None:
    tech = factories.technician()
    start = dt.datetime(2026, 12, 1, tzinfo=factories.SHANGHAI)
    with pytest.raises(IntegrityError, match="absence_ends_after_start"), transaction.atomic():
        Absence.objects.create(technician=tech, starts_at=start, ends_at=start)


def test_run_horizon_and_one_assignment_per_job() -> None:
    with pytest.raises(IntegrityError, match="schedule_run_days_range"), transaction.atomic():
        ScheduleRun.objects.create(horizon_start=DAY, days=0)
    run = ScheduleRun.objects.create(horizon_start=DAY, days=1)
    tech = factories.technician()
    job = factories.work_order()
    start = dt.datetime(2026, 11, 30, 9, tzinfo=factories.SHANGHAI)
    end = start + dt.timedelta(hours=1)
    Assignment.objects.create(
        run=run, work_order=job, technician=tech, sequence=0, planned_start=start, planned_end=end
    )
    with pytest.raises(IntegrityError, match="assignment_once_per_run"), transaction.atomic():
        Assignment.objects.create(
            run=run, work_order=job, technician=tech, sequence=1, planned_start=start, planned_end=end
        )
    with pytest.raises(IntegrityError, match="assignment_ends_after_start"), transaction.atomic():
        Assignment.objects.create(
            run=run,
            work_order=factories.work_order(),
            technician=tech,
            sequence=1,
            planned_start=end,
            planned_end=start,
        )


def test_territory_contains_sites_by_postgis() -> None:
    from scheduling.models import Territory

    area = factories.territory("Suzhou")
    inside = factories.site(lat=31.3, lon=120.6)
    factories.site(lat=30.2, lon=120.1)  # Hangzhou, outside the square
    found = Territory.objects.filter(boundary__covers=inside.location).values_list("name", flat=True)
    assert list(found) == [area.name]
