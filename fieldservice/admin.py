from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from fieldservice.models import ApiToken, StaffProfile
from fieldservice.tokens import token_forget


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
