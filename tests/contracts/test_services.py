"""contracts/services.py: renew, expire, cancel, activate, and coverage on boundary dates.

A worked example on a contract for the year 2026. Every call names its own `today`; the
clock is pinned to 2 November 2026, the day most renewals here happen, so the example reads
the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from assets.models import Equipment
from contracts import services
from contracts.models import RenewalOpportunity, ServiceContract
from contracts.selectors import contract_covering, coverage_for
from fieldservice.errors import Conflict
from tests import factories
from tests.clock_pin import clock_at
from tickets import pm

pytestmark = pytest.mark.django_db

START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
Status = ServiceContract.Status


_clock_on_2_november_2026 = clock_at(dt.datetime(2026, 11, 2, 9, tzinfo=factories.SHANGHAI))


@pytest.fixture
def unit() -> Equipment:
    return factories.equipment()


@pytest.fixture
def agreement(unit: Equipment) -> ServiceContract:
    return factories.contract(
        account=unit.site.account,
        covers=[unit],
        number="SC-2026-0001",
        start_date=START,
        end_date=END,
        uplift_percent=Decimal("3.00"),
    )


def reloaded(contract: ServiceContract) -> ServiceContract:
    return ServiceContract.objects.get(pk=contract.pk)


# --- renew ---------------------------------------------------------------------------------------


def test_renew_creates_the_successor_with_the_same_equipment_and_terms_uplifted(agreement, unit) -> None:
    second_unit = factories.equipment(site=unit.site)
    agreement.coverage.create(equipment=second_unit)

    successor = services.contract_renew(contract=agreement, today=dt.date(2026, 11, 2))

    assert successor.predecessor == agreement
    assert successor.number == "SC-2026-0001-R2" and successor.version == 2
    assert (successor.start_date, successor.end_date) == (dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert successor.annual_value == Decimal("103000.00")
    assert successor.status == Status.ACTIVE
    assert set(successor.covered_equipment.all()) == {unit, second_unit}
    assert list(successor.sla_terms.values_list("priority", "response_hours", "resolution_hours")) == list(
        agreement.sla_terms.values_list("priority", "response_hours", "resolution_hours")
    )
    assert set(successor.coverage.values_list("added_on", flat=True)) == {dt.date(2027, 1, 1)}
    # Renewed before its end date: it keeps covering the rest of its term.
    assert reloaded(agreement).status == Status.ACTIVE


def test_renewed_after_the_end_date_the_old_contract_becomes_renewed_at_once(agreement) -> None:
    services.contract_renew(contract=agreement, today=dt.date(2027, 1, 1))

    assert reloaded(agreement).status == Status.RENEWED


def test_a_renewed_contract_is_closed_as_renewed_the_day_after_it_ends(agreement) -> None:
    successor = services.contract_renew(contract=agreement, today=dt.date(2026, 11, 2))

    assert services.contracts_close_renewed(today=END) == 0
    assert services.contracts_close_renewed(today=END + dt.timedelta(days=1)) == 1
    assert services.contracts_close_renewed(today=END + dt.timedelta(days=1)) == 0
    assert reloaded(agreement).status == Status.RENEWED
    assert reloaded(successor).status == Status.ACTIVE


def test_the_uplift_is_rounded_half_up_to_cents() -> None:
    agreement = factories.contract(
        account=factories.account(), annual_value=Decimal("12345.67"), uplift_percent=Decimal("3.35")
    )
    # 12345.67 × 1.0335 = 12759.249945
    assert services.renewal_value(contract=agreement) == Decimal("12759.25")
    # 100.10 × 1.05 = 105.105 exactly: half up, not half even
    agreement.annual_value, agreement.uplift_percent = Decimal("100.10"), Decimal("5.00")
    assert services.renewal_value(contract=agreement) == Decimal("105.11")


def test_a_term_of_whole_years_stays_whole_years_other_terms_repeat_day_for_day() -> None:
    customer = factories.account()
    two_years = factories.contract(
        account=customer, start_date=dt.date(2024, 3, 1), end_date=dt.date(2026, 2, 28)
    )
    half_year = factories.contract(
        account=customer, start_date=dt.date(2026, 1, 1), end_date=dt.date(2026, 6, 30)
    )

    first = services.contract_renew(contract=two_years, today=dt.date(2026, 1, 1))
    second = services.contract_renew(contract=half_year, today=dt.date(2026, 6, 1))

    assert (first.start_date, first.end_date) == (dt.date(2026, 3, 1), dt.date(2028, 2, 29))
    assert (second.start_date, second.end_date) == (dt.date(2026, 7, 1), dt.date(2026, 12, 28))


def test_a_renewal_of_a_renewal_numbers_on_from_the_root(agreement) -> None:
    second = services.contract_renew(contract=agreement, today=dt.date(2027, 1, 1))
    third = services.contract_renew(contract=second, today=dt.date(2028, 1, 1))

    assert third.number == "SC-2026-0001-R3" and third.predecessor == second


def test_a_contract_is_renewed_once_and_only_while_active(agreement) -> None:
    services.contract_renew(contract=agreement, today=dt.date(2026, 11, 2))

    with pytest.raises(Conflict, match="already been renewed"):
        services.contract_renew(contract=agreement, today=dt.date(2026, 11, 3))
    expired = factories.contract(account=agreement.account, status=Status.EXPIRED)
    with pytest.raises(Conflict) as refused:
        services.contract_renew(contract=expired)
    assert refused.value.code == "contract_status"


def test_renewing_wins_the_opportunity(agreement) -> None:
    RenewalOpportunity.objects.create(contract=agreement)

    services.contract_renew(contract=agreement, today=dt.date(2026, 11, 2))

    opportunity = RenewalOpportunity.objects.get(contract=agreement)
    assert opportunity.stage == RenewalOpportunity.Stage.WON and opportunity.closed_at is not None


def test_decommissioned_equipment_is_not_carried_over(agreement, unit) -> None:
    retired = factories.equipment(site=unit.site, status=Equipment.Status.DECOMMISSIONED)
    agreement.coverage.create(equipment=retired)

    successor = services.contract_renew(contract=agreement, today=dt.date(2026, 11, 2))

    assert list(successor.covered_equipment.all()) == [unit]


# --- expire, cancel, activate -----------------------------------------------------------------------


def test_expire_is_refused_while_the_contract_runs_and_ends_coverage_after(agreement, unit) -> None:
    with pytest.raises(Conflict) as refused:
        services.contract_expire(contract=agreement, today=END)
    assert refused.value.code == "contract_still_running"

    services.contract_expire(contract=agreement, today=END + dt.timedelta(days=1))

    assert reloaded(agreement).status == Status.EXPIRED
    assert contract_covering(equipment_id=unit.pk, on=END) is None


def test_an_expired_contracts_equipment_gets_no_preventive_work(agreement, unit) -> None:
    factories.calendar_plan(equipment=unit, anchor_date=dt.date(2026, 12, 20), interval_days=30)
    services.contract_expire(contract=agreement, today=dt.date(2027, 1, 1))

    run = pm.pm_run(today=dt.date(2026, 12, 18), horizon_days=14)

    assert run.created == []
    assert [skip.reason for skip in run.skipped] == [pm.SkipReason.NOT_COVERED]


def test_a_renewed_contract_cannot_be_expired_or_cancelled(agreement) -> None:
    services.contract_renew(contract=agreement, today=dt.date(2026, 11, 2))

    with pytest.raises(Conflict, match="renewed"):
        services.contract_expire(contract=agreement, today=dt.date(2027, 1, 1))
    with pytest.raises(Conflict, match="successor"):
        services.contract_cancel(contract=agreement)


def test_cancel_stops_coverage_now_and_loses_the_opportunity(agreement, unit) -> None:
    RenewalOpportunity.objects.create(contract=agreement)

    services.contract_cancel(contract=agreement, reason="Plant closed")

    assert reloaded(agreement).status == Status.CANCELLED
    assert contract_covering(equipment_id=unit.pk, on=dt.date(2026, 6, 1)) is None
    assert RenewalOpportunity.objects.get(contract=agreement).stage == RenewalOpportunity.Stage.LOST
    with pytest.raises(Conflict):
        services.contract_cancel(contract=agreement)


def test_activate_puts_a_draft_in_force_once(unit) -> None:
    draft = factories.contract(
        account=unit.site.account, covers=[unit], start_date=START, end_date=END, status=Status.DRAFT
    )
    assert contract_covering(equipment_id=unit.pk, on=dt.date(2026, 6, 1)) is None

    services.contract_activate(contract=draft)

    assert contract_covering(equipment_id=unit.pk, on=dt.date(2026, 6, 1)) == draft
    with pytest.raises(Conflict):
        services.contract_activate(contract=draft)


def test_activate_refuses_a_number_already_active(agreement) -> None:
    draft = factories.contract(account=agreement.account, number=agreement.number, status=Status.DRAFT)

    with pytest.raises(Conflict) as refused:
        services.contract_activate(contract=draft)

    assert refused.value.code == "contract_number_taken"
    assert reloaded(draft).status == Status.DRAFT


# --- coverage on boundary dates ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (START - dt.timedelta(days=1), False),
        (START, True),
        (END, True),
        (END + dt.timedelta(days=1), False),
    ],
)
def test_coverage_runs_from_the_start_day_to_the_end_day_inclusive(agreement, unit, day, covered) -> None:
    assert (contract_covering(equipment_id=unit.pk, on=day) == agreement) is covered
    assert (coverage_for(equipment_id=unit.pk, on=day, priority=1) is not None) is covered


def test_a_renewed_successor_covers_from_the_day_after_the_end_date(agreement, unit) -> None:
    successor = services.contract_renew(contract=agreement, today=dt.date(2026, 11, 2))
    successor.sla_terms.filter(priority=1).update(response_hours=2, resolution_hours=12)

    assert contract_covering(equipment_id=unit.pk, on=END) == agreement
    assert contract_covering(equipment_id=unit.pk, on=END + dt.timedelta(days=1)) == successor
    on_end = coverage_for(equipment_id=unit.pk, on=END, priority=1)
    next_day = coverage_for(equipment_id=unit.pk, on=END + dt.timedelta(days=1), priority=1)
    assert on_end is not None and next_day is not None
    assert (on_end.response_hours, on_end.resolution_hours) == (Decimal(4), Decimal(24))
    assert (next_day.contract, next_day.response_hours, next_day.resolution_hours) == (
        successor,
        Decimal(2),
        Decimal(12),
    )
    # After the old one is closed as renewed, the successor still covers and the old day does not.
    services.contracts_close_renewed(today=END + dt.timedelta(days=1))
    assert contract_covering(equipment_id=unit.pk, on=END + dt.timedelta(days=1)) == successor
    assert contract_covering(equipment_id=unit.pk, on=END) is None
