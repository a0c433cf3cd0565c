"""Complaints, enquiries and requests handled as cases, with their timeline.

A case's status, version, clocks and timeline change only through cases.services, which
writes each CaseEvent through cases.events (its one writer).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from assets.models import Account, Contact, TimestampedModel
from contracts.models import ServiceContract
from tickets.models import Survey, WorkOrder

CASE_NUMBER_SEQUENCE = "cases_case_number_seq"


class Case(TimestampedModel):
    class Kind(models.TextChoices):
        COMPLAINT = "complaint", _("Complaint")
        ENQUIRY = "enquiry", _("Enquiry")
        REQUEST = "request", _("Request")

    class Severity(models.IntegerChoices):
        HIGH = 1, _("1 – high")
        MEDIUM = 2, _("2 – medium")
        LOW = 3, _("3 – low")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        PORTAL = "portal", _("Portal")
        SURVEY = "survey", _("Survey")

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        CONFIRMED = "confirmed", _("Confirmed by the customer")
        CLOSED_UNCONFIRMED = "closed_unconfirmed", _("Closed unconfirmed")

    class ClockSource(models.TextChoices):
        CONTRACT = "contract", _("Contract")
        DEFAULT = "default", _("Default")

    # The lifecycle, written once: status → the statuses it may move to. The API sends each
    # case's allowed next steps from here; the services refuse anything else.
    NEXT_STATUSES: dict[str, tuple[str, ...]] = {
        Status.RECEIVED: (Status.ACKNOWLEDGED,),
        Status.ACKNOWLEDGED: (Status.IN_PROGRESS, Status.RESOLVED),
        Status.IN_PROGRESS: (Status.RESOLVED,),
        # The customer's answer: confirmed, or re-opened (back to in progress); or no answer
        # within CASE_CONFIRM_DAYS, closed unconfirmed by the sweep.
        Status.RESOLVED: (Status.CONFIRMED, Status.IN_PROGRESS, Status.CLOSED_UNCONFIRMED),
        Status.CONFIRMED: (),
        Status.CLOSED_UNCONFIRMED: (),
    }
    # Open: someone still owes the customer something (escalations look only at these).
    OPEN_STATUSES = (Status.RECEIVED, Status.ACKNOWLEDGED, Status.IN_PROGRESS)
    CLOSED_STATUSES = (Status.CONFIRMED, Status.CLOSED_UNCONFIRMED)

    number = models.CharField(_("number"), max_length=20, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.RECEIVED)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="cases", verbose_name=_("account")
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("contact"),
    )
    work_orders = models.ManyToManyField(
        WorkOrder, blank=True, related_name="cases", verbose_name=_("work orders")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_cases",
        verbose_name=_("owner"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # The clocks, set once at opening: from the covering contract's terms, or the defaults
    # (CASE_DEFAULT_HOURS); `clock_source` says which, so a page can say "default".
    response_due = models.DateTimeField(_("response due"))
    resolution_due = models.DateTimeField(_("resolution due"))
    clock_source = models.CharField(_("clock source"), max_length=10, choices=ClockSource.choices)
    contract = models.ForeignKey(
        ServiceContract,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("contract"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    reopened_count = models.PositiveIntegerField(_("times re-opened"), default=0)
    # The survey that opened it (at most one case per survey, hence per work order).
    survey = models.OneToOneField(
        Survey, on_delete=models.PROTECT, null=True, blank=True, related_name="case", verbose_name=_("survey")
    )
    # Optimistic concurrency: every change bumps it; a writer holding an older one gets 409.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.CheckConstraint(condition=Q(severity__range=(1, 3)), name="case_severity_range"),
            models.CheckConstraint(condition=Q(version__gte=1), name="case_version_positive"),
            models.CheckConstraint(
                condition=Q(resolution_due__gte=F("response_due")), name="case_resolution_after_response"
            ),
            # A contract clock names its contract; a default clock has none.
            models.CheckConstraint(
                condition=Q(clock_source="contract", contract__isnull=False)
                | Q(clock_source="default", contract__isnull=True),
                name="case_clock_source_contract",
            ),
        ]
        indexes = [
            # An account's cases (the account pages, the list filtered by account).
            models.Index(fields=["account", "created_at"], name="case_account_idx"),
            # The owner's list of open cases.
            models.Index(fields=["owner", "status"], name="case_owner_status_idx"),
            # The escalation sweep reads open cases by their resolution clock.
            models.Index(
                fields=["resolution_due"],
                condition=Q(status__in=["received", "acknowledged", "in_progress"]),
                name="case_open_due_idx",
            ),
            # The close-unconfirmed sweep reads resolved cases by when they were resolved.
            models.Index(fields=["resolved_at"], condition=Q(status="resolved"), name="case_resolved_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return self.NEXT_STATUSES[self.status]


# The two clocks: (name, due field, the field whose time stops it).
CLOCKS = (("response", "response_due", "acknowledged_at"), ("resolution", "resolution_due", "resolved_at"))


def clock_breached_q(due: str, stopped: str, *, as_of: dt.datetime) -> Q:
    """A case's clock is breached as of `as_of` when its due time passed and it had not
    stopped by then (still running, or stopped late); the rule of tickets.sla_breach."""
    return Q(**{f"{due}__lt": as_of}) & (Q(**{f"{stopped}__isnull": True}) | Q(**{f"{stopped}__gt": F(due)}))


def breached_q(*, as_of: dt.datetime) -> Q:
    """Either clock of the case is breached as of `as_of`."""
    response, resolution = (clock_breached_q(due, stopped, as_of=as_of) for _, due, stopped in CLOCKS)
    return response | resolution


def clock_breached(due: dt.datetime | None, stopped: dt.datetime | None, *, as_of: dt.datetime) -> bool:
    """The same for one clock of a loaded case."""
    return due is not None and due < as_of and (stopped is None or stopped > due)


def overdue_q(name: str, *, as_of: dt.datetime) -> Q:
    """The clock `name` is past due and still running: what escalates."""
    _, due, stopped = next(clock for clock in CLOCKS if clock[0] == name)
    return Q(**{f"{due}__lt": as_of, f"{stopped}__isnull": True})


class CaseEvent(models.Model):
    """A case's timeline: what was said and done, one row each (cases.events writes them)."""

    class Type(models.TextChoices):
        CREATED = "created", _("Opened")
        STATUS_CHANGED = "status_changed", _("Status changed")
        NOTE = "note", _("Note")
        ESCALATED = "escalated", _("Escalated")
        CUSTOMER_ANSWER = "customer_answer", _("Customer's answer")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("case"))
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    from_status = models.CharField(_("from status"), max_length=20, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, blank=True)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # What a person wrote (a note, the customer's comment); the rest is codes and parameters.
    text = models.TextField(_("text"), blank=True)
    # Shown to the customer (the portal) or kept among staff.
    customer_visible = models.BooleanField(_("visible to the customer"), default=False)
    payload = models.JSONField(_("details"), default=dict, blank=True)
    # Makes an event happen once whoever writes it first (an escalation: one per clock).
    dedupe_key = models.CharField(max_length=100, unique=True, null=True, blank=True)
    # An escalation's email: claimed (set) before it is sent, given back if the send fails.
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        ordering = ["case", "at", "id"]
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        indexes = [
            models.Index(fields=["case", "at"], name="case_event_timeline_idx"),
            # The escalation emails still to send.
            models.Index(
                fields=["id"],
                condition=Q(type="escalated", emailed_at__isnull=True),
                name="case_event_unsent_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.type} @ {self.at:%Y-%m-%d %H:%M}"
