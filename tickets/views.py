"""Web pages for work orders: the list that finds them, and everything about one job, for the
people who may see it.

Who sees what is decided by tickets.selectors.work_order_get (object level: a work order
the user may not see is a 404); the role gate only keeps technicians, who have the app,
off the web pages. Photos and the signature are served through permission-checked URLs,
never as plain media.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from contracts.models import Priority
from fieldservice import clock, ranges, roles
from fieldservice.errors import NotFound
from fieldservice.web import role_required
from scheduling.models import Territory
from tickets.models import Attachment, Signature, WorkOrder
from tickets.selectors import WorkOrderFilters, work_order_get, work_order_list

web_roles = role_required(roles.DISPATCHER, roles.ADMIN, roles.ACCOUNT_MANAGER)
MINUTE = dt.timedelta(minutes=1)


def _visible(request: HttpRequest, work_order_id: int) -> WorkOrder:
    try:
        return work_order_get(user=request.user, work_order_id=work_order_id)
    except NotFound:
        raise Http404(_("No such work order.")) from None


@dataclass
class SlaClock:
    label: str
    due: dt.datetime | None
    done_at: dt.datetime | None
    state: str  # "met", "breached", "running", "overdue", "paused", "none"
    text: str


def _span(minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    days, hours = divmod(hours, 24)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": rest}
    return _("%(m)d min") % {"m": rest}


def _clock(
    label: str, due: dt.datetime | None, done_at: dt.datetime | None, *, now: dt.datetime, paused: bool
) -> SlaClock:
    if due is None:
        return SlaClock(label, None, done_at, "none", _("no SLA"))
    if done_at is not None:
        if done_at <= due:
            return SlaClock(
                label,
                due,
                done_at,
                "met",
                _("met, %(span)s early") % {"span": _span(int((due - done_at) // MINUTE))},
            )
        return SlaClock(
            label,
            due,
            done_at,
            "breached",
            _("breached by %(span)s") % {"span": _span(int((done_at - due) // MINUTE))},
        )
    left = int((due - now) // MINUTE)
    if left < 0:
        return SlaClock(
            label, due, None, "overdue", _("breached %(span)s ago, still open") % {"span": _span(left)}
        )
    if paused:
        return SlaClock(
            label, due, None, "paused", _("paused (on hold), %(span)s left") % {"span": _span(left)}
        )
    return SlaClock(label, due, None, "running", _("running, %(span)s left") % {"span": _span(left)})


def _sla_clocks(work_order: WorkOrder, now: dt.datetime) -> list[SlaClock]:
    labels = (_("Response"), _("Resolution"))
    if work_order.status == WorkOrder.Status.CANCELLED:
        dues = (work_order.sla_response_due, work_order.sla_resolution_due)
        return [
            SlaClock(label, due, None, "none", _("stopped: cancelled"))
            for label, due in zip(labels, dues, strict=True)
        ]
    on_hold = work_order.status == WorkOrder.Status.ON_HOLD
    return [
        _clock(labels[0], work_order.sla_response_due, work_order.responded_at, now=now, paused=False),
        _clock(labels[1], work_order.sla_resolution_due, work_order.completed_at, now=now, paused=on_hold),
    ]


@require_GET
@web_roles
def work_order_detail(request: HttpRequest, work_order_id: int) -> HttpResponse:
    work_order = _visible(request, work_order_id)
    ranges.show_out_of_range_as_stored(work_order)  # a planned end of 9999-12-31 still opens
    now = clock.now()
    events = list(work_order.events.select_related("by").order_by("at", "pk"))
    parts: list[dict[str, Any]] = []
    totals: dict[str, Decimal] = {}
    for part in work_order.parts.all():
        if part.unit_cost is None:  # not priced by the office yet: no line total, not in the sum
            parts.append({"part": part, "total": None})
            continue
        line = (part.quantity * part.unit_cost).quantize(Decimal("0.01"))
        totals[part.currency] = totals.get(part.currency, Decimal("0.00")) + line
        parts.append({"part": part, "total": line})
    photos = list(work_order.attachments.filter(kind=Attachment.Kind.PHOTO).order_by("uploaded_at", "pk"))
    documents = list(work_order.attachments.exclude(kind=Attachment.Kind.PHOTO).order_by("uploaded_at", "pk"))
    signature = Signature.objects.filter(work_order=work_order).first()
    context: dict[str, Any] = {
        "wo": work_order,
        "events": events,
        "checklist": list(work_order.checklist.all()),
        "parts": parts,
        "part_totals": sorted(totals.items()),
        "photos": photos,
        "documents": documents,
        "signature": signature,
        "sla_clocks": _sla_clocks(work_order, now),
        "has_report": work_order.status in WorkOrder.DONE_STATUSES,
        "is_planner": bool(roles.user_roles(request.user) & {roles.DISPATCHER, roles.ADMIN}),
    }
    return render(request, "tickets/work_order_detail.html", context)


@require_GET
@web_roles
def work_order_signature(request: HttpRequest, work_order_id: int) -> HttpResponse:
    """The customer's signature image, only to users who may see the work order."""
    work_order = _visible(request, work_order_id)
    signature = Signature.objects.filter(work_order=work_order).first()
    if signature is None or not signature.image:
        raise Http404(_("This work order has no signature."))
    # A signature is a few kilobytes: read it whole rather than stream it.
    with signature.image.open("rb") as stored:
        response = HttpResponse(stored.read(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- the work-order list: search by number, customer, title or serial; filters; pages -----------------

PAGE_SIZE = 50
SLA_CHOICES = [
    ("", gettext_lazy("Any")),
    ("breached", gettext_lazy("Breached")),
    ("at_risk", gettext_lazy("At risk")),
    ("fine", gettext_lazy("On time")),
]


class WorkOrderListForm(forms.Form):
    q = ranges.text_field(
        max_length=ranges.SEARCH_QUERY_LENGTH,
        required=False,
        label=gettext_lazy("Number, customer, title or serial"),
    )
    status = forms.MultipleChoiceField(
        label=gettext_lazy("Status"), choices=WorkOrder.Status.choices, required=False
    )
    priority = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Priority"), choices=Priority.choices, coerce=int, required=False
    )
    territory = forms.ModelChoiceField(
        label=gettext_lazy("Territory"), queryset=Territory.objects.order_by("name"), required=False
    )
    sla = forms.ChoiceField(label=gettext_lazy("SLA"), choices=SLA_CHOICES, required=False)
    created_from = ranges.date_field(label=gettext_lazy("Created from"), required=False)
    created_to = ranges.date_field(label=gettext_lazy("Created until"), required=False)

    def filters(self) -> WorkOrderFilters:
        data = self.cleaned_data
        territory = data.get("territory")
        return WorkOrderFilters(
            search=data.get("q") or None,
            status=data.get("status") or None,
            priority=data.get("priority") or None,
            territory_boundary=territory.boundary if territory else None,
            sla_state=data.get("sla") or None,
            created_from=data.get("created_from"),
            created_to=data.get("created_to"),
        )


@require_GET
@role_required(roles.DISPATCHER, roles.ADMIN, roles.ACCOUNT_MANAGER)
def work_order_list_page(request: HttpRequest) -> HttpResponse:
    form = WorkOrderListForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "page": None}
    if form.is_bound and not form.is_valid():
        return render(request, "tickets/work_order_list.html", context, status=400)
    filters = form.filters() if form.is_bound else WorkOrderFilters()
    rows = work_order_list(user=request.user, filters=filters).order_by("-created_at", "-pk")
    context["page"] = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context["query"] = query.urlencode()
    return render(request, "tickets/work_order_list.html", context)
