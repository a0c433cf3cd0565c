"""Health alerts: an account that enters red gets one task for its account manager, and one
email about it.

**Task, exactly once.** `alerts_open` runs inside the nightly snapshot's transaction and
inserts one AccountTask per entry into red, its dedupe key the account and the date of entry
(a rerun or a concurrent run inserts nothing).

**Email, at most once, retried until sent.** `alerts_email` runs after commit and on every
later run: each open health-alert task whose owner has an address and that has not been
emailed is claimed by a conditional UPDATE (`emailed_at IS NULL` → now, row count 1,
autocommit) before its email goes, the protocol of the renewal reminders (retention.renewals).
A failed send gives the claim back, so the next run sends it; the failures are raised after
the other tasks had their turn. The email is in its owner's language and reads the stored
snapshot of the day of entry.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import connection
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from contracts.models import AccountTask, HealthScore
from fieldservice import clock
from fieldservice.people import staff_language
from retention import health_sql
from retention.health_scoring import Snapshot

logger = logging.getLogger(__name__)

# The title names the components that cost the most points.
TITLE_REASONS = 2


class HealthAlertsFailed(Exception):
    """Some alert emails were not sent; their tasks stay unsent and the next run retries."""


def worst_first(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(components, key=lambda c: -c["points_lost"])


def alerts_open(entered_red: list[Snapshot]) -> int:
    """One AccountTask per entry into red, titled in its owner's language; returns how many
    were new."""
    if not entered_red:
        return 0
    owner_ids = {s.account_manager_id for s in entered_red if s.account_manager_id is not None}
    owners = User.objects.filter(pk__in=owner_ids).select_related("profile").in_bulk()
    rows = []
    for snap in entered_red:
        language = staff_language(owners.get(snap.account_manager_id or 0))
        reasons = "; ".join(c["reason"][language] for c in worst_first(snap.components)[:TITLE_REASONS])
        with translation.override(language):
            title = gettext("Health turned red (%(score)s): %(reasons)s") % {
                "score": snap.score,
                "reasons": reasons,
            }
        rows.append(
            {
                "account_id": snap.account_id,
                "owner_id": snap.account_manager_id,
                "title": title[: AccountTask._meta.get_field("title").max_length],
                "due_date": snap.day.isoformat(),
                "dedupe_key": f"health-red:{snap.account_id}:{snap.day.isoformat()}",
            }
        )
    with connection.cursor() as cursor:
        rows_json = json.dumps(rows, ensure_ascii=False)
        cursor.execute(health_sql.ALERT_SQL, {"rows": rows_json, "now": clock.now()})
        return len(cursor.fetchall())


def _unsent() -> list[AccountTask]:
    return list(
        AccountTask.objects.filter(
            kind=AccountTask.Kind.HEALTH_ALERT,
            status=AccountTask.Status.OPEN,
            emailed_at__isnull=True,
            owner__is_active=True,
        )
        .exclude(owner__email="")
        .select_related("account", "owner__profile")
        .order_by("pk")
    )


def _message(task: AccountTask) -> EmailMessage:
    assert task.owner is not None and task.due_date is not None  # _unsent's filter
    snapshot = HealthScore.objects.filter(account_id=task.account_id, date=task.due_date).first()
    language = staff_language(task.owner)
    reasons = []
    if snapshot is not None:
        reasons = [r["reason"][language] for r in worst_first(snapshot.components) + snapshot.overrides]
    context = {
        "account": task.account,
        "score": snapshot.score if snapshot is not None else None,
        "day": task.due_date,
        "reasons": reasons,
        "company_name": settings.COMPANY_NAME,
    }
    with translation.override(language):
        subject = render_to_string("retention/email/health_alert_subject.txt", context)
        body = render_to_string("retention/email/health_alert_body.txt", context)
    one_line = " ".join(subject.split())
    return EmailMessage(one_line, body, settings.DEFAULT_FROM_EMAIL, to=[task.owner.email])


def _send(task: AccountTask) -> bool:
    """Claim, send, or give the claim back; False when another run had claimed it."""
    claimed_at = clock.now()
    # Two runs at once: PostgreSQL serialises the UPDATEs of the row; the later one matches
    # nothing and leaves the task to the first.
    if AccountTask.objects.filter(pk=task.pk, emailed_at__isnull=True).update(emailed_at=claimed_at) != 1:
        return False
    try:
        _message(task).send()
    except Exception:
        AccountTask.objects.filter(pk=task.pk, emailed_at=claimed_at).update(emailed_at=None)
        raise
    return True


def alerts_email() -> int:
    """Email every open health-alert task not emailed yet; returns how many were sent."""
    sent, failures = 0, []
    for task in _unsent():
        try:
            sent += _send(task)
        except Exception as error:  # the others still get theirs; raised below
            logger.exception("Health alert %s not emailed", task.pk)
            failures.append(f"task {task.pk}: {error}")
    if failures:
        raise HealthAlertsFailed("; ".join(failures))
    return sent
