"""People who work in the product, beyond what django.contrib.auth knows about them, their
API tokens, and the audit trail of what they change."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from fieldservice import clock


class StaffProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    # Whom escalations go to (the T−30 renewal escalation, for example).
    reports_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="direct_reports",
        verbose_name=_("reports to"),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")
        constraints = [
            models.CheckConstraint(condition=~Q(reports_to=models.F("user")), name="staff_not_own_manager"),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user}"


class ApiToken(models.Model):
    """A bearer token for an integration or the technician app. Only its SHA-256 is stored:
    a leaked database does not leak working tokens."""

    class Kind(models.TextChoices):
        INTEGRATION = "integration", _("Integration")
        MOBILE = "mobile", _("Mobile app")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    # The first characters, to recognise a token in lists without storing it.
    prefix = models.CharField(max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.kind}, {self.user})"


class AuditEntry(models.Model):
    """Who changed what on a contract or a piece of equipment, when, and through which door.

    Work orders keep their own, richer trail (tickets.WorkOrderEvent); this one is for the
    records that change rarely and by hand. Rows are written by the services that make the
    change (fieldservice.audit.audit_record) and by the back office's save hooks, never edited:
    the admin shows them read-only, to admins only.
    """

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        CHANGED = "changed", _("Changed")
        DELETED = "deleted", _("Deleted")

    class Source(models.TextChoices):
        WEB = "web", _("Web page")
        API = "api", _("API")
        ADMIN = "admin", _("Back office")
        IMPORT = "import", _("Import")
        TASK = "task", _("Scheduled task")

    at = models.DateTimeField(_("at"), default=clock.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    source = models.CharField(_("source"), max_length=8, choices=Source.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("object type")
    )
    # Not a foreign key: the entry outlives a deleted object, and names it by object_repr.
    object_id = models.PositiveBigIntegerField(_("object id"))
    object_repr = models.CharField(_("object"), max_length=200)
    target = GenericForeignKey("content_type", "object_id")
    action = models.CharField(_("action"), max_length=8, choices=Action.choices)
    # {"field": [old, new]}, values as JSON (dates as ISO strings, money as decimal strings).
    changes = models.JSONField(_("changes"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        indexes = [
            # The "History" section of one contract's or one unit's admin page.
            models.Index(fields=["content_type", "object_id", "at"], name="audit_entry_object_idx"),
            # The audit list, newest first, filtered by date.
            models.Index(fields=["at"], name="audit_entry_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.object_repr}: {self.action} @ {self.at:%Y-%m-%d %H:%M}"
