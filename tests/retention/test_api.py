"""The account manager's API: who sees which accounts, the pipeline, tasks, risk, 360°."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from contracts.models import AccountTask, HealthScore, RenewalOpportunity
from fieldservice import clock, roles
from retention.quote import renewal_quote_draft
from tests import factories
from tickets import creation

pytestmark = pytest.mark.django_db


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def book(account_manager: User) -> dict[str, Any]:
    """Two accounts of the manager (one at risk), one of another manager."""
    today = clock.today()
    other_manager = factories.user(username="manager2", role=roles.ACCOUNT_MANAGER)
    result: dict[str, Any] = {"other_manager": other_manager}
    for key, owner, score, band, days in (
        ("risky", account_manager, 35, "red", 40),
        ("safe", account_manager, 90, "green", 200),
        ("theirs", other_manager, 20, "red", 30),
    ):
        customer = factories.account(
            account_manager=owner, name=f"{key} 精密", annual_contract_value=Decimal("100000")
        )
        unit = factories.equipment(site=factories.site(account=customer))
        contract = factories.contract(
            account=customer,
            covers=[unit],
            start_date=today - dt.timedelta(days=300),
            end_date=today + dt.timedelta(days=days),
        )
        opportunity = RenewalOpportunity.objects.create(contract=contract, owner=owner)
        HealthScore.objects.create(account=customer, date=today, score=score, band=band, components=[])
        AccountTask.objects.create(
            account=customer,
            contract=contract,
            owner=owner,
            kind="renewal_reminder",
            title=f"Call {key}",
            due_date=today,
        )
        creation.work_order_create(site=unit.site, equipment=unit, kind="corrective", title="Leak", by=None)
        result[key] = {"account": customer, "contract": contract, "opportunity": opportunity, "unit": unit}
    return result


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("account_manager", {"risky", "safe"}),
        ("admin_user", {"risky", "safe", "theirs"}),
        ("dispatcher", None),
        ("tech_a", None),
    ],
)
def test_pipeline_scope_per_role(
    book: dict[str, Any], request: pytest.FixtureRequest, persona: str, expected: set[str] | None
) -> None:
    response = client_for(request.getfixturevalue(persona)).get("/api/v1/renewals")
    if expected is None:
        assert response.status_code == 403
        return
    numbers = {row["contract_number"] for row in response.json()}
    assert numbers == {book[key]["contract"].number for key in expected}


def test_pipeline_filters_and_order(book: dict[str, Any], account_manager: User) -> None:
    client = client_for(account_manager)
    rows = client.get("/api/v1/renewals").json()
    assert [row["account_id"] for row in rows] == [book["risky"]["account"].pk, book["safe"]["account"].pk]
    assert rows[0]["health_band"] == "red" and rows[0]["days_to_key_date"] == 40
    assert len(client.get("/api/v1/renewals", {"max_days": 90}).json()) == 1
    assert len(client.get("/api/v1/renewals", {"band": "green"}).json()) == 1
    assert client.get("/api/v1/renewals", {"stage": "won"}).json() == []


def test_moving_a_deal_sets_when_it_moved(book: dict[str, Any], account_manager: User) -> None:
    opportunity = book["risky"]["opportunity"]
    client = client_for(account_manager)
    url = f"/api/v1/renewals/{opportunity.pk}/stage"
    response = client.post(url, {"stage": "negotiating", "proposed_value": "104000.00"}, "application/json")
    assert response.status_code == 200, response.content
    opportunity.refresh_from_db()
    assert opportunity.stage == "negotiating" and opportunity.stage_changed_at is not None
    assert opportunity.proposed_value == Decimal("104000.00")
    assert client.post(url, {"stage": "won"}, "application/json").status_code == 200
    closed = client.post(url, {"stage": "open"}, "application/json")
    assert closed.status_code == 409 and closed.json()["code"] == "opportunity_closed"
    theirs = book["theirs"]["opportunity"]
    assert (
        client.post(f"/api/v1/renewals/{theirs.pk}/stage", {"stage": "won"}, "application/json").status_code
        == 404
    )


def test_quote_download(book: dict[str, Any], account_manager: User) -> None:
    today = clock.today()
    opportunity = book["risky"]["opportunity"]
    client = client_for(account_manager)
    assert client.get(f"/api/v1/renewals/{opportunity.pk}/quote.pdf").status_code == 404
    renewal_quote_draft(opportunity=opportunity, today=today)
    response = client.get(f"/api/v1/renewals/{opportunity.pk}/quote.pdf")
    assert response.status_code == 200 and response.getvalue().startswith(b"%PDF")
    theirs = book["theirs"]["opportunity"]
    renewal_quote_draft(opportunity=theirs, today=today)
    assert client.get(f"/api/v1/renewals/{theirs.pk}/quote.pdf").status_code == 404


def test_tasks_are_mine_and_can_be_done(book: dict[str, Any], account_manager: User) -> None:
    client = client_for(account_manager)
    titles = {task["title"] for task in client.get("/api/v1/tasks").json()}
    assert titles == {"Call risky", "Call safe"}
    task = AccountTask.objects.get(title="Call risky")
    assert (
        client.patch(f"/api/v1/tasks/{task.pk}", {"status": "done"}, "application/json").json()["status"]
        == "done"
    )
    assert {t["title"] for t in client.get("/api/v1/tasks").json()} == {"Call safe"}
    theirs = AccountTask.objects.get(title="Call theirs")
    assert (
        client.patch(f"/api/v1/tasks/{theirs.pk}", {"status": "done"}, "application/json").status_code == 404
    )


def test_accounts_ranked_by_risk_are_mine(book: dict[str, Any], account_manager: User) -> None:
    rows = client_for(account_manager).get("/api/v1/accounts/at-risk").json()
    assert [row["account_id"] for row in rows] == [book["risky"]["account"].pk, book["safe"]["account"].pk]
    # (100 - 35) x 100,000 x 2 (under 90 days to the key date)
    assert Decimal(rows[0]["risk"]) == Decimal("13000000")


def test_account_360(book: dict[str, Any], account_manager: User) -> None:
    client = client_for(account_manager)
    account = book["risky"]["account"]
    with CaptureQueriesContext(connection) as small:
        view = client.get(f"/api/v1/accounts/{account.pk}").json()
    assert view["account"]["name"] == account.name
    assert view["equipment"][0]["covered_by"] == book["risky"]["contract"].number
    assert [wo["title"] for wo in view["open_work_orders"]] == ["Leak"]
    assert view["health"]["band"] == "red" and view["health_trend"][-1]["score"] == 35
    assert view["renewal"]["contract_number"] == book["risky"]["contract"].number
    for _ in range(5):
        factories.equipment(site=account.sites.first())
    with CaptureQueriesContext(connection) as larger:
        assert len(client.get(f"/api/v1/accounts/{account.pk}").json()["equipment"]) == 6
    assert len(larger) == len(small)
    assert client.get(f"/api/v1/accounts/{book['theirs']['account'].pk}").status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stage": "negotiating", "proposed_value": "1e400"}, "proposed_value"),
        ({"stage": "negotiating", "proposed_value": "1000000000000"}, "proposed_value"),  # 13 digits
        ({"stage": "negotiating", "proposed_value": "-1"}, "proposed_value"),
        ({"stage": "negotiating", "proposed_value": "NaN"}, "proposed_value"),
        ({"stage": "x" * 10_000}, "stage"),
    ],
)
def test_a_deal_s_value_out_of_range_is_refused_naming_it(
    book: dict[str, Any], account_manager: User, body: dict[str, Any], field: str
) -> None:
    opportunity = book["risky"]["opportunity"]
    response = client_for(account_manager).post(
        f"/api/v1/renewals/{opportunity.pk}/stage", body, "application/json"
    )
    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["details"]] == [field]
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.proposed_value) == ("open", None)


def test_a_filter_past_the_largest_id_is_refused_naming_it(
    book: dict[str, Any], account_manager: User
) -> None:
    response = client_for(account_manager).get("/api/v1/renewals", {"owner_id": 2**63})
    assert response.status_code == 422
    assert [error["loc"][-1] for error in response.json()["details"]] == ["owner_id"]
