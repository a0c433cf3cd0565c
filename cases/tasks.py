"""Celery tasks for cases: thin, periodic, safe to run twice (the database makes them so)."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def case_escalations_sweep() -> int:
    """Periodic: one escalation per breached clock of an open case (its dedupe key is unique),
    then the emails not yet sent (each claimed before it goes)."""
    from cases.escalation import case_escalations_email, case_escalations_record

    case_escalations_record()
    return case_escalations_email()


@shared_task(acks_late=True)
def cases_close_unconfirmed_sweep() -> int:
    """Periodic: close the cases the customer did not confirm within CASE_CONFIRM_DAYS."""
    from cases.services import cases_close_unconfirmed

    return cases_close_unconfirmed()
