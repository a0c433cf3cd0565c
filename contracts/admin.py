"""The back office's contracts. Every save or delete of a contract, or of its SLA terms and
coverage on their own pages, goes through contracts.services, which records it in the audit
trail (shown, to admins, as the contract page's Change history).

The back office gives the same answers as the other doors: a contract's status moves only
through the lifecycle services (the "activate" and "cancel" actions here; renewals and
expiry by the renewal run), never by editing the field, as the import refuses it too; a
contract covers only its own account's equipment; a renewal's stage moves through
opportunity_stage_set, a task's status through task_set_status, each on the records the
API would let this user move. What the renewal run and the nightly health run write
(reminders sent, health scores) is shown, never edited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contracts import selectors, services
from contracts.models import (
    AccountTask,
    ContractSLATerm,
    CoveredEquipment,
    HealthScore,
    RenewalOpportunity,
    RenewalReminder,
    ServiceContract,
)
from fieldservice.admin import AccountScopedAdmin, AuditHistoryInline, ShownNotEdited, acting_user
from fieldservice.audit import Source
from fieldservice.errors import DomainError


class CoverageForm(forms.ModelForm):
    """A contract covers equipment at its own account's sites (as the import checks)."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        equipment = cleaned.get("equipment")
        contract = cleaned.get("contract") or getattr(self.instance, "contract", None)
        if (
            equipment is not None
            and contract is not None
            and equipment.site.account_id != contract.account_id
        ):
            self.add_error(
                "equipment",
                forms.ValidationError(
                    _("This equipment stands at another account's site."), code="other_account"
                ),
            )
        return cleaned


class SLATermInline(AccountScopedAdmin, admin.TabularInline):
    account_path = "contract__account"
    model = ContractSLATerm
    extra = 0


class CoveredEquipmentInline(AccountScopedAdmin, admin.TabularInline):
    account_path = "contract__account"
    model = CoveredEquipment
    form = CoverageForm
    autocomplete_fields = ["equipment"]
    extra = 0


@admin.register(ServiceContract)
class ServiceContractAdmin(AccountScopedAdmin, admin.ModelAdmin):
    list_display = [
        "number",
        "account",
        "start_date",
        "end_date",
        "annual_value",
        "currency",
        "status",
        "auto_renew",
    ]
    list_filter = ["status", "auto_renew", "sla_calendar", "account__industry", "account__account_manager"]
    search_fields = ["number", "external_id", "account__name"]
    autocomplete_fields = ["account", "predecessor"]
    list_select_related = ["account"]
    date_hierarchy = "end_date"
    # The status moves through the lifecycle services (the actions below, the renewal run);
    # the predecessor is the renewal's link. A new contract is a draft.
    readonly_fields = ["status", "predecessor", "version"]
    inlines = [SLATermInline, CoveredEquipmentInline, AuditHistoryInline]
    actions = ["activate", "cancel"]

    @admin.action(description=_("Activate the selected draft contracts"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[ServiceContract]) -> None:
        self._move(request, queryset, services.contract_activate)

    @admin.action(description=_("Cancel the selected contracts"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[ServiceContract]) -> None:
        self._move(request, queryset, services.contract_cancel)

    def _move(self, request: HttpRequest, queryset: QuerySet[ServiceContract], service: Any) -> None:
        """Each contract through the service; each refusal reported, the others still moved."""
        moved = 0
        for contract in queryset.order_by("pk"):
            try:
                service(contract=contract, by=acting_user(request), source=Source.ADMIN)
            except DomainError as refusal:
                self.message_user(
                    request,
                    _("%(number)s was not changed: %(reason)s")
                    % {"number": contract.number, "reason": refusal.message},
                    messages.ERROR,
                )
            else:
                moved += 1
        if moved:
            self.message_user(
                request,
                ngettext("%(count)d contract changed.", "%(count)d contracts changed.", moved)
                % {"count": moved},
                messages.SUCCESS,
            )

    def save_model(self, request: HttpRequest, obj: ServiceContract, form: ModelForm, change: bool) -> None:
        """Saved in save_related instead, together with its SLA terms and coverage, so that
        one audit entry holds the whole edit."""

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        services.contract_save(
            contract=form.instance,
            by=acting_user(request),
            source=Source.ADMIN,
            save_related=lambda: super(ServiceContractAdmin, self).save_related(
                request, form, formsets, change
            ),
        )

    def delete_model(self, request: HttpRequest, obj: ServiceContract) -> None:
        services.contract_delete(contract=obj, by=acting_user(request), source=Source.ADMIN)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ServiceContract]) -> None:
        for contract in queryset.order_by("pk"):
            services.contract_delete(contract=contract, by=acting_user(request), source=Source.ADMIN)


class ContractPartAdmin(AccountScopedAdmin, admin.ModelAdmin):
    """SLA terms and coverage edited on their own pages: each change is recorded under its
    contract (both contracts, when a row is moved from one to another)."""

    account_path = "contract__account"

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        concerned = [obj.contract]
        if change:
            concerned.append(type(obj).objects.select_related("contract").get(pk=obj.pk).contract)
        services.contract_terms_change(
            contracts=concerned,
            by=acting_user(request),
            source=Source.ADMIN,
            change=lambda: super(ContractPartAdmin, self).save_model(request, obj, form, change),
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        services.contract_terms_change(
            contracts=[obj.contract],  # type: ignore[attr-defined]
            by=acting_user(request),
            source=Source.ADMIN,
            change=lambda: super(ContractPartAdmin, self).delete_model(request, obj),
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        services.contract_terms_change(
            contracts=ServiceContract.objects.filter(pk__in=queryset.values("contract_id")),
            by=acting_user(request),
            source=Source.ADMIN,
            change=lambda: super(ContractPartAdmin, self).delete_queryset(request, queryset),
        )


@admin.register(ContractSLATerm)
class ContractSLATermAdmin(ContractPartAdmin):
    list_display = ["contract", "priority", "response_hours", "resolution_hours"]
    list_filter = ["priority"]
    search_fields = ["contract__number"]
    autocomplete_fields = ["contract"]


@admin.register(CoveredEquipment)
class CoveredEquipmentAdmin(ContractPartAdmin):
    form = CoverageForm
    list_display = ["contract", "equipment", "added_on"]
    list_filter = ["contract__status"]
    search_fields = ["contract__number", "equipment__serial_number"]
    autocomplete_fields = ["contract", "equipment"]
    list_select_related = ["contract", "equipment", "equipment__equipment_model"]


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
    """Computed nightly (contracts.health); an edited score would be a made-up one."""

    list_display = ["account", "date", "score", "band", "declining", "rfm_tier"]
    list_filter = ["band", "declining", "rfm_tier", "date"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    date_hierarchy = "date"
