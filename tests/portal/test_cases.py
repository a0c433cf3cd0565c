"""A contact raises a complaint (a case of their account, channel portal, an email back) and
answers the resolved case's closing question; another account's case is a 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail

from cases.models import Case
from cases.services import case_acknowledge, case_open, case_resolve, case_start
from tests import factories
from tests.portal.conftest import Customer, signed_in

pytestmark = pytest.mark.django_db


def a_case(customer: Customer, by: User | None = None) -> Case:
    return case_open(
        account=customer.account,
        kind=Case.Kind.COMPLAINT,
        severity=2,
        channel=Case.Channel.PHONE,
        title="Late visit",
        by=by,
        contact=customer.contact,
    )


def test_a_contact_raises_a_complaint(mine: Customer, django_capture_on_commit_callbacks: Any) -> None:
    visit = factories.work_order(site=mine.site)
    client = signed_in(mine.contact)
    form = {
        "title": "Technician was late",
        "description": "Two hours late",
        "severity": "1",
        "work_order": visit.pk,
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/portal/cases/new/", form)
    case = Case.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/portal/cases/{case.pk}/"
    assert (case.kind, case.channel, case.severity, case.contact) == ("complaint", "portal", 1, mine.contact)
    assert list(case.work_orders.all()) == [visit]
    assert mail.outbox[-1].to == [mine.contact.email] and case.number in mail.outbox[-1].subject
    assert case.number in client.get("/portal/cases/").content.decode()


def test_another_accounts_work_order_cannot_be_linked(mine: Customer, theirs: Customer) -> None:
    foreign = factories.work_order(site=theirs.site)
    form = {"title": "Late", "description": "Late", "severity": "2", "work_order": foreign.pk}
    assert signed_in(mine.contact).post("/portal/cases/new/", form).status_code == 400
    assert not Case.objects.exists()


def test_the_closing_question(mine: Customer, account_manager: User) -> None:
    case = a_case(mine)
    for move in (case_acknowledge, case_start):
        case = move(case=case, by=account_manager)
    case = case_resolve(case=case, by=account_manager, resolution="Visit moved to mornings")
    client = signed_in(mine.contact)
    page = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "Was this resolved for you?" in page and "Visit moved to mornings" in page
    answer = client.post(f"/portal/cases/{case.pk}/answer/", {"resolved": "yes", "comment": "Thanks"})
    assert answer.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.CONFIRMED
    again = client.post(f"/portal/cases/{case.pk}/answer/", {"resolved": "no"})
    assert again.status_code == 409


def test_another_accounts_case_is_404(mine: Customer, theirs: Customer) -> None:
    case = a_case(theirs)
    client = signed_in(mine.contact)
    assert client.get(f"/portal/cases/{case.pk}/").status_code == 404
    assert client.post(f"/portal/cases/{case.pk}/answer/", {"resolved": "yes"}).status_code == 404
    assert case.number not in client.get("/portal/cases/").content.decode()
