"""Renewal milestones from T−120 to T0: a worked example on a contract for the year 2026.

Every run names its own `today`; the clock is pinned to 1 September 2026, the day before
T−120, so the example reads the same whenever the suite runs.
"""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assets.models import Account
from contracts.models import AccountTask, HealthScore, RenewalOpportunity, RenewalReminder, ServiceContract
from fieldservice import clock
from fieldservice.models import StaffProfile
from retention import renewals
from retention.tasks import renewals_run_daily
from tests import factories
from tests.clock_pin import clock_at
from tickets import pm

START, END = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
DUE = {
    "t120": dt.date(2026, 9, 2),
    "t90": dt.date(2026, 10, 2),
    "t60": dt.date(2026, 11, 1),
    "t30": dt.date(2026, 12, 1),
    "t7": dt.date(2026, 12, 24),
    "t0": dt.date(2027, 1, 1),  # the day after the key date
}
Kind = AccountTask.Kind
Status = ServiceContract.Status


_clock_before_t120 = clock_at(dt.datetime(2026, 9, 1, 9, tzinfo=factories.SHANGHAI))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def staff(username: str, *, language: str = "en", reports_to: User | None = None, **fields: Any) -> User:
    person = factories.user(username=username, email=f"{username}@fieldservice.example", **fields)
    StaffProfile.objects.create(user=person, language=language, reports_to=reports_to)
    return person


@pytest.fixture
def boss(db: None) -> User:
    return staff("boss")


@pytest.fixture
def manager(boss: User) -> User:
    return staff("am", reports_to=boss, first_name="Li", last_name="Na")


@pytest.fixture
def customer(manager: User) -> Account:
    return factories.account(name="苏州精密电子有限公司", account_manager=manager)


def contract_for(customer: Account, **fields: Any) -> ServiceContract:
    unit = factories.equipment(site=factories.site(account=customer))
    return factories.contract(
        account=customer, covers=[unit], **{"start_date": START, "end_date": END, **fields}
    )


def already_done(contract: ServiceContract, *milestones: str) -> None:
    """Milestones an earlier run made happen and emailed."""
    for milestone in milestones:
        RenewalReminder.objects.create(
            contract=contract,
            milestone=milestone,
            due_date=DUE[milestone],
            sent_at=clock.now(),
            recipients=["am@fieldservice.example"],
        )


def reminders(contract: ServiceContract) -> list[str]:
    return list(contract.reminders.order_by("due_date").values_list("milestone", flat=True))


def tasks(contract: ServiceContract) -> list[str]:
    return sorted(AccountTask.objects.filter(contract=contract).values_list("kind", flat=True))


# --- dates --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_milestones_fall_due_before_the_end_date_or_the_notice_deadline(customer) -> None:
    plain = contract_for(customer)
    auto = contract_for(customer, auto_renew=True, notice_days=60)

    assert dict(renewals.milestone_due_dates(plain)) == DUE
    assert renewals.key_date(auto) == dt.date(2026, 11, 1)
    assert dict(renewals.milestone_due_dates(auto))["t120"] == dt.date(2026, 7, 4)
    assert dict(renewals.milestone_due_dates(auto))["t0"] == dt.date(2026, 11, 2)


@pytest.mark.django_db
def test_milestone_days_come_from_settings(customer, settings) -> None:
    settings.RENEWAL_MILESTONE_DAYS = {**settings.RENEWAL_MILESTONE_DAYS, "t90": 100}

    assert dict(renewals.milestone_due_dates(contract_for(customer)))["t90"] == dt.date(2026, 9, 22)


# --- each milestone --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_t120_opens_the_opportunity_with_the_latest_health_and_sends_nothing(
    customer, manager, mailoutbox
) -> None:
    agreement = contract_for(customer)
    HealthScore.objects.create(account=customer, date=dt.date(2026, 8, 1), score=55, band="yellow")
    HealthScore.objects.create(account=customer, date=dt.date(2026, 9, 3), score=90, band="green")

    assert renewals.renewals_run(today=DUE["t120"] - dt.timedelta(days=1)) == 0
    assert renewals.renewals_run(today=DUE["t120"]) == 1

    opportunity = RenewalOpportunity.objects.get(contract=agreement)
    assert (opportunity.owner, opportunity.stage) == (manager, RenewalOpportunity.Stage.OPEN)
    assert (opportunity.health_score_at_open, opportunity.health_band_at_open) == (55, "yellow")
    assert reminders(agreement) == ["t120"] and mailoutbox == []


@pytest.mark.django_db
def test_t120_without_a_health_score_leaves_the_snapshot_blank(customer) -> None:
    agreement = contract_for(customer)

    renewals.renewals_run(today=DUE["t120"])

    opportunity = RenewalOpportunity.objects.get(contract=agreement)
    assert (opportunity.health_score_at_open, opportunity.health_band_at_open) == (None, "")


@pytest.mark.django_db
@pytest.mark.parametrize(("band", "save_plan"), [("red", True), ("yellow", True), ("green", False)])
def test_t90_reminds_the_manager_and_plans_a_save_for_a_red_or_yellow_account(
    customer, manager, mailoutbox, band, save_plan
) -> None:
    agreement = contract_for(customer)
    already_done(agreement, "t120")
    HealthScore.objects.create(account=customer, date=dt.date(2026, 9, 30), score=40, band=band)

    assert renewals.renewals_run(today=DUE["t90"]) == 1

    (email,) = mailoutbox
    assert email.to == [manager.email] and email.cc == []
    assert agreement.number in email.subject and "90-day reminder" in email.body
    assert ("save plan" in email.body) is save_plan
    expected = [Kind.RENEWAL_REMINDER, Kind.SAVE_PLAN] if save_plan else [Kind.RENEWAL_REMINDER]
    assert tasks(agreement) == sorted(expected)
    assert set(AccountTask.objects.values_list("owner", flat=True)) == {manager.pk}
    if save_plan:
        assert AccountTask.objects.get(kind=Kind.SAVE_PLAN).dedupe_key == f"save-plan:{agreement.pk}"
    reminder = agreement.reminders.get(milestone="t90")
    assert reminder.sent_at is not None and reminder.recipients == [manager.email]


@pytest.mark.django_db
def test_t60_drafts_the_quote_and_asks_for_its_review(customer, mailoutbox) -> None:
    agreement = contract_for(customer, annual_value=Decimal("100000.00"), uplift_percent=Decimal("4.50"))
    already_done(agreement, "t120", "t90")
    RenewalOpportunity.objects.create(contract=agreement, stage=RenewalOpportunity.Stage.CONTACTED)

    renewals.renewals_run(today=DUE["t60"])

    opportunity = RenewalOpportunity.objects.get(contract=agreement)
    assert opportunity.stage == RenewalOpportunity.Stage.QUOTED
    assert opportunity.stage_changed_at is None  # the machine's move is not the manager's
    assert opportunity.proposed_value == Decimal("104500.00")
    assert opportunity.quote_valid_until == dt.date(2026, 12, 16)
    assert opportunity.quote_pdf.name.endswith(".pdf")
    (email,) = mailoutbox
    assert "104500.00" in email.body and "2026-12-16" in email.body
    assert [name for name, _, _ in email.attachments] == [f"{agreement.number}-quote.pdf"]
    assert tasks(agreement) == [Kind.QUOTE_REVIEW]


def _at_t30(customer: Account, *, moved_on: dt.date | None = None) -> ServiceContract:
    """A contract whose opportunity was opened on time, then (maybe) moved, now at T−30."""
    agreement = contract_for(customer)
    renewals.renewals_run(today=DUE["t120"])
    already_done(agreement, "t90", "t60")
    if moved_on is not None:
        RenewalOpportunity.objects.filter(contract=agreement).update(
            stage=RenewalOpportunity.Stage.NEGOTIATING,
            stage_changed_at=dt.datetime.combine(moved_on, dt.time(10), tzinfo=factories.SHANGHAI),
        )
    renewals.renewals_run(today=DUE["t30"])
    return agreement


@pytest.mark.django_db
def test_t30_escalates_to_the_managers_manager_when_the_deal_has_not_moved(
    customer, manager, boss, mailoutbox
) -> None:
    agreement = _at_t30(customer)

    (email,) = mailoutbox
    assert email.to == [manager.email] and email.cc == [boss.email]
    assert email.subject.startswith("[Escalated]")
    assert tasks(agreement) == sorted([Kind.RENEWAL_REMINDER, Kind.ESCALATION])
    assert agreement.reminders.get(milestone="t30").payload["escalate_to"] == [boss.pk]


@pytest.mark.django_db
def test_t30_does_not_escalate_when_the_deal_moved(customer, manager, mailoutbox) -> None:
    agreement = _at_t30(customer, moved_on=DUE["t120"] + dt.timedelta(days=10))

    (email,) = mailoutbox
    assert email.cc == [] and not email.subject.startswith("[Escalated]")
    assert tasks(agreement) == [Kind.RENEWAL_REMINDER]


@pytest.mark.django_db
def test_a_stage_change_from_before_the_renewal_cycle_does_not_count_as_moving(customer, mailoutbox) -> None:
    _at_t30(customer, moved_on=DUE["t120"] - dt.timedelta(days=30))

    assert mailoutbox[0].cc == ["boss@fieldservice.example"]


@pytest.mark.django_db
def test_without_a_manager_the_escalation_goes_to_the_admins(customer, manager, mailoutbox) -> None:
    StaffProfile.objects.filter(user=manager).update(reports_to=None)
    admin = staff("root", is_superuser=True)
    staff("inactive-root", is_superuser=True, is_active=False)

    _at_t30(customer)

    assert mailoutbox[0].cc == [admin.email]


@pytest.mark.django_db
def test_the_reminder_is_in_the_managers_language(customer, manager, mailoutbox) -> None:
    StaffProfile.objects.filter(user=manager).update(language="zh-hans")
    agreement = contract_for(customer)
    already_done(agreement, "t120", "t90", "t60", "t30")

    renewals.renewals_run(today=DUE["t7"])

    (email,) = mailoutbox
    assert email.subject.startswith(f"合同续约 {agreement.number}（苏州精密电子有限公司）：最后提醒")
    assert "最后提醒：仅剩一周" in email.body
    assert AccountTask.objects.get(contract=agreement).title.startswith(f"合同 {agreement.number} 续约")


# --- T0 -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_t0_auto_renews_the_day_after_the_notice_deadline(customer) -> None:
    agreement = contract_for(
        customer,
        auto_renew=True,
        notice_days=60,
        annual_value=Decimal("100000.00"),
        uplift_percent=Decimal("3.00"),
    )
    already_done(agreement, "t120", "t90", "t60", "t30", "t7")
    RenewalOpportunity.objects.create(contract=agreement, stage=RenewalOpportunity.Stage.QUOTED)

    assert renewals.renewals_run(today=dt.date(2026, 11, 1)) == 0
    assert renewals.renewals_run(today=dt.date(2026, 11, 2)) == 1

    successor = ServiceContract.objects.get(predecessor=agreement)
    assert successor.status == Status.ACTIVE and successor.annual_value == Decimal("103000.00")
    assert (successor.start_date, successor.end_date) == (dt.date(2027, 1, 1), dt.date(2027, 12, 31))
    assert list(successor.covered_equipment.all()) == list(agreement.covered_equipment.all())
    assert successor.sla_terms.count() == 4
    # Still covering its last two months; renewed once they are over.
    agreement.refresh_from_db()
    assert agreement.status == Status.ACTIVE
    renewals.renewals_run(today=END)
    agreement.refresh_from_db()
    assert agreement.status == Status.ACTIVE
    run = renewals.renewals_run_report(today=END + dt.timedelta(days=1))
    agreement.refresh_from_db()
    assert agreement.status == Status.RENEWED and run.contracts_closed == 1
    assert RenewalOpportunity.objects.get(contract=agreement).stage == RenewalOpportunity.Stage.WON
    assert ServiceContract.objects.filter(predecessor=agreement).count() == 1


@pytest.mark.django_db
def test_an_auto_renewal_after_notice_is_not_renewed_and_expires_at_its_end(customer) -> None:
    agreement = contract_for(customer, auto_renew=True, notice_days=60)
    already_done(agreement, "t120", "t90", "t60", "t30", "t7")
    RenewalOpportunity.objects.create(contract=agreement, stage=RenewalOpportunity.Stage.LOST)

    renewals.renewals_run(today=dt.date(2026, 11, 2))
    agreement.refresh_from_db()
    assert agreement.status == Status.ACTIVE and not ServiceContract.objects.filter(predecessor=agreement)

    run = renewals.renewals_run_report(today=END + dt.timedelta(days=1))
    agreement.refresh_from_db()
    assert agreement.status == Status.EXPIRED and run.contracts_expired == 1


@pytest.mark.django_db
def test_t0_expires_a_contract_without_auto_renewal_and_its_equipment_gets_no_pm(customer) -> None:
    agreement = contract_for(customer)
    renewing = contract_for(customer, auto_renew=True, notice_days=60)
    for contract in (agreement, renewing):
        factories.calendar_plan(
            equipment=contract.covered_equipment.get(), anchor_date=dt.date(2027, 1, 5), interval_days=90
        )
        already_done(contract, "t120", "t90", "t60", "t30", "t7")
        RenewalOpportunity.objects.create(contract=contract)
    renewals.renewals_run(today=dt.date(2026, 11, 2))  # the auto-renewal

    renewals.renewals_run(today=END)
    agreement.refresh_from_db()
    assert agreement.status == Status.ACTIVE  # covers its last day

    renewals.renewals_run(today=DUE["t0"])
    agreement.refresh_from_db()
    assert agreement.status == Status.EXPIRED
    assert RenewalOpportunity.objects.get(contract=agreement).stage == RenewalOpportunity.Stage.LOST
    created = pm.pm_generate(today=DUE["t0"], horizon_days=14)
    assert [wo.equipment for wo in created] == [renewing.covered_equipment.get()]


@pytest.mark.django_db
def test_a_contract_renewed_by_hand_is_not_expired_at_t0(customer) -> None:
    from contracts.services import contract_renew

    agreement = contract_for(customer)
    already_done(agreement, "t120", "t90", "t60", "t30", "t7")
    successor = contract_renew(contract=agreement, today=dt.date(2026, 12, 20))

    renewals.renewals_run(today=DUE["t0"])

    agreement.refresh_from_db()
    assert agreement.status == Status.RENEWED
    assert agreement.reminders.get(milestone="t0").payload == {"outcome": "already renewed"}
    successor.refresh_from_db()
    assert successor.status == Status.ACTIVE


# --- exactly once -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_late_contract_gets_every_due_milestone_at_once_and_one_summary_email(
    customer, manager, mailoutbox
) -> None:
    agreement = contract_for(customer)
    today = END - dt.timedelta(days=20)  # created inside T−30

    assert renewals.renewals_run(today=today) == 4

    assert reminders(agreement) == ["t120", "t90", "t60", "t30"]
    (email,) = mailoutbox
    assert "90-day reminder" in email.body and "quote has been drafted" in email.body
    assert "30-day reminder" in email.body
    # Opened today: no time to move the deal, so no escalation.
    assert email.cc == [] and Kind.ESCALATION not in tasks(agreement)
    assert RenewalOpportunity.objects.get(contract=agreement).stage == RenewalOpportunity.Stage.QUOTED
    emailed = agreement.reminders.filter(milestone__in=["t90", "t60", "t30"])
    assert [r.recipients for r in emailed] == [[manager.email]] * 3

    assert renewals.renewals_run(today=today) == 0
    assert renewals.renewals_run(today=today + dt.timedelta(days=1)) == 0
    assert len(mailoutbox) == 1
    # One reminder in the task list, not one per stale milestone.
    assert tasks(agreement) == sorted([Kind.RENEWAL_REMINDER, Kind.QUOTE_REVIEW])


@pytest.mark.django_db
def test_a_failed_send_is_sent_once_by_the_rerun(customer, monkeypatch, mailoutbox) -> None:
    agreement = contract_for(customer)
    original = EmailMessage.send
    calls = {"n": 0}

    def send_failing_once(self: EmailMessage, fail_silently: bool = False) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("SMTP server went away")
        return original(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", send_failing_once)

    with pytest.raises(renewals.RenewalEmailsFailed, match="SMTP server went away"):
        renewals.renewals_run(today=DUE["t90"])
    assert mailoutbox == [] and reminders(agreement) == ["t120", "t90"]
    assert agreement.reminders.get(milestone="t90").sent_at is None

    assert renewals.renewals_run(today=DUE["t90"]) == 0  # nothing new happens, the email goes
    assert renewals.renewals_run(today=DUE["t90"] + dt.timedelta(days=1)) == 0

    assert len(mailoutbox) == 1 and calls["n"] == 2
    assert reminders(agreement) == ["t120", "t90"] and tasks(agreement) == [Kind.RENEWAL_REMINDER]
    assert agreement.reminders.get(milestone="t90").sent_at is not None


@pytest.mark.django_db
def test_a_claimed_send_is_never_repeated(customer, mailoutbox) -> None:
    """A worker killed after claiming the send: not resent (at most once), and findable."""
    agreement = contract_for(customer)
    already_done(agreement, "t120")
    RenewalReminder.objects.create(
        contract=agreement, milestone="t90", due_date=DUE["t90"], sent_at=clock.now()
    )

    renewals.renewals_run(today=DUE["t90"] + dt.timedelta(days=1))

    assert mailoutbox == []
    assert RenewalReminder.objects.filter(sent_at__isnull=False, recipients=[]).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_make_each_milestone_happen_once(mailoutbox) -> None:
    # No role groups here: a transactional test flushes the migration-made ones.
    manager = factories.user(username="am-concurrent", email="am@fieldservice.example")
    contracts = [contract_for(factories.account(account_manager=manager)) for _ in range(4)]
    start = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=10)
            results.append(renewals.renewals_run(today=DUE["t90"]))
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
    assert sum(results) == 2 * len(contracts)
    assert RenewalReminder.objects.count() == 2 * len(contracts)
    assert RenewalOpportunity.objects.count() == len(contracts)
    assert AccountTask.objects.count() == len(contracts)
    assert sorted(email.subject.split()[1] for email in mailoutbox) == sorted(c.number for c in contracts)
    assert not RenewalReminder.objects.filter(milestone="t90", sent_at__isnull=True).exists()


@pytest.mark.django_db
def test_a_quiet_day_costs_the_same_queries_whatever_the_number_of_contracts(customer) -> None:
    def quiet_day_queries(count: int) -> int:
        for _ in range(count):
            already_done(contract_for(customer), "t120")
        with CaptureQueriesContext(connection) as queries:
            assert renewals.renewals_run(today=DUE["t120"]) == 0
        return len(queries)

    assert quiet_day_queries(2) == quiet_day_queries(6)


# --- the command and the task ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_prints_a_summary(customer, mailoutbox) -> None:
    contract_for(customer)
    out = StringIO()

    call_command("run_renewals", "--today", DUE["t90"].isoformat(), stdout=out)

    output = out.getvalue()
    assert "Renewals for 2026-10-02:" in output
    assert "2 milestone(s) happened." in output
    assert "T−120: opportunity opened: 1" in output and "T−90: reminder: 1" in output
    assert "Reminder emails sent: 1." in output
    again = StringIO()
    call_command("run_renewals", "--today", DUE["t90"].isoformat(), stdout=again)
    assert "0 milestone(s) happened." in again.getvalue()


@pytest.mark.django_db
def test_command_refuses_a_bad_date() -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_renewals", "--today", "2026-13-01")


@pytest.mark.django_db
def test_the_daily_task_returns_how_many_milestones_happened(customer) -> None:
    contract_for(customer)

    assert renewals_run_daily(DUE["t120"].isoformat()) == 1
    assert renewals_run_daily(DUE["t120"].isoformat()) == 0
