"""The back office's contracts. Every save or delete of a contract, or of its SLA terms and
coverage on their own pages, goes through contracts.services, which records it in the audit
trail (shown, to admins, as the contract page's Change history).

The back office gives the same answers as the other doors: a contract's status moves only
through the lifecycle services (the "activate" and "cancel" actions here; renewals and
expiry by the renewal run), never by editing the field, as the import refuses it too; a
contract covers only its own account's equipment. Renewals, tasks and health scores have
their back office in retention/admin.py.
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

from contracts import services
from contracts.models import (
    ContractSLATerm,
    CoveredEquipment,
    ServiceContract,
)
from fieldservice.admin import AccountScopedAdmin, AuditHistoryInline, acting_user
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
