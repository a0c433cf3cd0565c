"""Housekeeping of the mobile API's own tables."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from mobile_api.models import IdempotencyRecord, JobChange


@shared_task(acks_late=True)
def mobile_housekeeping() -> dict[str, int]:
    """Purge change-log rows past the sync horizon (older cursors get a full resync) and
    stored responses past the app's retry horizon. Safe to run any time, any number of times."""
    now = timezone.now()
    changes, _ = JobChange.objects.filter(
        changed_at__lt=now - dt.timedelta(days=settings.MOBILE_CHANGE_LOG_DAYS)
    ).delete()
    replays, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - dt.timedelta(days=settings.MOBILE_IDEMPOTENCY_DAYS)
    ).delete()
    return {"job_changes": changes, "idempotency_records": replays}
