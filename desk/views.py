"""The service desk: search for the caller, see the machine's coverage, SLA and open work,
and open the work order (tickets.creation.work_order_create, as the API does). A P1/P2 lands
in the board's queue with its one-click urgent insertion."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from assets.labels import equipment_of_label_url
from assets.models import Account, Equipment, Site
from assets.search import Hit, installed_base_search
from contracts.models import URGENT_MAX_PRIORITY, Priority
from desk.context import intake_context
from desk.forms import NewWorkOrderForm
from fieldservice import ranges, roles
from fieldservice.errors import DomainError
from fieldservice.web import role_required
from tickets.creation import work_order_create
from tickets.models import WorkOrder

desk_only = role_required(roles.DISPATCHER, roles.ADMIN)


def _desk_accounts() -> QuerySet[Account]:
    """Every account: the desk is for dispatchers and admins, who take calls from all of them
    (as the back office's assets.visibility.back_office_accounts says)."""
    return Account.objects.all()


def _query(request: HttpRequest) -> str:
    return request.GET.get("q", "")[: ranges.SEARCH_QUERY_LENGTH]  # longer pastes: their start


def _chosen(request: HttpRequest) -> tuple[Site | None, Equipment | None]:
    """The machine (or, without one, the site) the dispatcher picked, among visible accounts;
    anything else is a 404."""
    accounts = _desk_accounts()
    equipment_id = request.GET.get("equipment") or request.POST.get("equipment")
    site_id = request.GET.get("site") or request.POST.get("site")
    if equipment_id:
        equipment = get_object_or_404(
            Equipment.objects.select_related("site__account", "equipment_model"),
            pk=_number(equipment_id),
            site__account__in=accounts,
        )
        return equipment.site, equipment
    if site_id:
        return get_object_or_404(
            Site.objects.select_related("account"), pk=_number(site_id), account__in=accounts
        ), None
    return None, None


def _hits(query: str) -> list[Hit]:
    """A machine's label URL (scanned, pasted or read out) names that machine; anything else
    is searched for."""
    labelled = equipment_of_label_url(query)
    if labelled is not None:
        site = labelled.site
        return [
            Hit(
                "equipment",
                labelled.pk,
                str(labelled),
                f"{site.name} · {site.account.name}",
                site.account_id,
                site.pk,
                labelled.pk,
                1.0,
            )
        ]
    return installed_base_search(query, accounts=_desk_accounts())


def _number(value: str) -> int:
    return int(value) if value.isdigit() and len(value) <= 12 else 0


@require_GET
@desk_only
def search(request: HttpRequest) -> HttpResponse:
    """The results as the dispatcher types (htmx swaps them in; the page works without it)."""
    return render(request, "desk/_results.html", {"hits": _hits(_query(request)), "query": _query(request)})


@require_http_methods(["GET", "POST"])
@desk_only
def new_work_order(request: HttpRequest) -> HttpResponse:
    site, equipment = _chosen(request)
    form = NewWorkOrderForm(request.POST or None)
    status = 200
    if request.method == "POST" and site is not None and form.is_valid():
        try:
            work_order = work_order_create(
                site=site,
                equipment=equipment,
                kind=form.cleaned_data["kind"],
                priority=form.cleaned_data["priority"],
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                by=request.user,  # type: ignore[arg-type]
            )
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("%(number)s opened.") % {"number": work_order.number})
            if work_order.priority <= URGENT_MAX_PRIORITY:
                messages.info(request, _("It is urgent: insert it from the queue with one click."))
            return redirect(f"{reverse('dispatch-board')}?territory=all#queue")
    if request.method == "POST":
        status = 400
    priority = (
        form.cleaned_data.get("priority", Priority.P3) if form.is_bound and form.is_valid() else Priority.P3
    )
    kind = form["kind"].value() or WorkOrder.Kind.CORRECTIVE
    context = {
        "form": form,
        "query": _query(request),
        "query_max": ranges.SEARCH_QUERY_LENGTH,
        "hits": _hits(_query(request)) if site is None else [],
        "intake": intake_context(site=site, equipment=equipment, priority=int(priority), kind=str(kind))
        if site is not None
        else None,
    }
    return render(request, "desk/new.html", context, status=status)
