"""The service desk's one search box: a caller is found by what they read out or the dispatcher
types or scans (account name, site name, contact name or phone, equipment serial or asset tag).

Every field is matched as a substring, case-insensitively (`ILIKE '%…%'`: the
`trigram_contains` lookup of fieldservice.lookups, which the trigram
indexes of assets.models serve; a fragment of two Chinese characters is too short for
trigrams and is answered by a scan of that column, still in the database), and ranked by
trigram word similarity, exact and leading matches first. Phone numbers are compared by
their digits. Each kind answers at most `limit` rows; the merged list is cut to `limit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Case, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Greatest

from assets.models import Account, Contact, Equipment, Site, phone_digits

# Fewer characters match too much to be useful (one digit or letter).
MIN_QUERY_CHARS = 2
MIN_PHONE_DIGITS = 4
EXACT, LEADING = 2.0, 1.0


@dataclass(frozen=True)
class Hit:
    """One thing found: what it is, how to show it, and where it leads (its account, and its
    site and equipment when it has them)."""

    kind: str  # "equipment", "site", "contact", "account"
    pk: int
    title: str
    detail: str
    account_id: int
    site_id: int | None
    equipment_id: int | None
    score: float


def _ranked(queryset: QuerySet[Any], fields: list[str], query: str) -> QuerySet[Any]:
    """Rows where any of `fields` contains the query, best first."""
    matches = Q()
    for field in fields:
        matches |= Q(**{f"{field}__trigram_contains": query})
    bonus = Case(
        *[When(**{f"{field}__iexact": query}, then=Value(EXACT)) for field in fields],
        *[When(**{f"{field}__istartswith": query}, then=Value(LEADING)) for field in fields],
        default=Value(0.0),
        output_field=FloatField(),
    )
    similarity = (
        Greatest(*[TrigramWordSimilarity(query, field) for field in fields])
        if len(fields) > 1
        else TrigramWordSimilarity(query, fields[0])
    )
    return queryset.filter(matches).annotate(score=bonus + similarity).order_by("-score", "pk")


def installed_base_search(query: str, *, accounts: QuerySet[Account], limit: int = 12) -> list[Hit]:
    """What the query finds among the given accounts' equipment, sites, contacts and the
    accounts themselves, best first."""
    query = " ".join(query.split())
    if len(query) < MIN_QUERY_CHARS:
        return []
    hits: list[Hit] = []
    equipment = _ranked(
        Equipment.objects.filter(site__account__in=accounts).select_related(
            "equipment_model", "site__account"
        ),
        ["serial_number", "asset_tag"],
        query,
    )[:limit]
    hits += [
        Hit(
            "equipment",
            unit.pk,
            str(unit),
            f"{unit.site.name} · {unit.site.account.name}",
            unit.site.account_id,
            unit.site_id,
            unit.pk,
            unit.score,
        )
        for unit in equipment
    ]
    sites = _ranked(Site.objects.filter(account__in=accounts).select_related("account"), ["name"], query)
    hits += [
        Hit(
            "site",
            site.pk,
            site.name,
            f"{site.city} · {site.account.name}",
            site.account_id,
            site.pk,
            None,
            site.score,
        )
        for site in sites[:limit]
    ]
    contacts = _ranked(
        Contact.objects.filter(account__in=accounts).select_related("account"), ["name"], query
    )
    found = [(contact, float(contact.score)) for contact in contacts[:limit]]
    digits = re.sub(r"\D", "", query)
    if len(digits) >= MIN_PHONE_DIGITS:
        by_phone = (
            Contact.objects.filter(account__in=accounts)
            .alias(digits=phone_digits("phone"))
            .filter(digits__trigram_contains=digits)
            .select_related("account")
            .order_by("pk")[:limit]
        )
        seen = {contact.pk for contact, _ in found}
        # Ranked by how much of the number the digits typed cover: a whole number read out
        # first, a few digits that happen to be inside one low.
        found += [
            (contact, len(digits) / max(len(re.sub(r"\D", "", contact.phone)), 1))
            for contact in by_phone
            if contact.pk not in seen
        ]
    hits += [
        Hit(
            "contact",
            contact.pk,
            contact.name,
            " · ".join(filter(None, [contact.phone, contact.account.name])),
            contact.account_id,
            contact.site_id,
            None,
            score,
        )
        for contact, score in found
    ]
    hits += [
        Hit(
            "account",
            account.pk,
            account.name,
            account.get_industry_display(),
            account.pk,
            None,
            None,
            account.score,
        )
        for account in _ranked(accounts, ["name"], query)[:limit]
    ]
    hits.sort(key=lambda hit: (-hit.score, hit.kind, hit.pk))
    return hits[:limit]
