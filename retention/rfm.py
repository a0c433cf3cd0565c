"""RFM tiers: where each account stands commercially, from its own history.

For a date `d` (read as of the end of that day) and the RFM period (RFM_PERIOD_DAYS,
a year unless settings say otherwise) before it:

* **Recency**: the later of its last paid service (a billable work order completed) and
  its last renewal (the start of a contract that succeeded another). More recent scores
  higher; an account with neither scores lowest.
* **Frequency**: work orders opened in the period (cancelled ones left out).
* **Monetary**: contract value in force during the period (annual value prorated by the
  days it overlapped the period) plus the parts used on billable work completed in it.

Each dimension is scored 1-5 in quintiles over all accounts existing on `d` (SQL
`ntile(5)`, ties broken by account id, so equal values at a boundary can land in
neighbouring quintiles). A dimension is high at RFM_HIGH_QUINTILE or above and low at
RFM_LOW_QUINTILE or below. Tiers, first match wins:

1. **new**: its first work order or contract is within RFM_NEW_ACCOUNT_DAYS of `d`, or
   it has none yet (too little history to judge the rest);
2. **high_value**: all three high;
3. **at_risk**: all three low, or recency low and fewer work orders in the period than
   in the period before it (it is drifting away);
4. **potential**: frequency and value high, recency low (a good customer we have not
   served or renewed lately);
5. **regular**: everyone else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import connection

from contracts.models import ServiceContract
from tickets.models import WorkOrder

NEW, HIGH_VALUE, AT_RISK, POTENTIAL, REGULAR = "new", "high_value", "at_risk", "potential", "regular"
RFM_PERIOD_DAYS: int = getattr(settings, "RFM_PERIOD_DAYS", 365)
QUINTILES = 5
DAYS_PER_YEAR = 365

RFM_SQL = """
WITH dates AS (
    SELECT d::date AS day,
           ((d::date + 1)::timestamp AT TIME ZONE %(tz)s) AS as_of,
           ((d::date + 1 - %(period)s)::timestamp AT TIME ZONE %(tz)s) AS period_start
    FROM unnest(%(dates)s::date[]) AS d
),
paid AS (
    SELECT w.account_id, dt.day, max(w.completed_at) AS last_paid
    FROM dates dt JOIN tickets_workorder w ON w.completed_at < dt.as_of
    WHERE w.billable AND w.status = ANY(%(done)s)
    GROUP BY w.account_id, dt.day
),
renewal AS (
    SELECT c.account_id, dt.day, max(c.start_date) AS last_renewal
    FROM dates dt JOIN contracts_servicecontract c ON c.start_date <= dt.day
    WHERE c.predecessor_id IS NOT NULL AND c.status = ANY(%(live_contracts)s)
    GROUP BY c.account_id, dt.day
),
frequency AS (
    SELECT w.account_id, dt.day,
           count(*) FILTER (WHERE w.created_at >= dt.period_start) AS current,
           count(*) FILTER (WHERE w.created_at < dt.period_start) AS previous
    FROM dates dt
    JOIN tickets_workorder w
      ON w.created_at < dt.as_of AND w.created_at >= dt.period_start - make_interval(days => %(period)s)
    WHERE w.status <> 'cancelled'
    GROUP BY w.account_id, dt.day
),
parts AS (
    SELECT w.account_id, dt.day, sum(p.quantity * p.unit_cost) AS value
    FROM dates dt
    JOIN tickets_workorder w ON w.completed_at >= dt.period_start AND w.completed_at < dt.as_of
    JOIN tickets_partusage p ON p.work_order_id = w.id
    WHERE w.billable
    GROUP BY w.account_id, dt.day
),
contracted AS (
    SELECT c.account_id, dt.day,
           sum(c.annual_value * (least(c.end_date, dt.day) - greatest(c.start_date, dt.day - %(period)s) + 1)
               / %(days_per_year)s) AS value
    FROM dates dt
    JOIN contracts_servicecontract c ON c.start_date <= dt.day AND c.end_date > dt.day - %(period)s
    WHERE c.status = ANY(%(live_contracts)s)
    GROUP BY c.account_id, dt.day
),
first_seen AS (
    SELECT account_id, min(first_day) AS first_day FROM (
        SELECT account_id, min((created_at AT TIME ZONE %(tz)s)::date) AS first_day
        FROM tickets_workorder GROUP BY account_id
        UNION ALL
        SELECT account_id, min(start_date) FROM contracts_servicecontract
        WHERE status = ANY(%(live_contracts)s) GROUP BY account_id
    ) AS firsts GROUP BY account_id
),
facts AS (
    SELECT a.id AS account_id, dt.day,
           greatest((paid.last_paid AT TIME ZONE %(tz)s)::date, renewal.last_renewal) AS last_activity,
           coalesce(frequency.current, 0) AS frequency_now,
           coalesce(frequency.previous, 0) AS frequency_before,
           coalesce(contracted.value, 0) + coalesce(parts.value, 0) AS monetary,
           fs.first_day
    FROM assets_account a
    CROSS JOIN dates dt
    LEFT JOIN paid ON paid.account_id = a.id AND paid.day = dt.day
    LEFT JOIN renewal ON renewal.account_id = a.id AND renewal.day = dt.day
    LEFT JOIN frequency ON frequency.account_id = a.id AND frequency.day = dt.day
    LEFT JOIN parts ON parts.account_id = a.id AND parts.day = dt.day
    LEFT JOIN contracted ON contracted.account_id = a.id AND contracted.day = dt.day
    LEFT JOIN first_seen fs ON fs.account_id = a.id
    WHERE a.created_at < dt.as_of
)
SELECT account_id, day,
       ntile(%(quintiles)s) OVER (PARTITION BY day ORDER BY last_activity ASC NULLS FIRST, account_id),
       ntile(%(quintiles)s) OVER (PARTITION BY day ORDER BY frequency_now, account_id),
       ntile(%(quintiles)s) OVER (PARTITION BY day ORDER BY monetary, account_id),
       frequency_now, frequency_before, first_day
FROM facts
"""


def tier_of(
    *,
    recency: int,
    frequency: int,
    monetary: int,
    is_new: bool,
    frequency_now: int,
    frequency_before: int,
) -> str:
    """The tier of quintile scores (1-5), in the order of the module docstring."""
    high, low = settings.RFM_HIGH_QUINTILE, settings.RFM_LOW_QUINTILE
    if is_new:
        return NEW
    if recency >= high and frequency >= high and monetary >= high:
        return HIGH_VALUE
    if (recency <= low and frequency <= low and monetary <= low) or (
        recency <= low and frequency_now < frequency_before
    ):
        return AT_RISK
    if frequency >= high and monetary >= high and recency <= low:
        return POTENTIAL
    return REGULAR


def rfm_tiers(dates: Sequence[dt.date]) -> dict[tuple[int, dt.date], str]:
    """{(account id, date): tier} for every account existing on each date, in one statement."""
    params: dict[str, Any] = {
        "dates": sorted(set(dates)),
        "tz": settings.TIME_ZONE,
        "period": RFM_PERIOD_DAYS,
        "days_per_year": DAYS_PER_YEAR,
        "quintiles": QUINTILES,
        "done": [WorkOrder.Status.COMPLETED.value, WorkOrder.Status.CLOSED.value],
        "live_contracts": [
            ServiceContract.Status.ACTIVE.value,
            ServiceContract.Status.RENEWED.value,
            ServiceContract.Status.EXPIRED.value,
        ],
    }
    with connection.cursor() as cursor:
        cursor.execute(RFM_SQL, params)
        rows = cursor.fetchall()
    new_days = dt.timedelta(days=settings.RFM_NEW_ACCOUNT_DAYS)
    return {
        (account_id, day): tier_of(
            recency=r,
            frequency=f,
            monetary=m,
            is_new=first_day is None or first_day >= day - new_days,
            frequency_now=now,
            frequency_before=before,
        )
        for account_id, day, r, f, m, now, before, first_day in rows
    }
