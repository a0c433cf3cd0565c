"""The account manager's own moves: a renewal deal's stage, a task's status.

The machine's moves (the renewal run's milestones) are in retention.renewals; the contract's
own lifecycle is contracts.services."""

from __future__ import annotations

import logging
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction

from contracts.models import AccountTask, RenewalOpportunity
from fieldservice import clock
from fieldservice.errors import Conflict, Invalid

logger = logging.getLogger(__name__)


@transaction.atomic
def opportunity_stage_set(
    *, opportunity: RenewalOpportunity, stage: str, by: User | None, proposed_value: Decimal | None = None
) -> RenewalOpportunity:
    """A person moves the deal. This is what "the opportunity has moved" means to the T−30
    escalation, so stage_changed_at is set here and only here."""
    locked = RenewalOpportunity.objects.select_for_update().get(pk=opportunity.pk)
    if stage not in RenewalOpportunity.Stage.values:
        raise Invalid(f"Unknown stage {stage!r}.", code="unknown_stage")
    if locked.stage in RenewalOpportunity.CLOSED_STAGES:
        raise Conflict(f"The renewal is already {locked.stage}.", code="opportunity_closed")
    now = clock.now()
    locked.stage, locked.stage_changed_at = stage, now
    if proposed_value is not None:
        if proposed_value < 0:
            raise Invalid("The proposed value cannot be negative.", code="value_negative")
        locked.proposed_value = proposed_value
    locked.closed_at = now if stage in RenewalOpportunity.CLOSED_STAGES else None
    locked.save(update_fields=["stage", "stage_changed_at", "proposed_value", "closed_at", "updated_at"])
    logger.info("Renewal of %s moved to %s by %s", locked.contract_id, stage, by)
    return locked


@transaction.atomic
def task_set_status(*, task: AccountTask, status: str, by: User | None) -> AccountTask:
    if status not in AccountTask.Status.values:
        raise Invalid(f"Unknown task status {status!r}.", code="unknown_status")
    AccountTask.objects.filter(pk=task.pk).update(status=status, updated_at=clock.now())
    task.refresh_from_db()
    return task
