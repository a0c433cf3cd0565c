"""The service report as a PDF: a Django template rendered by WeasyPrint.

WeasyPrint is imported at module level on purpose: the import costs ~0.7 s, and a Celery
worker that imports this module once then renders each report in a fraction of that.

Rendering never touches the network. Images (photo thumbnails, the signature) are named
in the HTML as `fieldservice-storage:<name>` and `StorageURLFetcher` reads them from
Django's default storage; every other URL is refused, so a stray `http://` in user text
cannot make a worker fetch anything.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import weasyprint
from django.conf import settings
from django.core.files.storage import default_storage
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils import timezone, translation
from PIL import Image, ImageOps
from weasyprint.urls import URLFetcher, URLFetcherResponse

from fieldservice import clock
from tickets.models import Attachment, ChecklistItem, PartUsage, WorkOrder

# WeasyPrint decodes the signature with Pillow, and photos are decoded here: an image over twice
# the cap (one stored before uploads were checked) fails alone; the report goes out without it.
Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS
STORAGE_SCHEME = "fieldservice-storage"
# Photos are embedded as thumbnails this many pixels on the long side: enough to print
# sharply at the report's 60 mm width, and it keeps a report with a dozen 10 MB phone
# photos a mail-sized attachment.
THUMBNAIL_MAX_PX = 640
THUMBNAIL_JPEG_QUALITY = 80
# Languages whose text needs the Simplified Chinese glyph variants (see TOOLING.md).
HTML_LANG = {"zh-hans": "zh-CN", "en": "en"}
CENT = Decimal("0.01")


def _storage_url(name: str, *, thumbnail: bool) -> str:
    prefix = "thumb/" if thumbnail else "file/"
    return f"{STORAGE_SCHEME}:{prefix}{quote(name)}"


def _thumbnail(data: bytes) -> bytes:
    with warnings.catch_warnings():  # Pillow warns of what is refused just below
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        opened = Image.open(io.BytesIO(data))
    with opened as image:
        width, height = image.size
        if width * height > settings.MAX_IMAGE_PIXELS:
            raise ValueError(f"A {width} × {height} image is too large to print")
        # draft() lets the JPEG decoder downscale while decoding (by 2, 4 or 8): much faster on
        # phone photos. Asked for the thumbnail's own size, not a square box around it, so a
        # 4:3 photo of 1600 px is decoded at 800 × 600 rather than in full.
        scale = min(1.0, THUMBNAIL_MAX_PX / max(width, height))
        image.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX))
        out = io.BytesIO()
        upright.convert("RGB").save(out, format="JPEG", quality=THUMBNAIL_JPEG_QUALITY)
    return out.getvalue()


class StorageURLFetcher(URLFetcher):
    """Serve `fieldservice-storage:` URLs from default storage; refuse everything else.

    A file missing from storage raises here; WeasyPrint logs it and leaves the image out,
    so one lost photo does not stop the customer getting the report.
    """

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme, _, rest = url.partition(":")
        if scheme != STORAGE_SCHEME:
            raise ValueError(f"Service reports only embed files from storage, not {url!r}")
        kind, _, quoted_name = rest.partition("/")
        name = unquote(quoted_name)
        with default_storage.open(name, "rb") as stored:
            data = stored.read()
        if kind == "thumb":
            return URLFetcherResponse(url, _thumbnail(data), {"Content-Type": "image/jpeg"})
        return URLFetcherResponse(url, data)


@dataclass(frozen=True)
class SlaResult:
    label_en: str
    label_zh: str
    due: dt.datetime | None
    actual: dt.datetime | None

    @property
    def met(self) -> bool | None:
        """True/False once both times are known; None when there is no target or no outcome."""
        if self.due is None or self.actual is None:
            return None
        return self.actual <= self.due


@dataclass(frozen=True)
class PartLine:
    """A part on the report; unpriced (None) until the office prices it: never 0.00."""

    part_number: str
    description: str
    quantity: str
    unit_cost: Decimal | None
    line_total: Decimal | None
    currency: str


@dataclass(frozen=True)
class PartTotal:
    currency: str
    amount: Decimal
    # Some parts in this currency have no price yet: the amount is of the priced ones only.
    partial: bool


def _quantity(value: Decimal) -> str:
    # 2.000 → "2", 0.250 → "0.25"; format "f" keeps normalize() from printing 1E+1.
    return f"{value.normalize():f}"


def _duration(start: dt.datetime | None, end: dt.datetime | None) -> str:
    if start is None or end is None or end < start:
        return ""
    minutes = int((end - start).total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def service_report_work_order(work_order_id: int) -> WorkOrder:
    """The work order with everything the report shows, in four queries whatever its size."""
    return (
        WorkOrder.objects.select_related(
            "account",
            "site",
            "equipment__equipment_model",
            "assigned_technician",
            "contract",
            "signature",
        )
        .prefetch_related(
            Prefetch("checklist", queryset=ChecklistItem.objects.order_by("position")),
            Prefetch("parts", queryset=PartUsage.objects.order_by("recorded_at", "pk")),
            Prefetch(
                "attachments",
                queryset=Attachment.objects.filter(kind=Attachment.Kind.PHOTO).order_by("uploaded_at", "pk"),
                to_attr="photos",
            ),
        )
        .get(pk=work_order_id)
    )


def _context(work_order: WorkOrder, *, language: str) -> dict[str, Any]:
    parts = [
        PartLine(
            part_number=part.part_number,
            description=part.description,
            quantity=_quantity(part.quantity),
            unit_cost=part.unit_cost,
            line_total=None if part.unit_cost is None else (part.quantity * part.unit_cost).quantize(CENT),
            currency=part.currency,
        )
        for part in work_order.parts.all()
    ]
    totals: dict[str, Decimal] = defaultdict(Decimal)
    unpriced: set[str] = set()
    for line in parts:
        if line.line_total is None:
            unpriced.add(line.currency)
        else:
            totals[line.currency] += line.line_total
    part_totals = [
        PartTotal(currency, amount, partial=currency in unpriced)
        for currency, amount in sorted(totals.items())
    ]
    signature = getattr(work_order, "signature", None)
    technician = work_order.assigned_technician
    return {
        "company_name": settings.COMPANY_NAME,
        "html_lang": HTML_LANG.get(language, language),
        "wo": work_order,
        "site": work_order.site,
        "equipment": work_order.equipment,
        "technician_name": (technician.get_full_name() or technician.get_username()) if technician else "",
        "time_on_site": _duration(work_order.arrived_at, work_order.completed_at),
        "checklist": list(work_order.checklist.all()),
        "parts": parts,
        "part_totals": part_totals,
        "photos": [
            {"url": _storage_url(photo.file.name, thumbnail=True), "caption": photo.caption}
            for photo in work_order.photos  # type: ignore[attr-defined]  # Prefetch to_attr
        ],
        "signature": signature,
        "signature_url": _storage_url(signature.image.name, thumbnail=False) if signature else "",
        "sla": [
            SlaResult("Response", "响应", work_order.sla_response_due, work_order.responded_at),
            SlaResult("Resolution", "解决", work_order.sla_resolution_due, work_order.completed_at),
        ],
        "generated_at": clock.now(),
    }


def render_service_report(work_order: WorkOrder, *, language: str | None = None) -> bytes:
    """The PDF of a completed work order, in the customer contact's `language` (a
    settings.LANGUAGES code; default settings.LANGUAGE_CODE). Times are in the site's zone.

    Reloads the work order with its relations, so callers may pass any instance.
    """
    language = language or settings.LANGUAGE_CODE
    loaded = service_report_work_order(work_order.pk)
    with translation.override(language), timezone.override(ZoneInfo(loaded.site.time_zone)):
        html = render_to_string("tickets/service_report.html", _context(loaded, language=language))
    document = weasyprint.HTML(string=html, url_fetcher=StorageURLFetcher())
    pdf = document.write_pdf()
    assert pdf is not None  # write_pdf returns bytes when given no target
    return bytes(pdf)
