"""The aggregate SQL behind the account health score (see retention.health for definitions).

One statement computes the raw inputs of every component for every account and for every
date asked for: the dates come in as an array, so the nightly run passes one date and
the backtest passes the few hundred it needs, through the very same SQL. Each date `d`
is read as of the end of that day in the project time zone, or now if that is earlier
(`as_of`); its window is the HEALTH_WINDOW_DAYS days that end with it (`since`).

What each aggregate serves:
* `work_order_account_idx` (account, created_at) and the sequential scan of work orders
  are what this reads; per-equipment lookups of repeat repairs use
  `work_order_equipment_idx`.
"""

from __future__ import annotations

from tickets.sla_breach import breached_sql, overdue_sql

HEALTH_INPUTS_SQL = """
WITH dates AS (
    SELECT d::date AS day,
           -- The end of the day, or now while the day is not over (the nightly run).
           least(((d::date + 1)::timestamp AT TIME ZONE %(tz)s), %(now)s) AS as_of,
           ((d::date + 1 - %(window_days)s)::timestamp AT TIME ZONE %(tz)s) AS since
    FROM unnest(%(dates)s::date[]) AS d
),
-- Reactive work completed in the window or still open at as_of; late = a clock that ran
-- past its due time (arrival on site for response, completion for resolution).
sla AS (
    SELECT w.account_id, dt.day,
           count(*) AS counted,
           count(*) FILTER (WHERE {breached}) AS breached
    FROM dates dt
    JOIN tickets_workorder w
      ON w.created_at < dt.as_of AND (w.completed_at IS NULL OR w.completed_at >= dt.since)
    WHERE w.kind = ANY(%(sla_kinds)s) AND w.maintenance_plan_id IS NULL AND w.status <> 'cancelled'
    GROUP BY w.account_id, dt.day
),
-- Repairs completed in the window. A repair is not a first-time fix once a repair of the
-- same unit was opened within FIRST_TIME_FIX_WINDOW_DAYS of its completion, which for a
-- past date counts only if that repeat was opened before as_of (no hindsight).
ftf AS (
    SELECT w.account_id, dt.day,
           count(*) AS repairs,
           count(*) FILTER (
               WHERE w.first_time_fix IS NOT FALSE OR NOT EXISTS (
                   SELECT 1 FROM tickets_workorder r
                   WHERE r.equipment_id = w.equipment_id AND r.id <> w.id
                     AND r.kind = ANY(%(repair_kinds)s)
                     AND r.created_at >= w.completed_at
                     AND r.created_at <= w.completed_at + make_interval(days => %(ftf_days)s)
                     AND r.created_at < dt.as_of)
           ) AS fixed
    FROM dates dt
    JOIN tickets_workorder w ON w.completed_at >= dt.since AND w.completed_at < dt.as_of
    WHERE w.kind = ANY(%(repair_kinds)s) AND w.first_time_fix IS NOT NULL
    GROUP BY w.account_id, dt.day
),
-- Reliability: per unit, days in service during the window and repairs opened on it;
-- the fleet failure rate per equipment model across all accounts; per account, the
-- failures its units would have had at the fleet rates of their models (expected).
unit_days AS (
    SELECT s.account_id, e.id AS equipment_id, e.equipment_model_id, dt.day, dt.since, dt.as_of,
           extract(epoch FROM dt.as_of - greatest(
               dt.since, (coalesce(e.install_date, dt.day - %(window_days)s))::timestamp AT TIME ZONE %(tz)s
           )) / 86400.0 AS op_days
    FROM dates dt
    JOIN assets_equipment e ON e.install_date IS NULL OR e.install_date <= dt.day
    JOIN assets_site s ON s.id = e.site_id
    WHERE e.status <> 'decommissioned'
),
failures AS (
    SELECT w.equipment_id, dt.day, count(*) AS failures
    FROM dates dt
    JOIN tickets_workorder w ON w.created_at >= dt.since AND w.created_at < dt.as_of
    WHERE w.kind = ANY(%(repair_kinds)s) AND w.status <> 'cancelled' AND w.equipment_id IS NOT NULL
    GROUP BY w.equipment_id, dt.day
),
units AS (
    SELECT u.account_id, u.equipment_model_id, u.day, u.op_days, coalesce(f.failures, 0) AS failures
    FROM unit_days u LEFT JOIN failures f ON f.equipment_id = u.equipment_id AND f.day = u.day
    WHERE u.op_days > 0
),
fleet AS (
    SELECT equipment_model_id, day, sum(failures) / sum(op_days) AS rate
    FROM units GROUP BY equipment_model_id, day
),
reliability AS (
    SELECT u.account_id, u.day, sum(u.op_days * fl.rate)::float8 AS expected,
           sum(u.failures)::int AS failures
    FROM units u JOIN fleet fl ON fl.equipment_model_id = u.equipment_model_id AND fl.day = u.day
    GROUP BY u.account_id, u.day
),
-- P1/P2 work open at as_of with a clock already run out; how far the worst P1 is over.
urgent AS (
    SELECT w.account_id, dt.day,
           count(*) AS past_sla,
           (max(extract(epoch FROM dt.as_of - least(
               w.sla_resolution_due,
               CASE WHEN coalesce(w.responded_at >= dt.as_of, TRUE) THEN w.sla_response_due END
           )) / 3600.0) FILTER (WHERE w.priority = 1))::float8 AS p1_hours_over
    FROM dates dt
    JOIN tickets_workorder w
      ON w.created_at < dt.as_of AND (w.completed_at IS NULL OR w.completed_at >= dt.as_of)
    WHERE w.priority <= %(urgent_max_priority)s AND w.status <> 'cancelled'
      AND {overdue}
    GROUP BY w.account_id, dt.day
),
-- Surveys weighted by age with the half-life: CSAT as is, NPS mapped onto 1-5.
sentiment AS (
    SELECT w.account_id, dt.day,
           sum(wt.w * (coalesce(sv.csat, 0) + coalesce(1 + sv.nps * %(nps_scale)s, 0)))
             / sum(wt.w * ((sv.csat IS NOT NULL)::int + (sv.nps IS NOT NULL)::int))::float8 AS value,
           count(*) AS surveys
    FROM dates dt
    JOIN tickets_survey sv
      ON sv.submitted_at < dt.as_of
     AND sv.submitted_at >= dt.as_of - make_interval(days => %(sentiment_days)s)
    JOIN tickets_workorder w ON w.id = sv.work_order_id
    CROSS JOIN LATERAL (
        SELECT power(0.5, extract(epoch FROM dt.as_of - sv.submitted_at) / 86400.0 / %(half_life)s) AS w
    ) AS wt
    WHERE sv.csat IS NOT NULL OR sv.nps IS NOT NULL
    GROUP BY w.account_id, dt.day
),
-- Planned PM visits due in the window whose deadline has passed (or that are done):
-- on time when completed by the window's latest end (else due date + grace).
pm AS (
    SELECT w.account_id, dt.day,
           count(*) AS planned,
           count(*) FILTER (WHERE w.completed_at < dt.as_of AND w.completed_at <= dl.deadline) AS on_time
    FROM dates dt
    JOIN tickets_workorder w ON w.pm_due_date > dt.day - %(window_days)s AND w.pm_due_date <= dt.day
    CROSS JOIN LATERAL (
        SELECT coalesce(
            w.latest_end, (w.pm_due_date + %(pm_grace_days)s + 1)::timestamp AT TIME ZONE %(tz)s
        ) AS deadline
    ) AS dl
    WHERE w.status <> 'cancelled' AND (dl.deadline < dt.as_of OR w.completed_at < dt.as_of)
    GROUP BY w.account_id, dt.day
)
SELECT a.id, dt.day, a.account_manager_id,
       sla.counted, sla.breached,
       ftf.repairs, ftf.fixed,
       rel.expected, rel.failures,
       coalesce(urgent.past_sla, 0), urgent.p1_hours_over,
       sentiment.value, sentiment.surveys,
       pm.planned, pm.on_time
FROM assets_account a
CROSS JOIN dates dt
LEFT JOIN sla ON sla.account_id = a.id AND sla.day = dt.day
LEFT JOIN ftf ON ftf.account_id = a.id AND ftf.day = dt.day
LEFT JOIN reliability rel ON rel.account_id = a.id AND rel.day = dt.day
LEFT JOIN urgent ON urgent.account_id = a.id AND urgent.day = dt.day
LEFT JOIN sentiment ON sentiment.account_id = a.id AND sentiment.day = dt.day
LEFT JOIN pm ON pm.account_id = a.id AND pm.day = dt.day
WHERE a.created_at < dt.as_of
ORDER BY dt.day, a.id
""".replace("{breached}", breached_sql("w", as_of="dt.as_of")).replace(
    "{overdue}", overdue_sql("w", as_of="dt.as_of")
)

# The snapshots a new one is compared with, for all accounts at once: the latest before
# the date (did the band just turn red?) and the one 30 days back (declining?).
PREVIOUS_SNAPSHOTS_SQL = """
SELECT a.id,
       (SELECT h.band FROM contracts_healthscore h
        WHERE h.account_id = a.id AND h.date < %(day)s ORDER BY h.date DESC LIMIT 1),
       (SELECT h.score FROM contracts_healthscore h
        WHERE h.account_id = a.id AND h.date >= %(day)s - %(decline_days)s AND h.date < %(day)s
        ORDER BY h.date LIMIT 1)
FROM assets_account a
"""

UPSERT_SQL = """
INSERT INTO contracts_healthscore
    (account_id, date, score, band, components, overrides, declining, rfm_tier, computed_at)
SELECT r.account_id, r.date, r.score, r.band, r.components, r.overrides, r.declining, r.rfm_tier, %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    account_id bigint, date date, score smallint, band text, components jsonb, overrides jsonb,
    declining boolean, rfm_tier text)
ON CONFLICT (account_id, date) DO UPDATE SET
    score = EXCLUDED.score, band = EXCLUDED.band, components = EXCLUDED.components,
    overrides = EXCLUDED.overrides, declining = EXCLUDED.declining,
    rfm_tier = EXCLUDED.rfm_tier, computed_at = EXCLUDED.computed_at
"""

# One task per entry into red; the unique dedupe key makes a rerun insert nothing, and
# RETURNING tells which alerts are new (those, and only those, get an email).
ALERT_SQL = """
INSERT INTO contracts_accounttask
    (account_id, owner_id, kind, title, due_date, status, dedupe_key, created_at, updated_at)
SELECT r.account_id, r.owner_id, 'health_alert', r.title, r.due_date, 'open', r.dedupe_key, %(now)s, %(now)s
FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(
    account_id bigint, owner_id integer, title text, due_date date, dedupe_key text)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, account_id, owner_id
"""

# Each account's latest snapshot and the key date of its active contracts (the earliest end,
# or the notice deadline of an auto-renewing one), for the risk ranking.
ACCOUNTS_AT_RISK_SQL = """
SELECT a.id, a.name, h.score, h.band, a.annual_contract_value, k.key_date
FROM assets_account a
JOIN LATERAL (
    SELECT score, band FROM contracts_healthscore
    WHERE account_id = a.id AND date <= %(today)s ORDER BY date DESC LIMIT 1
) AS h ON TRUE
LEFT JOIN LATERAL (
    SELECT min(CASE WHEN c.auto_renew THEN c.end_date - c.notice_days ELSE c.end_date END) AS key_date
    FROM contracts_servicecontract c WHERE c.account_id = a.id AND c.status = %(active)s
) AS k ON TRUE
"""
