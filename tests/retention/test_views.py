"""The account manager's pages: who may open them, the home's groups, stage moves, tasks,
and the 360° page's health reasons and query count."""

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
from tests import factories
from tickets import creation

pytestmark = pytest.mark.django_db

COMPONENTS = [
    {
        "key": "sla_breach_rate",
        "weight": 30,
        "raw": 0.4,
        "score": 20.0,
        "points_lost": 24.0,
        "reason": {
            "en": "SLA breached on 40 % of work orders in 90 days (−24)",
            "zh-hans": "90 天内 40 % 的工单违反 SLA（−24）",
        },
    },
    {
        "key": "sentiment",
        "weight": 10,
        "raw": 3.1,
        "score": 55.0,
        "points_lost": 4.5,
        # Written before the Chinese sentences existed: the page falls back to English.
        "reason": {"en": "Customer sentiment 3.1/5 from 4 surveys (−5)"},
    },
]
OVERRIDES = [
    {
        "key": "breach_rate",
        "raw": 0.4,
        "reason": {
            "en": "SLA breach rate 40 % is over 25 %: red",
            "zh-hans": "SLA 违约率 40 % 超过 25 %：红色",
        },
    }
]


def client_for(user: User, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def renewal(owner: User, *, days: int, name: str = "") -> RenewalOpportunity:
    """An account of `owner` with an active contract whose key date is `days` away, and its renewal."""
    today = clock.today()
    customer = factories.account(account_manager=owner, **({"name": name} if name else {}))
    unit = factories.equipment(site=factories.site(account=customer))
    contract = factories.contract(
        account=customer,
        covers=[unit],
        start_date=today - dt.timedelta(days=300),
        end_date=today + dt.timedelta(days=days),
    )
    return RenewalOpportunity.objects.create(contract=contract, owner=owner)


@pytest.fixture
def book(account_manager: User) -> dict[str, Any]:
    """A risky account of the manager (with health, a task and an open work order), and an
    account of another manager."""
    today = clock.today()
    other_manager = factories.user(username="manager2", role=roles.ACCOUNT_MANAGER)
    mine = renewal(account_manager, days=40, name="Risky 精密")
    theirs = renewal(other_manager, days=20, name="Theirs 电子")
    account = mine.contract.account
    HealthScore.objects.create(
        account=account,
        date=today,
        score=35,
        band="red",
        components=COMPONENTS,
        overrides=OVERRIDES,
        declining=True,
        rfm_tier="at_risk",
    )
    HealthScore.objects.create(account=account, date=today - dt.timedelta(days=62), score=70, band="yellow")
    task = AccountTask.objects.create(
        account=account,
        contract=mine.contract,
        owner=account_manager,
        kind="renewal_reminder",
        title="Call Risky",
        due_date=today,
    )
    unit = account.sites.get().equipment.get()
    work_order = creation.work_order_create(
        site=unit.site, equipment=unit, kind="corrective", title="Leak", by=None
    )
    return {"mine": mine, "theirs": theirs, "account": account, "task": task, "work_order": work_order}


# --- who may open the pages -------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["dispatcher", "tech_a"])
def test_other_roles_are_refused(book: dict[str, Any], request: pytest.FixtureRequest, persona: str) -> None:
    client = client_for(request.getfixturevalue(persona))
    assert client.get("/accounts/").status_code == 403
    assert client.get(f"/accounts/{book['account'].pk}/").status_code == 403
    assert client.post(f"/accounts/renewals/{book['mine'].pk}/stage/", {"stage": "won"}).status_code == 403
    assert client.post(f"/accounts/tasks/{book['task'].pk}/done/").status_code == 403
    book["mine"].refresh_from_db()
    assert book["mine"].stage == "open"


def test_anonymous_goes_to_login(book: dict[str, Any]) -> None:
    response = Client().get("/accounts/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_account_manager_gets_404_on_another_managers_account(
    book: dict[str, Any], account_manager: User
) -> None:
    client = client_for(account_manager)
    assert client.get(f"/accounts/{book['account'].pk}/").status_code == 200
    assert client.get(f"/accounts/{book['theirs'].contract.account_id}/").status_code == 404
    refused = client.post(f"/accounts/renewals/{book['theirs'].pk}/stage/", {"stage": "contacted"})
    assert refused.status_code == 404
    home = client.get("/accounts/").content.decode()
    assert "Risky 精密" in home and "Theirs 电子" not in home


def test_admin_sees_every_account(book: dict[str, Any], admin_user: User) -> None:
    client = client_for(admin_user)
    assert client.get(f"/accounts/{book['theirs'].contract.account_id}/").status_code == 200
    home = client.get("/accounts/").content.decode()
    assert "Risky 精密" in home and "Theirs 电子" in home


# --- the home ---------------------------------------------------------------------------------------


def test_home_groups_renewals_by_days_to_key_date(account_manager: User) -> None:
    expected = {"d30": [-3, 10, 30], "d60": [31, 60], "d90": [75], "d120": [120], "later": [121, 300]}
    for days in sorted(d for group in expected.values() for d in group):
        renewal(account_manager, days=days)
    response = client_for(account_manager).get("/accounts/")
    assert response.status_code == 200
    grouped = {
        group["key"]: [row["days_to_key_date"] for row in group["rows"]]
        for group in response.context["groups"]
    }
    assert grouped == expected
    html = response.content.decode()
    for key in expected:
        assert f'id="bucket-{key}"' in html


def test_home_shows_band_tasks_and_risk(book: dict[str, Any], account_manager: User) -> None:
    response = client_for(account_manager).get("/accounts/")
    html = response.content.decode()
    assert '<span class="badge red">Red</span> 35' in html
    assert "Call Risky" in html
    assert [row["account_id"] for row in response.context["at_risk"]] == [book["account"].pk]
    assert f'href="/accounts/{book["account"].pk}/"' in html
    # Every stage select has a label.
    assert f'<label for="stage-select-{book["mine"].pk}"' in html


def test_home_query_count_does_not_grow_with_renewals(account_manager: User) -> None:
    renewal(account_manager, days=10)
    client = client_for(account_manager)
    with CaptureQueriesContext(connection) as few:
        client.get("/accounts/")
    for days in (20, 50, 100, 200):
        renewal(account_manager, days=days)
    with CaptureQueriesContext(connection) as more:
        assert len(client.get("/accounts/").context["tasks"]) == 0
    assert len(more) == len(few)


def test_stage_change_sets_stage_changed_at(book: dict[str, Any], account_manager: User) -> None:
    opportunity = book["mine"]
    assert opportunity.stage_changed_at is None
    response = client_for(account_manager).post(
        f"/accounts/renewals/{opportunity.pk}/stage/", {"stage": "contacted"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "Saved." in response.content.decode()
    opportunity.refresh_from_db()
    assert opportunity.stage == "contacted"
    assert opportunity.stage_changed_at is not None
    assert clock.now() - opportunity.stage_changed_at < dt.timedelta(minutes=1)


def test_stage_change_without_htmx_redirects_home(book: dict[str, Any], account_manager: User) -> None:
    client = client_for(account_manager)
    response = client.post(f"/accounts/renewals/{book['mine'].pk}/stage/", {"stage": "quoted"}, follow=True)
    assert response.redirect_chain == [("/accounts/", 302)]
    assert "moved to Quoted" in response.content.decode()


def test_stage_change_refusal_is_shown(book: dict[str, Any], account_manager: User) -> None:
    client = client_for(account_manager)
    url = f"/accounts/renewals/{book['mine'].pk}/stage/"
    client.post(url, {"stage": "won"}, HTTP_HX_REQUEST="true")
    book["mine"].refresh_from_db()
    won_at = book["mine"].stage_changed_at
    refused = client.post(url, {"stage": "open"}, HTTP_HX_REQUEST="true")
    html = refused.content.decode()
    assert 'class="refusal" role="alert"' in html and "already closed" in html
    assert "disabled" in html  # a closed renewal's select is no longer offered
    book["mine"].refresh_from_db()
    assert book["mine"].stage == "won" and book["mine"].stage_changed_at == won_at
    unknown = client.post(
        f"/accounts/renewals/{book['theirs'].pk}/stage/", {"stage": "open"}, HTTP_HX_REQUEST="true"
    )
    assert unknown.status_code == 404


def test_stage_unknown_is_refused(book: dict[str, Any], account_manager: User) -> None:
    response = client_for(account_manager).post(
        f"/accounts/renewals/{book['mine'].pk}/stage/", {"stage": "bribed"}, HTTP_HX_REQUEST="true"
    )
    assert "Choose one of the stages offered." in response.content.decode()
    book["mine"].refresh_from_db()
    assert book["mine"].stage == "open" and book["mine"].stage_changed_at is None


def test_task_done(book: dict[str, Any], account_manager: User) -> None:
    client = client_for(account_manager)
    response = client.post(f"/accounts/tasks/{book['task'].pk}/done/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Done" in response.content.decode()
    book["task"].refresh_from_db()
    assert book["task"].status == AccountTask.Status.DONE
    assert "Call Risky" not in client.get("/accounts/").content.decode()


def test_task_of_another_manager_is_404(book: dict[str, Any]) -> None:
    other = User.objects.get(username="manager2")
    assert client_for(other).post(f"/accounts/tasks/{book['task'].pk}/done/").status_code == 404
    book["task"].refresh_from_db()
    assert book["task"].status == AccountTask.Status.OPEN


# --- the 360° page ----------------------------------------------------------------------------------


def test_360_shows_components_with_reasons(book: dict[str, Any], account_manager: User) -> None:
    response = client_for(account_manager).get(f"/accounts/{book['account'].pk}/")
    html = response.content.decode()
    assert "SLA breached on 40 % of work orders in 90 days (−24)" in html
    assert "Customer sentiment 3.1/5 from 4 surveys (−5)" in html
    assert "SLA breach rate 40 % is over 25 %: red" in html  # the override
    assert "Declining" in html and "At risk" in html  # declining flag and RFM tier
    components = response.context["health"]["components"]
    assert [(c["key"], c["score"], c["points_lost"]) for c in components] == [
        ("sla_breach_rate", 20.0, 24.0),
        ("sentiment", 55.0, 4.5),
    ]
    assert f'href="/work-orders/{book["work_order"].pk}/"' in html
    assert 'role="img"' in html and "health-trend-title" in html  # the trend chart
    assert html.count('class="dot"') == 2  # two months with a snapshot; the rest are gaps


def test_360_reasons_in_chinese_fall_back_to_english(book: dict[str, Any], account_manager: User) -> None:
    response = client_for(account_manager, language="zh-hans").get(f"/accounts/{book['account'].pk}/")
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html
    assert "90 天内 40 % 的工单违反 SLA（−24）" in html
    assert "SLA 违约率 40 % 超过 25 %：红色" in html
    assert "Customer sentiment 3.1/5 from 4 surveys (−5)" in html  # no Chinese sentence stored


def test_360_shows_quote_link_when_drafted(book: dict[str, Any], account_manager: User) -> None:
    client = client_for(account_manager)
    url = f"/api/v1/renewals/{book['mine'].pk}/quote.pdf"
    assert url not in client.get(f"/accounts/{book['account'].pk}/").content.decode()
    RenewalOpportunity.objects.filter(pk=book["mine"].pk).update(quote_pdf=f"quotes/{clock.today():%Y}/q.pdf")
    assert url in client.get(f"/accounts/{book['account'].pk}/").content.decode()
    assert url in client.get("/accounts/").content.decode()


def test_360_query_count_does_not_grow_with_equipment(book: dict[str, Any], account_manager: User) -> None:
    client = client_for(account_manager)
    account = book["account"]
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"/accounts/{account.pk}/").status_code == 200
    site = factories.site(account=account)
    for _ in range(6):
        factories.equipment(site=site)
    with CaptureQueriesContext(connection) as larger:
        response = client.get(f"/accounts/{account.pk}/")
    assert len(response.context["equipment"]) == 7
    assert len(larger) == len(small)


def test_360_money_is_grouped(book: dict[str, Any], account_manager: User) -> None:
    book["account"].annual_contract_value = Decimal("1234567")
    book["account"].save(update_fields=["annual_contract_value"])
    html = client_for(account_manager).get(f"/accounts/{book['account'].pk}/").content.decode()
    assert "1,234,567" in html
