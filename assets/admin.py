from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from assets import services
from assets.models import (
    Account,
    ChecklistTemplate,
    Contact,
    Equipment,
    EquipmentModel,
    MaintenancePlan,
    MeterReading,
    Site,
)
from fieldservice import roles
from fieldservice.admin import (
    AccountScopedAdmin,
    AuditHistoryInline,
    BackOfficeAdmin,
    ShownNotEdited,
    acting_user,
)
from fieldservice.admin_geo import WktGeometryAdmin
from fieldservice.audit import Source
from importing import admin_views as import_views


class SiteInline(AccountScopedAdmin, admin.TabularInline):
    model = Site
    fields = ["name", "city", "time_zone", "access_opens", "access_closes"]
    extra = 0
    show_change_link = True


class ContactInline(AccountScopedAdmin, admin.TabularInline):
    model = Contact
    fields = ["name", "title", "email", "phone", "site", "is_primary"]
    extra = 0


@admin.register(Account)
class AccountAdmin(AccountScopedAdmin, admin.ModelAdmin):
    account_path = ""
    list_display = ["name", "industry", "tier", "annual_contract_value", "currency", "account_manager"]
    list_filter = ["industry", "tier", "account_manager"]
    search_fields = ["name", "external_id"]
    autocomplete_fields = ["account_manager"]
    inlines = [SiteInline, ContactInline]

    def get_urls(self) -> list[URLPattern]:
        # The CSV import of every kind hangs off the accounts, where a new customer starts.
        guarded = self.admin_site.admin_view
        return [
            path("import/", guarded(import_views.import_view), name="assets_import_csv"),
            path(
                "import/report/<str:token>/",
                guarded(import_views.import_report_view),
                name="assets_import_csv_report",
            ),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_import_csv": roles.has_role(request.user, roles.ADMIN)}
        return super().changelist_view(request, extra_context)


@admin.register(Site)
class SiteAdmin(AccountScopedAdmin, WktGeometryAdmin):
    list_display = ["name", "account", "city", "time_zone", "access_opens", "access_closes"]
    list_filter = ["city", "time_zone", "account__industry"]
    search_fields = ["name", "address", "account__name", "external_id"]
    autocomplete_fields = ["account"]
    list_select_related = ["account"]


@admin.register(Contact)
class ContactAdmin(AccountScopedAdmin, admin.ModelAdmin):
    list_display = ["name", "account", "site", "title", "email", "phone", "is_primary"]
    list_filter = ["is_primary", "language"]
    search_fields = ["name", "email", "phone", "account__name"]
    autocomplete_fields = ["account", "site"]
    list_select_related = ["account", "site"]


@admin.register(EquipmentModel)
class EquipmentModelAdmin(BackOfficeAdmin, admin.ModelAdmin):
    list_display = [
        "manufacturer",
        "model_number",
        "name",
        "category",
        "required_skill",
        "required_skill_level",
    ]
    list_filter = ["category", "manufacturer", "required_skill"]
    search_fields = ["manufacturer", "model_number", "name"]


class MeterReadingInline(ShownNotEdited, AccountScopedAdmin, admin.TabularInline):
    account_path = "equipment__site__account"
    model = MeterReading
    fields = ["kind", "value", "read_at", "source"]
    extra = 0
    ordering = ["-read_at"]
    max_num = 50


@admin.register(Equipment)
class EquipmentAdmin(AccountScopedAdmin, admin.ModelAdmin):
    account_path = "site__account"
    list_display = [
        "serial_number",
        "equipment_model",
        "site",
        "status",
        "criticality",
        "install_date",
        "warranty_end",
    ]
    list_filter = ["status", "criticality", "equipment_model__category", "manufacturer"]
    search_fields = ["serial_number", "asset_tag", "external_id", "site__name", "site__account__name"]
    autocomplete_fields = ["site", "equipment_model", "parent"]
    readonly_fields = ["manufacturer"]
    inlines = [MeterReadingInline, AuditHistoryInline]
    list_select_related = ["equipment_model", "site", "site__account"]
    date_hierarchy = "install_date"

    # Through the services, which record every change in the audit trail (its Change history).
    def save_model(self, request: HttpRequest, obj: Equipment, form: object, change: bool) -> None:
        services.equipment_save(equipment=obj, by=acting_user(request), source=Source.ADMIN)

    def delete_model(self, request: HttpRequest, obj: Equipment) -> None:
        services.equipment_delete(equipment=obj, by=acting_user(request), source=Source.ADMIN)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Equipment]) -> None:
        for unit in queryset.order_by("pk"):
            services.equipment_delete(equipment=unit, by=acting_user(request), source=Source.ADMIN)


@admin.register(MeterReading)
class MeterReadingAdmin(ShownNotEdited, AccountScopedAdmin, admin.ModelAdmin):
    """Readings come from the technician app (tickets.records.meter_readings.meter_reading_record,
    which refuses a meter running backwards, flags an implausible jump and updates the unit's
    daily usage, hence its next preventive visit) and from imports: shown, never edited."""

    account_path = "equipment__site__account"
    list_display = ["equipment", "kind", "value", "read_at", "source"]
    list_filter = ["kind", "source"]
    search_fields = ["equipment__serial_number"]
    autocomplete_fields = ["equipment", "recorded_by"]
    list_select_related = ["equipment", "equipment__equipment_model"]
    date_hierarchy = "read_at"


@admin.register(ChecklistTemplate)
class ChecklistTemplateAdmin(BackOfficeAdmin, admin.ModelAdmin):
    list_display = ["name", "updated_at"]
    search_fields = ["name"]


@admin.register(MaintenancePlan)
class MaintenancePlanAdmin(AccountScopedAdmin, admin.ModelAdmin):
    account_path = "equipment__site__account"
    list_display = ["name", "equipment", "trigger", "schedule", "interval_days", "meter_interval", "active"]
    list_filter = ["trigger", "schedule", "active", "required_skill"]
    search_fields = ["name", "equipment__serial_number", "equipment__site__account__name"]
    autocomplete_fields = ["equipment", "checklist_template"]
    list_select_related = ["equipment", "equipment__equipment_model"]
