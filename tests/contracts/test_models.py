from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from contracts.models import ContractSLATerm, CoveredEquipment, HealthScore, RenewalReminder, ServiceContract
from fieldservice import clock
from tests import factories

pytestmark = pytest.mark.django_db


def test_contract_must_end_after_it_starts() -> None:
    today = clock.today()
    with pytest.raises(IntegrityError, match="contract_end_after_start"), transaction.atomic():
        factories.contract(account=factories.account(), start_date=today, end_date=today)


def test_contract_value_cannot_be_negative() -> None:
    with pytest.raises(IntegrityError, match="contract_value_not_negative"), transaction.atomic():
        factories.contract(account=factories.account(), annual_value=Decimal("-0.01"))


def test_one_active_contract_per_number() -> None:
    customer = factories.account()
    factories.contract(account=customer, number="SC-1")
    with pytest.raises(IntegrityError, match="contract_one_active_number"), transaction.atomic():
        factories.contract(account=customer, number="SC-1")
    # An expired contract keeps its number for the record.
    factories.contract(account=customer, number="SC-1", status=ServiceContract.Status.EXPIRED)


def test_sla_terms_one_per_priority_and_ordered() -> None:
    agreement = factories.contract(account=factories.account())
    with pytest.raises(IntegrityError, match="sla_term_one_per_priority"), transaction.atomic():
        ContractSLATerm.objects.create(contract=agreement, priority=1, response_hours=2, resolution_hours=8)
    ContractSLATerm.objects.filter(contract=agreement).delete()
    with pytest.raises(IntegrityError, match="sla_term_resolution_not_before_response"), transaction.atomic():
        ContractSLATerm.objects.create(contract=agreement, priority=1, response_hours=8, resolution_hours=4)


def test_equipment_is_covered_once_per_contract() -> None:
    unit = factories.equipment()
    agreement = factories.contract(account=unit.site.account, covers=[unit])
    with pytest.raises(IntegrityError, match="covered_equipment_once"), transaction.atomic():
        CoveredEquipment.objects.create(contract=agreement, equipment=unit)


def test_renewal_milestone_happens_once_per_contract() -> None:
    agreement = factories.contract(account=factories.account())
    due = agreement.end_date - dt.timedelta(days=90)
    RenewalReminder.objects.create(contract=agreement, milestone="t90", due_date=due)
    with pytest.raises(IntegrityError, match="renewal_reminder_once_per_milestone"), transaction.atomic():
        RenewalReminder.objects.create(contract=agreement, milestone="t90", due_date=due)


def test_health_score_is_within_0_and_100_and_daily() -> None:
    customer, today = factories.account(), clock.today()
    with pytest.raises(IntegrityError, match="health_score_range"), transaction.atomic():
        HealthScore.objects.create(account=customer, date=today, score=101, band="green")
    HealthScore.objects.create(account=customer, date=today, score=80, band="green")
    with pytest.raises(IntegrityError, match="health_score_one_per_day"), transaction.atomic():
        HealthScore.objects.create(account=customer, date=today, score=70, band="yellow")
