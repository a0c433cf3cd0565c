from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from fieldservice.admin_geo import WktGeometryAdmin
from tickets.models import (
    Attachment,
    ChecklistItem,
    PartUsage,
    ServiceReport,
    Signature,
    Survey,
    WorkOrder,
    WorkOrderEvent,
)


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    fields = ["position", "label", "kind", "unit", "required", "result", "value", "text"]
    extra = 0


class PartUsageInline(admin.TabularInline):
    model = PartUsage
    fields = ["part_number", "description", "quantity", "unit_cost", "currency", "recorded_at"]
    extra = 0


class EventInline(admin.TabularInline):
    """The audit trail, read-only: events are written by the work-order services only."""

    model = WorkOrderEvent
    fields = ("at", "type", "from_status", "to_status", "by", "flagged", "payload")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = [
        "number",
        "title",
        "kind",
        "priority",
        "status",
        "account",
        "assigned_technician",
        "planned_start",
        "sla_resolution_due",
    ]
    list_filter = ["status", "kind", "priority", "billable", "first_time_fix", "account__industry"]
    search_fields = ["number", "title", "account__name", "site__name", "equipment__serial_number"]
    autocomplete_fields = [
        "account",
        "site",
        "equipment",
        "contract",
        "maintenance_plan",
        "assigned_technician",
        "created_by",
    ]
    list_select_related = ["account", "assigned_technician"]
    date_hierarchy = "created_at"
    # Status, version and SLA clocks move only through the work-order services.
    readonly_fields = [
        "number",
        "status",
        "version",
        "sla_response_due",
        "sla_resolution_due",
        "sla_paused_minutes",
        "on_hold_since",
        "responded_at",
        "arrived_at",
        "completed_at",
        "first_time_fix",
    ]
    inlines = [ChecklistItemInline, PartUsageInline, EventInline]


@admin.register(WorkOrderEvent)
class WorkOrderEventAdmin(WktGeometryAdmin):
    list_display = ["work_order", "type", "from_status", "to_status", "at", "by", "flagged"]
    list_filter = ["type", "flagged"]
    search_fields = ["work_order__number", "idempotency_key"]
    list_select_related = ["work_order", "by"]
    date_hierarchy = "at"

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["work_order", "position", "label", "kind", "required", "result", "value"]
    list_filter = ["kind", "required", "result"]
    search_fields = ["work_order__number", "label"]
    list_select_related = ["work_order"]


@admin.register(PartUsage)
class PartUsageAdmin(admin.ModelAdmin):
    list_display = ["work_order", "part_number", "description", "quantity", "unit_cost", "currency"]
    list_filter = ["currency"]
    search_fields = ["work_order__number", "part_number", "description"]
    list_select_related = ["work_order"]


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["work_order", "kind", "file", "content_type", "size_bytes", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["work_order__number", "caption"]
    list_select_related = ["work_order"]


@admin.register(Signature)
class SignatureAdmin(admin.ModelAdmin):
    list_display = ["work_order", "signer_name", "signed_at"]
    search_fields = ["work_order__number", "signer_name"]
    list_select_related = ["work_order"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["work_order", "csat", "nps", "submitted_at"]
    list_filter = ["csat", "nps"]
    search_fields = ["work_order__number", "comment"]
    list_select_related = ["work_order"]


@admin.register(ServiceReport)
class ServiceReportAdmin(admin.ModelAdmin):
    list_display = ["work_order", "pdf", "generated_at", "emailed_to", "emailed_at"]
    search_fields = ["work_order__number", "emailed_to"]
    list_select_related = ["work_order"]
