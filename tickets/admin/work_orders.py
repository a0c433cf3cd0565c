"""The back office's work orders: opened and corrected through the API's services, never edited otherwise.

"Add work order" asks for the account first (`?account=`), then offers only that account's
sites and equipment (tickets.admin.work_order_forms); no script is needed for either step.
The work order is opened by the API's service (tickets.creation.work_order_create), and an
open one's change page saves through the same service as the API's PATCH (work_order_update).
Everything else is shown, never edited here: status and assignment move through the lifecycle
services (the dispatch board, the technician app), and what was recorded on the visit
(checklist answers, parts, photos, the signature, the resolution, the survey, the service
report) is the record the customer was sent. A completed, closed or cancelled work order is
read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from assets.models import Account
from fieldservice.admin import AccountScopedAdmin, acting_user
from fieldservice.errors import DomainError
from tickets import backoffice, creation
from tickets.admin.events import EventInline
from tickets.admin.records import ChecklistItemInline, PartUsageInline
from tickets.admin.work_order_forms import (
    INTAKE_FIELDS,
    SEEN_VERSION,
    WorkOrderCorrectionForm,
    WorkOrderIntakeForm,
)
from tickets.models import WorkOrder

# The query parameter of "Add work order" that carries the account chosen on its first step.
INTAKE_ACCOUNT = "account"
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
