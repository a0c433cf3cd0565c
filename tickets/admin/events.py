"""The audit trail of work orders in the back office: read-only for everyone, admins included."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from fieldservice.admin import AccountScopedAdmin
from fieldservice.admin_geo import WktGeometryAdmin
from tickets.models import WorkOrderEvent


class EventInline(AccountScopedAdmin, admin.TabularInline):
    """The audit trail, read-only: events are written by the work-order services only."""

    model = WorkOrderEvent
    account_path = "work_order__account"
    fields = ("at", "type", "from_status", "to_status", "by", "flag_reason", "payload")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(WorkOrderEvent)
class WorkOrderEventAdmin(AccountScopedAdmin, WktGeometryAdmin):
    account_path = "work_order__account"
    list_display = ["work_order", "type", "from_status", "to_status", "at", "by", "flag_reason"]
    list_filter = ["type", "flag_reason"]
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
