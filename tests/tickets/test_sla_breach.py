"""The one definition of an SLA breach answers the same in SQL, as a filter and in Python."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from tests import factories
from tickets.models import WorkOrder
from tickets.sla_breach import breached_q, breached_sql, clock_breached, overdue_sql

pytestmark = pytest.mark.django_db

T = dt.datetime(2026, 6, 30, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
H = dt.timedelta(hours=1)

# (response due, responded at, resolution due, completed at) → breached as of T, overdue at T
CASES = {
    "no due times": ((None, None, None, None), False, False),
    "not due yet, running": ((T + H, None, T + 2 * H, None), False, False),
    "response due, running": ((T - H, None, T + H, None), True, True),
    "responded in time, resolution running": ((T - 2 * H, T - 3 * H, T + H, None), False, False),
    "responded late, resolution running": ((T - 2 * H, T - H, T + H, None), True, False),
    "responded exactly on time": ((T - H, T - H, None, None), False, False),
    "resolution due, running": ((None, None, T - H, None), True, True),
    "completed late": ((None, None, T - 3 * H, T - 2 * H), True, False),
    "completed in time": ((T - 3 * H, T - 4 * H, T - H, T - 2 * H), False, False),
    "response stops after T, late": ((T - H, T + H, None, None), True, True),
}


def test_sql_filter_and_python_agree_on_every_case() -> None:
    site = factories.site()
    ids = {}
    for name, ((response_due, responded, resolution_due, completed), _, _) in CASES.items():
        ids[name] = factories.work_order(
            site=site,
            sla_response_due=response_due,
            responded_at=responded,
            sla_resolution_due=resolution_due,
            completed_at=completed,
        ).pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT w.id, {breached_sql('w', as_of='%(t)s')}, {overdue_sql('w', as_of='%(t)s')}"
            " FROM tickets_workorder w",
            {"t": T},
        )
        in_sql = {pk: (bool(breached), bool(overdue)) for pk, breached, overdue in cursor.fetchall()}
    filtered = set(WorkOrder.objects.filter(breached_q(as_of=T)).values_list("pk", flat=True))
    for name, (_, breached, overdue) in CASES.items():
        work_order = WorkOrder.objects.get(pk=ids[name])
        in_python = clock_breached(
            work_order.sla_response_due, work_order.responded_at, as_of=T
        ) or clock_breached(work_order.sla_resolution_due, work_order.completed_at, as_of=T)
        assert (in_sql[ids[name]][0], ids[name] in filtered, in_python) == (breached, breached, breached), (
            name
        )
        assert in_sql[ids[name]][1] == overdue, name


def test_met_is_the_negation_read_on_stopped_clocks() -> None:
    site = factories.site()
    late = factories.work_order(site=site, sla_resolution_due=T - 2 * H, completed_at=T - H)
    never_responded = factories.work_order(site=site, sla_response_due=T - 2 * H, completed_at=T - H)
    met = factories.work_order(site=site, sla_response_due=T, responded_at=T - H, completed_at=T)
    breached = set(WorkOrder.objects.filter(breached_q(as_of=None)).values_list("pk", flat=True))
    assert breached == {late.pk, never_responded.pk}
    assert met.pk not in breached
