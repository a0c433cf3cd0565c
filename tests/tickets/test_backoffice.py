"""The back office's "Add work order" (tickets.admin, tickets.backoffice): it opens the job
through tickets.services.work_order_create, as the API does, and offers only the chosen
account's sites and equipment; another account's, or another site's, is refused beside its field."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from assets.models import Account, Equipment, Site
from contracts.models import ServiceContract
from fieldservice import clock, roles
from tests import factories
from tickets import backoffice
from tickets.models import WorkOrder, WorkOrderEvent

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:tickets_workorder_add")


@dataclass
class Customer:
    account: Account
    site: Site
    unit: Equipment
    contract: ServiceContract


def _customer(manager: User | None = None) -> Customer:
    account = factories.account(account_manager=manager)
    site = factories.site(account=account)
    unit = factories.equipment(site=site)
    today = clock.today()
    contract = factories.contract(
        account=account,
        covers=[unit],
        start_date=today - dt.timedelta(days=30),
        end_date=today + dt.timedelta(days=335),
    )
    return Customer(account, site, unit, contract)


def _staff(role: str) -> tuple[User, Client]:
    person = factories.user(role=role, is_staff=True)
    if role == roles.ACCOUNT_MANAGER:
        # Not in the role's permissions today; given here so that the account scoping of the
        # add page itself is what is tried.
        person.user_permissions.add(Permission.objects.get(codename="add_workorder"))
    client = Client()
    client.force_login(person)
    return person, client


def _intake(account: Account) -> str:
    return f"{ADD_URL}?account={account.pk}"


def _job(customer: Customer, **changes: Any) -> dict[str, Any]:
    return {
        "account": customer.account.pk,  # shown, not taken: the address's account is
        "site": customer.site.pk,
        "equipment": customer.unit.pk,
        "kind": WorkOrder.Kind.CORRECTIVE,
        "priority": "2",
        "title": "Compressor trips on high temperature",
        "description": "Alarm 17 since this morning.",
        "estimated_minutes": "90",
        "required_skills": "",
        "earliest_start_0": "",
        "earliest_start_1": "",
        "latest_end_0": "",
        "latest_end_1": "",
        "_save": "Save",
        **changes,
    }


def _errors(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.get("Location")
    form = response.context["adminform"].form
    return {field: [str(message) for message in messages] for field, messages in form.errors.items()}


def _offered(response: Any, field: str) -> set[int]:
    form = response.context["adminform"].form
    return {obj.pk for obj in form.fields[field].queryset}


@pytest.fixture
def dispatcher_client() -> Client:
    return _staff(roles.DISPATCHER)[1]


def test_a_work_order_added_in_the_back_office_is_opened_by_the_service(dispatcher_client: Client) -> None:
    customer = _customer()
    _customer()  # another account, whose site and equipment must not be offered
    choose = dispatcher_client.post(ADD_URL, {"account": customer.account.pk})
    assert choose.status_code == 302 and choose["Location"] == _intake(customer.account)
    page = dispatcher_client.get(choose["Location"])
    assert _offered(page, "site") == {customer.site.pk}
    assert _offered(page, "equipment") == {customer.unit.pk}
    # No inline script, which a Content-Security-Policy would block: only <script src=…>.
    assert not re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page.content.decode())

    response = dispatcher_client.post(_intake(customer.account), _job(customer))

    assert response.status_code == 302, _errors(response)
    job = WorkOrder.objects.get()
    assert job.number.startswith(f"WO-{clock.now().year}-")
    assert (job.site, job.equipment, job.contract, job.billable) == (
        customer.site,
        customer.unit,
        customer.contract,
        False,
    )
    assert job.sla_response_due is not None and job.sla_response_due > job.created_at
    assert job.sla_resolution_due is not None and job.sla_resolution_due > job.sla_response_due
    assert job.required_skills == {"compressor": 1}  # the equipment model's, as the API defaults it
    assert (job.priority, job.estimated_minutes, job.status) == (2, 90, WorkOrder.Status.NEW)
    [created] = job.events.all()
    assert created.type == WorkOrderEvent.Type.CREATED
    assert created.by is not None and created.by == job.created_by


def test_a_site_of_another_account_is_refused_beside_the_site(dispatcher_client: Client) -> None:
    customer, other = _customer(), _customer()

    response = dispatcher_client.post(
        _intake(customer.account), _job(customer, site=other.site.pk, equipment="")
    )

    assert _errors(response) == {"site": ["Choose a site of this account."]}
    assert not WorkOrder.objects.exists()


def test_equipment_of_another_site_is_refused_beside_the_equipment(dispatcher_client: Client) -> None:
    customer, other = _customer(), _customer()
    second_site = factories.site(account=customer.account)
    elsewhere = factories.equipment(site=second_site)

    at_another_site = dispatcher_client.post(
        _intake(customer.account), _job(customer, equipment=elsewhere.pk)
    )
    of_another_account = dispatcher_client.post(
        _intake(customer.account), _job(customer, equipment=other.unit.pk)
    )

    assert _errors(at_another_site) == {"equipment": ["This equipment is not installed at the chosen site."]}
    assert _errors(of_another_account) == {"equipment": ["Choose equipment of this account."]}
    assert not WorkOrder.objects.exists()


def test_the_intake_checks_ranges_as_the_api_does(dispatcher_client: Client) -> None:
    customer = _customer()
    start = clock.now().astimezone(factories.SHANGHAI) + dt.timedelta(days=1)
    window = {
        "earliest_start_0": start.date().isoformat(),
        "earliest_start_1": "10:00",
        "latest_end_0": start.date().isoformat(),
        "latest_end_1": "09:00",
    }
    refusals = {
        "estimated_minutes": _job(customer, estimated_minutes=str(24 * 60 + 1)),
        "required_skills": _job(customer, required_skills='{"compressor": 7}'),
        "latest_end": _job(customer, **window),
    }

    for field, data in refusals.items():
        assert list(_errors(dispatcher_client.post(_intake(customer.account), data))) == [field]
    assert not WorkOrder.objects.exists()


def test_an_account_manager_may_choose_only_their_own_accounts() -> None:
    manager, manager_client = _staff(roles.ACCOUNT_MANAGER)
    mine, foreign = _customer(manager=manager), _customer(manager=factories.user(role=roles.ACCOUNT_MANAGER))

    refused = manager_client.post(ADD_URL, {"account": foreign.account.pk})
    assert list(_errors(refused)) == ["account"]
    # Named in the address, it is not taken either: the first step again, none of its sites.
    page = manager_client.get(_intake(foreign.account))
    assert list(page.context["adminform"].form.fields) == ["account"]
    assert foreign.site.name not in page.content.decode()
    manager_client.post(_intake(foreign.account), _job(foreign))
    assert not WorkOrder.objects.exists()

    assert manager_client.post(ADD_URL, {"account": mine.account.pk})["Location"] == _intake(mine.account)
    response = manager_client.post(_intake(mine.account), _job(mine))
    assert response.status_code == 302, _errors(response)
    assert WorkOrder.objects.get().account == mine.account


def test_the_back_office_save_only_corrects_it_never_opens_a_work_order() -> None:
    customer = _customer()
    unopened = WorkOrder(account=customer.account, site=customer.site, kind="corrective", title="Leak")

    with pytest.raises(ValueError, match="work_order_create"):
        backoffice.work_order_backoffice_save(work_order=unopened, by=None)

    assert not WorkOrder.objects.exists()
