"""Celery tasks for the account manager's side: thin wrappers that take dates or ids.

The task names are the ones they had when this code lived in contracts/: the beat schedule
and any message already queued refer to them."""

from __future__ import annotations

import datetime as dt

from celery import shared_task


@shared_task(name="contracts.tasks.renewals_run_daily", acks_late=True, reject_on_worker_lost=True)
def renewals_run_daily(today: str | None = None) -> int:
    """Daily: every renewal milestone that has come due happens, once per contract."""
    from retention.renewals import renewals_run

    return renewals_run(today=dt.date.fromisoformat(today) if today else None)


@shared_task(name="contracts.tasks.health_compute_nightly", acks_late=True, reject_on_worker_lost=True)
def health_compute_nightly(today: str | None = None) -> int:
    """Nightly: a health snapshot for every account, in set-based SQL."""
    from retention.health import health_compute

    return health_compute(today=dt.date.fromisoformat(today) if today else None)
