"""Cases: clocks from the contract or the defaults, the lifecycle and its refusals, the
customer's answer, escalation once per clock, closing unconfirmed, and a detractor's survey."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail

from cases import escalation, services
from cases.models import Case, CaseEvent
from contracts.models import ContractSLATerm, ServiceContract
from fieldservice import clock, people
from fieldservice.errors import Conflict, Invalid
from fieldservice.models import StaffProfile
from tests import factories
from tickets import creation, sla
from tickets.models import Survey
from tickets.survey import survey_submit, survey_token_for

pytestmark = pytest.mark.django_db

Status = Case.Status


def open_case(customer: dict[str, Any], **fields: Any) -> Case:
    arguments: dict[str, Any] = {
        "account": customer["account"],
        "contact": customer["contact"],
        "kind": Case.Kind.COMPLAINT,
        "severity": 2,
        "channel": Case.Channel.PHONE,
        "title": "Chiller still trips after the visit",
        "by": None,
    }
    return services.case_open(**{**arguments, **fields})


def always_contract(account: Any) -> ServiceContract:
    """A 24x7 contract whose P1/P2/P3 terms are easy to tell apart."""
    contract = factories.contract(account=account, sla_calendar=ServiceContract.Calendar.ALWAYS)
    for priority, (response, resolution) in {1: (1, 2), 2: (3, 6), 3: (5, 10)}.items():
        ContractSLATerm.objects.filter(contract=contract, priority=priority).update(
            response_hours=Decimal(response), resolution_hours=Decimal(resolution)
        )
    return contract


def test_default_clocks_without_a_contract(customer: dict[str, Any], account_manager: User) -> None:
    at = clock.now()
    case = open_case(customer, severity=1, at=at)
    calendar = sla.Calendar.for_site(
        kind=settings.CASE_DEFAULT_CALENDAR, time_zone=customer["site"].time_zone
    )
    response, resolution = settings.CASE_DEFAULT_HOURS[1]
    assert case.clock_source == Case.ClockSource.DEFAULT and case.contract is None
    assert case.response_due == sla.due_after(calendar, at, response)
    assert case.resolution_due == sla.due_after(calendar, at, resolution)
    assert case.number.startswith("CASE-") and case.owner == account_manager
    assert case.status == Status.RECEIVED
    assert list(case.events.values_list("type", flat=True)) == [CaseEvent.Type.CREATED]


@pytest.mark.parametrize(("severity", "hours"), [(1, (1, 2)), (2, (3, 6)), (3, (5, 10))])
def test_severity_takes_the_contracts_terms_of_the_same_priority(
    customer: dict[str, Any], severity: int, hours: tuple[int, int]
) -> None:
    contract = always_contract(customer["account"])
    at = clock.now()
    case = open_case(customer, severity=severity, at=at)
    assert case.clock_source == Case.ClockSource.CONTRACT and case.contract == contract
    assert case.response_due == at + dt.timedelta(hours=hours[0])
    assert case.resolution_due == at + dt.timedelta(hours=hours[1])


def test_a_contract_without_terms_for_the_severity_gives_the_default(customer: dict[str, Any]) -> None:
    contract = always_contract(customer["account"])
    ContractSLATerm.objects.filter(contract=contract, priority=3).delete()
    assert open_case(customer, severity=3).clock_source == Case.ClockSource.DEFAULT


def test_a_contact_or_work_order_of_another_account_is_refused(customer: dict[str, Any]) -> None:
    stranger = factories.contact(site=factories.site())
    with pytest.raises(Invalid) as refused:
        open_case(customer, contact=stranger)
    assert refused.value.code == "contact_other_account"
    other_job = creation.work_order_create(site=factories.site(), kind="corrective", title="Leak", by=None)
    with pytest.raises(Invalid) as refused:
        open_case(customer, work_orders=[other_job])
    assert refused.value.code == "work_order_other_account"
    assert not Case.objects.exists()


def test_the_lifecycle_and_its_refusals(customer: dict[str, Any], dispatcher: User) -> None:
    case = open_case(customer)
    with pytest.raises(Conflict) as refused:
        services.case_resolve(case=case, by=dispatcher)
    assert refused.value.code == "illegal_transition"
    case = services.case_acknowledge(case=case, by=dispatcher, version=case.version)
    assert case.status == Status.ACKNOWLEDGED and case.acknowledged_at is not None
    with pytest.raises(Conflict) as stale:
        services.case_start(case=case, by=dispatcher, version=case.version - 1)
    assert stale.value.code == "version_conflict"
    case = services.case_start(case=case, by=dispatcher, version=case.version)
    case = services.case_resolve(case=case, by=dispatcher, resolution="Replaced the sensor")
    assert case.status == Status.RESOLVED and case.resolved_at is not None
    with pytest.raises(Conflict):
        services.case_move(case=case, to=Status.CLOSED_UNCONFIRMED, by=dispatcher, version=case.version)
    types = list(case.events.values_list("type", flat=True))
    assert types == ["created", "status_changed", "status_changed", "status_changed"]


def _resolved(customer: dict[str, Any]) -> Case:
    case = open_case(customer)
    case = services.case_acknowledge(case=case, by=None)
    return services.case_resolve(case=case, by=None, resolution="Done")


def test_the_customer_confirms_or_reopens(customer: dict[str, Any]) -> None:
    case = services.case_confirm(case=_resolved(customer), resolved=False, by=None, comment="Still trips")
    assert case.status == Status.IN_PROGRESS and case.reopened_count == 1 and case.resolved_at is None
    case = services.case_resolve(case=case, by=None)
    case = services.case_confirm(case=case, resolved=True, by=None)
    assert case.status == Status.CONFIRMED and case.closed_at is not None
    with pytest.raises(Conflict) as refused:
        services.case_confirm(case=case, resolved=True, by=None)
    assert refused.value.code == "not_awaiting_answer"
    answers = case.events.filter(type=CaseEvent.Type.CUSTOMER_ANSWER).values_list(
        "payload__resolved", flat=True
    )
    assert list(answers) == [False, True]


def test_unconfirmed_cases_close_after_the_set_days(customer: dict[str, Any]) -> None:
    case = _resolved(customer)
    assert case.resolved_at is not None
    before = case.resolved_at + dt.timedelta(days=settings.CASE_CONFIRM_DAYS) - dt.timedelta(minutes=1)
    assert services.cases_close_unconfirmed(now=before) == 0
    after = case.resolved_at + dt.timedelta(days=settings.CASE_CONFIRM_DAYS)
    assert services.cases_close_unconfirmed(now=after) == 1
    assert services.cases_close_unconfirmed(now=after) == 0
    case.refresh_from_db()
    assert case.status == Status.CLOSED_UNCONFIRMED and case.closed_at == after


def test_a_breached_case_escalates_once_per_clock(
    customer: dict[str, Any], account_manager: User, admin_user: User
) -> None:
    boss = factories.user(username="boss", email="boss@example.com")
    StaffProfile.objects.create(user=account_manager, reports_to=boss)
    case = open_case(customer)
    late = case.response_due + dt.timedelta(minutes=1)
    for _ in range(2):  # the sweep twice: one escalation, one email
        escalation.case_escalations_record(now=late)
        escalation.case_escalations_email()
    escalated = CaseEvent.objects.filter(case=case, type=CaseEvent.Type.ESCALATED)
    assert [(e.payload["clock"], e.payload["recipients"]) for e in escalated] == [("response", [boss.pk])]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["boss@example.com"]
    assert case.number in mail.outbox[0].subject
    # Later the resolution clock runs out too: its own escalation, once.
    very_late = case.resolution_due + dt.timedelta(minutes=1)
    assert escalation.case_escalations_record(now=very_late) == 1
    assert escalation.case_escalations_record(now=very_late) == 0
    assert escalated.all().count() == 2


def test_without_a_manager_escalations_go_to_the_admins(customer: dict[str, Any], admin_user: User) -> None:
    assert people.escalation_recipients(customer["account"].account_manager) == [admin_user]


def test_an_acknowledged_case_does_not_escalate_its_response(customer: dict[str, Any]) -> None:
    case = services.case_acknowledge(case=open_case(customer), by=None)
    assert escalation.case_escalations_record(now=case.response_due + dt.timedelta(minutes=1)) == 0


def _survey_token(customer: dict[str, Any]) -> str:
    job = creation.work_order_create(site=customer["site"], kind="corrective", title="Leak", by=None)
    return survey_token_for(job)


def test_a_detractors_survey_opens_one_complaint(
    customer: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    token = _survey_token(customer)
    with django_capture_on_commit_callbacks(execute=True):
        survey = survey_submit(token=token, csat=4, nps=3, comment="Took three visits")
    case = Case.objects.get()
    assert (case.kind, case.channel, case.survey) == (Case.Kind.COMPLAINT, Case.Channel.SURVEY, survey)
    assert case.contact == customer["contact"] and list(case.work_orders.all()) == [survey.work_order]
    assert case.description == "Took three visits"
    with pytest.raises(Conflict), django_capture_on_commit_callbacks(execute=True):
        survey_submit(token=token, csat=1, nps=0)
    assert services.case_open_from_survey(survey=survey) == case  # asked again: the same one
    assert Case.objects.count() == 1


@pytest.mark.parametrize(("csat", "nps", "opens"), [(5, 9, False), (2, 9, True), (3, 7, False), (3, 6, True)])
def test_which_surveys_open_a_case(
    customer: dict[str, Any], django_capture_on_commit_callbacks: Any, csat: int, nps: int, opens: bool
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        survey_submit(token=_survey_token(customer), csat=csat, nps=nps)
    assert Case.objects.exists() == opens
    assert Survey.objects.count() == 1
