"""The back office's contracts. Every save or delete of a contract, or of its SLA terms and
coverage on their own pages, goes through contracts.services, which records it in the audit
trail (shown, to admins, as the contract page's Change history)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from contracts import services
from contracts.models import (
    AccountTask,
    ContractSLATerm,
    CoveredEquipment,
    HealthScore,
    RenewalOpportunity,
    RenewalReminder,
    ServiceContract,
)
from fieldservice.admin import AccountScopedAdmin, AuditHistoryInline, acting_user
from fieldservice.audit import Source


class SLATermInline(AccountScopedAdmin, admin.TabularInline):
    account_path = "contract__account"
    model = ContractSLATerm
    extra = 0


class CoveredEquipmentInline(AccountScopedAdmin, admin.TabularInline):
    account_path = "contract__account"
    model = CoveredEquipment
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
    readonly_fields = ["version"]
    inlines = [SLATermInline, CoveredEquipmentInline, AuditHistoryInline]

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
    list_display = ["contract", "equipment", "added_on"]
    list_filter = ["contract__status"]
    search_fields = ["contract__number", "equipment__serial_number"]
    autocomplete_fields = ["contract", "equipment"]
    list_select_related = ["contract", "equipment", "equipment__equipment_model"]


@admin.register(RenewalOpportunity)
class RenewalOpportunityAdmin(AccountScopedAdmin, admin.ModelAdmin):
    account_path = "contract__account"
    list_display = ["contract", "owner", "stage", "proposed_value", "health_band_at_open", "stage_changed_at"]
    list_filter = ["stage", "health_band_at_open", "owner"]
    search_fields = ["contract__number", "contract__account__name"]
    autocomplete_fields = ["contract", "owner"]
    list_select_related = ["contract", "owner"]


@admin.register(RenewalReminder)
class RenewalReminderAdmin(AccountScopedAdmin, admin.ModelAdmin):
    account_path = "contract__account"
    list_display = ["contract", "milestone", "due_date", "sent_at"]
    list_filter = ["milestone"]
    search_fields = ["contract__number", "contract__account__name"]
    list_select_related = ["contract"]
    date_hierarchy = "due_date"


@admin.register(AccountTask)
class AccountTaskAdmin(AccountScopedAdmin, admin.ModelAdmin):
    list_display = ["title", "account", "kind", "owner", "due_date", "status"]
    list_filter = ["kind", "status", "owner"]
    search_fields = ["title", "account__name"]
    autocomplete_fields = ["account", "contract", "owner"]
    list_select_related = ["account", "owner"]


@admin.register(HealthScore)
class HealthScoreAdmin(AccountScopedAdmin, admin.ModelAdmin):
    list_display = ["account", "date", "score", "band", "declining", "rfm_tier"]
    list_filter = ["band", "declining", "rfm_tier", "date"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    date_hierarchy = "date"
