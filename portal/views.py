"""The customer portal's pages (faces floor): sign-in by emailed link, the contact's own
equipment, work orders, reports and contracts, reporting a fault; the public page a machine's
QR label opens; the label sheet for the office.

Who sees what is portal.access: every object outside the contact's scope is a 404. Staff
users are not customers: the portal's pages answer them 403 (they have the office's pages).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assets.labels import label_equipment
from assets.models import Equipment, Site
from fieldservice import clock, roles
from fieldservice.client_address import client_ip
from fieldservice.errors import Conflict, Invalid, NotFound, TooLarge
from fieldservice.web import role_required
from portal import access as scope
from portal import faults, labels, signin
from portal.forms import EmailForm, FaultForm, LabelFaultForm
from portal.limits import Limited
from portal.models import PortalAccess
from tickets.models import WorkOrder
from tickets.reports import service_report_ensure

View = Callable[..., HttpResponseBase]
LOGIN_URL = "/portal/login/"
PAST_PER_PAGE = 25


def contact_required(view: View) -> View:
    """Signed in (else to the portal's sign-in page) as a customer's contact (else 403); the
    view receives the contact's PortalAccess after the request."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), LOGIN_URL)
        access = scope.portal_access_of(request.user)
        if access is None:
            raise PermissionDenied(_("The customer portal is for customers' contacts."))
        request.portal_nav = True  # type: ignore[attr-defined]  # base.html: the contact's menu
        return view(request, access, *args, **kwargs)

    return never_cache(guarded)


def _limited(request: HttpRequest, refused: Limited) -> HttpResponse:
    response = render(request, "portal/limited.html", status=429)
    response["Retry-After"] = str(refused.retry_after)
    return response


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


# --- signing in and out -------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    """Ask for an email address; the answer is the same whether it is a contact's or not."""
    if request.method == "GET":
        return render(request, "portal/login.html", {"form": EmailForm()})
    form = EmailForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/login.html", {"form": form}, status=400)
    try:
        signin.signin_link_request(email=form.cleaned_data["email"], client_ip=client_ip(request.META))
    except Limited as refused:
        return _limited(request, refused)
    context = {"email": form.cleaned_data["email"], "minutes": settings.PORTAL_LINK_VALID_MINUTES}
    return render(request, "portal/login_sent.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def link_page(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows whom the link signs in, with a button; POST uses the link and signs in. (A
    mail scanner that opens every link must not use it up.)"""
    try:
        if request.method == "GET":
            contact = signin.signin_link_check(token=token)
            return render(request, "portal/link.html", {"contact": contact})
        user = signin.signin_link_redeem(token=token)
    except signin.LinkRefused as refused:
        return render(request, "portal/link_refused.html", {"reason": refused.reason}, status=refused.status)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    response = HttpResponseRedirect(reverse("portal:home"))
    language = user.portal_access.contact.language
    if language in dict(settings.LANGUAGES):
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, samesite="Lax")
    return response


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect(LOGIN_URL)


# --- the contact's pages ------------------------------------------------------------------------------


def _eta(work_order: WorkOrder) -> Any:
    """When the technician is expected: the planned start once they are on the way."""
    if work_order.status == WorkOrder.Status.EN_ROUTE:
        return work_order.planned_start
    return None


def _open_rows(access: PortalAccess) -> list[dict[str, Any]]:
    open_orders = scope.work_orders_visible(access).filter(status__in=WorkOrder.OPEN_STATUSES)
    return [{"wo": wo, "eta": _eta(wo)} for wo in open_orders[:100]]


@require_GET
@contact_required
def home(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    equipment = scope.equipment_visible(access)
    context = {
        "access": access,
        "open_rows": _open_rows(access),
        "equipment_count": equipment.exclude(status=Equipment.Status.DECOMMISSIONED).count(),
        "down_count": equipment.filter(status=Equipment.Status.DOWN).count(),
    }
    return render(request, "portal/home.html", context)


@require_GET
@contact_required
def equipment_list(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    return render(request, "portal/equipment_list.html", {"equipment": list(scope.equipment_visible(access))})


@require_GET
@contact_required
def equipment_detail(request: HttpRequest, access: PortalAccess, equipment_id: int) -> HttpResponse:
    unit = get_object_or_404(scope.equipment_visible(access), pk=equipment_id)
    history = scope.work_orders_visible(access).filter(equipment=unit)[:50]
    context = {
        "unit": unit,
        "history": [{"wo": wo, "eta": _eta(wo)} for wo in history],
        "contracts": scope.contracts_visible(access).filter(coverage__equipment=unit).distinct(),
        "can_report": unit.status != Equipment.Status.DECOMMISSIONED,
        "done_statuses": WorkOrder.DONE_STATUSES,
    }
    return render(request, "portal/equipment_detail.html", context)


@require_GET
@contact_required
def work_orders(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    past = scope.work_orders_visible(access).exclude(status__in=WorkOrder.OPEN_STATUSES)
    page = Paginator(past, PAST_PER_PAGE).get_page(request.GET.get("page"))
    context = {"open_rows": _open_rows(access), "past": page, "done_statuses": WorkOrder.DONE_STATUSES}
    return render(request, "portal/work_orders.html", context)


@require_GET
@contact_required
def report_pdf(request: HttpRequest, access: PortalAccess, work_order_id: int) -> FileResponse:
    """The service report of one of the contact's completed work orders."""
    work_order = get_object_or_404(
        scope.work_orders_visible(access).filter(status__in=WorkOrder.DONE_STATUSES), pk=work_order_id
    )
    try:
        report = service_report_ensure(work_order=work_order)
    except Conflict:
        raise Http404(_("This work order has no service report.")) from None
    return FileResponse(
        report.pdf.open("rb"), content_type="application/pdf", filename=f"{work_order.number}.pdf"
    )


@require_GET
@contact_required
def contracts(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    rows = []
    for contract in scope.contracts_visible(access).select_related("renewal_opportunity"):
        opportunity = getattr(contract, "renewal_opportunity", None)
        rows.append({"contract": contract, "quote": scope.quote_sent(opportunity)})
    return render(request, "portal/contracts.html", {"rows": rows, "today": clock.today()})


@require_GET
@contact_required
def quote_pdf(request: HttpRequest, access: PortalAccess, contract_id: int) -> FileResponse:
    """The renewal quote of one of the contact's contracts, once it has been sent."""
    contract = get_object_or_404(
        scope.contracts_visible(access).select_related("renewal_opportunity"), pk=contract_id
    )
    opportunity = getattr(contract, "renewal_opportunity", None)
    if opportunity is None or not scope.quote_sent(opportunity):
        raise Http404(_("This contract has no renewal quote yet."))
    return FileResponse(
        opportunity.quote_pdf.open("rb"),
        content_type="application/pdf",
        filename=f"{contract.number}-renewal.pdf",
    )


def _fault_choices(access: PortalAccess) -> list[tuple[int, str]]:
    units = scope.equipment_visible(access).exclude(status=Equipment.Status.DECOMMISSIONED)
    return [
        (
            unit.pk,
            " · ".join(
                part for part in (unit.asset_tag, unit.equipment_model.name, unit.serial_number) if part
            ),
        )
        for unit in units
    ]


@require_http_methods(["GET", "POST"])
@contact_required
def report_fault(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    """Report a fault: machine, symptom, "is the line stopped?" (faults.fault_priority), photos."""
    choices = _fault_choices(access)
    if request.method == "GET":
        initial = {}
        chosen = request.GET.get("equipment", "")
        if chosen.isdigit() and int(chosen) in dict(choices):
            initial["equipment"] = int(chosen)
        form = FaultForm(initial=initial, equipment_choices=choices)
        return render(request, "portal/report.html", _report_context(form))
    form = FaultForm(request.POST, equipment_choices=choices)
    if not form.is_valid():
        return render(request, "portal/report.html", _report_context(form), status=400)
    unit = get_object_or_404(scope.equipment_visible(access), pk=form.cleaned_data["equipment"])
    try:
        photos = faults.photos_decoded(request.FILES.getlist("photos"))
        report = faults.fault_report_submit(
            access=access,
            equipment=unit,
            symptom=form.cleaned_data["symptom"],
            line_stopped=form.cleaned_data["line_stopped"],
            photos=photos,
        )
    except TooLarge:
        form.add_error(None, _("A photo is larger than %(mb)s MB.") % {"mb": _megabytes()})
        return render(request, "portal/report.html", _report_context(form), status=413)
    except Invalid as refused:
        field = (refused.details or {}).get("field") if isinstance(refused.details, dict) else None
        form.add_error(None, _photo_error(refused) if field == "photos" else _("This report cannot be sent."))
        return render(request, "portal/report.html", _report_context(form), status=400)
    assert report.work_order is not None
    messages.success(
        request,
        _("Thank you. Your report is work order %(number)s; we have emailed you a copy.")
        % {"number": report.work_order.number},
    )
    return HttpResponseRedirect(reverse("portal:work-orders"))


def _megabytes() -> str:
    return f"{settings.MAX_ATTACHMENT_BYTES / 1024 / 1024:.0f}"


def _photo_error(refused: Invalid) -> str:
    if refused.code == "too_many_photos":
        return _("Send at most %(count)s photos.") % {"count": settings.PORTAL_MAX_FAULT_PHOTOS}
    return _("Photos must be JPEG, PNG or WebP images.")


def _report_context(form: FaultForm) -> dict[str, Any]:
    return {
        "form": form,
        "max_photos": settings.PORTAL_MAX_FAULT_PHOTOS,
        "max_mb": _megabytes(),
    }


# --- a machine's QR label -------------------------------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def label_scan(request: HttpRequest, token: str) -> HttpResponse:
    """What a scanned label opens: the machine's page for a contact who may see it; for anyone
    else a form to report a fault on "this machine" that shows nothing about it."""
    try:
        unit = label_equipment(token)
    except NotFound:
        return render(request, "portal/label_unknown.html", status=404)
    context: dict[str, Any] = {"service_phone": settings.SERVICE_PHONE}
    if unit.status == Equipment.Status.DECOMMISSIONED:
        return render(request, "portal/label_retired.html", context, status=410)
    access = scope.portal_access_of(request.user)
    if request.method == "GET":
        if access is not None and scope.equipment_visible(access).filter(pk=unit.pk).exists():
            return HttpResponseRedirect(reverse("portal:equipment", args=[unit.pk]))
        return render(request, "portal/label_report.html", {**context, "form": LabelFaultForm()})
    form = LabelFaultForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/label_report.html", {**context, "form": form}, status=400)
    try:
        faults.label_fault_request(
            equipment=unit,
            label=token,
            client_ip=client_ip(request.META),
            language=_language(),
            **form.cleaned_data,
        )
    except Limited as refused:
        return _limited(request, refused)
    except Invalid:
        return render(request, "portal/label_retired.html", context, status=410)
    return render(
        request,
        "portal/label_sent.html",
        {"email": form.cleaned_data["email"], "hours": settings.PORTAL_FAULT_CONFIRM_HOURS},
    )


@never_cache
@require_http_methods(["GET", "POST"])
def fault_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The label report's confirmation link: GET shows a button, POST makes the work order."""
    context: dict[str, Any] = {"service_phone": settings.SERVICE_PHONE}
    try:
        report = faults.label_report_pending(token=token)
        if request.method == "POST" and report.work_order_id is None:
            report = faults.label_fault_confirm(token=token, language=_language())
    except NotFound:
        return render(request, "portal/confirm_refused.html", {**context, "reason": "unknown"}, status=404)
    except Conflict:
        return render(request, "portal/confirm_refused.html", {**context, "reason": "expired"}, status=410)
    except Invalid:
        return render(request, "portal/label_retired.html", context, status=410)
    return render(request, "portal/confirm.html", {**context, "report": report})


# --- the office: a site's label sheet ---------------------------------------------------------------------


@require_GET
@role_required(roles.DISPATCHER, roles.ADMIN)
def label_sheet(request: HttpRequest, site_id: int) -> HttpResponse:
    """The site's QR labels as a PDF to print: one per machine in service."""
    site = get_object_or_404(Site, pk=site_id)
    response = HttpResponse(labels.label_sheet_pdf(site), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="labels-site-{site.pk}.pdf"'
    return response
