import datetime as dt
from typing import Any

from django.contrib import admin
from django.contrib.admin import options as admin_options
from django.contrib.admin import widgets as admin_widgets
from django.contrib.admin.options import BaseModelAdmin, IncorrectLookupParameters
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import User
from django.contrib.contenttypes.admin import GenericTabularInline
from django.db import models
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from assets.visibility import back_office_accounts
from fieldservice import ranges, roles
from fieldservice.models import ApiToken, AuditEntry, StaffProfile
from fieldservice.tokens import token_revoke

# --- dates in every back-office form ---------------------------------------------------------


class StoredOutOfRangeSplitDateTime(admin_widgets.AdminSplitDateTime):
    """The back office's date-and-time inputs, which also open a value stored out of range.

    A planned end of 9999-12-31 23:59 UTC, stored before fieldservice.ranges was enforced, has
    no local time: Django's widget raised OverflowError converting it and the form answered
    500, so the row could not even be repaired here. Such a value is shown as stored, in UTC;
    the field refuses it on save until it is corrected into the range.
    """

    def decompress(self, value: dt.datetime | None) -> tuple[dt.date | None, dt.time | None]:
        try:
            return super().decompress(value)
        except OverflowError:
            assert value is not None
            stored = value.astimezone(dt.UTC)
            return stored.date(), stored.time()


# Every ModelAdmin takes its form fields' defaults from this table when it is registered. Set
# here, the range reaches every back-office form and inline, of every app and of later ones,
# without each admin having to remember a base class: fieldservice comes before the project's
# apps in INSTALLED_APPS and each of their admin modules imports this one first.
# tests/test_admin.py checks every registered model's date fields.
admin_options.FORMFIELD_FOR_DBFIELD_DEFAULTS.update(
    {
        models.DateTimeField: {
            "form_class": ranges.BoundedSplitDateTimeField,
            "widget": StoredOutOfRangeSplitDateTime,
        },
        models.DateField: {"form_class": ranges.BoundedDateField, "widget": admin_widgets.AdminDateWidget},
    }
)


class DrillDownChangeList(ChangeList):
    """A change list whose date drill-down (`date_hierarchy`) refuses a date with no next one.

    Django works out the end of the day, month or year asked for (`?at__year=9999&at__month=12
    &at__day=31`) without catching the OverflowError or ValueError past year 9999: the list
    answered 500. Such a request is a bad filter, and gets the back office's page for one."""

    def get_filters(self, request: HttpRequest) -> Any:
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as error:
            raise IncorrectLookupParameters(error) from error


class BackOfficeAdmin(BaseModelAdmin):
    """What every back-office admin shares: a date drill-down that cannot overflow, and an
    object's pages that open with a date-time stored out of range, so it can be repaired.
    (Its forms' dates are in fieldservice.ranges through FORMFIELD_FOR_DBFIELD_DEFAULTS, above.)"""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return DrillDownChangeList

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Any:
        found = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        if found is not None:
            ranges.show_out_of_range_as_stored(found)
        return found


class AccountScopedAdmin(BackOfficeAdmin):
    """A back-office list or form of records that belong to a customer account, scoped as
    on the web (assets.visibility.back_office_accounts): an account manager sees, opens and
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


class ShownNotEdited(BaseModelAdmin):
    """Records that a service or a periodic task writes, and nobody else: the back office shows
    them and offers neither adding, changing nor deleting them, as no other door does."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def acting_user(request: HttpRequest) -> User | None:
    """The admin user making a change, for the services' `by`."""
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


def _admins_only(request: HttpRequest) -> bool:
    # By role, not by model permission: no group's permissions can open the audit trail to
    # dispatchers or account managers, and an admin need not be given it model by model.
    return roles.has_role(request.user, roles.ADMIN)


# The changes' list style (no inline styles: the Content-Security-Policy refuses them).
AUDIT_CSS = "css/audit.css"


def _changes_list(entry: AuditEntry) -> str:
    if not entry.changes:
        return "—"
    return format_html(
        "<ul class='audit-changes'>{}</ul>",
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
class AuditEntryAdmin(BackOfficeAdmin, admin.ModelAdmin):
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

    class Media:
        css = {"all": [AUDIT_CSS]}

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


class AuditHistoryInline(ShownNotEdited, GenericTabularInline):
    """The "Change history" section of a contract's or a unit's admin page, newest first; admins only."""

    model = AuditEntry
    verbose_name_plural = _("Change history")
    fields = ("at", "by", "source", "action", "changes_display", "note")
    readonly_fields = fields
    ordering = ["-at", "-id"]
    extra = 0
    can_delete = False

    class Media:
        css = {"all": [AUDIT_CSS]}

    @admin.display(description=_("changes"))
    def changes_display(self, entry: AuditEntry) -> str:
        return _changes_list(entry)

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEntry]:
        return super().get_queryset(request).select_related("by")

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _admins_only(request)


@admin.register(StaffProfile)
class StaffProfileAdmin(BackOfficeAdmin, admin.ModelAdmin):
    list_display = ["user", "reports_to", "language", "phone"]
    list_filter = ["language"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "reports_to"]


@admin.register(ApiToken)
class ApiTokenAdmin(BackOfficeAdmin, admin.ModelAdmin):
    """Tokens are created with `manage.py create_api_token` (the raw value is shown once);
    here they can be seen, renamed and revoked (the action, through token_revoke as the app's
    logout), never read back. A revocation is final and an expiry is not moved: no other door
    brings a token back or lengthens its life."""

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
    fields = ["user", "kind", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = ["user", "kind", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset.filter(revoked_at__isnull=True).order_by("pk"):
            token_revoke(token=token)  # refused from the next call on, cached copy or not
