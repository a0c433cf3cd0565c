from typing import Any

from django.contrib import admin
from django.contrib.admin.options import BaseModelAdmin
from django.contrib.auth.models import User
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from contracts.selectors import back_office_accounts
from fieldservice import roles
from fieldservice.models import ApiToken, AuditEntry, StaffProfile
from fieldservice.tokens import token_forget


class AccountScopedAdmin(BaseModelAdmin):
    """A back-office list or form of records that belong to a customer account, scoped as
    on the web (contracts.selectors.back_office_accounts): an account manager sees, opens and
    links only the records of the accounts they manage; another account's are "not found".

    `account_path` leads from the model to its account ("" for the account itself). Foreign
    keys to another scoped model offer only what that model's admin shows the same user.
    """

    account_path = "account"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        accounts = back_office_accounts(request.user)
        if accounts is None:
            return rows
        return rows.filter(**{f"{self.account_path}__in" if self.account_path else "pk__in": accounts})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        related_admin = self.admin_site._registry.get(db_field.remote_field.model)
        if field is not None and isinstance(related_admin, AccountScopedAdmin):
            field.queryset = related_admin.get_queryset(request)
        return field


def acting_user(request: HttpRequest) -> User | None:
    """The admin user making a change, for the services' `by`."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _admins_only(request: HttpRequest) -> bool:
    # By role, not by model permission: no group's permissions can open the audit trail to
    # dispatchers or account managers, and an admin need not be given it model by model.
    return roles.has_role(request.user, roles.ADMIN)


def _changes_list(entry: AuditEntry) -> str:
    if not entry.changes:
        return "—"
    return format_html(
        "<ul style='margin:0;padding-left:1em'>{}</ul>",
        format_html_join(
            "",
            "<li><b>{}</b>: {} → {}</li>",
            ((field, _shown(old), _shown(new)) for field, (old, new) in sorted(entry.changes.items())),
        ),
    )


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "∅"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    return str(value)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Who changed what on contracts and equipment (and who deleted a work order): read-only,
    for admins only. Work orders' own trail is under Tickets › Work order events."""

    list_display = ["at", "content_type", "object_repr", "action", "by", "source", "changes_display"]
    list_filter = [
        ("content_type", admin.RelatedOnlyFieldListFilter),
        ("by", admin.RelatedOnlyFieldListFilter),
        "source",
        "action",
        "at",
    ]
    search_fields = ["object_repr", "by__username", "note"]
    list_select_related = ["content_type", "by"]
    date_hierarchy = "at"
    fields = (
        "at",
        "by",
        "source",
        "content_type",
        "object_id",
        "object_repr",
        "action",
        "changes_display",
        "note",
    )
    readonly_fields = fields

    @admin.display(description=_("changes"))
    def changes_display(self, entry: AuditEntry) -> str:
        return _changes_list(entry)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _admins_only(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _admins_only(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class AuditHistoryInline(GenericTabularInline):
    """The "Change history" section of a contract's or a unit's admin page, newest first; admins only."""

    model = AuditEntry
    verbose_name_plural = _("Change history")
    fields = ("at", "by", "source", "action", "changes_display", "note")
    readonly_fields = fields
    ordering = ["-at", "-id"]
    extra = 0
    can_delete = False

    @admin.display(description=_("changes"))
    def changes_display(self, entry: AuditEntry) -> str:
        return _changes_list(entry)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        return super().get_queryset(request).select_related("by")

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _admins_only(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "reports_to", "language", "phone"]
    list_filter = ["language"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "reports_to"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_api_token` (the raw value is shown once);
    here they can be seen and revoked, never read back."""

    list_display = [
        "prefix",
        "user",
        "kind",
        "name",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["kind", "revoked_at"]
    search_fields = ["user__username", "name", "prefix"]
    readonly_fields = ["user", "kind", "prefix", "key_hash", "created_at", "last_used_at"]
    fields = ["user", "kind", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        token_forget(token=obj)  # a revocation or new expiry applies to the next call
