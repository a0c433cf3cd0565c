"""The back office's scheduling. Technicians, their skills, shifts and absences are edited
here; a technician record is only for a user in the technician group, as the work-order
services assign work only to those (tickets.lifecycle.work_order_schedule). Schedule runs and
their assignments are the optimizer's (created from the dispatch board, checked by the
independent checker, applied by schedule_run_accept): shown, never edited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from fieldservice import roles
from fieldservice.admin import AccountScopedAdmin, BackOfficeAdmin, ShownNotEdited
from fieldservice.admin_geo import WktGeometryAdmin
from scheduling.models import (
    Absence,
    Assignment,
    PreferredTechnician,
    ScheduleRun,
    Shift,
    Skill,
    Technician,
    TechnicianSkill,
    Territory,
)


@admin.register(Skill)
class SkillAdmin(BackOfficeAdmin, admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(Territory)
class TerritoryAdmin(BackOfficeAdmin, WktGeometryAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]


class TechnicianSkillInline(admin.TabularInline):
    model = TechnicianSkill
    extra = 0


class TechnicianForm(forms.ModelForm):
    def clean_user(self) -> Any:
        user = self.cleaned_data["user"]
        if user is not None and not roles.has_role(user, roles.TECHNICIAN):
            raise forms.ValidationError(
                _("%(user)s is not in the technician group: add them to it first."),
                code="not_a_technician",
                params={"user": user.get_username()},
            )
        return user


@admin.register(Technician)
class TechnicianAdmin(BackOfficeAdmin, WktGeometryAdmin):
    form = TechnicianForm
    list_display = ["employee_code", "user", "territory", "phone", "active"]
    list_filter = ["active", "territory", "skills"]
    search_fields = ["employee_code", "user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "territory"]
    list_select_related = ["user", "territory"]
    inlines = [TechnicianSkillInline]


@admin.register(TechnicianSkill)
class TechnicianSkillAdmin(BackOfficeAdmin, admin.ModelAdmin):
    list_display = ["technician", "skill", "level"]
    list_filter = ["skill", "level"]
    search_fields = ["technician__employee_code", "technician__user__username"]
    list_select_related = ["technician__user", "skill"]


@admin.register(PreferredTechnician)
class PreferredTechnicianAdmin(AccountScopedAdmin, admin.ModelAdmin):
    list_display = ["account", "technician", "rank"]
    search_fields = ["account__name", "technician__employee_code"]
    autocomplete_fields = ["account", "technician"]
    list_select_related = ["account", "technician__user"]


@admin.register(Shift)
class ShiftAdmin(BackOfficeAdmin, admin.ModelAdmin):
    list_display = ["technician", "date", "starts_at", "ends_at"]
    list_filter = ["date", "technician__territory"]
    search_fields = ["technician__employee_code", "technician__user__username"]
    autocomplete_fields = ["technician"]
    list_select_related = ["technician__user"]
    date_hierarchy = "date"


@admin.register(Absence)
class AbsenceAdmin(BackOfficeAdmin, admin.ModelAdmin):
    list_display = ["technician", "reason", "starts_at", "ends_at"]
    list_filter = ["reason"]
    search_fields = ["technician__employee_code", "technician__user__username"]
    autocomplete_fields = ["technician"]
    list_select_related = ["technician__user"]


class AssignmentInline(ShownNotEdited, admin.TabularInline):
    model = Assignment
    fields = (
        "technician",
        "sequence",
        "work_order",
        "planned_start",
        "planned_end",
        "travel_minutes",
        "reason_text",
    )
    readonly_fields = fields
    extra = 0

    @admin.display(description=_("reason"))
    def reason_text(self, obj: Assignment) -> str:
        return obj.reason_text


@admin.register(ScheduleRun)
class ScheduleRunAdmin(BackOfficeAdmin, ShownNotEdited, admin.ModelAdmin):
    list_display = ["id", "horizon_start", "days", "territory", "status", "created_by", "created_at"]
    list_filter = ["status", "territory"]
    search_fields = ["id"]
    list_select_related = ["territory", "created_by"]
    date_hierarchy = "horizon_start"
    inlines = [AssignmentInline]


@admin.register(Assignment)
class AssignmentAdmin(BackOfficeAdmin, ShownNotEdited, admin.ModelAdmin):
    list_display = [
        "run",
        "technician",
        "sequence",
        "work_order",
        "planned_start",
        "planned_end",
        "travel_minutes",
    ]
    list_filter = ["run__status"]
    search_fields = ["work_order__number", "technician__employee_code"]
    list_select_related = ["run", "technician__user", "work_order"]
