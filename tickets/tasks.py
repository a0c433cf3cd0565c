"""Celery tasks for work orders: thin wrappers that take ids and call one service."""

from __future__ import annotations

from celery import shared_task

from fieldservice import clock


@shared_task(acks_late=True, reject_on_worker_lost=True)
def service_report_generate(work_order_id: int) -> None:
    from tickets.reports import service_report_create

    service_report_create(work_order_id=work_order_id)


@shared_task(acks_late=True)
def service_reports_sweep() -> int:
    """Periodic: queue the report of every recent completion that has none, so a report
    whose task could not be queued (Redis down) is made once the broker is back."""

    from tickets.reports import reports_missing

    missing = reports_missing(now=clock.now())
    for work_order_id in missing:
        service_report_generate.delay(work_order_id)
    return len(missing)


@shared_task(acks_late=True)
def sla_breaches_sweep() -> int:
    from tickets.sla_clocks import sla_breaches_record

    return sla_breaches_record()


@shared_task(acks_late=True)
def preventive_work_orders_generate() -> int:
    """Daily: create the preventive work orders that fall due within the horizon."""
    from tickets.pm import pm_generate

    return len(pm_generate())
