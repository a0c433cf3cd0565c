"""The customer survey that goes out with the service report.

The link carries a signed, timestamped token naming the work order, so the customer needs
no login; the signature stops anyone from answering for another work order, and the
timestamp lets links expire after settings.SURVEY_LINK_MAX_AGE_DAYS (default 60).
A work order has at most one survey (OneToOne); a second answer is refused, not merged.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fieldservice import clock
from fieldservice.errors import Conflict, Invalid, NotFound
from tickets.models import Survey, WorkOrder
from tickets.signals import survey_submitted

SURVEY_SALT = "tickets.survey"
DEFAULT_MAX_AGE_DAYS = 60
CSAT_SCORES = range(1, 6)
NPS_SCORES = range(0, 11)
COMMENT_MAX_LENGTH = 2000


def _max_age() -> dt.timedelta:
    return dt.timedelta(days=getattr(settings, "SURVEY_LINK_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS))


def survey_token_for(work_order: WorkOrder) -> str:
    """A URL-safe token for the survey link of `work_order` (it contains no '/')."""
    return signing.dumps(work_order.pk, salt=SURVEY_SALT)


def survey_work_order(token: str) -> WorkOrder:
    """The work order a survey token was issued for; NotFound if it was tampered with,
    has expired, or names a work order that no longer exists."""
    try:
        work_order_id = signing.loads(token, salt=SURVEY_SALT, max_age=_max_age())
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        raise NotFound("This survey link is invalid or has expired.", code="survey_link_invalid") from None
    work_order = WorkOrder.objects.filter(pk=work_order_id).first()
    if work_order is None:
        raise NotFound("This survey link is invalid or has expired.", code="survey_link_invalid")
    return work_order


def survey_submit(*, token: str, csat: int | None, nps: int | None, comment: str = "") -> Survey:
    """Store the customer's answer. Refused with Conflict if the work order already has one."""
    work_order = survey_work_order(token)
    errors = {}
    if csat is not None and csat not in CSAT_SCORES:
        errors["csat"] = "CSAT must be between 1 and 5."
    if nps is not None and nps not in NPS_SCORES:
        errors["nps"] = "NPS must be between 0 and 10."
    if len(comment) > COMMENT_MAX_LENGTH:
        errors["comment"] = f"The comment is longer than {COMMENT_MAX_LENGTH} characters."
    if errors:
        raise Invalid("The survey answer is not valid.", code="survey_invalid", details=errors)
    already = Conflict(f"{work_order.number} has already been rated.", code="survey_already_answered")
    if Survey.objects.filter(work_order=work_order).exists():
        raise already
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                work_order=work_order,
                csat=csat,
                nps=nps,
                comment=comment.strip(),
                submitted_at=clock.now(),
            )
    except IntegrityError:
        # Race: the same link submitted twice at once (a double click); the first one stands.
        raise already from None
    # The floors above hear of it once it is stored (cases: a detractor opens a complaint).
    # Robust: the customer's answer is kept whatever a listener does; a failure is logged.
    transaction.on_commit(lambda: survey_submitted.send(sender=Survey, survey=survey), robust=True)
    return survey


# --- the page ---------------------------------------------------------------------------------


class SurveyForm(forms.Form):
    csat = forms.TypedChoiceField(
        choices=[(score, str(score)) for score in CSAT_SCORES],
        coerce=int,
        widget=forms.RadioSelect(attrs={"aria-describedby": "csat-hint"}),
        error_messages={
            "required": "Please choose a score from 1 to 5. 请选择 1 到 5 分。",
            "invalid_choice": "Please choose a score from 1 to 5. 请选择 1 到 5 分。",
        },
    )
    nps = forms.TypedChoiceField(
        choices=[(score, str(score)) for score in NPS_SCORES],
        coerce=int,
        widget=forms.RadioSelect(attrs={"aria-describedby": "nps-hint"}),
        error_messages={
            "required": "Please choose a score from 0 to 10. 请选择 0 到 10 分。",
            "invalid_choice": "Please choose a score from 0 to 10. 请选择 0 到 10 分。",
        },
    )
    comment = forms.CharField(required=False, max_length=COMMENT_MAX_LENGTH, widget=forms.Textarea)


@never_cache
@require_http_methods(["GET", "POST"])
def survey_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the form; POST stores the answer. No login: the token is the credential."""
    try:
        work_order = survey_work_order(token)
    except NotFound:
        return render(request, "tickets/survey/invalid.html", status=404)
    context: dict[str, object] = {"wo": work_order}
    if Survey.objects.filter(work_order=work_order).exists():
        return render(request, "tickets/survey/thanks.html", {**context, "already_answered": True})
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            survey_submit(
                token=token,
                csat=form.cleaned_data["csat"],
                nps=form.cleaned_data["nps"],
                comment=form.cleaned_data["comment"],
            )
        except Conflict:
            return render(request, "tickets/survey/thanks.html", {**context, "already_answered": True})
        return render(request, "tickets/survey/thanks.html", {**context, "already_answered": False})
    status = 400 if form.is_bound else 200
    return render(request, "tickets/survey/form.html", {**context, "form": form}, status=status)
