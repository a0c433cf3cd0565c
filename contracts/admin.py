from django.contrib import admin

from contracts.models import (
    AccountTask,
    ContractSLATerm,
    CoveredEquipment,
    HealthScore,
    RenewalOpportunity,
    RenewalReminder,
    ServiceContract,
)


class SLATermInline(admin.TabularInline):
    model = ContractSLATerm
    extra = 0


class CoveredEquipmentInline(admin.TabularInline):
    model = CoveredEquipment
    autocomplete_fields = ["equipment"]
    extra = 0


@admin.register(ServiceContract)
class ServiceContractAdmin(admin.ModelAdmin):
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
    inlines = [SLATermInline, CoveredEquipmentInline]


@admin.register(ContractSLATerm)
class ContractSLATermAdmin(admin.ModelAdmin):
    list_display = ["contract", "priority", "response_hours", "resolution_hours"]
    list_filter = ["priority"]
    search_fields = ["contract__number"]
    autocomplete_fields = ["contract"]


@admin.register(CoveredEquipment)
class CoveredEquipmentAdmin(admin.ModelAdmin):
    list_display = ["contract", "equipment", "added_on"]
    list_filter = ["contract__status"]
    search_fields = ["contract__number", "equipment__serial_number"]
    autocomplete_fields = ["contract", "equipment"]
    list_select_related = ["contract", "equipment", "equipment__equipment_model"]


@admin.register(RenewalOpportunity)
class RenewalOpportunityAdmin(admin.ModelAdmin):
    list_display = ["contract", "owner", "stage", "proposed_value", "health_band_at_open", "stage_changed_at"]
    list_filter = ["stage", "health_band_at_open", "owner"]
    search_fields = ["contract__number", "contract__account__name"]
    autocomplete_fields = ["contract", "owner"]
    list_select_related = ["contract", "owner"]


@admin.register(RenewalReminder)
class RenewalReminderAdmin(admin.ModelAdmin):
    list_display = ["contract", "milestone", "due_date", "sent_at"]
    list_filter = ["milestone"]
    search_fields = ["contract__number", "contract__account__name"]
    list_select_related = ["contract"]
    date_hierarchy = "due_date"


@admin.register(AccountTask)
class AccountTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "account", "kind", "owner", "due_date", "status"]
    list_filter = ["kind", "status", "owner"]
    search_fields = ["title", "account__name"]
    autocomplete_fields = ["account", "contract", "owner"]
    list_select_related = ["account", "owner"]


@admin.register(HealthScore)
class HealthScoreAdmin(admin.ModelAdmin):
    list_display = ["account", "date", "score", "band", "declining", "rfm_tier"]
    list_filter = ["band", "declining", "rfm_tier", "date"]
    search_fields = ["account__name"]
    list_select_related = ["account"]
    date_hierarchy = "date"
