"""The back office's account-manager records. A renewal's stage moves through
opportunity_stage_set, a task's status through task_set_status, each on the records the API
would let this user move. What the renewal run and the nightly health run write (reminders
sent, health scores) is shown, never edited."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from contracts.models import AccountTask, HealthScore, RenewalOpportunity, RenewalReminder
from fieldservice.admin import AccountScopedAdmin, ShownNotEdited, acting_user
from retention import selectors, services


class StageForm(forms.ModelForm):
    """A renewal's stage and proposed value: what the API's "move" takes, nothing else."""

    class Meta:
        model = RenewalOpportunity
        fields = ["stage", "proposed_value"]

    def clean_proposed_value(self) -> Any:
        value = self.cleaned_data["proposed_value"]
        if value is not None and value < 0:  # as opportunity_stage_set refuses it
            raise forms.ValidationError(_("The proposed value cannot be negative."), code="value_negative")
        return value


@admin.register(RenewalOpportunity)
class RenewalOpportunityAdmin(AccountScopedAdmin, admin.ModelAdmin):
    """Opened by the renewal run; a person moves the deal through opportunity_stage_set, as on
    the renewals page and in the API, and a won or lost one is closed."""

    account_path = "contract__account"
    form = StageForm
    list_display = ["contract", "owner", "stage", "proposed_value", "health_band_at_open", "stage_changed_at"]
    list_filter = ["stage", "health_band_at_open", "owner"]
    search_fields = ["contract__number", "contract__account__name"]
    list_select_related = ["contract", "owner"]
    fields = [
        "contract",
        "owner",
        "stage",
        "proposed_value",
        "stage_changed_at",
        "health_score_at_open",
        "health_band_at_open",
        "quote_pdf",
        "quote_valid_until",
        "closed_at",
    ]
    readonly_fields = [
        "contract",
        "owner",
        "stage_changed_at",
        "health_score_at_open",
        "health_band_at_open",
        "quote_pdf",
        "quote_valid_until",
        "closed_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # the renewal run would open it again, back at the first stage

    def has_change_permission(self, request: HttpRequest, obj: RenewalOpportunity | None = None) -> bool:
        if obj is not None and obj.stage in RenewalOpportunity.CLOSED_STAGES:
            return False
        return super().has_change_permission(request, obj)

    def save_model(
        self, request: HttpRequest, obj: RenewalOpportunity, form: ModelForm, change: bool
    ) -> None:
        if form.changed_data:
            services.opportunity_stage_set(
                opportunity=obj,
                stage=form.cleaned_data["stage"],
                by=acting_user(request),
                proposed_value=form.cleaned_data["proposed_value"],
            )


@admin.register(RenewalReminder)
class RenewalReminderAdmin(ShownNotEdited, AccountScopedAdmin, admin.ModelAdmin):
    """Written by the renewal run, once per milestone: deleting one would send it again."""

    account_path = "contract__account"
    list_display = ["contract", "milestone", "due_date", "sent_at"]
    list_filter = ["milestone"]
    search_fields = ["contract__number", "contract__account__name"]
    list_select_related = ["contract"]
    date_hierarchy = "due_date"


@admin.register(AccountTask)
class AccountTaskAdmin(AccountScopedAdmin, admin.ModelAdmin):
    """Opened by the renewal run and the health alerts; a person sets the status of their own
    tasks (an admin also of the unowned ones) through task_set_status, as in the API."""

    list_display = ["title", "account", "kind", "owner", "due_date", "status"]
    list_filter = ["kind", "status", "owner"]
    search_fields = ["title", "account__name"]
    list_select_related = ["account", "owner"]
    fields = ["title", "account", "contract", "kind", "owner", "due_date", "status"]
    readonly_fields = ["title", "account", "contract", "kind", "owner", "due_date"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # a deleted task would be opened again by the run that opened it

    def has_change_permission(self, request: HttpRequest, obj: AccountTask | None = None) -> bool:
        if obj is not None and not selectors.tasks_visible_to(request.user).filter(pk=obj.pk).exists():
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: AccountTask, form: ModelForm, change: bool) -> None:
        if "status" in form.changed_data:
            services.task_set_status(task=obj, status=form.cleaned_data["status"], by=acting_user(request))


@admin.register(HealthScore)
class HealthScoreAdmin(ShownNotEdited, AccountScopedAdmin, admin.ModelAdmin):
    """Computed nightly (retention.health); an edited score would be a made-up one."""

    list_display = ["account", "date", "score", "band", "declining", "rfm_tier"]
    list_filter = ["band", "declining", "rfm_tier", "date"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    date_hierarchy = "date"
