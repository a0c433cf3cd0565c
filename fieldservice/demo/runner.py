"""Run the seeding stages in order, timing each one."""

from __future__ import annotations

import random
import time as wallclock
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction

from fieldservice.demo import backlog, contracts, customers, history, installed_base, lifecycle, people
from fieldservice.demo.bulk import reset_id_sequences
from fieldservice.demo.context import SeedContext
from fieldservice.demo.scales import SCALES
from fieldservice.demo.timeline import TechnicianPool, schedule_history
from fieldservice.demo.wipe import demo_tables_with_id_sequence, wipe_demo_data
from fieldservice.demo.workorders import (
    WorkOrderPlan,
    number_work_orders,
    trim_to_seconds,
    write_work_orders,
)


@dataclass
class SeedReport:
    stages: list[tuple[str, float]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(seconds for _, seconds in self.stages)


def _history(ctx: SeedContext) -> list[WorkOrderPlan]:
    orders = history.plan_history(ctx)
    pool = TechnicianPool(ctx)
    for wo in orders:
        schedule_history(ctx, wo, pool)
    # Anything that would still be running at the seeded instant belongs to no history.
    finished = [
        wo for wo in orders if max(filter(None, (wo.closed_at, wo.completed_at, wo.cancelled_at))) <= ctx.now
    ]
    history.mark_first_time_fix(finished)
    return finished


# The technician app's change log is written by triggers on these tables (mobile_api
# migrations). Seeded history is not news to any app, and logging it row by row would make
# seeding many times slower, so the triggers are off while the demo is written (inside the
# seed's transaction: a failed seed leaves them on).
CHANGE_LOG_TRIGGERS = (
    ("tickets_workorder", "mobile_api_job_change"),
    ("tickets_workorderevent", "mobile_api_job_event"),
)


def pause_change_log() -> None:
    with connection.cursor() as cursor:
        for table, trigger in CHANGE_LOG_TRIGGERS:
            cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER "{trigger}"')


def resume_change_log() -> None:
    """Turn the triggers back on and give every user a new change stamp, so that no job list
    cached before the re-seed can be served for the new data."""
    with connection.cursor() as cursor:
        # The deferred foreign-key checks of the seeded rows run now: a table with checks
        # still pending cannot be altered.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, trigger in CHANGE_LOG_TRIGGERS:
            cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER "{trigger}"')
        cursor.execute(
            """
            INSERT INTO mobile_api_technicianchangestamp (technician_id, changes, last_txid)
            SELECT id, 1, pg_current_xact_id()::text::bigint FROM auth_user ORDER BY id
            ON CONFLICT (technician_id) DO UPDATE
            SET changes = mobile_api_technicianchangestamp.changes + 1, last_txid = EXCLUDED.last_txid
            """
        )


def refresh_planner_statistics() -> None:
    """ANALYZE after the bulk load: until autovacuum gets to it, the planner would plan
    with the old row counts (hash joins over whole tables where an index lookup is right;
    the technician app's first sync took 60 ms instead of 22 on the large scale)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def seed(*, seed: int, scale: str, now: datetime, log: Callable[[str], None]) -> SeedReport:
    """Seed the world as it stands at `now` (truncated to the minute, so that one seed and
    one minute always give the same rows)."""
    now = now.replace(second=0, microsecond=0)
    ctx = SeedContext(seed=seed, scale=SCALES[scale], now=now, rng=random.Random(seed))
    report = SeedReport()
    orders: list[WorkOrderPlan] = []

    def stage(name: str, action: Callable[[], object]) -> None:
        started = wallclock.perf_counter()
        action()
        elapsed = wallclock.perf_counter() - started
        report.stages.append((name, elapsed))
        log(f"  {name:<28} {elapsed:7.2f} s")

    def history_stage() -> None:
        orders.extend(_history(ctx))

    def backlog_stage() -> None:
        orders.extend(backlog.plan_backlog(ctx))

    def write_stage() -> None:
        trim_to_seconds(orders)
        number_work_orders(orders)
        write_work_orders(ctx, orders)

    with transaction.atomic():
        stage("wipe", wipe_demo_data)
        pause_change_log()
        stage("staff users", lambda: people.create_staff(ctx))
        stage("territories", lambda: customers.create_territories(ctx))
        stage("accounts", lambda: customers.create_accounts(ctx))
        stage("sites and contacts", lambda: customers.create_sites(ctx))
        stage("equipment catalog", lambda: installed_base.create_catalog(ctx))
        stage("installed base", lambda: installed_base.create_equipment(ctx))
        stage("contracts", lambda: contracts.create_contracts(ctx))
        stage("technicians and shifts", lambda: people.create_technicians(ctx))
        stage("preferred technicians", lambda: people.create_preferred_technicians(ctx))
        stage("work order history", history_stage)
        stage("open backlog", backlog_stage)
        stage("work orders (write)", write_stage)
        stage("events, checklists, parts", lambda: lifecycle.record_all(ctx, orders))
        stage("sequences", lambda: reset_id_sequences(demo_tables_with_id_sequence()))
        stage("technician app change stamps", resume_change_log)
    stage("planner statistics", refresh_planner_statistics)
    report.counts = dict(ctx.counts)
    report.counts["open work orders"] = sum(wo.status in ("new", "scheduled", "dispatched") for wo in orders)
    return report
