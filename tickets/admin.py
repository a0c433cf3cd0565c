"""The back office's work orders: the same rules as the API, through the same services.

A new work order is opened as the API opens one: the same input schema
(tickets.schemas.WorkOrderIn) and the same service (tickets.creation.work_order_create),
which gives it its number, covering contract, billability and SLA clocks. "Add work order"
asks for the account first (`?account=`), then offers only that account's sites and equipment;
no script is needed for either step.

An open work order's change page edits what the API's PATCH edits (tickets.creation.
EDITABLE_FIELDS), checked by the same schema (tickets.schemas.WorkOrderPatch) and saved by the
same service (work_order_update), with the version the page was read at. Everything else is
shown, never edited here: status and assignment move through the lifecycle services (the
dispatch board, the technician app), and what was recorded on the visit (checklist answers,
parts, photos, the signature, the resolution, the survey, the service report) is the record
the customer was sent. A completed, closed or cancelled work order is read-only.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Model, QuerySet
from django.forms import ModelForm
from django.forms.models import ModelChoiceIterator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from pydantic import ValidationError as SchemaError
from pydantic_core import ErrorDetails

from assets.models import Account, Equipment, Site
from fieldservice.admin import AccountScopedAdmin, AuditHistoryInline, ShownNotEdited, acting_user
from fieldservice.admin_geo import WktGeometryAdmin
from fieldservice.errors import DomainError, Invalid
from fieldservice.ranges import MAX_MONEY, number_validators
from tickets import backoffice, creation, schemas
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

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# The query parameter of "Add work order" that carries the account chosen on its first step.
INTAKE_ACCOUNT = "account"
# What makes sense when a job comes in; the rest (technician, plan, status, …) comes later,
# through the work-order services.
INTAKE_FIELDS = [
    "account",
    "site",
    "equipment",
    "kind",
    "priority",
    "title",
    "description",
    "estimated_minutes",
    "required_skills",
    "earliest_start",
    "latest_end",
]
# The service's refusals (tickets.creation.work_order_create_check), each beside its field.
INTAKE_REFUSALS = {
    "equipment_not_at_site": ("equipment", _("This equipment is not installed at the chosen site.")),
    "equipment_decommissioned": ("equipment", _("This equipment is decommissioned.")),
    "window_ordered": ("latest_end", _("The latest end must be after the earliest start.")),
}
# The API schema's names for the form's fields, where they differ.
SCHEMA_FIELDS = {"site_id": "site", "equipment_id": "equipment"}
# A work order's change page, in reading order; only creation.EDITABLE_FIELDS are editable.
CHANGE_FIELDS = [
    "number",
    "status",
    "version",
    "kind",
    "priority",
    "title",
    "description",
    "account",
    "site",
    "equipment",
    "contract",
    "maintenance_plan",
    "pm_due_date",
    "billable",
    "required_skills",
    "estimated_minutes",
    "earliest_start",
    "latest_end",
    "sla_response_due",
    "sla_resolution_due",
    "sla_paused_minutes",
    "on_hold_since",
    "responded_at",
    "assigned_technician",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "arrived_at",
    "completed_at",
    "resolution",
    "resolution_code",
    "first_time_fix",
    "created_by",
]
# The hidden field that carries the version the change page was read at.
SEEN_VERSION = "seen_version"


def _schema_refusal(error: ErrorDetails) -> ValidationError:
    """The API schema's refusal of one value, in Django's own (translated) words."""
    context = error.get("ctx", {})
    if error["type"] == "less_than_equal":
        return ValidationError(
            MaxValueValidator.message, code="max_value", params={"limit_value": context["le"]}
        )
    if error["type"] == "greater_than_equal":
        return ValidationError(
            MinValueValidator.message, code="min_value", params={"limit_value": context["ge"]}
        )
    return ValidationError(RegexValidator.message, code="invalid")  # "Enter a valid value."


def _label(field_name: str) -> StrOrPromise:
    # As a model form labels the work order's own field.
    field = WorkOrder._meta.get_field(field_name)
    assert isinstance(field, models.Field)
    return capfirst(field.verbose_name)


class _EquipmentBySiteIterator(ModelChoiceIterator):
    """The account's equipment grouped under the site it is installed at."""

    def __iter__(self) -> Iterator[Any]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        units = self.queryset.order_by("site__name", "site_id", "serial_number", "pk")
        for site, at_site in itertools.groupby(units, key=attrgetter("site")):
            yield (site.name, [self.choice(unit) for unit in at_site])


class _EquipmentChoiceField(forms.ModelChoiceField):
    iterator = _EquipmentBySiteIterator


class _RequiredSkillsField(forms.JSONField):
    """Empty, not `{}`, when there is nothing to show: empty means the equipment model's skill
    (the API's default when the field is left out)."""

    def prepare_value(self, value: Any) -> Any:
        return "" if value in (None, {}) else super().prepare_value(value)


class _SiteChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Model) -> str:
        assert isinstance(obj, Site)
        return obj.name  # the account is chosen already: its name would only repeat


class WorkOrderIntakeForm(forms.ModelForm):
    """The second step of "Add work order": the account is chosen (`account_chosen`, set on a
    subclass made per request), its sites and equipment are the only choices, and the input
    is checked as the API checks it (tickets.schemas.WorkOrderIn, then the service's rules),
    each refusal beside its field."""

    account_chosen: Account
    choose_account_url: str

    account = forms.ModelChoiceField(
        queryset=Account.objects.none(),
        disabled=True,
        label=_label("account"),
    )
    site = _SiteChoiceField(
        queryset=Site.objects.none(),
        label=_label("site"),
        error_messages={"invalid_choice": _("Choose a site of this account.")},
    )
    equipment = _EquipmentChoiceField(
        queryset=Equipment.objects.none(),
        required=False,
        label=_label("equipment"),
        error_messages={"invalid_choice": _("Choose equipment of this account.")},
    )
    required_skills = _RequiredSkillsField(
        required=False,
        label=_label("required_skills"),
        help_text=_(
            'Minimum level (1 to 3) per skill code, as JSON: {"compressor": 2}. '
            "Leave empty for the equipment model's skill."
        ),
    )

    class Meta:
        model = WorkOrder
        fields = INTAKE_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.account_chosen
        self.intake: schemas.WorkOrderIn | None = None
        self.initial["account"] = account.pk
        self.fields["account"].queryset = Account.objects.filter(pk=account.pk)  # type: ignore[attr-defined]
        self.fields["account"].help_text = format_html(
            '<a href="{}">{}</a>', self.choose_account_url, _("Choose another account")
        )
        self.fields["site"].queryset = Site.objects.filter(account=account).order_by("name", "pk")  # type: ignore[attr-defined]
        self.fields["equipment"].queryset = Equipment.objects.filter(  # type: ignore[attr-defined]
            site__account=account
        ).select_related("site", "equipment_model")
        if not self.is_bound:
            self.initial.setdefault("kind", WorkOrder.Kind.CORRECTIVE)
            self.initial["estimated_minutes"] = settings.DEFAULT_ESTIMATED_MINUTES

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        site, equipment = cleaned.get("site"), cleaned.get("equipment")
        if site is not None and "equipment" not in self.errors:
            try:
                creation.work_order_create_check(
                    site=site,
                    equipment=equipment,
                    earliest_start=cleaned.get("earliest_start"),
                    latest_end=cleaned.get("latest_end"),
                )
            except Invalid as refusal:
                field, message = INTAKE_REFUSALS.get(refusal.code, (None, refusal.message))
                self.add_error(field, ValidationError(message, code=refusal.code))
        if self.errors or site is None:
            return cleaned
        try:
            self.intake = schemas.WorkOrderIn(
                site_id=site.pk,
                equipment_id=equipment.pk if equipment is not None else None,
                kind=cleaned["kind"],
                priority=cleaned["priority"],
                title=cleaned["title"],
                description=cleaned.get("description", ""),
                required_skills=cleaned.get("required_skills") or None,
                estimated_minutes=cleaned["estimated_minutes"],
                earliest_start=cleaned.get("earliest_start"),
                latest_end=cleaned.get("latest_end"),
            )
        except SchemaError as refused:
            _schema_refusals(self, refused)
        return cleaned

    def work_order_create_arguments(self) -> dict[str, Any]:
        """tickets.creation.work_order_create's arguments (but `by`), as the API passes them."""
        assert self.intake is not None, "only a valid form opens a work order"
        return {
            "site": self.cleaned_data["site"],
            "equipment": self.cleaned_data["equipment"],
            **self.intake.dict(exclude={"site_id", "equipment_id"}),
        }


def _schema_refusals(form: forms.BaseForm, refused: SchemaError) -> None:
    """Each of the API schema's refusals beside its field (or above the form)."""
    for error in refused.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        field_name = SCHEMA_FIELDS.get(name, name)
        form.add_error(field_name if field_name in form.fields else None, _schema_refusal(error))


class WorkOrderCorrectionForm(forms.ModelForm):
    """An open work order's change page: the fields the API's PATCH edits, checked as it
    checks them (tickets.schemas.WorkOrderPatch, then the service's own check of the window),
    against the version the page was read at."""

    seen_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    required_skills = _RequiredSkillsField(
        required=False,
        label=_label("required_skills"),
        help_text=_('Minimum level (1 to 3) per skill code, as JSON: {"compressor": 2}.'),
    )

    class Meta:
        model = WorkOrder
        fields = sorted(creation.EDITABLE_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[SEEN_VERSION].initial = self.instance.version

    def corrections(self) -> dict[str, Any]:
        """work_order_update's changes: the editable fields this form changed."""
        changed = {
            name: self.cleaned_data[name] for name in self.changed_data if name in creation.EDITABLE_FIELDS
        }
        if "required_skills" in changed and changed["required_skills"] is None:
            changed["required_skills"] = {}  # emptied: no skill required
        return changed

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        # The instance is the row as it is now (the admin reads it again for each POST).
        if cleaned[SEEN_VERSION] != self.instance.version:
            raise ValidationError(
                _(
                    "Someone else changed this work order since you opened it (it is at version "
                    "%(current)s, you saw %(seen)s). Reload it and make your change again."
                ),
                code="version_conflict",
                params={"current": self.instance.version, "seen": cleaned[SEEN_VERSION]},
            )
        changes = self.corrections()
        if not changes:
            return cleaned
        try:
            schemas.WorkOrderPatch(version=cleaned[SEEN_VERSION], **changes)
        except SchemaError as refused:
            _schema_refusals(self, refused)
            return cleaned
        try:
            creation.work_order_create_check(
                site=self.instance.site,
                equipment=None,
                earliest_start=cleaned.get("earliest_start"),
                latest_end=cleaned.get("latest_end"),
            )
        except Invalid as refusal:
            field, message = INTAKE_REFUSALS.get(refusal.code, (None, refusal.message))
            self.add_error(field, ValidationError(message, code=refusal.code))
        return cleaned


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
    autocomplete_fields = ["account"]  # the intake's first step
    list_select_related = ["account", "assigned_technician"]
    date_hierarchy = "created_at"
    inlines = [ChecklistItemInline, PartUsageInline, EventInline]

    # --- "Add work order": choose the account, then open the job through the service ---------

    def _account_chooser(self, request: HttpRequest) -> type[ModelForm[WorkOrder]]:
        # The account field as the admin makes it: an autocomplete of the accounts this user
        # sees in the back office (AccountScopedAdmin), an account manager's own only.
        chooser = super().get_form(request, None, fields=["account"])
        chooser.base_fields["account"].help_text = _(
            "Choose the customer's account first: the next step offers its sites and equipment."
        )
        return chooser

    def _intake_account(self, request: HttpRequest) -> Account | None:
        """The account chosen on the first step (`?account=`), if this user may choose it."""
        chosen = request.GET.get(INTAKE_ACCOUNT)
        if not chosen:
            return None
        try:
            account: Account = self._account_chooser(request).base_fields["account"].clean(chosen)
        except ValidationError:
            return None
        return account

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if self._intake_account(request) is None:
            if request.method == "POST":
                if not self.has_add_permission(request):
                    raise PermissionDenied
                chooser = self._account_chooser(request)(request.POST)
                if chooser.is_valid():
                    query = request.GET.copy()
                    query[INTAKE_ACCOUNT] = str(chooser.cleaned_data["account"].pk)
                    return HttpResponseRedirect(f"{request.path}?{query.urlencode()}")
            # An invalid choice is shown again with its error by the usual add page.
            extra_context = {**(extra_context or {}), "choosing_account": True}
        return super().add_view(request, form_url, extra_context)

    def get_fieldsets(self, request: HttpRequest, obj: WorkOrder | None = None) -> Any:
        if obj is not None:
            editing = self.has_change_permission(request, obj)
            description = _(
                "Status and assignment change on the dispatch board and in the technician app; "
                "what was recorded on the visit is kept as the customer was sent it."
            )
            fields = [*CHANGE_FIELDS, SEEN_VERSION] if editing else CHANGE_FIELDS
            return [(None, {"fields": fields, "description": description})]
        fields = INTAKE_FIELDS if self._intake_account(request) is not None else ["account"]
        return [(None, {"fields": fields})]

    def get_readonly_fields(self, request: HttpRequest, obj: WorkOrder | None = None) -> Any:
        if obj is None:
            return []
        return [name for name in CHANGE_FIELDS if name not in creation.EDITABLE_FIELDS]

    def has_change_permission(self, request: HttpRequest, obj: WorkOrder | None = None) -> bool:
        # As work_order_update: a completed, closed or cancelled job is no longer edited.
        if obj is not None and not obj.is_open:
            return False
        return super().has_change_permission(request, obj)

    def get_form(
        self, request: HttpRequest, obj: WorkOrder | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None or change:
            kwargs.setdefault("form", WorkOrderCorrectionForm)
            return super().get_form(request, obj, change=change, **kwargs)
        account = self._intake_account(request)
        if account is None:
            return self._account_chooser(request)
        again = request.GET.copy()
        again.pop(INTAKE_ACCOUNT, None)
        intake = type(
            "WorkOrderIntakeForm",
            (WorkOrderIntakeForm,),
            {
                "account_chosen": account,
                "choose_account_url": f"{request.path}?{again.urlencode()}" if again else request.path,
            },
        )
        return super().get_form(request, None, form=intake, fields=INTAKE_FIELDS)

    def get_inline_instances(self, request: HttpRequest, obj: WorkOrder | None = None) -> list[Any]:
        # A job has no checklist answers, parts or events before it is opened.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        if change:
            return form.instance  # saved by work_order_update in save_related
        return creation.work_order_create(by=acting_user(request), **form.work_order_create_arguments())

    # --- an open work order's editable fields, through the API's service ----------------------

    def save_model(self, request: HttpRequest, obj: WorkOrder, form: ModelForm, change: bool) -> None:
        """Nothing here: a new job is opened in save_form, a change is made in save_related."""

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool) -> None:
        if not change:
            return  # opened, with its created event, by save_form
        assert isinstance(form, WorkOrderCorrectionForm)
        for formset in formsets:
            # Read-only inlines: nothing to write; this only lists the nothing for the history.
            formset.save(commit=False)
        changes = form.corrections()
        if changes:
            creation.work_order_update(
                work_order=form.instance,
                by=acting_user(request),
                version=form.cleaned_data[SEEN_VERSION],
                **changes,
            )

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as refusal:
            # The service's refusal of what the form found valid a moment before: another
            # writer got there in between (a version conflict, a job completed meanwhile).
            self.message_user(request, refusal.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_model(self, request: HttpRequest, obj: WorkOrder) -> None:
        backoffice.work_order_backoffice_delete(work_order=obj, by=acting_user(request))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WorkOrder]) -> None:
        for work_order in queryset.order_by("pk"):
            backoffice.work_order_backoffice_delete(work_order=work_order, by=acting_user(request))


class WorkOrderRecordAdmin(RecordedOnSite, AccountScopedAdmin, admin.ModelAdmin):
    """A record of a work order (checklist answer, part, photo, signature, survey, report) on
    its own page: shown, never added, changed or deleted here (RecordedOnSite). Photos and
    signatures come from the technician app, whose services check the file; the survey from
    the customer; the report from the report task."""

    account_path = "work_order__account"


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
    """A part used on a visit: recorded by the technician app (tickets.records.part_record),
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
