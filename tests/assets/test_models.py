"""The installed base's invariants are held by the database: a bad row is refused."""

from __future__ import annotations

import datetime as dt
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from assets.models import Equipment, MaintenancePlan, MeterReading
from fieldservice import clock
from tests import factories

pytestmark = pytest.mark.django_db


def refused(constraint: str) -> AbstractContextManager[Any]:
    """Expect the database to refuse the statement, naming the constraint."""
    return pytest.raises(IntegrityError, match=constraint)


def test_account_value_cannot_be_negative() -> None:
    with refused("account_acv_not_negative"), transaction.atomic():
        factories.account(annual_contract_value=Decimal("-1"))


def test_site_access_must_close_after_it_opens() -> None:
    with refused("site_access_closes_after_opens"), transaction.atomic():
        factories.site(access_opens=dt.time(17), access_closes=dt.time(8))


def test_site_access_weekdays_are_monday_to_sunday() -> None:
    with refused("site_access_weekdays_valid"), transaction.atomic():
        factories.site(access_weekdays=[0, 7])


def test_one_primary_contact_per_site() -> None:
    plant = factories.site()
    factories.contact(site=plant, is_primary=True)
    with refused("contact_one_primary_per_site"), transaction.atomic():
        factories.contact(site=plant, is_primary=True)
    factories.contact(site=plant, is_primary=False)


def test_serial_is_unique_per_manufacturer_only() -> None:
    compressor = factories.equipment_model(manufacturer="Atlas Copco")
    factories.equipment(model=compressor, serial_number="AC-1")
    with refused("equipment_serial_unique_per_maker"), transaction.atomic():
        factories.equipment(model=factories.equipment_model(manufacturer="Atlas Copco"), serial_number="AC-1")
    # The same serial from another maker is a different machine.
    other = factories.equipment(model=factories.equipment_model(manufacturer="Kaeser"), serial_number="AC-1")
    assert other.pk


def test_warranty_cannot_end_before_install() -> None:
    installed = clock.today()
    with refused("equipment_warranty_after_install"), transaction.atomic():
        factories.equipment(install_date=installed, warranty_end=installed - dt.timedelta(days=365))


def test_equipment_cannot_be_its_own_parent() -> None:
    unit = factories.equipment()
    with refused("equipment_not_own_parent"), transaction.atomic():
        Equipment.objects.filter(pk=unit.pk).update(parent=unit.pk)


def test_meter_reading_cannot_be_negative_nor_doubled() -> None:
    unit = factories.equipment()
    at = clock.now()
    with refused("meter_reading_not_negative"), transaction.atomic():
        MeterReading.objects.create(equipment=unit, kind="operating_hours", value=-5, read_at=at)
    MeterReading.objects.create(equipment=unit, kind="operating_hours", value=100, read_at=at)
    with refused("meter_reading_unique_instant"), transaction.atomic():
        MeterReading.objects.create(equipment=unit, kind="operating_hours", value=101, read_at=at)


def test_calendar_plan_needs_an_interval_and_anchor() -> None:
    unit = factories.equipment()
    with refused("plan_calendar_needs_interval_and_anchor"), transaction.atomic():
        factories.calendar_plan(equipment=unit, interval_days=None)


def test_meter_plan_needs_a_meter_and_interval() -> None:
    unit = factories.equipment()
    with refused("plan_meter_needs_kind_and_interval"), transaction.atomic():
        MaintenancePlan.objects.create(
            equipment=unit,
            name="Every 2000 h",
            trigger="meter",
            meter_kind="",
            meter_interval=2000,
            required_skill="compressor",
        )
    plan = MaintenancePlan.objects.create(
        equipment=unit,
        name="Every 2000 h",
        trigger="meter",
        meter_kind="operating_hours",
        meter_interval=2000,
        required_skill="compressor",
    )
    assert plan.pk


def test_assets_imports_no_other_project_app() -> None:
    """The installed base is the ground floor: nothing in assets/ imports the apps above it
    (the CSV import, which writes them all, is importing/). import-linter checks it too."""
    import pathlib
    import re

    offenders = [
        f"{path.name}: {line.strip()}"
        for path in pathlib.Path("assets").rglob("*.py")
        for line in path.read_text().splitlines()
        if re.match(r"\s*(from|import) (tickets|contracts|scheduling|retention|importing|mobile_api)\b", line)
        and path.name != "admin.py"  # the back office is a face: it links the import page
    ]
    assert offenders == []
