from django.contrib import admin

from fieldservice.models import StaffProfile


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "reports_to", "language", "phone"]
    list_filter = ["language"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "reports_to"]
