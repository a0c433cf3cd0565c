"""The customer portal's own records: who of a customer's contacts may sign in (and to what),
the one-time sign-in links, and the faults customers report (from the portal or from a
machine's QR label) until and after they become work orders.

Tokens are never stored: a link's row keeps the SHA-256 of its token, so a copy of the
database signs nobody in.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assets.models import Account, Contact, Equipment, Site
from fieldservice import clock
from tickets.models import WorkOrder


class PortalAccess(models.Model):
    """A contact's way into the portal: the Django user they sign in as (made on their first
    sign-in, in the "customer" role, with no password), and how far they see."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="portal_access")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portal_access"
    )
    # Only the contact's own site (Contact.site), not the whole account. Without a site on the
    # contact it has no effect.
    site_only = models.BooleanField(_("own site only"), default=False)
    created_at = models.DateTimeField(_("created at"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("portal access")
        verbose_name_plural = _("portal accesses")

    def __str__(self) -> str:
        return str(self.contact)


class SignInLink(models.Model):
    """One emailed sign-in link: good until `expires_at`, once (`used_at`)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    token_sha256 = models.CharField(max_length=64, unique=True)  # the lookup when a link is followed
    created_at = models.DateTimeField(default=clock.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")

    def __str__(self) -> str:
        return f"{self.contact_id} · {self.created_at:%Y-%m-%d %H:%M}"


class FaultReport(models.Model):
    """A fault a customer reported, and how: from the portal (a signed-in contact: becomes a
    work order at once) or from a machine's QR label (anyone: becomes one only when the
    emailed confirmation link is followed). The work order records no channel of its own;
    this row is where the channel, the reporter and their photos are kept."""

    class Channel(models.TextChoices):
        PORTAL = "portal", _("Customer portal")
        LABEL = "label", _("QR label")

    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    equipment = models.ForeignKey(Equipment, on_delete=models.CASCADE, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    reporter_name = models.CharField(_("name"), max_length=200)
    reporter_email = models.EmailField(_("email"))
    reporter_phone = models.CharField(_("phone"), max_length=40, blank=True)
    symptom = models.TextField(_("symptom"))
    line_stopped = models.BooleanField(_("line stopped"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=clock.now)
    # Label reports only: the confirmation link's token, hashed, and when it lapses.
    confirm_sha256 = models.CharField(max_length=64, unique=True, null=True, blank=True)
    confirm_by = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    work_order = models.OneToOneField(
        WorkOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="fault_report"
    )

    class Meta:
        verbose_name = _("fault report")
        verbose_name_plural = _("fault reports")
        constraints = [
            # A portal report is a signed-in contact's; a label report waits for its confirmation.
            models.CheckConstraint(
                condition=Q(channel="label") | Q(contact__isnull=False),
                name="portal_fault_report_portal_has_contact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} · {self.reporter_name}"


class FaultPhoto(models.Model):
    """A photo sent with a fault report, re-encoded as the technicians' photos are
    (tickets.records.images). Not a tickets.Attachment: those are records of the visit,
    written on site only."""

    report = models.ForeignKey(FaultReport, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="portal/faults/%Y/%m/")
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(default=clock.now)

    class Meta:
        verbose_name = _("fault photo")
        verbose_name_plural = _("fault photos")

    def __str__(self) -> str:
        return self.file.name
