"""What the mobile API keeps for itself: replayable responses and the per-technician change log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from tickets.models import WorkOrder


class IdempotencyRecord(models.Model):
    """The first response to a mutating call with a given Idempotency-Key, replayed on retries.

    The row is inserted and locked before the call runs and holds the response after it
    commits; a concurrent retry with the same key waits on that lock and then replays.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    # SHA-256 of method, path and body: the same key with another request is refused.
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user"),
        ]
        indexes = [
            # Old records are purged by age.
            models.Index(fields=["created_at"], name="idempotency_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} → {self.status_code}"


class JobChange(models.Model):
    """One row each time a work order that is or was a technician's changes.

    Rows are written by a database trigger on tickets_workorder (migration 0002), so no write
    path (services, admin, bulk updates) can forget them. `txid` is the writing transaction's
    id; the sync cursor is a PostgreSQL snapshot, and a pull returns the rows visible now but
    not in the cursor's snapshot: every committed change exactly once, even when transactions
    commit out of order. Rows carry no time: they are aged by `ChangeLogMark`.
    """

    technician = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="+")
    txid = models.BigIntegerField()

    class Meta:
        verbose_name = _("job change")
        verbose_name_plural = _("job changes")
        indexes = [
            # The sync pull: one technician's changes after the cursor's xmin.
            models.Index(fields=["technician", "txid"], name="job_change_sync_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} for {self.technician_id} in tx {self.txid}"


class ChangeLogMark(models.Model):
    """Which transaction id was current on a business day, one row per day, written by the
    housekeeping task. The change log is purged below the newest mark older than its horizon,
    so its triggers never read the database's clock, which is not the business clock."""

    day = models.DateField(unique=True)
    txid = models.BigIntegerField()

    class Meta:
        verbose_name = _("change log mark")
        verbose_name_plural = _("change log marks")

    def __str__(self) -> str:
        return f"{self.day}: tx {self.txid}"


class TechnicianChangeStamp(models.Model):
    """One row per technician, bumped by the same triggers in the same transaction as each
    job change: a constant-time "has anything of mine changed" for the cached job list.
    `last_txid` is never reused, so a stamp from before a re-seed cannot come back."""

    technician = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    changes = models.BigIntegerField(default=0)
    last_txid = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("technician change stamp")
        verbose_name_plural = _("technician change stamps")

    def __str__(self) -> str:
        return f"{self.technician_id}: {self.changes}"
