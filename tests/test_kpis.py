"""Service and retention KPIs: each figure on hand-built months with known answers, the
filters, who sees which accounts, and the CSV.

A worked example: the twelve months to June 2026, looked at on 15 July 2026. The pages read
the clock for their "today", so it is pinned to that day and the example reads the same
whenever the suite runs.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from assets.models import Account, Equipment, Site
from contracts.models import ServiceContract
from fieldservice import clock, roles
from fieldservice.kpis import charts
from fieldservice.kpis.queries import Scope, month_window, monthly_kpis
from scheduling.models import Territory
from tests import factories
from tests.clock_pin import clock_at
from tickets.models import Survey, WorkOrder

pytestmark = pytest.mark.django_db

TZ = factories.SHANGHAI
LAST_MONTH = dt.date(2026, 6, 1)
TODAY = dt.date(2026, 7, 15)
NOW = dt.datetime(2026, 6, 20, 12, tzinfo=TZ)
MARCH, APRIL, FEBRUARY = dt.date(2026, 3, 1), dt.date(2026, 4, 1), dt.date(2026, 2, 1)
BEIJING = {"lon": 116.40, "lat": 39.90}  # outside factories.territory() (Suzhou square)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=TZ)


_clock_on_today = clock_at(dt.datetime.combine(TODAY, dt.time(12), TZ))


def kpis(scope: Scope | None = None, *, now: dt.datetime = NOW) -> dict[dt.date, dict[str, Any]]:
    rows = monthly_kpis(scope=scope or Scope(), last_month=LAST_MONTH, today=TODAY, now=now)
    return {row["month"]: row for row in rows}


def repair(*, site: Site, unit: Equipment | None = None, **fields: Any) -> WorkOrder:
    """A closed corrective work order that met both clocks unless told otherwise."""
    created = fields.pop("created_at", at(3, 10, 8))
    defaults: dict[str, Any] = {
        "kind": WorkOrder.Kind.CORRECTIVE,
        "status": WorkOrder.Status.CLOSED,
        "created_at": created,
        "sla_response_due": created + dt.timedelta(hours=4),
        "responded_at": created + dt.timedelta(hours=2),
        "sla_resolution_due": created + dt.timedelta(hours=24),
        "completed_at": created + dt.timedelta(hours=6),
        "equipment": unit,
    }
    return factories.work_order(site=site, **{**defaults, **fields})


@pytest.fixture
def site_a(account_manager: User) -> Site:
    account = factories.account(account_manager=account_manager)
    return factories.site(account=account)


@pytest.fixture
def unit_a(site_a: Site) -> Equipment:
    return factories.equipment(site=site_a)


# --- the figures ---------------------------------------------------------------------------------


@pytest.fixture
def march_work(site_a: Site, unit_a: Equipment) -> dict[str, WorkOrder]:
    plan = factories.calendar_plan(equipment=unit_a)
    orders = {
        # Met both clocks; 2 h to arrive, 4 h on site, 6 h from creation to completion.
        "met": repair(
            site=site_a,
            unit=unit_a,
            created_at=at(3, 10, 8),
            responded_at=at(3, 10, 10),
            completed_at=at(3, 10, 14),
            first_time_fix=True,
        ),
        # Arrived late; 2 h on site, 4 h to resolve.
        "late_arrival": repair(
            site=site_a,
            unit=unit_a,
            kind=WorkOrder.Kind.EMERGENCY,
            created_at=at(3, 12, 6),
            sla_response_due=at(3, 12, 7),
            responded_at=at(3, 12, 8),
            completed_at=at(3, 12, 10),
            first_time_fix=False,
        ),
        # Resolved late: 24 h from creation; an inspection, so not a repair.
        "late_resolution": repair(
            site=site_a,
            unit=unit_a,
            kind=WorkOrder.Kind.INSPECTION,
            created_at=at(3, 14, 10),
            responded_at=at(3, 14, 11),
            sla_resolution_due=at(3, 15, 9),
            completed_at=at(3, 15, 10),
        ),
        # Not counted anywhere: cancelled.
        "cancelled": repair(site=site_a, unit=unit_a, status=WorkOrder.Status.CANCELLED, first_time_fix=True),
        # A plan's inspection, completed late: PM work, not SLA work; not a failure either.
        "plan_inspection": repair(
            site=site_a,
            unit=unit_a,
            kind=WorkOrder.Kind.INSPECTION,
            maintenance_plan=plan,
            pm_due_date=dt.date(2026, 2, 1),
            created_at=at(1, 25),
            completed_at=at(3, 20),
            sla_resolution_due=at(3, 1),
        ),
        # Completed at 00:30 on 1 April in Shanghai (still 31 March in UTC): April.
        "april": repair(
            site=site_a,
            unit=unit_a,
            created_at=at(3, 31, 20),
            responded_at=at(3, 31, 21),
            completed_at=at(4, 1, 0, 30),
        ),
    }
    return orders


def test_sla_compliance_counts_reactive_work_meeting_both_clocks(march_work: dict[str, WorkOrder]) -> None:
    months = kpis()
    assert (months[MARCH]["sla_met"], months[MARCH]["sla_counted"]) == (1, 3)
    assert months[MARCH]["sla_compliance"] == Decimal("33.3")
    # Months are local: completed at 00:30 on 1 April Shanghai time is April's.
    assert (months[APRIL]["sla_met"], months[APRIL]["sla_counted"]) == (1, 1)
    assert months[dt.date(2026, 5, 1)]["sla_compliance"] is None


def test_sla_work_without_due_times_is_not_counted(site_a: Site) -> None:
    repair(site=site_a, sla_response_due=None, sla_resolution_due=None)
    repair(site=site_a, sla_response_due=None, responded_at=None)  # only a resolution clock: met
    assert kpis()[MARCH]["sla_counted"] == 1
    assert kpis()[MARCH]["sla_compliance"] == Decimal("100.0")


def test_first_time_fix_rate_is_over_repairs_with_a_value(march_work: dict[str, WorkOrder]) -> None:
    march = kpis()[MARCH]
    assert (march["ftf_fixed"], march["ftf_known"], march["first_time_fix"]) == (1, 2, Decimal("50.0"))


def test_mttr_is_arrival_to_completion_of_repairs(march_work: dict[str, WorkOrder]) -> None:
    march = kpis()[MARCH]
    # 4 h and 2 h; the inspection is not a repair.
    assert (march["repairs"], march["mttr"]) == (2, Decimal("3.00"))


def test_average_resolution_is_creation_to_completion_of_reactive_work(
    march_work: dict[str, WorkOrder],
) -> None:
    march = kpis()[MARCH]
    # 6 h, 4 h and 24 h; the plan's inspection and the cancelled order are left out.
    assert (march["resolved"], march["resolution_time"]) == (3, Decimal("11.33"))


def test_mtbf_is_unit_days_over_failures(site_a: Site, unit_a: Equipment) -> None:
    new_unit = factories.equipment(site=site_a, install_date=dt.date(2026, 3, 17))  # 15 days in March
    retired = factories.equipment(site=site_a, status=Equipment.Status.DECOMMISSIONED)
    repair(site=site_a, unit=unit_a, created_at=at(3, 2))
    repair(site=site_a, unit=new_unit, created_at=at(3, 20), kind=WorkOrder.Kind.EMERGENCY)
    repair(site=site_a, unit=retired, created_at=at(3, 5))  # decommissioned: left out
    repair(site=site_a, unit=unit_a, created_at=at(3, 6), kind=WorkOrder.Kind.INSPECTION)  # not a failure
    repair(site=site_a, unit=unit_a, created_at=at(3, 7), status=WorkOrder.Status.CANCELLED)
    months = kpis()
    assert (months[MARCH]["unit_days"], months[MARCH]["failures"]) == (31 + 15, 2)
    assert months[MARCH]["mtbf"] == Decimal("23.0")
    # No failure in April: in service, but no MTBF to show.
    assert (months[APRIL]["unit_days"], months[APRIL]["failures"], months[APRIL]["mtbf"]) == (60, 0, None)


def test_pm_compliance_counts_due_work_done_by_its_deadline(site_a: Site, unit_a: Equipment) -> None:
    plan = factories.calendar_plan(equipment=unit_a)

    def pm(due: dt.date, latest_end: dt.datetime, **fields: Any) -> WorkOrder:
        return factories.work_order(
            site=site_a,
            kind=WorkOrder.Kind.PREVENTIVE,
            maintenance_plan=plan,
            equipment=unit_a,
            pm_due_date=due,
            latest_end=latest_end,
            created_at=at(due.month, 1, 2),
            **fields,
        )

    pm(dt.date(2026, 3, 5), at(3, 8), status="closed", completed_at=at(3, 6))  # on time
    pm(dt.date(2026, 3, 20), at(3, 25), status="closed", completed_at=at(3, 27))  # late
    pm(dt.date(2026, 3, 25), at(3, 30))  # never done, deadline passed
    pm(dt.date(2026, 3, 28), at(4, 2), status="cancelled")  # not planned any more
    pm(dt.date(2026, 6, 15), at(6, 25))  # deadline not yet passed at NOW: not counted yet
    months = kpis()
    assert (months[MARCH]["pm_on_time"], months[MARCH]["pm_planned"]) == (1, 3)
    assert months[MARCH]["pm_compliance"] == Decimal("33.3")
    assert months[dt.date(2026, 6, 1)]["pm_planned"] is None
    # Once the deadline has passed it counts, as missed.
    assert kpis(now=at(6, 26))[dt.date(2026, 6, 1)]["pm_compliance"] == Decimal("0.0")


def test_csat_is_the_mean_and_nps_promoters_minus_detractors(site_a: Site) -> None:
    for csat, nps in ((5, 10), (2, 3), (None, 7), (4, 9)):
        Survey.objects.create(work_order=repair(site=site_a), csat=csat, nps=nps, submitted_at=at(3, 20))
    Survey.objects.create(work_order=repair(site=site_a), csat=1, nps=0, submitted_at=at(4, 1, 1))
    march = kpis()[MARCH]
    assert (march["csat_answers"], march["csat"]) == (3, Decimal("3.67"))
    assert (march["promoters"], march["detractors"], march["nps_answers"]) == (2, 1, 4)
    assert march["nps"] == Decimal("25.0")
    assert kpis()[APRIL]["nps"] == Decimal("-100.0")


def test_renewal_rate_and_revenue_retention(site_a: Site) -> None:
    account = site_a.account

    def ended(end: dt.date, value: str, status: str) -> ServiceContract:
        return factories.contract(
            account=account,
            start_date=end - dt.timedelta(days=364),
            end_date=end,
            annual_value=Decimal(value),
            status=status,
        )

    def successor(of: ServiceContract, value: str) -> None:
        factories.contract(
            account=account,
            predecessor=of,
            start_date=of.end_date + dt.timedelta(days=1),
            end_date=of.end_date + dt.timedelta(days=365),
            annual_value=Decimal(value),
        )

    successor(ended(dt.date(2026, 2, 28), "100000", "renewed"), "120000")  # expanded
    successor(ended(dt.date(2026, 2, 20), "80000", "renewed"), "60000")  # shrank
    ended(dt.date(2026, 2, 15), "50000", "expired")
    ended(dt.date(2026, 2, 10), "20000", "cancelled")  # lost at its end date
    ended(dt.date(2026, 6, 30), "10000", "active")  # past its end, being decided: left out
    february = kpis()[FEBRUARY]
    assert (february["contracts_renewed"], february["contracts_ended"]) == (2, 4)
    assert february["renewal_rate"] == Decimal("50.0")
    # Retained: 100 000 (capped) + 60 000 of 250 000; renewed: 120 000 + 60 000.
    assert (february["value_retained"], february["value_ended"]) == (Decimal("160000"), Decimal("250000"))
    assert february["gross_retention"] == Decimal("64.0")
    assert february["net_retention"] == Decimal("72.0")
    assert kpis()[dt.date(2026, 6, 1)]["contracts_ended"] is None


def test_churn_rate_is_accounts_lost_over_accounts_active_at_the_month_start() -> None:
    def term(account: Account, start: dt.date, end: dt.date, status: str, **fields: Any) -> ServiceContract:
        return factories.contract(account=account, start_date=start, end_date=end, status=status, **fields)

    lost, kept, still_covered, late_starter = (factories.account() for _ in range(4))
    term(lost, dt.date(2025, 1, 1), dt.date(2026, 3, 31), "expired")
    old = term(kept, dt.date(2025, 4, 1), dt.date(2026, 3, 31), "renewed")
    term(kept, dt.date(2026, 4, 1), dt.date(2027, 3, 31), "active", predecessor=old)
    term(still_covered, dt.date(2025, 1, 1), dt.date(2026, 3, 15), "expired")
    term(still_covered, dt.date(2025, 6, 1), dt.date(2026, 12, 31), "active")
    term(late_starter, dt.date(2026, 3, 10), dt.date(2026, 3, 31), "expired")  # not active on 1 March
    months = kpis()
    assert (months[MARCH]["accounts_churned"], months[MARCH]["accounts_active"]) == (1, 3)
    assert months[MARCH]["churn_rate"] == Decimal("33.3")
    assert (months[APRIL]["accounts_churned"], months[APRIL]["accounts_active"]) == (0, 2)
    assert months[APRIL]["churn_rate"] == Decimal("0.0")


def test_twelve_months_ending_with_the_last_month() -> None:
    months = month_window(dt.date(2026, 2, 17))
    assert months[0] == dt.date(2025, 3, 1) and months[-1] == dt.date(2026, 2, 1) and len(months) == 12
    rows = kpis()
    assert list(rows) == month_window(LAST_MONTH)
    assert all(row["sla_compliance"] is None for row in rows.values())


# --- the filters ---------------------------------------------------------------------------------


@pytest.fixture
def other_manager() -> User:
    return factories.user(username="manager2", role=roles.ACCOUNT_MANAGER)


@pytest.fixture
def two_accounts(site_a: Site, other_manager: User) -> dict[str, Any]:
    """Account A (electronics, `manager`, Suzhou) met its SLA in March; account B (pharma,
    manager2, a Suzhou site and a Beijing site) missed it at its Beijing site."""
    account_b = factories.account(industry=Account.Industry.PHARMA, account_manager=other_manager)
    suzhou_b = factories.site(account=account_b)
    beijing_b = factories.site(account=account_b, **BEIJING)
    repair(site=site_a)
    repair(site=beijing_b, responded_at=at(3, 10, 20), completed_at=at(3, 10, 22))
    for account, value in ((site_a.account, "100000"), (account_b, "40000")):
        factories.contract(
            account=account,
            start_date=dt.date(2025, 3, 1),
            end_date=dt.date(2026, 2, 28),
            status="expired",
            annual_value=Decimal(value),
        )
    return {"territory": factories.territory(), "b": account_b, "suzhou_b": suzhou_b, "beijing_b": beijing_b}


def test_no_filter_counts_every_account(two_accounts: dict[str, Any]) -> None:
    months = kpis()
    assert (months[MARCH]["sla_met"], months[MARCH]["sla_counted"]) == (1, 2)
    assert months[FEBRUARY]["contracts_ended"] == 2


def test_territory_leaves_out_sites_outside_its_boundary(two_accounts: dict[str, Any]) -> None:
    territory: Territory = two_accounts["territory"]
    months = kpis(Scope(territory_id=territory.pk))
    assert (months[MARCH]["sla_met"], months[MARCH]["sla_counted"]) == (1, 1)
    # Both accounts have a site in Suzhou, so both their contracts are in.
    assert months[FEBRUARY]["contracts_ended"] == 2
    two_accounts["suzhou_b"].delete()
    assert kpis(Scope(territory_id=territory.pk))[FEBRUARY]["value_ended"] == Decimal("100000")


def test_industry_filter(two_accounts: dict[str, Any]) -> None:
    months = kpis(Scope(industry=Account.Industry.PHARMA))
    assert (months[MARCH]["sla_met"], months[MARCH]["sla_counted"]) == (0, 1)
    assert months[FEBRUARY]["value_ended"] == Decimal("40000")


def test_account_manager_filter(two_accounts: dict[str, Any], account_manager: User) -> None:
    months = kpis(Scope(account_manager_id=account_manager.pk))
    assert (months[MARCH]["sla_met"], months[MARCH]["sla_counted"]) == (1, 1)
    assert months[FEBRUARY]["value_ended"] == Decimal("100000")


# --- the page and the CSV ------------------------------------------------------------------------


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_technician_gets_403(tech_a: User) -> None:
    client = client_for(tech_a)
    assert client.get("/kpis/").status_code == 403
    assert client.get("/kpis/export.csv").status_code == 403


def test_anonymous_goes_to_login() -> None:
    response = Client().get("/kpis/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_page_draws_every_figure_with_its_footnote(dispatcher: User, two_accounts: dict[str, Any]) -> None:
    response = client_for(dispatcher).get("/kpis/", {"until": "2026-06"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg class="kpi-chart"') == 12
    for key in ("sla_compliance", "mtbf", "nps", "gross_retention", "net_retention", "churn_rate"):
        assert f'id="note-{key}"' in html and f'id="chart-{key}-desc"' in html
    assert "met both clocks" in html  # the SLA footnote
    assert 'name="account_manager"' in html and "manager2" in html
    assert "/kpis/export.csv?until=2026-06" in html


def test_account_manager_sees_only_own_accounts(account_manager: User, two_accounts: dict[str, Any]) -> None:
    other = two_accounts["b"].account_manager
    client = client_for(account_manager)
    page = client.get("/kpis/", {"until": "2026-06", "account_manager": other.pk})
    assert page.status_code == 200
    assert 'name="account_manager"' not in page.content.decode()
    rows = csv_rows(client.get("/kpis/export.csv", {"until": "2026-06", "account_manager": other.pk}))
    header, march = rows[0], next(r for r in rows if r[0] == "2026-03")
    assert march[header.index("SLA compliance: with an SLA")] == "1"
    assert march[header.index("SLA compliance (%)")] == "100.0"


def test_admin_who_manages_accounts_sees_everything(two_accounts: dict[str, Any], admin_user: User) -> None:
    admin_user.groups.add(Group.objects.get(name=roles.ACCOUNT_MANAGER))
    two_accounts["b"].account_manager = admin_user
    two_accounts["b"].save()
    rows = csv_rows(client_for(admin_user).get("/kpis/export.csv", {"until": "2026-06"}))
    march = next(r for r in rows if r[0] == "2026-03")
    assert march[rows[0].index("SLA compliance: with an SLA")] == "2"


def test_csv_has_a_header_and_one_row_per_month(dispatcher: User, two_accounts: dict[str, Any]) -> None:
    territory = two_accounts["territory"]
    response = client_for(dispatcher).get("/kpis/export.csv", {"until": "2026-06", "territory": territory.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="kpis-') and disposition.endswith('.csv"')
    rows = csv_rows(response)
    header, body = rows[0], rows[1:]
    assert header[:2] == ["Month", "SLA compliance (%)"]
    assert "Net revenue retention (%)" in header and "Churn rate (%)" in header
    assert [row[0] for row in body] == [f"{m:%Y-%m}" for m in month_window(LAST_MONTH)]
    assert all(len(row) == len(header) for row in body)
    march = dict(zip(header, body[8], strict=True))
    assert march["Month"] == "2026-03"
    # The territory applies: the Beijing site's late work order is left out.
    assert (march["SLA compliance (%)"], march["SLA compliance: with an SLA"]) == ("100.0", "1")
    assert march["CSAT (of 5)"] == ""  # no surveys: empty, not zero
    february = dict(zip(header, body[7], strict=True))
    assert february["Gross revenue retention: value ended"] == "140000.00"
    assert february["Renewal rate (%)"] == "0.0"


def test_a_bad_filter_is_reported_and_ignored(dispatcher: User, two_accounts: dict[str, Any]) -> None:
    """On the page, with the status that says so (400); the file is refused, as a file of other
    accounts than asked for would be taken for the answer."""
    response = client_for(dispatcher).get("/kpis/", {"industry": "mining", "until": "2026-06"})
    assert response.status_code == 400
    assert 'class="error"' in response.content.decode()
    sla = next(figure for figure in response.context["figures"] if figure.kpi.key == "sla_compliance")
    assert sla.rows[8][2][1] == 2  # with an SLA, that month: the other filters still apply
    export = client_for(dispatcher).get(
        "/kpis/export.csv", {"industry": "mining", "until": "2026-06"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert export.status_code == 400
    assert export.content.decode().startswith("Industry: Select a valid choice.")


# --- the charts ----------------------------------------------------------------------------------


def test_chart_is_named_described_and_breaks_at_missing_months() -> None:
    points = [
        charts.Point(dt.date(2026, 1, 1), Decimal("80.0")),
        charts.Point(dt.date(2026, 2, 1), None),
        charts.Point(dt.date(2026, 3, 1), Decimal("90.5")),
        charts.Point(dt.date(2026, 4, 1), Decimal("70")),
    ]
    svg = str(
        charts.line_chart(
            chart_id="c",
            title="SLA <compliance>",
            unit="%",
            points=points,
            axis_min=Decimal(0),
            axis_max=Decimal(100),
        )
    )
    assert 'role="img"' in svg and 'aria-labelledby="c-title c-desc"' in svg
    assert '<title id="c-title">SLA &lt;compliance&gt;</title>' in svg
    assert "lowest 70, highest 90.5" in svg and "Latest April 2026: 70 %" in svg
    assert svg.count('<circle class="dot"') == 3
    path = svg.split('class="line" d="')[1].split('"')[0]
    assert path.count("M") == 2 and path.count("L") == 1  # the line breaks at February


def test_chart_axis_grows_to_fit_the_data() -> None:
    assert charts.nice_top(Decimal("130"), Decimal(0)) == Decimal(160)
    assert charts.nice_top(Decimal("440"), Decimal(0)) == Decimal(600)
    assert charts.nice_top(Decimal("0"), Decimal(0)) == Decimal(1)  # an empty axis still has a span


# --- a month out of range (issue 14) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("until", "reason"),
    [
        ("9999-12", "Enter a date between 1970-01-01 and 2099-12-31."),  # the month after: 500
        ("0001-01", "Enter a date between 1970-01-01 and 2099-12-31."),  # eleven months before: 500
        ("2100-01", "Enter a date between 1970-01-01 and 2099-12-31."),
        ("2026-13", "Enter a valid date."),
    ],
)
def test_a_last_month_out_of_range_is_400_with_the_field_s_error(
    dispatcher: User, until: str, reason: str
) -> None:
    client = client_for(dispatcher)
    page = client.get("/kpis/", {"until": until}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 400
    assert page.context["form"].errors == {"until": [reason]}
    # The page still shows the twelve months to this one, saying why.
    assert page.context["last_month"] == clock.today().replace(day=1)
    export = client.get("/kpis/export.csv", {"until": until}, HTTP_ACCEPT_LANGUAGE="en")
    assert export.status_code == 400
    assert export.content.decode() == f"Last month: {reason}"


def test_the_range_s_first_and_last_months_are_shown(dispatcher: User) -> None:
    client = client_for(dispatcher)
    for until in ("2000-01", "2099-12"):
        response = client.get("/kpis/export.csv", {"until": until})
        assert (until, response.status_code) == (until, 200)
        assert csv_rows(response)[-1][0] == until
