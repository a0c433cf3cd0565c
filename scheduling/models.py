"""The workforce and its plans: technicians, skills, shifts, territories, schedule runs."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assets.models import Account, TimestampedModel, validate_time_zone
from scheduling.reasons import assignment_text, run_error_text
from tickets.models import WorkOrder


class Skill(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return self.name


class Territory(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    boundary = models.MultiPolygonField(_("boundary"), geography=True, srid=4326)
    color = models.CharField(_("colour"), max_length=7, default="#3b82f6")

    class Meta:
        ordering = ["name"]
        verbose_name = _("territory")
        verbose_name_plural = _("territories")

    def __str__(self) -> str:
        return self.name


class Technician(TimestampedModel):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="technician")
    employee_code = models.CharField(_("employee code"), max_length=32, unique=True)
    external_id = models.CharField(_("external id"), max_length=64, unique=True, null=True, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    skills: models.ManyToManyField[Skill, TechnicianSkill] = models.ManyToManyField(
        Skill, through="TechnicianSkill", related_name="technicians"
    )
    home_base = models.PointField(_("home base"), geography=True, srid=4326)
    home_address = models.CharField(_("home address"), max_length=300, blank=True)
    territory = models.ForeignKey(
        Territory, on_delete=models.SET_NULL, null=True, blank=True, related_name="technicians"
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    # Last known position from the mobile app, for re-planning during the day.
    current_position = models.PointField(geography=True, srid=4326, null=True, blank=True)
    position_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["employee_code"]
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class TechnicianSkill(models.Model):
    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="skill_levels")
    skill = models.ForeignKey(Skill, on_delete=models.PROTECT, related_name="technician_levels")
    level = models.PositiveSmallIntegerField(
        _("level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )

    class Meta:
        ordering = ["technician", "skill"]
        verbose_name = _("technician skill")
        verbose_name_plural = _("technician skills")
        constraints = [
            models.UniqueConstraint(fields=["technician", "skill"], name="technician_skill_once"),
            models.CheckConstraint(condition=Q(level__range=(1, 3)), name="technician_skill_level_range"),
        ]

    def __str__(self) -> str:
        return f"{self.skill_id} L{self.level}"


class PreferredTechnician(models.Model):
    """The account's preferred technicians (continuity keeps customers); lower rank first."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="preferred_technicians")
    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="preferred_by")
    rank = models.PositiveSmallIntegerField(_("rank"), default=1)

    class Meta:
        ordering = ["account", "rank"]
        verbose_name = _("preferred technician")
        verbose_name_plural = _("preferred technicians")
        constraints = [
            models.UniqueConstraint(fields=["account", "technician"], name="preferred_technician_once"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} prefers {self.technician_id}"


class Shift(models.Model):
    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="shifts")
    date = models.DateField(_("date"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["date", "technician"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.UniqueConstraint(fields=["technician", "date"], name="shift_one_per_day"),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="shift_ends_after_start"
            ),
        ]
        indexes = [models.Index(fields=["date"], name="shift_date_idx")]

    def __str__(self) -> str:
        return f"{self.technician_id} {self.date}"


class Absence(models.Model):
    class Reason(models.TextChoices):
        VACATION = "vacation", _("Vacation")
        SICK = "sick", _("Sick leave")
        TRAINING = "training", _("Training")
        OTHER = "other", _("Other")

    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="absences")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, default=Reason.VACATION)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("absence")
        verbose_name_plural = _("absences")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="absence_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.technician_id} {self.reason} {self.starts_at:%Y-%m-%d}"


class ScheduleRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        ACCEPTED = "accepted", _("Accepted")

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    horizon_start = models.DateField(_("first day"))
    days = models.PositiveSmallIntegerField(_("days"), default=1)
    territory = models.ForeignKey(
        Territory, on_delete=models.SET_NULL, null=True, blank=True, related_name="schedule_runs"
    )
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    kpis = models.JSONField(_("KPIs"), default=dict, blank=True)
    solver_stats = models.JSONField(_("solver statistics"), default=dict, blank=True)
    # [{"work_order_id", "number", "reason": code, "params": {...}}], rendered when read
    # (scheduling.reasons); entries written before carry their text as "message".
    unplaced = models.JSONField(_("unplaced jobs"), default=list, blank=True)
    # Why the run failed: a code and parameters, rendered when read (scheduling.reasons);
    # `error` keeps the technical detail (an exception's text) for the logs and the admin.
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    error_params = models.JSONField(_("error parameters"), default=dict, blank=True)
    error = models.TextField(blank=True)
    # A run over all territories is solved in one part per territory, in parallel; the
    # part that finishes last completes the run.
    parts_total = models.PositiveSmallIntegerField(default=1)
    parts_done = models.PositiveSmallIntegerField(default=0)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("schedule run")
        verbose_name_plural = _("schedule runs")
        constraints = [
            models.CheckConstraint(condition=Q(days__range=(1, 14)), name="schedule_run_days_range"),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} {self.horizon_start} ({self.status})"

    @property
    def error_text(self) -> str:
        """Why the run failed, in the reader's language."""
        return run_error_text(self.error_code, self.error_params, self.error)


class Assignment(models.Model):
    run = models.ForeignKey(ScheduleRun, on_delete=models.CASCADE, related_name="assignments")
    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="assignments")
    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="assignments")
    sequence = models.PositiveSmallIntegerField(_("sequence"))
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    travel_minutes = models.PositiveIntegerField(_("travel minutes"), default=0)
    travel_km = models.DecimalField(_("travel km"), max_digits=8, decimal_places=2, default=0)
    # {"code": "assigned", "params": {...}}: why this technician and what it costs, rendered
    # when read (scheduling.reasons.assignment_text).
    reason = models.JSONField(_("reason"), default=dict, blank=True)
    # The work order's version when the run read it; accept refuses if it moved on.
    work_order_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["run", "technician", "planned_start"]
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        constraints = [
            models.UniqueConstraint(fields=["run", "work_order"], name="assignment_once_per_run"),
            models.CheckConstraint(
                condition=Q(planned_end__gt=models.F("planned_start")), name="assignment_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} → {self.technician_id} #{self.sequence}"

    @property
    def reason_text(self) -> str:
        return assignment_text(self.reason, str(self.technician))
