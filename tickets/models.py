"""Work orders and everything recorded on them.

A work order's status, version and SLA fields change only through its services
(tickets.creation, tickets.lifecycle, tickets.site_visit), which also write the
WorkOrderEvent that is its audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assets.models import Account, Equipment, MaintenancePlan, Site, TimestampedModel, trigram_index
from contracts.models import Priority, ServiceContract

WORK_ORDER_NUMBER_SEQUENCE = "tickets_work_order_number_seq"


class WorkOrder(TimestampedModel):
    class Kind(models.TextChoices):
        CORRECTIVE = "corrective", _("Corrective")
        PREVENTIVE = "preventive", _("Preventive")
        INSTALLATION = "installation", _("Installation")
        INSPECTION = "inspection", _("Inspection")
        EMERGENCY = "emergency", _("Emergency")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        SCHEDULED = "scheduled", _("Scheduled")
        DISPATCHED = "dispatched", _("Dispatched")
        EN_ROUTE = "en_route", _("En route")
        ON_SITE = "on_site", _("On site")
        IN_PROGRESS = "in_progress", _("In progress")
        ON_HOLD = "on_hold", _("On hold")
        COMPLETED = "completed", _("Completed")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    # The vocabulary every floor counts with, named once.
    # Repairs: what a first-time fix and a repeat failure are measured on (preventive work is
    # planned, not a fix).
    REPAIR_KINDS = (Kind.CORRECTIVE, Kind.EMERGENCY)
    # What SLA results and breach rates are measured on: repairs and inspections.
    SLA_KINDS = (Kind.CORRECTIVE, Kind.EMERGENCY, Kind.INSPECTION)
    # Done: the visit is over (completed, then closed by the office).
    DONE_STATUSES = (Status.COMPLETED, Status.CLOSED)

    OPEN_STATUSES = (
        Status.NEW,
        Status.SCHEDULED,
        Status.DISPATCHED,
        Status.EN_ROUTE,
        Status.ON_SITE,
        Status.IN_PROGRESS,
        Status.ON_HOLD,
    )

    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.P3)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="work_orders")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="work_orders")
    equipment = models.ForeignKey(
        Equipment, on_delete=models.PROTECT, null=True, blank=True, related_name="work_orders"
    )
    contract = models.ForeignKey(
        ServiceContract, on_delete=models.PROTECT, null=True, blank=True, related_name="work_orders"
    )
    maintenance_plan = models.ForeignKey(
        MaintenancePlan, on_delete=models.SET_NULL, null=True, blank=True, related_name="work_orders"
    )
    pm_due_date = models.DateField(_("PM due date"), null=True, blank=True)
    billable = models.BooleanField(_("billable"), default=False)
    # {"skill code": minimum level}
    required_skills = models.JSONField(_("required skills"), default=dict, blank=True)
    estimated_minutes = models.PositiveIntegerField(_("estimated minutes"), default=60)
    earliest_start = models.DateTimeField(_("earliest start"), null=True, blank=True)
    latest_end = models.DateTimeField(_("latest end"), null=True, blank=True)
    sla_response_due = models.DateTimeField(_("SLA response due"), null=True, blank=True)
    sla_resolution_due = models.DateTimeField(_("SLA resolution due"), null=True, blank=True)
    # Time spent on hold so far; the resolution clock does not run while on hold.
    sla_paused_minutes = models.PositiveIntegerField(default=0)
    on_hold_since = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    assigned_technician = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_work_orders",
        verbose_name=_("assigned technician"),
    )
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    resolution_code = models.CharField(_("resolution code"), max_length=64, blank=True)
    first_time_fix = models.BooleanField(_("first-time fix"), null=True, blank=True)
    # Optimistic concurrency: every change bumps it; a writer holding an older one gets 409.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        constraints = [
            models.CheckConstraint(condition=Q(estimated_minutes__gt=0), name="work_order_estimate_positive"),
            models.CheckConstraint(
                condition=Q(latest_end__isnull=True)
                | Q(earliest_start__isnull=True)
                | Q(latest_end__gt=models.F("earliest_start")),
                name="work_order_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gt=models.F("planned_start")),
                name="work_order_planned_ordered",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gte=models.F("actual_start")),
                name="work_order_actual_ordered",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="work_order_version_positive"),
            models.CheckConstraint(condition=Q(priority__range=(1, 4)), name="work_order_priority_range"),
            # Preventive work is generated once per plan and due date (generate_pm reruns).
            models.UniqueConstraint(
                fields=["maintenance_plan", "pm_due_date"],
                condition=Q(maintenance_plan__isnull=False),
                name="work_order_one_per_plan_due_date",
            ),
        ]
        indexes = [
            # The work-order list's search (tickets.selectors.work_order_list).
            trigram_index("number", name="work_order_number_trgm"),
            trigram_index("title", name="work_order_title_trgm"),
            # The list's order, newest first: its first page without sorting every work order.
            models.Index(fields=["created_at", "id"], name="work_order_created_idx"),
            # Dispatch board and solver input: open work by status and priority.
            models.Index(fields=["status", "priority"], name="work_order_status_prio_idx"),
            # A technician's day ("my jobs") in planned order.
            models.Index(fields=["assigned_technician", "planned_start"], name="work_order_tech_day_idx"),
            # Account 360, health score aggregates.
            models.Index(fields=["account", "created_at"], name="work_order_account_idx"),
            models.Index(fields=["equipment", "completed_at"], name="work_order_equipment_idx"),
            # KPI months and the renewal quote's twelve months read completed work by date.
            models.Index(fields=["completed_at"], name="work_order_completed_idx"),
            # PM compliance (health, KPIs) reads planned visits by due date.
            models.Index(
                fields=["pm_due_date"], condition=Q(pm_due_date__isnull=False), name="work_order_pm_due_idx"
            ),
            # The SLA breach sweep looks only at open work orders.
            models.Index(
                fields=["sla_resolution_due"],
                condition=Q(
                    status__in=["new", "scheduled", "dispatched", "en_route", "on_site", "in_progress"]
                ),
                name="work_order_open_sla_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class WorkOrderEvent(models.Model):
    """The audit trail of a work order: one row per thing that happened to it."""

    class Type(models.TextChoices):
        CREATED = "created", _("Created")
        STATUS_CHANGED = "status_changed", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        UPDATED = "updated", _("Updated")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        CHECKLIST_ANSWERED = "checklist_answered", _("Checklist answered")
        PART_USED = "part_used", _("Part used")
        ATTACHMENT_ADDED = "attachment_added", _("Attachment added")
        SIGNED = "signed", _("Signed")
        METER_READ = "meter_read", _("Meter read")
        REPORT_SENT = "report_sent", _("Service report sent")
        NOTE = "note", _("Note")

    class FlagReason(models.TextChoices):
        """Why an event was kept but flagged for the office to review."""

        FAR_FROM_SITE = "far_from_site", _("Far from the site")
        DEVICE_CLOCK = "device_clock", _("Phone clock wrong")
        METER_JUMP = "meter_jump", _("Implausible meter reading")

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="events")
    type = models.CharField(_("type"), max_length=24, choices=Type.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    # When it happened (the device's clock for technician events) and when we stored it.
    at = models.DateTimeField(_("at"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    location = models.PointField(_("location"), geography=True, srid=4326, null=True, blank=True)
    # Arrived far from the site (metres); set by the arrival check.
    distance_from_site_m = models.FloatField(null=True, blank=True)
    flagged = models.BooleanField(default=False)
    # Why it is flagged (empty when it is not); the details are in the payload.
    flag_reason = models.CharField(
        _("flag reason"), max_length=16, choices=FlagReason.choices, blank=True, default=""
    )
    payload = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    idempotency_key = models.CharField(max_length=100, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["work_order", "at", "id"]
        verbose_name = _("work order event")
        verbose_name_plural = _("work order events")
        indexes = [
            models.Index(fields=["work_order", "at"], name="work_order_event_timeline_idx"),
            # Health score: breaches and completions per account per period.
            models.Index(fields=["type", "at"], name="work_order_event_type_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.type} @ {self.at:%Y-%m-%d %H:%M}"


class ChecklistItem(models.Model):
    class Kind(models.TextChoices):
        PASS_FAIL = "pass_fail", _("Pass / fail")
        VALUE = "value", _("Value")
        TEXT = "text", _("Text")

    class Result(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")
        NOT_APPLICABLE = "na", _("Not applicable")

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="checklist")
    position = models.PositiveSmallIntegerField(_("position"))
    label = models.CharField(_("label"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PASS_FAIL)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    required = models.BooleanField(_("required"), default=True)
    result = models.CharField(_("result"), max_length=4, choices=Result.choices, blank=True)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4, null=True, blank=True)
    text = models.TextField(_("text"), blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["work_order", "position"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        constraints = [
            models.UniqueConstraint(fields=["work_order", "position"], name="checklist_item_position_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class PartUsage(models.Model):
    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="parts")
    part_number = models.CharField(_("part number"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=3)
    # Set by the office (the dispatcher, the admin; a parts catalogue once there is one), never
    # by the technician's phone: NULL until priced, printed as "—" on the customer's report.
    unit_cost = models.DecimalField(_("unit cost"), max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    recorded_at = models.DateTimeField(_("recorded at"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["work_order", "recorded_at"]
        verbose_name = _("part used")
        verbose_name_plural = _("parts used")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="part_usage_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="part_usage_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.part_number}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        PHOTO = "photo", _("Photo")
        DOCUMENT = "document", _("Document")

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.PHOTO)
    file = models.FileField(_("file"), upload_to="attachments/%Y/%m/")
    content_type = models.CharField(_("content type"), max_length=100)
    size_bytes = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded at"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["work_order", "uploaded_at"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        constraints = [
            models.CheckConstraint(condition=Q(size_bytes__gt=0), name="attachment_not_empty"),
        ]

    def __str__(self) -> str:
        return self.file.name


class Signature(models.Model):
    work_order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="signature")
    image = models.FileField(_("image (PNG)"), upload_to="signatures/%Y/%m/")
    signer_name = models.CharField(_("signer name"), max_length=200)
    signed_at = models.DateTimeField(_("signed at"))
    captured_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        constraints = [
            models.CheckConstraint(condition=~Q(signer_name=""), name="signature_signer_named"),
        ]

    def __str__(self) -> str:
        return self.signer_name


class Survey(models.Model):
    work_order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="survey")
    csat = models.PositiveSmallIntegerField(
        _("CSAT (1–5)"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        _("NPS (0–10)"), null=True, blank=True, validators=[MaxValueValidator(10)]
    )
    comment = models.TextField(_("comment"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__range=(1, 5)), name="survey_csat_range"
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__range=(0, 10)), name="survey_nps_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id}: CSAT {self.csat} NPS {self.nps}"


class ServiceReport(models.Model):
    work_order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="service_report")
    pdf = models.FileField(_("PDF"), upload_to="reports/%Y/%m/")
    generated_at = models.DateTimeField(_("generated at"))
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)
    emailed_to = models.CharField(_("emailed to"), max_length=254, blank=True)

    class Meta:
        verbose_name = _("service report")
        verbose_name_plural = _("service reports")

    def __str__(self) -> str:
        return self.pdf.name
