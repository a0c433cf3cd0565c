"""QR labels on the machines: a printable sheet per site, and what a scanned label names.

A label's QR holds SITE_URL + /l/<token>/ (the token: assets.labels). The token is all the
public label page knows; it shows nothing about the machine.

The sheet is rendered by WeasyPrint with the QR codes drawn inline as SVG (segno), and never
touches the network: every URL it would fetch is refused.
"""

from __future__ import annotations

from typing import Any

import segno
import weasyprint
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from weasyprint.urls import URLFetcher, URLFetcherResponse

from assets.labels import label_token
from assets.models import Equipment, Site

# Error correction level Q (25 %): a label on a machine gets scratched and oily.
QR_ERROR = "q"


def label_url(equipment: Equipment) -> str:
    return settings.SITE_URL + reverse("label-scan", args=[label_token(equipment)])


def labelled_equipment(site: Site) -> list[Equipment]:
    """The machines of a site that get a label: all but the decommissioned."""
    return list(
        Equipment.objects.filter(site=site)
        .exclude(status=Equipment.Status.DECOMMISSIONED)
        .select_related("equipment_model")
        .order_by("asset_tag", "serial_number", "pk")
    )


class _NoFetching(URLFetcher):
    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        raise ValueError(f"The label sheet fetches nothing, not {url!r}")


def _qr_svg(url: str) -> str:
    # segno writes the SVG from the URL alone; the markup is ours, not any user's text.
    return str(segno.make(url, error=QR_ERROR).svg_inline(scale=4, border=2, omitsize=True))


def label_sheet_pdf(site: Site) -> bytes:
    labels = [
        {"equipment": unit, "qr": mark_safe(_qr_svg(label_url(unit)))} for unit in labelled_equipment(site)
    ]
    html = render_to_string(
        "portal/label_sheet.html",
        {
            "site": site,
            "labels": labels,
            "service_phone": settings.SERVICE_PHONE,
            "company_name": settings.COMPANY_NAME,
        },
    )
    stylesheet = weasyprint.CSS(string=render_to_string("portal/label_sheet.css"))
    pdf = weasyprint.HTML(string=html, url_fetcher=_NoFetching()).write_pdf(stylesheets=[stylesheet])
    assert pdf is not None  # write_pdf returns bytes when given no target
    return bytes(pdf)
