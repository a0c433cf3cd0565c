"""Celery tasks for scheduling: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def schedule_run_solve_part(run_id: int, part: str) -> None:
    """One territory of a schedule run; routed to the `solver` queue in production."""
    from scheduling.services import schedule_run_solve_part as solve_part

    solve_part(run_id=run_id, part=part)
