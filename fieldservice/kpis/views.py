"""The KPI page and its CSV: the same figures, the same filters, the same scope rules.

Who sees what: dispatchers and admins see every account and may filter by territory,
industry and account manager. An account manager who is not an admin sees only the
accounts they manage, whatever the request says (the account manager filter is not
offered and not read).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets.models import Account
from fieldservice import clock, ranges, roles
from fieldservice.kpis import charts
from fieldservice.kpis.definitions import KPIS, Kpi, scope_note
from fieldservice.kpis.queries import Scope, monthly_kpis
from fieldservice.web import role_required
from scheduling.models import Territory

KPI_ROLES = (roles.DISPATCHER, roles.ACCOUNT_MANAGER, roles.ADMIN)


def restricted_manager(user: AbstractBaseUser | AnonymousUser) -> int | None:
    """The user's own id when they may see only their own accounts, else None."""
    held = roles.user_roles(user)
    if roles.ACCOUNT_MANAGER in held and roles.ADMIN not in held:
        return user.pk
    return None


class ManagerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.get_username()


class KpiFilterForm(forms.Form):
    territory = forms.ModelChoiceField(
        queryset=Territory.objects.order_by("name"),
        required=False,
        label=gettext_lazy("Territory"),
        empty_label=gettext_lazy("All territories"),
    )
    industry = forms.ChoiceField(
        choices=[("", gettext_lazy("All industries")), *Account.Industry.choices],
        required=False,
        label=gettext_lazy("Industry"),
    )
    account_manager = ManagerChoiceField(
        queryset=User.objects.filter(managed_accounts__isnull=False)
        .distinct()
        .order_by("first_name", "last_name", "username"),
        required=False,
        label=gettext_lazy("Account manager"),
        empty_label=gettext_lazy("All account managers"),
    )
    # In fieldservice.ranges: the twelve months before 0001-01 or after 9999-12 overflowed.
    until = ranges.date_field(
        required=False,
        label=gettext_lazy("Last month"),
        input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        help_text=gettext_lazy("The 12 months shown end with this one (default: this month)."),
    )

    def __init__(self, *args: Any, manager_fixed: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if manager_fixed:
            del self.fields["account_manager"]


@dataclass(frozen=True)
class Request:
    """What a KPI request asks for, once validated and scoped to the user."""

    form: KpiFilterForm
    scope: Scope
    last_month: dt.date
    query_string: str
    valid: bool


def _read(request: HttpRequest) -> Request:
    own = restricted_manager(request.user)
    form = KpiFilterForm(request.GET or None, manager_fixed=own is not None)
    # An invalid field is reported on the page and left out of the scope; the valid ones apply.
    cleaned: dict[str, Any] = {}
    valid = True
    if form.is_bound:
        valid = form.is_valid()
        cleaned = form.cleaned_data
    territory, manager = cleaned.get("territory"), cleaned.get("account_manager")
    scope = Scope(
        territory_id=territory.pk if territory else None,
        industry=cleaned.get("industry") or None,
        account_manager_id=own if own is not None else (manager.pk if manager else None),
    )
    last_month = cleaned.get("until") or clock.today()
    params = {
        "territory": scope.territory_id or "",
        "industry": scope.industry or "",
        "account_manager": "" if own is not None else (scope.account_manager_id or ""),
        "until": cleaned["until"].strftime("%Y-%m") if cleaned.get("until") else "",
    }
    query_string = urlencode({key: value for key, value in params.items() if value != ""})
    return Request(form=form, scope=scope, last_month=last_month, query_string=query_string, valid=valid)


def _figures(asked: Request) -> list[dict[str, Any]]:
    return monthly_kpis(scope=asked.scope, last_month=asked.last_month, today=clock.today(), now=clock.now())


@dataclass(frozen=True)
class Figure:
    kpi: Kpi
    note: str
    chart: str
    latest: Decimal | None
    rows: list[tuple[dt.date, Decimal | None, list[Any]]]


def _figure(kpi: Kpi, months: list[dict[str, Any]]) -> Figure:
    points = [charts.Point(row["month"], row[kpi.key]) for row in months]
    known = [p.value for p in points if p.value is not None]
    return Figure(
        kpi=kpi,
        note=kpi.note(),
        chart=charts.line_chart(
            chart_id=f"chart-{kpi.key}",
            title=str(kpi.label),
            unit=str(kpi.unit),
            points=points,
            axis_min=kpi.axis_min,
            axis_max=kpi.axis_max,
            note_id=f"note-{kpi.key}",
        ),
        latest=known[-1] if known else None,
        rows=[(row["month"], row[kpi.key], [row[c.key] for c in kpi.counts]) for row in months],
    )


@role_required(*KPI_ROLES)
def kpi_page(request: HttpRequest) -> HttpResponse:
    """The figures; a filter that is not valid is shown with its error (400) and left out."""
    asked = _read(request)
    months = _figures(asked)
    context = {
        "form": asked.form,
        "manager_fixed": restricted_manager(request.user) is not None,
        "figures": [_figure(kpi, months) for kpi in KPIS],
        "kpis": KPIS,
        "months": [(row["month"], [row[kpi.key] for kpi in KPIS]) for row in months],
        "first_month": months[0]["month"],
        "last_month": months[-1]["month"],
        "query_string": asked.query_string,
        "scope_note": scope_note(),
    }
    return render(request, "kpis/page.html", context, status=200 if asked.valid else 400)


def _invalid_filters(form: KpiFilterForm) -> str:
    return "\n".join(
        f"{getattr(form.fields.get(name), 'label', None) or name}: {' '.join(str(error) for error in errors)}"
        for name, errors in form.errors.items()
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return str(value)


@role_required(*KPI_ROLES)
def kpi_export(request: HttpRequest) -> HttpResponse:
    """The 12 months as CSV: one header row, one row per month, the figures and their counts."""
    asked = _read(request)
    if not asked.valid:
        # A file of other months or accounts than asked for would be taken for the answer.
        return HttpResponseBadRequest(_invalid_filters(asked.form), content_type="text/plain; charset=utf-8")
    months = _figures(asked)
    today = clock.today()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kpis-{today.isoformat()}.csv"'
    writer = csv.writer(response)
    header = [_("Month")]
    for kpi in KPIS:
        header.append(f"{kpi.label} ({kpi.unit})")
        header.extend(f"{kpi.label}: {count.label}" for count in kpi.counts)
    writer.writerow(header)
    for row in months:
        line = [row["month"].strftime("%Y-%m")]
        for kpi in KPIS:
            line.append(_cell(row[kpi.key]))
            line.extend(_cell(row[count.key]) for count in kpi.counts)
        writer.writerow(line)
    return response
