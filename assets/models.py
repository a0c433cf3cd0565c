"""The installed base: who the customers are, where their equipment stands, what it is.

This app is the ground floor: it imports no other app of the project. Skills are
referred to by their code (a slug), so the installed base knows nothing of the workforce.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import F, Func, Q, Value
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fieldservice import clock


def trigram_index(field: str, *, name: str) -> GinIndex:
    """A trigram index: what the service desk's search (assets.search) filters and ranks by,
    substrings included, Chinese as well as Latin text (the database's ctype is UTF-8)."""
    return GinIndex(fields=[field], opclasses=["gin_trgm_ops"], name=name)


def phone_digits(field: str) -> Func:
    """A phone number's digits only: "+86 512-6868 1234" is found by "68681234"."""
    return Func(F(field), Value(r"\D"), Value(""), Value("g"), function="regexp_replace")


WEEKDAYS_MON_TO_FRI = [0, 1, 2, 3, 4]


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("%(value)s is not an IANA time zone"), params={"value": value}) from None


def default_weekdays() -> list[int]:
    return list(WEEKDAYS_MON_TO_FRI)


class TimestampedModel(models.Model):
    # A default rather than auto_now_add, so imports and the demo's history can set it.
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Account(TimestampedModel):
    class Industry(models.TextChoices):
        SEMICONDUCTOR = "semiconductor", _("Semiconductor")
        ELECTRONICS_ASSEMBLY = "electronics_assembly", _("Electronics assembly")
        AUTOMOTIVE_PARTS = "automotive_parts", _("Automotive parts")
        PHARMA = "pharma", _("Pharmaceuticals")
        DATA_CENTER = "data_center", _("Data centre")
        MACHINERY = "machinery", _("Machinery")
        OTHER = "other", _("Other")

    class Tier(models.TextChoices):
        STRATEGIC = "strategic", _("Strategic")
        KEY = "key", _("Key")
        STANDARD = "standard", _("Standard")

    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(_("external id"), max_length=64, unique=True, null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=32, choices=Industry.choices)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    annual_contract_value = models.DecimalField(
        _("annual contract value"), max_digits=14, decimal_places=2, default=0
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_accounts",
        verbose_name=_("account manager"),
    )

    class Meta:
        ordering = ["name"]
        indexes = [trigram_index("name", name="account_name_trgm")]
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_contract_value__gte=0), name="account_acv_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Site(TimestampedModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="sites")
    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(_("external id"), max_length=64, unique=True, null=True, blank=True)
    address = models.CharField(_("address"), max_length=300)
    city = models.CharField(_("city"), max_length=100)
    country = models.CharField(_("country"), max_length=2, default="CN")
    # geography=True: distances in metres on the spheroid, which is what "how far is the
    # technician from the site" needs; GeoDjango adds the GiST index.
    location = models.PointField(_("location"), geography=True, srid=4326)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    access_opens = models.TimeField(_("access opens"), default="08:00")
    access_closes = models.TimeField(_("access closes"), default="17:00")
    # Monday = 0 ... Sunday = 6, as in datetime.weekday().
    access_weekdays = ArrayField(
        models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)]),
        default=default_weekdays,
        verbose_name=_("access weekdays"),
    )
    access_notes = models.CharField(_("access notes"), max_length=300, blank=True)

    class Meta:
        ordering = ["account__name", "name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        indexes = [trigram_index("name", name="site_name_trgm")]
        constraints = [
            models.CheckConstraint(
                condition=Q(access_closes__gt=models.F("access_opens")),
                name="site_access_closes_after_opens",
            ),
            models.CheckConstraint(
                condition=Q(access_weekdays__contained_by=[0, 1, 2, 3, 4, 5, 6]),
                name="site_access_weekdays_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.name} — {self.name}"


class Contact(TimestampedModel):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    site = models.ForeignKey(Site, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts")
    external_id = models.CharField(_("external id"), max_length=64, unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=200)
    title = models.CharField(pgettext_lazy("a person's job title", "title"), max_length=100, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="zh-hans")
    is_primary = models.BooleanField(_("primary contact"), default=False)

    class Meta:
        ordering = ["account__name", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        # The search also reads phone numbers by their digits, through an expression index
        # that assets/migrations/0004 creates in SQL (Django wraps an operator class on an
        # expression in brackets PostgreSQL refuses).
        indexes = [trigram_index("name", name="contact_name_trgm")]
        constraints = [
            # One primary contact per site: the service report goes to exactly one person.
            models.UniqueConstraint(
                fields=["site"], condition=Q(is_primary=True), name="contact_one_primary_per_site"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class EquipmentModel(TimestampedModel):
    class Category(models.TextChoices):
        CNC = "cnc", _("CNC machine")
        COMPRESSOR = "compressor", _("Compressor")
        CHILLER = "chiller", _("Chiller")
        SMT = "smt", _("SMT line")
        CLEANROOM_HVAC = "cleanroom_hvac", _("Clean-room HVAC")
        UPS = "ups", _("UPS")
        LAB_INSTRUMENT = "lab_instrument", _("Lab instrument")
        OTHER = "other", _("Other")

    manufacturer = models.CharField(_("manufacturer"), max_length=100)
    model_number = models.CharField(_("model number"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    required_skill = models.SlugField(_("required skill code"), max_length=50)
    required_skill_level = models.PositiveSmallIntegerField(
        _("required skill level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )

    class Meta:
        ordering = ["manufacturer", "model_number"]
        verbose_name = _("equipment model")
        verbose_name_plural = _("equipment models")
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "model_number"], name="equipment_model_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(required_skill_level__range=(1, 3)),
                name="equipment_model_skill_level_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.manufacturer} {self.model_number}"


class Equipment(TimestampedModel):
    class Status(models.TextChoices):
        OPERATIONAL = "operational", _("Operational")
        DEGRADED = "degraded", _("Degraded")
        DOWN = "down", _("Down")
        DECOMMISSIONED = "decommissioned", _("Decommissioned")

    class Criticality(models.IntegerChoices):
        LOW = 1, _("Low")
        MEDIUM = 2, _("Medium")
        HIGH = 3, _("High")
        CRITICAL = 4, _("Critical")

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="equipment")
    equipment_model = models.ForeignKey(
        EquipmentModel, on_delete=models.PROTECT, related_name="units", verbose_name=_("model")
    )
    # Copied from the model so the database can hold "serial unique per manufacturer";
    # always set from equipment_model (see assets.services.equipment_save).
    manufacturer = models.CharField(_("manufacturer"), max_length=100, editable=False)
    serial_number = models.CharField(_("serial number"), max_length=100)
    asset_tag = models.CharField(_("asset tag"), max_length=64, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, unique=True, null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="components",
        verbose_name=_("parent equipment"),
    )
    install_date = models.DateField(_("install date"), null=True, blank=True)
    warranty_end = models.DateField(_("warranty end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPERATIONAL)
    criticality = models.PositiveSmallIntegerField(
        _("criticality"), choices=Criticality.choices, default=Criticality.MEDIUM
    )
    # Running average used to project meter-based maintenance; refreshed from readings.
    average_daily_usage = models.DecimalField(
        _("average daily usage"), max_digits=10, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["site__account__name", "serial_number"]
        verbose_name = _("equipment")
        verbose_name_plural = _("equipment")
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "serial_number"], name="equipment_serial_unique_per_maker"
            ),
            models.CheckConstraint(
                condition=Q(warranty_end__isnull=True)
                | Q(install_date__isnull=True)
                | Q(warranty_end__gte=models.F("install_date")),
                name="equipment_warranty_after_install",
            ),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="equipment_not_own_parent"),
            models.CheckConstraint(
                condition=Q(criticality__range=(1, 4)), name="equipment_criticality_range"
            ),
        ]
        indexes = [
            # The account 360 and the health score read equipment by site and status.
            models.Index(fields=["site", "status"], name="equipment_site_status_idx"),
            trigram_index("serial_number", name="equipment_serial_trgm"),
            trigram_index("asset_tag", name="equipment_asset_tag_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.equipment_model} #{self.serial_number}"


class MeterReading(models.Model):
    class Kind(models.TextChoices):
        OPERATING_HOURS = "operating_hours", _("Operating hours")
        CYCLES = "cycles", _("Cycles")

    class Source(models.TextChoices):
        TECHNICIAN = "technician", _("Technician on site")
        IMPORT = "import", _("Import")
        TELEMETRY = "telemetry", _("Telemetry")

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="meter_readings")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=2)
    read_at = models.DateTimeField(_("read at"))
    source = models.CharField(_("source"), max_length=16, choices=Source.choices, default=Source.TECHNICIAN)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["equipment", "kind", "-read_at"]
        verbose_name = _("meter reading")
        verbose_name_plural = _("meter readings")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="meter_reading_not_negative"),
            models.UniqueConstraint(
                fields=["equipment", "kind", "read_at"], name="meter_reading_unique_instant"
            ),
        ]
        indexes = [
            # Usage projection reads the latest readings of one meter.
            models.Index(fields=["equipment", "kind", "-read_at"], name="meter_reading_latest_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.equipment_id} {self.kind}={self.value} @ {self.read_at:%Y-%m-%d}"


class ChecklistTemplate(TimestampedModel):
    """A reusable list of checks. `items` is a list of
    {"label": str, "kind": "pass_fail"|"value"|"text", "unit": str, "required": bool}."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    items = models.JSONField(_("items"), default=list)

    class Meta:
        ordering = ["name"]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")

    def __str__(self) -> str:
        return self.name


class MaintenancePlan(TimestampedModel):
    class Trigger(models.TextChoices):
        CALENDAR = "calendar", _("Calendar")
        METER = "meter", _("Meter")

    class Schedule(models.TextChoices):
        FIXED = "fixed", _("Fixed (from the anchor date)")
        FLOATING = "floating", _("Floating (from the last completion)")

    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="maintenance_plans")
    name = models.CharField(_("name"), max_length=200)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    schedule = models.CharField(
        _("schedule"), max_length=16, choices=Schedule.choices, default=Schedule.FIXED
    )
    interval_days = models.PositiveIntegerField(_("interval (days)"), null=True, blank=True)
    anchor_date = models.DateField(_("anchor date"), null=True, blank=True)
    meter_kind = models.CharField(
        _("meter kind"), max_length=16, choices=MeterReading.Kind.choices, blank=True
    )
    meter_interval = models.DecimalField(
        _("meter interval"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    checklist_template = models.ForeignKey(
        ChecklistTemplate, on_delete=models.PROTECT, null=True, blank=True, related_name="plans"
    )
    required_skill = models.SlugField(_("required skill code"), max_length=50)
    required_skill_level = models.PositiveSmallIntegerField(
        _("required skill level"), default=1, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    estimated_minutes = models.PositiveIntegerField(_("estimated minutes"), default=60)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["equipment", "name"]
        verbose_name = _("maintenance plan")
        verbose_name_plural = _("maintenance plans")
        constraints = [
            models.CheckConstraint(
                condition=~Q(trigger="calendar")
                | Q(interval_days__isnull=False, interval_days__gt=0, anchor_date__isnull=False),
                name="plan_calendar_needs_interval_and_anchor",
            ),
            models.CheckConstraint(
                condition=~Q(trigger="meter")
                | (Q(meter_interval__isnull=False, meter_interval__gt=0) & ~Q(meter_kind="")),
                name="plan_meter_needs_kind_and_interval",
            ),
            models.CheckConstraint(
                condition=Q(estimated_minutes__gt=0), name="plan_estimated_minutes_positive"
            ),
            models.CheckConstraint(
                condition=Q(required_skill_level__range=(1, 3)), name="plan_skill_level_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name
