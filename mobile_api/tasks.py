"""Housekeeping of the mobile API's own tables."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max

from fieldservice import clock
from mobile_api.models import ChangeLogMark, IdempotencyRecord, JobChange


@shared_task(acks_late=True)
def mobile_housekeeping() -> dict[str, int]:
    """Purge change-log rows past the sync horizon (older cursors get a full resync) and
    stored responses past the app's retry horizon. Safe to run any time, any number of times."""
    now = clock.now()
    with transaction.atomic():
        changes = _purge_change_log(today=clock.today())
    replays, _ = IdempotencyRecord.objects.filter(
        created_at__lt=now - dt.timedelta(days=settings.MOBILE_IDEMPOTENCY_DAYS)
    ).delete()
    return {"job_changes": changes, "idempotency_records": replays}


def _purge_change_log(*, today: dt.date) -> int:
    """Record today's mark (the first run of a day; later runs add nothing), then delete the
    rows written before the newest mark that is past the horizon: every such row's
    transaction began before that day, so no cursor still trusted (mobile_api.sync) needs it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO mobile_api_changelogmark (day, txid) VALUES (%s, pg_current_xact_id()::text::bigint)"
            " ON CONFLICT (day) DO NOTHING",
            [today],
        )
    horizon = today - dt.timedelta(days=settings.MOBILE_CHANGE_LOG_DAYS)
    watermark = ChangeLogMark.objects.filter(day__lt=horizon).aggregate(txid=Max("txid"))["txid"]
    if watermark is None:
        return 0
    deleted, _ = JobChange.objects.filter(txid__lt=watermark).delete()
    ChangeLogMark.objects.filter(day__lt=horizon).delete()
    return deleted
