"""Territories, accounts, sites and contacts."""

from __future__ import annotations

import math
from datetime import time, timedelta

from assets.models import Account, Contact, Site
from fieldservice.demo import bulk, names
from fieldservice.demo.context import TIME_ZONE_NAME, AccountRec, Park, SeedContext, SiteRec
from fieldservice.demo.geography import (
    PARKS,
    SITE_RADIUS_KM,
    multipolygon_ewkt,
    scatter_in_territory,
    territory_polygons,
)
from scheduling.models import Territory

INDUSTRY_WEIGHTS = {
    "semiconductor": 15,
    "electronics_assembly": 25,
    "automotive_parts": 22,
    "pharma": 15,
    "data_center": 10,
    "machinery": 13,
}
ROUND_THE_CLOCK_ANCHOR_INDUSTRY = "data_center"
TIER_WEIGHTS = {"strategic": 10, "key": 30, "standard": 60}
SITES_WEIGHT_BY_TIER = {"strategic": 4, "key": 2, "standard": 1}
# Share of accounts owned by each account manager; the demo login owns the majority.
MANAGER_SHARES = (("manager", 0.55), ("manager2", 0.25), ("manager3", 0.20))
BILLABLE_ONLY_SHARE = 0.1
# Latent service quality ~ Beta(a, b) and its yearly drift ~ N(0, sd).
QUALITY_BETA = (2.5, 1.8)
QUALITY_TREND_SD = 0.08
ACCOUNT_AGE_YEARS = (3, 8)
SITE_IN_HOME_PARK = 0.7
SITE_IN_HOME_TERRITORY = 0.9
CONTACTS_PER_SITE = (1, 3)
ENGLISH_CONTACT_SHARE = 0.15

ALL_WEEK = [0, 1, 2, 3, 4, 5, 6]
MON_FRI = [0, 1, 2, 3, 4]
MON_SAT = [0, 1, 2, 3, 4, 5]
ROUND_THE_CLOCK = (time(0, 0), time(23, 59))
EXTENDED = (time(7, 0), time(19, 0))
OFFICE = (time(8, 0), time(17, 0))
OFFICE_SHARE = 0.75
FAB_ROUND_THE_CLOCK_SHARE = 0.5

DEMO_PORTAL_EMAIL = "customer@fieldservice.example"


def create_territories(ctx: SeedContext) -> None:
    rows = []
    for i, (name, colour, shape) in enumerate(territory_polygons(), start=1):
        rows.append({"id": i, "name": name, "boundary": multipolygon_ewkt(shape), "color": colour})
        ctx.territories[name] = i
        ctx.territory_shapes[i] = shape
    ctx.count("territories", bulk.copy_rows(Territory, rows))


def _manager_quota(ctx: SeedContext, n: int) -> list[str]:
    quota: list[str] = []
    for username, share in MANAGER_SHARES:
        quota += [username] * math.ceil(share * n)
    quota = quota[:n]
    ctx.rng.shuffle(quota)
    return quota


def create_accounts(ctx: SeedContext) -> None:
    rng = ctx.rng
    n = ctx.scale.accounts
    managers = _manager_quota(ctx, n)
    industries = list(INDUSTRY_WEIGHTS)
    tiers = list(TIER_WEIGHTS)
    taken: set[str] = set()
    for i in range(n):
        industry = rng.choices(industries, weights=list(INDUSTRY_WEIGHTS.values()))[0]
        # The first account is a data centre under a round-the-clock contract that it keeps:
        # at every scale and hour there is an SLA clock that can run out (see backlog).
        anchor = i == 0
        industry = ROUND_THE_CLOCK_ANCHOR_INDUSTRY if anchor else industry
        park = rng.choice(PARKS)
        name, slug = names.company_name(rng, park, industry)
        while name in taken:
            name, slug = names.company_name(rng, park, industry)
        taken.add(name)
        age_days = rng.randint(ACCOUNT_AGE_YEARS[0] * 365, ACCOUNT_AGE_YEARS[1] * 365)
        ctx.accounts.append(
            AccountRec(
                id=i + 1,
                name=name,
                industry=industry,
                tier=rng.choices(tiers, weights=list(TIER_WEIGHTS.values()))[0],
                park=park,
                code=f"A{i + 1:04d}",
                domain=f"{slug}.com.cn",
                manager_id=ctx.users[managers[i]],
                quality=rng.betavariate(*QUALITY_BETA),
                quality_trend=rng.gauss(0.0, QUALITY_TREND_SD),
                contracted=rng.random() >= BILLABLE_ONLY_SHARE or anchor,
                created_at=ctx.at(ctx.today - timedelta(days=age_days), time(10, 0)),
                keeps_contract=anchor,
            )
        )
    ctx.count("accounts", len(ctx.accounts))
    _write_accounts(ctx)


def _write_accounts(ctx: SeedContext) -> None:
    """The annual contract value is filled in by the contracts stage, once it is known."""
    bulk.copy_rows(
        Account,
        [
            {
                "id": a.id,
                "name": a.name,
                "industry": a.industry,
                "tier": a.tier,
                "annual_contract_value": a.annual_contract_value,
                "account_manager_id": a.manager_id,
                "created_at": a.created_at,
            }
            for a in ctx.accounts
        ],
    )


def _access(ctx: SeedContext, industry: str) -> tuple[tuple[time, time], list[int]]:
    rng = ctx.rng
    if industry == "data_center":
        return ROUND_THE_CLOCK, ALL_WEEK
    if industry == "semiconductor":
        return (ROUND_THE_CLOCK if rng.random() < FAB_ROUND_THE_CLOCK_SHARE else EXTENDED), ALL_WEEK
    return (OFFICE, MON_FRI) if rng.random() < OFFICE_SHARE else (EXTENDED, MON_SAT)


def _site_park(ctx: SeedContext, account: AccountRec) -> Park:
    rng = ctx.rng
    draw = rng.random()
    if draw < SITE_IN_HOME_PARK:
        return account.park
    if draw < SITE_IN_HOME_TERRITORY:
        return rng.choice([p for p in PARKS if p.territory == account.park.territory])
    return rng.choice(PARKS)


def create_sites(ctx: SeedContext) -> None:
    rng = ctx.rng
    counts = [1] * len(ctx.accounts)
    weights = [SITES_WEIGHT_BY_TIER[a.tier] for a in ctx.accounts]
    for i in rng.choices(range(len(ctx.accounts)), weights=weights, k=max(0, ctx.scale.sites - len(counts))):
        counts[i] += 1
    site_rows: list[dict[str, object]] = []
    contact_rows: list[dict[str, object]] = []
    for account, count in zip(ctx.accounts, counts, strict=True):
        chinese = not account.name.isascii()
        labels = names.DATA_CENTRE_LABELS if account.industry == "data_center" else names.SITE_LABELS
        for k in range(count):
            park = account.park if k == 0 else _site_park(ctx, account)
            lon, lat, territory_id = scatter_in_territory(rng, park, SITE_RADIUS_KM, ctx.territory_shapes)
            (opens, closes), weekdays = _access(ctx, account.industry)
            label = labels[k % len(labels)] + ("" if k < len(labels) else f" {k // len(labels) + 1}")
            site = SiteRec(
                id=len(ctx.sites) + 1,
                account=account,
                park=park,
                lon=lon,
                lat=lat,
                territory_id=territory_id,
                name=f"{park.city_zh}{label}" if chinese else f"{park.city_en} {label}",
                opens=opens,
                closes=closes,
                weekdays=weekdays,
            )
            ctx.sites.append(site)
            account.sites.append(site)
            site_rows.append(
                {
                    "id": site.id,
                    "account_id": account.id,
                    "name": site.name,
                    "address": names.street_address(rng, park),
                    "city": park.city_en,
                    "location": site.ewkt,
                    "time_zone": TIME_ZONE_NAME,
                    "access_opens": opens,
                    "access_closes": closes,
                    "access_weekdays": weekdays,
                    "created_at": account.created_at,
                    "access_notes": "门卫处登记，需佩戴安全帽和安全鞋" if rng.random() < 0.3 else "",
                }
            )
            contact_rows += _contacts(ctx, account, site, len(contact_rows))
    ctx.count("sites", bulk.copy_rows(Site, site_rows))
    # One contact everyone can sign in to the customer portal as (README, "Demo logins"); the
    # others keep their generated addresses, all printed by the console email backend.
    contact_rows[0]["email"] = DEMO_PORTAL_EMAIL
    ctx.count("contacts", bulk.copy_rows(Contact, contact_rows))


def _contacts(ctx: SeedContext, account: AccountRec, site: SiteRec, first_id: int) -> list[dict[str, object]]:
    rng = ctx.rng
    rows = []
    for k in range(rng.randint(*CONTACTS_PER_SITE)):
        surname, given, surname_py, given_py = names.person(rng)
        english = rng.random() < ENGLISH_CONTACT_SHARE
        rows.append(
            {
                "id": first_id + k + 1,
                "account_id": account.id,
                "site_id": site.id,
                "name": surname + given,
                "title": rng.choice(names.CONTACT_TITLES),
                "email": f"{given_py}.{surname_py}{rng.randint(1, 99)}@{account.domain}",
                "phone": names.mobile(rng) if rng.random() < 0.6 else names.landline(rng, site.park),
                "language": "en" if english else "zh-hans",
                "is_primary": k == 0,
                "created_at": account.created_at,
            }
        )
    return rows
