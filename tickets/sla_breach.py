"""When an SLA clock is breached: the one definition, in SQL, as a Django filter and in Python.

A work order has two clocks: *response* (due `sla_response_due`, stopped by the arrival on
site, `responded_at`) and *resolution* (due `sla_resolution_due`, stopped by `completed_at`).
A clock is **breached** as of an instant when its due time is before that instant and it had
not stopped by its due time: it is still running, or it stopped late. A clock without a due
time is never breached, and a work order is breached when either clock is. "Met" is its
negation, read once both clocks have stopped. A clock is **overdue** as of an instant when it
is breached and still running then (what "open P1/P2 past SLA" counts).

Everyone who counts breaches uses these: the sweep that records them
(tickets.sla_clocks), the health score (retention.health_sql), the quote's service summary
(retention.selectors) and the KPIs (fieldservice.kpis). The SQL takes the table alias and
the instant as SQL text; the values themselves go in as query parameters.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q

# (due time, the time that stops the clock) of each clock, response first.
CLOCKS = (("sla_response_due", "responded_at"), ("sla_resolution_due", "completed_at"))


def clock_breached_sql(alias: str, due: str, stopped: str, *, as_of: str | None) -> str:
    """SQL: this clock is breached as of `as_of` (None: at any time, for stopped clocks)."""
    came_due = f"{alias}.{due} IS NOT NULL" if as_of is None else f"{alias}.{due} < {as_of}"
    return f"({came_due} AND coalesce({alias}.{stopped} > {alias}.{due}, TRUE))"


def breached_sql(alias: str, *, as_of: str | None) -> str:
    """SQL: either clock of the work order `alias` is breached as of `as_of`."""
    return "(" + " OR ".join(clock_breached_sql(alias, d, s, as_of=as_of) for d, s in CLOCKS) + ")"


def overdue_sql(alias: str, *, as_of: str) -> str:
    """SQL: a clock of the work order `alias` had not stopped by `as_of`, its due time passed."""
    clocks = [f"({alias}.{d} < {as_of} AND coalesce({alias}.{s} >= {as_of}, TRUE))" for d, s in CLOCKS]
    return "(" + " OR ".join(clocks) + ")"


def overdue_q(*, as_of: dt.datetime) -> Q:
    """A filter: a clock had not stopped by `as_of`, its due time passed (overdue_sql's twin)."""
    clocks = [
        Q(**{f"{due}__lt": as_of}) & (Q(**{f"{stopped}__isnull": True}) | Q(**{f"{stopped}__gte": as_of}))
        for due, stopped in CLOCKS
    ]
    return clocks[0] | clocks[1]


def at_risk_q(*, as_of: dt.datetime, within: dt.timedelta) -> Q:
    """A filter: not breached, but a clock still running falls due within `within`."""
    running_soon = [
        Q(**{f"{stopped}__isnull": True, f"{due}__lt": as_of + within}) for due, stopped in CLOCKS
    ]
    return ~breached_q(as_of=as_of) & (running_soon[0] | running_soon[1])


def clock_breached_q(due: str, stopped: str, *, as_of: dt.datetime | None) -> Q:
    came_due = Q(**{f"{due}__isnull": False}) if as_of is None else Q(**{f"{due}__lt": as_of})
    return came_due & (Q(**{f"{stopped}__isnull": True}) | Q(**{f"{stopped}__gt": F(due)}))


def breached_q(*, as_of: dt.datetime | None) -> Q:
    """The same as a filter on WorkOrder."""
    response, resolution = (clock_breached_q(d, s, as_of=as_of) for d, s in CLOCKS)
    return response | resolution


def clock_breached(due: dt.datetime | None, stopped: dt.datetime | None, *, as_of: dt.datetime) -> bool:
    """The same for one clock of a loaded work order."""
    return due is not None and due < as_of and (stopped is None or stopped > due)
