"""The account manager's pages: the home (renewals by milestone, my open tasks, my accounts
ranked by risk) and one account seen whole (360°).

The reads are retention.account360, retention.selectors and retention.health; the writes
are retention.services. These views only parse the request, call them and render. Scope
is the selectors' rule: an account manager sees the accounts they manage (another
manager's account is a 404, not a 403: its existence is not theirs to know), admins all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from assets import visibility
from assets.models import Account, Equipment
from contracts.models import AccountTask, HealthScore, RenewalOpportunity, ServiceContract
from fieldservice import clock, roles
from fieldservice.errors import DomainError, NotFound
from fieldservice.kpis import charts
from fieldservice.web import role_required
from retention import account360, selectors, services
from retention.health import accounts_by_risk
from tickets.models import WorkOrder

manager_only = role_required(roles.ACCOUNT_MANAGER, roles.ADMIN)

# The home groups renewals by days to their key date, on the renewal milestones (T−30 … T−120).
MILESTONE_BUCKETS = (30, 60, 90, 120)
RISK_LIST_SIZE = 20

COMPONENT_LABELS = {
    "sla_breach_rate": gettext_lazy("SLA breach rate"),
    "first_time_fix_rate": gettext_lazy("First-time fix rate"),
    "reliability": gettext_lazy("Equipment reliability"),
    "open_urgent_past_sla": gettext_lazy("Open P1/P2 past SLA"),
    "sentiment": gettext_lazy("Customer sentiment"),
    "pm_compliance": gettext_lazy("PM compliance"),
}
OVERRIDE_LABELS = {
    "p1_past_sla": gettext_lazy("P1 past SLA"),
    "breach_rate": gettext_lazy("SLA breach rate"),
}
RFM_LABELS = {
    "new": gettext_lazy("New"),
    "high_value": gettext_lazy("High value"),
    "at_risk": gettext_lazy("At risk"),
    "potential": gettext_lazy("Potential"),
    "regular": gettext_lazy("Regular"),
}
# Refusals of the services, in the reader's language (the services' own messages are English).
REFUSALS = {
    "opportunity_closed": gettext_lazy("This renewal is already closed; its stage cannot change."),
    "unknown_stage": gettext_lazy("Choose one of the stages offered."),
    "unknown_status": gettext_lazy("Unknown task status."),
}
BANDS = dict(HealthScore.Band.choices)
STAGES = dict(RenewalOpportunity.Stage.choices)


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _refusal(error: DomainError) -> str:
    return str(REFUSALS.get(error.code, error.message))


def _reason(item: dict[str, Any], language: str) -> str:
    """A health reason in the reader's language, else English."""
    reason = item.get("reason") or {}
    return str(reason.get(language) or reason.get("en") or "")


# --- the home -------------------------------------------------------------------------------------


def _bucket_label(days: int | None) -> str:
    if days is None:
        return _("Later (over %(days)s days)") % {"days": MILESTONE_BUCKETS[-1]}
    return _("Key date within %(days)s days") % {"days": days}


def renewals_by_milestone(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The pipeline (nearest key date first) in groups: ≤ 30, ≤ 60, ≤ 90, ≤ 120 days to
    the key date, and later. A key date already past falls in the first group."""
    groups: list[dict[str, Any]] = [
        {"key": f"d{days}", "max_days": days, "label": _bucket_label(days), "rows": []}
        for days in MILESTONE_BUCKETS
    ]
    groups.append({"key": "later", "max_days": None, "label": _bucket_label(None), "rows": []})
    for row in rows:
        row = {
            **row,
            "days_past": max(-row["days_to_key_date"], 0),
            "band_label": BANDS.get(row["health_band"] or "", ""),
        }
        for group in groups:
            if group["max_days"] is None or row["days_to_key_date"] <= group["max_days"]:
                group["rows"].append(row)
                break
    for group in groups:
        group["total"] = sum((row["annual_value"] for row in group["rows"]), Decimal(0))
    return groups


def _stage_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in RenewalOpportunity.Stage.choices]


@require_GET
@manager_only
def home(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    pipeline = account360.renewals_pipeline(user=request.user, today=today)
    tasks = (
        selectors.tasks_visible_to(request.user)
        .filter(status=AccountTask.Status.OPEN)
        .select_related("account", "contract")
        .order_by("due_date", "pk")
    )
    mine = set(visibility.accounts_visible_to(request.user).values_list("pk", flat=True))
    at_risk = [
        {**asdict(row), "band_label": BANDS.get(row.band, row.band)}
        for row in accounts_by_risk(today=today)
        if row.account_id in mine
    ][:RISK_LIST_SIZE]
    context = {
        "today": today,
        "groups": renewals_by_milestone(pipeline),
        "renewal_count": len(pipeline),
        "stage_choices": _stage_choices(),
        "closed_stages": RenewalOpportunity.CLOSED_STAGES,
        "bands": BANDS,
        "tasks": list(tasks),
        "at_risk": at_risk,
    }
    return render(request, "retention/home.html", context)


def _visible_opportunity(request: HttpRequest, opportunity_id: int) -> RenewalOpportunity:
    found = (
        selectors.opportunities_visible_to(request.user)
        .select_related("contract")
        .filter(pk=opportunity_id)
        .first()
    )
    if found is None:
        raise Http404(_("Renewal not found."))
    return found


@require_POST
@manager_only
def renewal_stage(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    """Move a renewal to another stage (what "the deal has moved" means to the T−30
    escalation). htmx gets the stage form back with the outcome; a plain post a redirect."""
    opportunity = _visible_opportunity(request, opportunity_id)
    error, saved = "", False
    try:
        opportunity = services.opportunity_stage_set(
            opportunity=opportunity,
            stage=request.POST.get("stage", ""),
            by=request.user,  # type: ignore[arg-type]
        )
        saved = True
    except DomainError as refused:
        error = _refusal(refused)
    if not _is_htmx(request):
        if saved:
            messages.success(
                request,
                _("Renewal of %(number)s moved to %(stage)s.")
                % {"number": opportunity.contract.number, "stage": STAGES[opportunity.stage]},
            )
        else:
            messages.error(request, f"{opportunity.contract.number}: {error}")
        return HttpResponseRedirect(reverse("accounts-home"))
    context = {
        "row": {
            "id": opportunity.pk,
            "stage": opportunity.stage,
            "contract_number": opportunity.contract.number,
        },
        "stage_choices": _stage_choices(),
        "closed_stages": RenewalOpportunity.CLOSED_STAGES,
        "saved": saved,
        "error": error,
    }
    # 200 either way: htmx swaps only successful responses, and the refusal is the answer to show.
    return render(request, "retention/_stage_form.html", context)


@require_POST
@manager_only
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.tasks_visible_to(request.user).select_related("account").filter(pk=task_id).first()
    if task is None:
        raise Http404(_("Task not found."))
    task = services.task_set_status(task=task, status=AccountTask.Status.DONE, by=request.user)  # type: ignore[arg-type]
    if _is_htmx(request):
        return render(request, "retention/_task_done.html", {"task": task})
    messages.success(request, _("Task done: %(title)s") % {"title": task.title})
    return HttpResponseRedirect(reverse("accounts-home"))


# --- one account, whole ---------------------------------------------------------------------------


def _months_back(today: dt.date, count: int) -> list[dt.date]:
    """The first day of each of the `count` months ending with today's, oldest first."""
    months, month = [], today.replace(day=1)
    for _step in range(count):
        months.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return months[::-1]


def health_trend_chart(trend: list[dict[str, Any]], *, today: dt.date) -> tuple[Any, list[charts.Point]]:
    """The 12-month line of the account's month-end health scores; a month without a
    snapshot is a gap, never a zero."""
    by_month = {(row["date"].year, row["date"].month): row["score"] for row in trend}
    points = [
        charts.Point(
            month,
            Decimal(by_month[(month.year, month.month)]) if (month.year, month.month) in by_month else None,
        )
        for month in _months_back(today, account360.TREND_MONTHS)
    ]
    chart = charts.line_chart(
        chart_id="health-trend",
        title=_("Health score"),
        unit=_("points"),
        points=points,
        axis_min=Decimal(0),
        axis_max=Decimal(100),
        note_id="health-trend-note",
    )
    return chart, points


def _health_view(health: dict[str, Any] | None, language: str) -> dict[str, Any] | None:
    if health is None:
        return None
    components = sorted(health["components"], key=lambda c: (-c.get("points_lost", 0), c["key"]))
    return {
        **health,
        "band_label": BANDS.get(health["band"], health["band"]),
        "rfm_label": RFM_LABELS.get(health["rfm_tier"], health["rfm_tier"]),
        "components": [
            {
                "key": c["key"],
                "label": COMPONENT_LABELS.get(c["key"], c["key"]),
                "weight": c.get("weight"),
                "score": c.get("score"),
                "points_lost": c.get("points_lost"),
                "reason": _reason(c, language),
            }
            for c in components
        ],
        "overrides": [
            {
                "key": o["key"],
                "label": OVERRIDE_LABELS.get(o["key"], o["key"]),
                "reason": _reason(o, language),
            }
            for o in health["overrides"]
        ],
    }


def _labelled(rows: list[dict[str, Any]], field: str, labels: dict[Any, Any]) -> list[dict[str, Any]]:
    return [{**row, f"{field}_label": labels.get(row[field], row[field])} for row in rows]


@require_GET
@manager_only
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    today = clock.today()
    try:
        data = account360.account_360(user=request.user, account_id=account_id, today=today)
    except NotFound as missing:
        raise Http404(_("Account not found.")) from missing
    language = translation.get_language() or "en"
    chart, points = health_trend_chart(data["health_trend"], today=today)
    work_order_statuses = dict(WorkOrder.Status.choices)
    work_order_kinds = dict(WorkOrder.Kind.choices)
    account, renewal = data["account"], data["renewal"]
    context = {
        "today": today,
        "account": {
            **account,
            "industry_label": dict(Account.Industry.choices).get(account["industry"], account["industry"]),
            "tier_label": dict(Account.Tier.choices).get(account["tier"], account["tier"]),
        },
        "contacts": data["contacts"],
        "sites": data["sites"],
        "equipment": _labelled(
            _labelled(data["equipment"], "status", dict(Equipment.Status.choices)),
            "criticality",
            dict(Equipment.Criticality.choices),
        ),
        "contracts": _labelled(data["contracts"], "status", dict(ServiceContract.Status.choices)),
        "open_work_orders": _labelled(
            _labelled(data["open_work_orders"], "status", work_order_statuses), "kind", work_order_kinds
        ),
        "recent_work_orders": _labelled(
            _labelled(data["recent_work_orders"], "status", work_order_statuses), "kind", work_order_kinds
        ),
        "health": _health_view(data["health"], language),
        "trend_chart": chart,
        "trend_points": points,
        "renewal": {**renewal, "stage_label": STAGES.get(renewal["stage"], renewal["stage"])}
        if renewal
        else None,
        "now": clock.now(),
    }
    return render(request, "retention/account.html", context)
