"""The contact's cases in the portal: their list, one case with what was said to the customer,
raising a complaint, and answering the closing question ("was this resolved for you?")."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.models import Case
from fieldservice.errors import Conflict, Invalid
from portal import access as scope
from portal import complaints
from portal.forms import CaseAnswerForm, ComplaintForm
from portal.models import PortalAccess
from portal.views import contact_required

RECENT_WORK_ORDERS = 50


@require_GET
@contact_required
def case_list(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    cases = scope.cases_visible(access)[:100]
    return render(request, "portal/cases.html", {"cases": cases})


def _case_page(request: HttpRequest, case: Case, form: CaseAnswerForm, status: int = 200) -> HttpResponse:
    context = {
        "case": case,
        "events": case.events.filter(customer_visible=True).order_by("at", "pk"),
        "asks": case.status == Case.Status.RESOLVED,
        "form": form,
    }
    return render(request, "portal/case_detail.html", context, status=status)


@require_GET
@contact_required
def case_detail(request: HttpRequest, access: PortalAccess, case_id: int) -> HttpResponse:
    case = get_object_or_404(scope.cases_visible(access), pk=case_id)
    return _case_page(request, case, CaseAnswerForm())


@require_POST
@contact_required
def case_answer(request: HttpRequest, access: PortalAccess, case_id: int) -> HttpResponse:
    case = get_object_or_404(scope.cases_visible(access), pk=case_id)
    form = CaseAnswerForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, form, status=400)
    try:
        complaints.complaint_answer(
            access=access,
            case=case,
            resolved=form.cleaned_data["resolved"],
            comment=form.cleaned_data["comment"],
        )
    except Conflict:
        form.add_error(None, _("This case is not waiting for your answer."))
        return _case_page(request, case, form, status=409)
    messages.success(request, _("Thank you for your answer."))
    return HttpResponseRedirect(reverse("portal:case", args=[case.pk]))


def _work_order_choices(access: PortalAccess) -> list[tuple[int, str]]:
    recent = scope.work_orders_visible(access)[:RECENT_WORK_ORDERS]
    return [(wo.pk, f"{wo.number} · {wo.title}") for wo in recent]


@require_http_methods(["GET", "POST"])
@contact_required
def complaint_new(request: HttpRequest, access: PortalAccess) -> HttpResponse:
    choices = _work_order_choices(access)
    if request.method == "GET":
        initial = {}
        chosen = request.GET.get("work_order", "")
        if chosen.isdigit() and int(chosen) in dict(choices):
            initial["work_order"] = int(chosen)
        form = ComplaintForm(initial=initial, work_order_choices=choices)
        return render(request, "portal/complaint.html", {"form": form})
    form = ComplaintForm(request.POST, work_order_choices=choices)
    if not form.is_valid():
        return render(request, "portal/complaint.html", {"form": form}, status=400)
    chosen_id = form.cleaned_data["work_order"]
    work_order = get_object_or_404(scope.work_orders_visible(access), pk=chosen_id) if chosen_id else None
    try:
        case = complaints.complaint_raise(
            access=access,
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            severity=form.cleaned_data["severity"],
            work_order=work_order,
        )
    except Invalid:
        form.add_error(None, _("This complaint cannot be sent."))
        return render(request, "portal/complaint.html", {"form": form}, status=400)
    messages.success(
        request,
        _("Thank you. Your complaint is case %(number)s; we have emailed you a copy.")
        % {"number": case.number},
    )
    return HttpResponseRedirect(reverse("portal:case", args=[case.pk]))
