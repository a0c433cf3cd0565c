"""Cases in the back office: opened through case_open (the API's service, with its clocks and
refusals), shown with their timeline. A case moves on the desk and through the API
(cases.services.case_move), never by editing its row here; the timeline is never edited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from cases import services
from cases.models import Case, CaseEvent
from fieldservice.admin import AccountScopedAdmin, acting_user
from fieldservice.errors import Invalid

OPEN_FIELDS = ["account", "contact", "kind", "severity", "channel", "title", "description", "owner"]
# case_open's refusals name the API's fields; here they belong beside the form's.
FORM_FIELD = {"contact_id": "contact", "account_id": "account"}


class CaseOpenForm(forms.ModelForm):
    class Meta:
        model = Case
        fields = OPEN_FIELDS

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or data.get("account") is None:
            return data
        try:
            services.case_open_check(
                account=data["account"],
                kind=data["kind"],
                severity=data["severity"],
                channel=data["channel"],
                title=data["title"],
                contact=data.get("contact"),
            )
        except Invalid as refusal:
            field = (refusal.details or {}).get("field")
            self.add_error(
                FORM_FIELD.get(field, field) if field in {*OPEN_FIELDS, *FORM_FIELD} else None,
                refusal.message,
            )
        return data


class CaseEventInline(AccountScopedAdmin, admin.TabularInline):
    """The timeline, read-only: written by the case services only."""

    model = CaseEvent
    account_path = "case__account"
    fields = ("at", "type", "from_status", "to_status", "by", "text", "customer_visible")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(AccountScopedAdmin, admin.ModelAdmin):
    list_display = [
        "number",
        "title",
        "account",
        "kind",
        "severity",
        "status",
        "owner",
        "resolution_due",
        "clock_source",
    ]
    list_filter = ["status", "kind", "severity", "channel", "clock_source"]
    search_fields = ["number", "title", "account__name"]
    list_select_related = ["account", "owner"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["account"]
    inlines = [CaseEventInline]
    form = CaseOpenForm

    def get_fields(self, request: HttpRequest, obj: Case | None = None) -> Any:
        if obj is None:
            return OPEN_FIELDS
        return [
            "number",
            "status",
            "kind",
            "severity",
            "channel",
            "account",
            "contact",
            "owner",
            "title",
            "description",
            "work_orders",
            "response_due",
            "resolution_due",
            "clock_source",
            "contract",
            "acknowledged_at",
            "resolved_at",
            "closed_at",
            "resolution",
            "reopened_count",
            "survey",
            "created_at",
            "created_by",
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Case | None = None) -> Any:
        return [] if obj is None else self.get_fields(request, obj)

    def get_inline_instances(self, request: HttpRequest, obj: Case | None = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if obj is not None else []

    # Moves go through the desk and the API (case_move); a deleted case would lose its trail.
    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        data = form.cleaned_data
        return services.case_open(
            account=data["account"],
            contact=data.get("contact"),
            kind=data["kind"],
            severity=data["severity"],
            channel=data["channel"],
            title=data["title"],
            description=data.get("description", ""),
            owner=data.get("owner"),
            by=acting_user(request),
        )

    def save_model(self, request: HttpRequest, obj: Case, form: Any, change: bool) -> None:
        """Nothing here: the case was opened by case_open in save_form."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing here either: case_open wrote everything the case starts with."""


@admin.register(CaseEvent)
class CaseEventAdmin(AccountScopedAdmin, admin.ModelAdmin):
    """The timeline of every case: read-only for everyone, admins included."""

    account_path = "case__account"
    list_display = ["case", "type", "from_status", "to_status", "at", "by", "customer_visible", "emailed_at"]
    list_filter = ["type", "customer_visible"]
    search_fields = ["case__number", "text"]
    list_select_related = ["case", "by"]
    date_hierarchy = "at"

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
