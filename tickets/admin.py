"""The back office's work orders. Corrections made here go through tickets.backoffice, which
writes them to the work order's audit trail (its events) with the old and new values."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from fieldservice.admin import AccountScopedAdmin, acting_user
from fieldservice.admin_geo import WktGeometryAdmin
from tickets import backoffice
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


class ChecklistItemInline(AccountScopedAdmin, admin.TabularInline):
    account_path = "work_order__account"
    model = ChecklistItem
    fields = ["position", "label", "kind", "unit", "required", "result", "value", "text"]
    extra = 0


class PartUsageInline(AccountScopedAdmin, admin.TabularInline):
    account_path = "work_order__account"
    model = PartUsage
    fields = ["part_number", "description", "quantity", "unit_cost", "currency", "recorded_at"]
    extra = 0


class EventInline(AccountScopedAdmin, admin.TabularInline):
    """The audit trail, read-only: events are written by the work-order services only."""

    model = WorkOrderEvent
    account_path = "work_order__account"
    fields = ("at", "type", "from_status", "to_status", "by", "flagged", "payload")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(AccountScopedAdmin, admin.ModelAdmin):
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

    def save_model(self, request: HttpRequest, obj: WorkOrder, form: ModelForm, change: bool) -> None:
        """Saved in save_related instead, with the checklist and parts edited on the same page,
        so that one event holds the whole correction."""

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        backoffice.work_order_backoffice_save(
            work_order=form.instance,
            by=acting_user(request),
            save_related=lambda: super(WorkOrderAdmin, self).save_related(request, form, formsets, change),
        )

    def delete_model(self, request: HttpRequest, obj: WorkOrder) -> None:
        backoffice.work_order_backoffice_delete(work_order=obj, by=acting_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WorkOrder]) -> None:
        for work_order in queryset.order_by("pk"):
            backoffice.work_order_backoffice_delete(work_order=work_order, by=acting_user(request))


class WorkOrderRecordAdmin(AccountScopedAdmin, admin.ModelAdmin):
    """A record of a work order (checklist answer, part, photo, signature, survey, report)
    corrected on its own page: each change is written to its work order's events."""

    account_path = "work_order__account"

    def save_model(self, request: HttpRequest, obj: Any, form: ModelForm, change: bool) -> None:
        concerned = {obj.work_order_id}
        if change:
            concerned.add(type(obj).objects.values_list("work_order_id", flat=True).get(pk=obj.pk))
        backoffice.work_order_record_backoffice_change(
            record=obj,
            work_order_ids=concerned,
            by=acting_user(request),
            change=lambda: super(WorkOrderRecordAdmin, self).save_model(request, obj, form, change),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        backoffice.work_order_record_backoffice_change(
            record=obj,
            work_order_ids={obj.work_order_id},
            by=acting_user(request),
            change=lambda: super(WorkOrderRecordAdmin, self).delete_model(request, obj),
            deleting=True,
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for record in queryset.order_by("pk"):
            self.delete_model(request, record)


@admin.register(WorkOrderEvent)
class WorkOrderEventAdmin(AccountScopedAdmin, WktGeometryAdmin):
    account_path = "work_order__account"
    list_display = ["work_order", "type", "from_status", "to_status", "at", "by", "flagged"]
    list_filter = ["type", "flagged"]
    search_fields = ["work_order__number", "idempotency_key"]
    list_select_related = ["work_order", "by"]
    date_hierarchy = "at"

    # The audit trail is read-only for everyone, admins included.
    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(ChecklistItem)
class ChecklistItemAdmin(WorkOrderRecordAdmin):
    list_display = ["work_order", "position", "label", "kind", "required", "result", "value"]
    list_filter = ["kind", "required", "result"]
    search_fields = ["work_order__number", "label"]
    list_select_related = ["work_order"]


@admin.register(PartUsage)
class PartUsageAdmin(WorkOrderRecordAdmin):
    list_display = ["work_order", "part_number", "description", "quantity", "unit_cost", "currency"]
    list_filter = ["currency"]
    search_fields = ["work_order__number", "part_number", "description"]
    list_select_related = ["work_order"]


@admin.register(Attachment)
class AttachmentAdmin(WorkOrderRecordAdmin):
    list_display = ["work_order", "kind", "file", "content_type", "size_bytes", "uploaded_at"]
    list_filter = ["kind", "content_type"]
    search_fields = ["work_order__number", "caption"]
    list_select_related = ["work_order"]


@admin.register(Signature)
class SignatureAdmin(WorkOrderRecordAdmin):
    list_display = ["work_order", "signer_name", "signed_at"]
    search_fields = ["work_order__number", "signer_name"]
    list_select_related = ["work_order"]


@admin.register(Survey)
class SurveyAdmin(WorkOrderRecordAdmin):
    list_display = ["work_order", "csat", "nps", "submitted_at"]
    list_filter = ["csat", "nps"]
    search_fields = ["work_order__number", "comment"]
    list_select_related = ["work_order"]


@admin.register(ServiceReport)
class ServiceReportAdmin(WorkOrderRecordAdmin):
    list_display = ["work_order", "pdf", "generated_at", "emailed_to", "emailed_at"]
    search_fields = ["work_order__number", "emailed_to"]
    list_select_related = ["work_order"]
