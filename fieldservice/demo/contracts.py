"""Service contracts: today's active ones and two years of renewals and churn.

Every contracted account has a chain of contracts. The last one ends at a date spread
evenly over the next 15 months; earlier ones end a term apart. Each contract that
ended in the past was either renewed (its successor links back to it) or expired, and
that outcome is drawn from the account's simulated service quality around the end
date (see fieldservice.demo.history), never from a health score. An account whose
contract expired has churned: it has no later contracts.
"""

from __future__ import annotations

import math
from datetime import date, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection

from contracts.models import ContractSLATerm, CoveredEquipment, ServiceContract
from fieldservice.demo import bulk
from fieldservice.demo.catalog import ANNUAL_FEE
from fieldservice.demo.context import AccountRec, ContractRec, EquipmentRec, SeedContext
from fieldservice.demo.sla import BUSINESS_HOURS_TERMS, ROUND_THE_CLOCK_TERMS

END_SPREAD_DAYS = 456  # ~15 months
TWO_YEAR_SHARE = 0.4
AUTO_RENEW_SHARE = 0.3
NOTICE_DAYS = (30, 60, 90)
UPLIFT_RANGE = (3.0, 5.0)
COVERED_SHARE = 0.85
TIER_DISCOUNT = {"strategic": Decimal("0.85"), "key": Decimal("0.92"), "standard": Decimal("1.00")}
MINIMUM_ANNUAL_VALUE = Decimal("30000")
ROUND_TO = Decimal("100")
ROUND_THE_CLOCK_INDUSTRIES = ("data_center", "semiconductor")
DRAFTED_DAYS_BEFORE_START = 20
# Renewal model: logit = BASE + QUALITY * (q - 0.5) - PRICE * (uplift - 4) + extras + N(0, NOISE).
RENEW_BASE = 1.9
RENEW_QUALITY = 5.0
RENEW_PRICE = 0.4
RENEW_STRATEGIC_BONUS = 0.3
RENEW_AUTO_RENEW_BONUS = 0.5
RENEW_NOISE = 0.8
# The customer decides on what they lived through in the months before the end date.
DECISION_LOOKBACK_DAYS = 90


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def renewal_probability(q: float, uplift: Decimal, tier: str, auto_renew: bool, noise: float) -> float:
    logit = RENEW_BASE + RENEW_QUALITY * (q - 0.5) - RENEW_PRICE * (float(uplift) - 4.0) + noise
    logit += RENEW_STRATEGIC_BONUS if tier == "strategic" else 0.0
    logit += RENEW_AUTO_RENEW_BONUS if auto_renew else 0.0
    return 1.0 / (1.0 + math.exp(-logit))


def _annual_value(account: AccountRec, units: list[EquipmentRec]) -> Decimal:
    fees = sum((ANNUAL_FEE[u.model.category] for u in units if u.parent_id is None), Decimal(0))
    value = max(fees * TIER_DISCOUNT[account.tier], MINIMUM_ANNUAL_VALUE)
    return (value / ROUND_TO).quantize(Decimal(1), rounding=ROUND_HALF_UP) * ROUND_TO


def _chain(ctx: SeedContext, account: AccountRec, final_end: date) -> None:
    rng = ctx.rng
    term = 2 if final_end > add_years(ctx.today, 1) or rng.random() < TWO_YEAR_SHARE else 1
    ends = [final_end]
    while ends[-1] >= ctx.window_start:
        ends.append(add_years(ends[-1], -term))
    ends.reverse()  # the first end is before the window: that contract only gives the start
    auto_renew = rng.random() < AUTO_RENEW_SHARE
    calendar = "24x7" if account.industry in ROUND_THE_CLOCK_INDUSTRIES else "business_hours"
    covered = [u for u in account.equipment if u.covered]
    value = _annual_value(account, covered)
    previous: ContractRec | None = None
    for start_marker, end in zip(ends, ends[1:], strict=False):
        uplift = Decimal(f"{rng.uniform(*UPLIFT_RANGE):.1f}")
        contract = ContractRec(
            id=0,
            account=account,
            start=start_marker + timedelta(days=1),
            end=end,
            term_years=term,
            status="active",
            calendar=calendar,
            annual_value=value,
            auto_renew=auto_renew,
            notice_days=rng.choice(NOTICE_DAYS),
            uplift=uplift,
            version=previous.version + 1 if previous else 1,
            predecessor=previous,
            terms=ROUND_THE_CLOCK_TERMS if calendar == "24x7" else BUSINESS_HOURS_TERMS,
        )
        contract.covered_ids = {
            u.id
            for u in covered
            if u.install_date <= end
            and (u.decommissioned_on is None or u.decommissioned_on >= contract.start)
        }
        account.contracts.append(contract)
        if end >= ctx.today:
            break
        q = account.quality_at(end - timedelta(days=DECISION_LOOKBACK_DAYS), ctx.window_start)
        p = renewal_probability(q, uplift, account.tier, auto_renew, rng.gauss(0.0, RENEW_NOISE))
        if rng.random() >= p and not account.keeps_contract:
            contract.status = "expired"
            account.churned_on = end
            break
        contract.status = "renewed"
        value = (value * (1 + uplift / 100) / ROUND_TO).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        ) * ROUND_TO
        previous = contract


def create_contracts(ctx: SeedContext) -> None:
    rng = ctx.rng
    for unit in ctx.equipment:
        unit.covered = rng.random() < COVERED_SHARE or unit.account.keeps_contract
    for unit in ctx.equipment:  # a component is covered with its parent
        if unit.parent_id is not None:
            unit.covered = ctx.equipment[unit.parent_id - 1].covered
    contracted = [a for a in ctx.accounts if a.contracted]
    offsets = [(k + rng.random()) * END_SPREAD_DAYS / max(1, len(contracted)) for k in range(len(contracted))]
    rng.shuffle(offsets)
    for account, offset in zip(contracted, offsets, strict=True):
        _chain(ctx, account, ctx.today + timedelta(days=1 + int(offset)))
        if account.contracts and account.contracts[-1].status == "active":
            account.annual_contract_value = account.contracts[-1].annual_value
    ctx.contracts = sorted(
        (c for a in ctx.accounts for c in a.contracts), key=lambda c: (c.start, c.account.id)
    )
    per_year: dict[int, int] = {}
    for i, contract in enumerate(ctx.contracts, start=1):
        contract.id = i
        per_year[contract.start.year] = per_year.get(contract.start.year, 0) + 1
        contract.number = f"SC-{contract.start.year}-{per_year[contract.start.year]:04d}"
    _write(ctx)


def _write(ctx: SeedContext) -> None:
    contract_rows: list[dict[str, object]] = []
    term_rows: list[dict[str, object]] = []
    coverage_rows: list[dict[str, object]] = []
    for c in ctx.contracts:
        contract_rows.append(
            {
                "id": c.id,
                "number": c.number,
                "account_id": c.account.id,
                "start_date": c.start,
                "end_date": c.end,
                "annual_value": c.annual_value,
                "status": c.status,
                "auto_renew": c.auto_renew,
                "notice_days": c.notice_days,
                "uplift_percent": c.uplift,
                "sla_calendar": c.calendar,
                "included_pm_visits_per_year": 4,
                "predecessor_id": c.predecessor.id if c.predecessor else None,
                "version": c.version,
                "created_at": ctx.at(c.start - timedelta(days=DRAFTED_DAYS_BEFORE_START), time(10)),
            }
        )
        for priority, (response, resolution) in sorted(c.terms.items()):
            term_rows.append(
                {
                    "id": len(term_rows) + 1,
                    "contract_id": c.id,
                    "priority": priority,
                    "response_hours": response,
                    "resolution_hours": resolution,
                }
            )
        for unit_id in sorted(c.covered_ids):
            unit = ctx.equipment[unit_id - 1]
            coverage_rows.append(
                {
                    "id": len(coverage_rows) + 1,
                    "contract_id": c.id,
                    "equipment_id": unit_id,
                    "added_on": max(c.start, unit.install_date),
                }
            )
    ctx.count("contracts", bulk.copy_rows(ServiceContract, contract_rows))
    ctx.count("SLA terms", bulk.copy_rows(ContractSLATerm, term_rows))
    ctx.count("covered equipment", bulk.copy_rows(CoveredEquipment, coverage_rows))
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE assets_account AS a SET annual_contract_value = c.annual_value "
            "FROM contracts_servicecontract AS c WHERE c.account_id = a.id AND c.status = 'active'"
        )


def contract_covering(unit: EquipmentRec, day: date) -> ContractRec | None:
    for contract in unit.account.contracts:
        if contract.start <= day <= contract.end and unit.id in contract.covered_ids:
            return contract
    return None
