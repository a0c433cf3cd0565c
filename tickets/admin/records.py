"""What was recorded on a visit, in the back office: shown, never edited, but the office prices parts."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from fieldservice.admin import AccountScopedAdmin, AuditHistoryInline, ShownNotEdited, acting_user
from fieldservice.ranges import MAX_MONEY, number_validators
from tickets import backoffice
from tickets.models import Attachment, ChecklistItem, PartUsage, ServiceReport, Signature, Survey


class RecordedOnSite(ShownNotEdited):
    """What was recorded on a visit, shown and never edited in the back office: the API adds
    these only between arrival and completion (tickets.records), and never changes or
    deletes them; once the work order is completed they are what the customer was sent."""


class ChecklistItemInline(RecordedOnSite, AccountScopedAdmin, admin.TabularInline):
    account_path = "work_order__account"
    model = ChecklistItem
    fields = ["position", "label", "kind", "unit", "required", "result", "value", "text"]
    extra = 0


class PartUsageInline(RecordedOnSite, AccountScopedAdmin, admin.TabularInline):
    account_path = "work_order__account"
    model = PartUsage
    fields = ["part_number", "description", "quantity", "unit_cost", "currency", "recorded_at"]
    extra = 0
    show_change_link = True  # where the office prices it


class WorkOrderRecordAdmin(RecordedOnSite, AccountScopedAdmin, admin.ModelAdmin):
    """A record of a work order (checklist answer, part, photo, signature, survey, report) on
    its own page: shown, never added, changed or deleted here (RecordedOnSite). Photos and
    signatures come from the technician app, whose services check the file; the survey from
    the customer; the report from the report task."""

    account_path = "work_order__account"


@admin.register(ChecklistItem)
class ChecklistItemAdmin(WorkOrderRecordAdmin):
    list_display = ["work_order", "position", "label", "kind", "required", "result", "value"]
    list_filter = ["kind", "required", "result"]
    search_fields = ["work_order__number", "label"]
    list_select_related = ["work_order"]


class PriceForm(forms.ModelForm):
    unit_cost = forms.DecimalField(
        required=False,
        max_digits=12,
        decimal_places=2,
        label=capfirst(PartUsage._meta.get_field("unit_cost").verbose_name),
        validators=number_validators(0, MAX_MONEY),
        help_text=_("Empty: not priced yet (shown as “—” on the service report)."),
    )

    class Meta:
        model = PartUsage
        fields = ["unit_cost"]


@admin.register(PartUsage)
class PartUsageAdmin(AccountScopedAdmin, admin.ModelAdmin):
    """A part used on a visit: recorded by the technician app (tickets.records.parts_used.part_record),
    priced by the office here (backoffice.part_usage_price_set), never otherwise changed."""

    account_path = "work_order__account"
    form = PriceForm
    list_display = ["work_order", "part_number", "description", "quantity", "unit_cost", "currency"]
    list_filter = ["currency"]
    search_fields = ["work_order__number", "part_number", "description"]
    list_select_related = ["work_order"]
    fields = ["work_order", "part_number", "description", "quantity", "unit_cost", "currency", "recorded_at"]
    readonly_fields = ["work_order", "part_number", "description", "quantity", "currency", "recorded_at"]
    inlines = [AuditHistoryInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: PartUsage, form: ModelForm, change: bool) -> None:
        backoffice.part_usage_price_set(
            part=obj, unit_cost=form.cleaned_data["unit_cost"], by=acting_user(request)
        )


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
