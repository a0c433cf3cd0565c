"""The renewal quote: a PDF for the customer with the proposed price and the year of service
behind it, rendered by WeasyPrint in the house style of the service report (CJK fonts, so
Chinese names and addresses render; no network access while rendering).

Drafted at the T−60 renewal milestone (retention.renewals) and stored on the contract's
RenewalOpportunity with the proposed value and the date it stays valid until.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import weasyprint
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint.urls import URLFetcher, URLFetcherResponse

from assets.models import Contact
from contracts.models import RenewalOpportunity, ServiceContract
from contracts.services import renewal_value
from fieldservice import clock
from retention.selectors import account_service_summary

# The service record a quote shows: this many days before the quote date (a year).
QUOTE_SERVICE_WINDOW_DAYS = 365
# Languages whose text needs the Simplified Chinese glyph variants (as tickets.pdf).
HTML_LANG = {"zh-hans": "zh-CN", "en": "en"}


class _NoFetching(URLFetcher):
    """The quote embeds nothing: refuse every URL, so text from the database can never make
    a worker fetch anything."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        raise ValueError(f"Renewal quotes embed no external resources, not {url!r}")


def quote_language(contract: ServiceContract) -> str:
    """The customer's language: their primary contact's (any contact's failing that)."""
    contact = Contact.objects.filter(account_id=contract.account_id).order_by("-is_primary", "pk").first()
    language = contact.language if contact is not None else settings.LANGUAGE_CODE
    return language if language in HTML_LANG else settings.LANGUAGE_CODE


def _context(
    contract: ServiceContract, *, quote_date: dt.date, valid_until: dt.date, language: str
) -> dict[str, Any]:
    successor_start = contract.end_date + dt.timedelta(days=1)
    covered = (
        contract.coverage.select_related("equipment__equipment_model", "equipment__site")
        .order_by("equipment__site__name", "equipment__serial_number", "pk")
        .all()
    )
    return {
        "company_name": settings.COMPANY_NAME,
        "html_lang": HTML_LANG.get(language, language),
        "contract": contract,
        "account": contract.account,
        "sites": sorted({row.equipment.site for row in covered}, key=lambda site: (site.name, site.pk)),
        "covered": [row.equipment for row in covered],
        "sla_terms": list(contract.sla_terms.order_by("priority")),
        "summary": account_service_summary(
            account_id=contract.account_id,
            start=quote_date - dt.timedelta(days=QUOTE_SERVICE_WINDOW_DAYS),
            end=quote_date,
        ),
        "proposed_value": renewal_value(contract=contract),
        "proposed_start": successor_start,
        "quote_date": quote_date,
        "valid_until": valid_until,
        "generated_at": clock.now(),
    }


def render_renewal_quote(
    *, contract: ServiceContract, quote_date: dt.date, valid_until: dt.date, language: str | None = None
) -> bytes:
    """The renewal quote of a contract as a PDF (bilingual labels; `language` picks the
    document language, default the customer's)."""
    contract = ServiceContract.objects.select_related("account").get(pk=contract.pk)
    language = language or quote_language(contract)
    with translation.override(language):
        html = render_to_string(
            "retention/renewal_quote.html",
            _context(contract, quote_date=quote_date, valid_until=valid_until, language=language),
        )
    pdf = weasyprint.HTML(string=html, url_fetcher=_NoFetching()).write_pdf()
    assert pdf is not None  # write_pdf returns bytes when given no target
    return bytes(pdf)


def renewal_quote_draft(*, opportunity: RenewalOpportunity, today: dt.date) -> RenewalOpportunity:
    """Render the quote, store it and set the proposed value and validity on the opportunity.

    Meant to run inside the caller's transaction with the contract locked (the T−60
    milestone). Storage is not transactional: if the transaction then rolls back, the file is
    deleted again here only when the failure happens in this function. A later failure (or
    a worker killed before the commit) leaves the file behind; the rerun on the same day
    overwrites it, one on a later day leaves it orphaned.
    """
    contract = opportunity.contract
    valid_until = today + dt.timedelta(days=settings.RENEWAL_QUOTE_VALID_DAYS)
    pdf = render_renewal_quote(contract=contract, quote_date=today, valid_until=valid_until)
    name = f"quotes/{today:%Y}/{contract.number}-{today:%Y%m%d}.pdf"
    # The caller's lock on the contract means no one else drafts this quote now: a file
    # already at this name is a leftover, replaced rather than kept beside a second copy.
    default_storage.delete(name)
    name = default_storage.save(name, ContentFile(pdf))
    try:
        opportunity.quote_pdf.name = name
        opportunity.proposed_value = renewal_value(contract=contract)
        opportunity.quote_valid_until = valid_until
        fields = ["quote_pdf", "proposed_value", "quote_valid_until", "updated_at"]
        if opportunity.stage in (RenewalOpportunity.Stage.OPEN, RenewalOpportunity.Stage.CONTACTED):
            # Deliberately not stage_changed_at: that records people moving the deal (see
            # retention.renewals, "moved"), and this move is the machine's.
            opportunity.stage = RenewalOpportunity.Stage.QUOTED
            fields.append("stage")
        opportunity.save(update_fields=fields)
    except BaseException:
        default_storage.delete(name)
        raise
    return opportunity
