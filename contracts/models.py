"""Service contracts, their SLA terms and covered equipment; renewals; account health."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assets.models import Account, Equipment, TimestampedModel


class Priority(models.IntegerChoices):
    """Work-order priority; shared by SLA terms and work orders (P1 is the most urgent)."""

    P1 = 1, "P1"
    P2 = 2, "P2"
    P3 = 3, "P3"
    P4 = 4, "P4"


# "Urgent" is P1/P2: the work a plan must not quietly drop, what "Insert urgent" takes, and
# what the health score's "open P1/P2 past SLA" counts.
URGENT_MAX_PRIORITY = int(Priority.P2)


class ServiceContract(TimestampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        RENEWED = "renewed", _("Renewed")
        CANCELLED = "cancelled", _("Cancelled")

    class Calendar(models.TextChoices):
        ALWAYS = "24x7", _("24x7")
        BUSINESS_HOURS = "business_hours", _("Business hours (site time zone, Mon–Fri)")

    number = models.CharField(_("number"), max_length=40)
    external_id = models.CharField(_("external id"), max_length=64, unique=True, null=True, blank=True)
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="contracts")
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    annual_value = models.DecimalField(_("annual value"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    auto_renew = models.BooleanField(_("auto-renew"), default=False)
    notice_days = models.PositiveIntegerField(_("notice days"), default=60)
    uplift_percent = models.DecimalField(_("renewal uplift %"), max_digits=5, decimal_places=2, default=3)
    sla_calendar = models.CharField(
        _("SLA calendar"), max_length=16, choices=Calendar.choices, default=Calendar.BUSINESS_HOURS
    )
    included_pm_visits_per_year = models.PositiveIntegerField(_("included PM visits per year"), default=4)
    requires_signature = models.BooleanField(_("customer signature required"), default=True)
    covered_equipment: models.ManyToManyField[Equipment, CoveredEquipment] = models.ManyToManyField(
        Equipment, through="CoveredEquipment", related_name="contracts", blank=True
    )
    predecessor = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="successor",
        verbose_name=_("predecessor contract"),
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["end_date", "number"]
        verbose_name = _("service contract")
        verbose_name_plural = _("service contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")), name="contract_end_after_start"
            ),
            models.CheckConstraint(condition=Q(annual_value__gte=0), name="contract_value_not_negative"),
            models.CheckConstraint(
                condition=Q(uplift_percent__gte=-50, uplift_percent__lte=100),
                name="contract_uplift_range",
            ),
            # A contract number identifies one live contract; renewed and expired ones keep
            # theirs for the record.
            models.UniqueConstraint(
                fields=["number"], condition=Q(status="active"), name="contract_one_active_number"
            ),
        ]
        indexes = [
            # Renewal milestones scan active contracts by end date every night.
            models.Index(fields=["status", "end_date"], name="contract_status_end_idx"),
        ]

    def __str__(self) -> str:
        return self.number


class ContractSLATerm(models.Model):
    contract = models.ForeignKey(ServiceContract, on_delete=models.CASCADE, related_name="sla_terms")
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices)
    response_hours = models.DecimalField(_("response (hours)"), max_digits=6, decimal_places=2)
    resolution_hours = models.DecimalField(_("resolution (hours)"), max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["contract", "priority"]
        verbose_name = _("SLA term")
        verbose_name_plural = _("SLA terms")
        constraints = [
            models.UniqueConstraint(fields=["contract", "priority"], name="sla_term_one_per_priority"),
            models.CheckConstraint(condition=Q(response_hours__gt=0), name="sla_term_response_positive"),
            models.CheckConstraint(
                condition=Q(resolution_hours__gte=models.F("response_hours")),
                name="sla_term_resolution_not_before_response",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} P{self.priority}: {self.response_hours}h/{self.resolution_hours}h"


class CoveredEquipment(models.Model):
    contract = models.ForeignKey(ServiceContract, on_delete=models.CASCADE, related_name="coverage")
    equipment = models.ForeignKey(Equipment, on_delete=models.PROTECT, related_name="coverage")
    added_on = models.DateField(_("added on"), null=True, blank=True)

    class Meta:
        verbose_name = _("covered equipment")
        verbose_name_plural = _("covered equipment")
        constraints = [
            models.UniqueConstraint(fields=["contract", "equipment"], name="covered_equipment_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} covers {self.equipment_id}"


class RenewalOpportunity(TimestampedModel):
    class Stage(models.TextChoices):
        OPEN = "open", _("Open")
        CONTACTED = "contacted", _("Contacted")
        QUOTED = "quoted", _("Quoted")
        NEGOTIATING = "negotiating", _("Negotiating")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")

    # Where a renewal ends: nothing moves it on from here.
    CLOSED_STAGES = (Stage.WON, Stage.LOST)

    contract = models.OneToOneField(
        ServiceContract, on_delete=models.CASCADE, related_name="renewal_opportunity"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.OPEN)
    stage_changed_at = models.DateTimeField(_("stage changed at"), null=True, blank=True)
    proposed_value = models.DecimalField(
        _("proposed value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    health_score_at_open = models.PositiveSmallIntegerField(null=True, blank=True)
    health_band_at_open = models.CharField(max_length=8, blank=True)
    quote_pdf = models.FileField(_("quote PDF"), upload_to="quotes/%Y/", blank=True)
    quote_valid_until = models.DateField(_("quote valid until"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["contract__end_date"]
        verbose_name = _("renewal opportunity")
        verbose_name_plural = _("renewal opportunities")
        constraints = [
            models.CheckConstraint(
                condition=Q(proposed_value__isnull=True) | Q(proposed_value__gte=0),
                name="renewal_proposed_value_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Renewal of {self.contract}"


class RenewalReminder(models.Model):
    """One row per (contract, milestone): its existence is what makes a milestone happen once."""

    class Milestone(models.TextChoices):
        T120 = "t120", _("T−120: opportunity opened")
        T90 = "t90", _("T−90: reminder")
        T60 = "t60", _("T−60: quote drafted")
        T30 = "t30", _("T−30: reminder")
        T7 = "t7", _("T−7: last reminder")
        T0 = "t0", _("T0: renewed or expired")

    contract = models.ForeignKey(ServiceContract, on_delete=models.CASCADE, related_name="reminders")
    milestone = models.CharField(_("milestone"), max_length=8, choices=Milestone.choices)
    due_date = models.DateField(_("due date"))
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    recipients = models.JSONField(_("recipients"), default=list, blank=True)
    payload = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["contract", "due_date"]
        verbose_name = _("renewal reminder")
        verbose_name_plural = _("renewal reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "milestone"], name="renewal_reminder_once_per_milestone"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.milestone}"


class AccountTask(TimestampedModel):
    """An item in the account manager's task list."""

    class Kind(models.TextChoices):
        RENEWAL_REMINDER = "renewal_reminder", _("Renewal reminder")
        SAVE_PLAN = "save_plan", _("Save plan")
        QUOTE_REVIEW = "quote_review", _("Review renewal quote")
        ESCALATION = "escalation", _("Escalation")
        HEALTH_ALERT = "health_alert", _("Health alert")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        DISMISSED = "dismissed", _("Dismissed")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="tasks")
    contract = models.ForeignKey(
        ServiceContract, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="account_tasks",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=300)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    # Makes a task that must exist once (the save plan of a renewal, the alert of one entry
    # into red) impossible to create twice, whatever reruns or races.
    dedupe_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    # When its owner was emailed about it (health alerts: retention.health_alerts claims the
    # row by setting this before sending, and clears it again if the send fails).
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("account task")
        verbose_name_plural = _("account tasks")
        indexes = [
            # "My open tasks" for the account manager home.
            models.Index(fields=["owner", "status", "due_date"], name="account_task_owner_open_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class HealthScore(models.Model):
    """A daily snapshot of one account's health, with the reasons behind it.

    `components` is a list of {"key", "weight", "raw", "score", "points_lost", "reason"}.
    """

    class Band(models.TextChoices):
        GREEN = "green", _("Green")
        YELLOW = "yellow", _("Yellow")
        RED = "red", _("Red")

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="health_scores")
    date = models.DateField(_("date"))
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    band = models.CharField(_("band"), max_length=8, choices=Band.choices)
    components = models.JSONField(_("components"), default=list)
    overrides = models.JSONField(_("overrides"), default=list, blank=True)
    declining = models.BooleanField(_("declining"), default=False)
    rfm_tier = models.CharField(_("RFM tier"), max_length=16, blank=True)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "-date"]
        verbose_name = _("health score")
        verbose_name_plural = _("health scores")
        constraints = [
            models.UniqueConstraint(fields=["account", "date"], name="health_score_one_per_day"),
            models.CheckConstraint(condition=Q(score__range=(0, 100)), name="health_score_range"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.date}: {self.score} ({self.band})"
