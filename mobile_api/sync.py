"""Incremental sync for the technician app: what changed in my jobs since my cursor.

The cursor is a PostgreSQL snapshot (`xmin:xmax:xip,...`) and when it was taken, base64url. A pull runs in one
REPEATABLE READ transaction, so the change rows it reads, the jobs it returns and the new
cursor all describe one snapshot. It returns the jobs whose change rows are visible now but
were not visible in the cursor's snapshot. A transaction that commits late, with an older
id, is still invisible to the old snapshot and so still returned: no change is skipped,
and none is returned twice.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction

from fieldservice import clock, ranges
from fieldservice.errors import Invalid

CURSOR_FORMAT = re.compile(
    r"^(?P<xmin>\d{1,19}):(?P<xmax>\d{1,19}):(?P<xip>\d{1,19}(,\d{1,19})*)?@(?P<taken>\d{1,12})$"
)
# What the API accepts as a cursor before decoding it (stated in its OpenAPI schema).
CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
# Transaction ids as pg_snapshot holds them and the change log stores them (bigint).
MAX_TXID = 2**63 - 1


def encode_cursor(snapshot: str, *, taken: dt.datetime) -> str:
    """The snapshot and when it was taken: the change log is kept for a limited time, so an
    older cursor cannot be trusted to find every change and asks for a full resync."""
    raw = f"{snapshot}@{int(taken.timestamp())}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, dt.datetime]:
    """The snapshot and time in a cursor, or Invalid: a cursor is the app's to hand back, but
    one made up must be refused here, not by PostgreSQL or the date arithmetic (a 500). So the
    snapshot is checked as pg_snapshot's input is (0 < xmin <= xip... < xmax, in order) and
    the time against the range of every date-time."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:  # not base64, not ASCII, or not UTF-8 inside
        raw = ""
    found = CURSOR_FORMAT.match(raw)
    if found is None or not _snapshot_valid(found):
        raise _invalid_cursor()
    taken = int(found["taken"])
    if not ranges.EARLIEST_DATETIME.timestamp() <= taken <= ranges.LATEST_DATETIME.timestamp():
        raise _invalid_cursor()
    return raw.partition("@")[0], dt.datetime.fromtimestamp(taken, tz=dt.UTC)


def _snapshot_valid(found: re.Match[str]) -> bool:
    xmin, xmax = int(found["xmin"]), int(found["xmax"])
    running = [int(txid) for txid in found["xip"].split(",")] if found["xip"] else []
    return (
        0 < xmin <= xmax <= MAX_TXID
        and all(xmin <= txid < xmax for txid in running)
        and running == sorted(running)
    )


def _invalid_cursor() -> Invalid:
    return Invalid(
        "The sync cursor is not valid: start again without one.",
        code="invalid_cursor",
        details={"field": "cursor"},
    )


def change_log_horizon() -> dt.datetime:
    """Change-log rows older than this may have been purged (mobile_api.tasks)."""
    return clock.now() - dt.timedelta(days=settings.MOBILE_CHANGE_LOG_DAYS)


def changed_job_ids(*, user: User, cursor: str | None) -> tuple[list[int] | None, str]:
    """The ids of my jobs that changed since `cursor`, and the new cursor. None instead of
    ids means "send everything": no cursor, or one older than the change log's horizon.
    Must run inside `snapshot_transaction()`."""
    now = clock.now()
    with connection.cursor() as db:
        db.execute("SELECT pg_current_snapshot()::text")
        (snapshot,) = db.fetchone()
        next_cursor = encode_cursor(snapshot, taken=now)
        if cursor is None:
            return None, next_cursor
        since, taken = decode_cursor(cursor)
        if taken < change_log_horizon():
            return None, next_cursor
        db.execute(
            """
            SELECT DISTINCT work_order_id FROM mobile_api_jobchange
            WHERE technician_id = %s
              AND txid >= pg_snapshot_xmin(%s::pg_snapshot)::text::bigint
              AND NOT pg_visible_in_snapshot(txid::text::xid8, %s::pg_snapshot)
            ORDER BY work_order_id
            """,
            [user.pk, since, since],
        )
        return [row[0] for row in db.fetchall()], next_cursor


@contextmanager
def snapshot_transaction() -> Iterator[None]:
    """One transaction in which every read sees the same snapshot (REPEATABLE READ).

    Inside an already open transaction (a test's), the isolation level can no longer be
    set; reads there share the outer transaction instead."""
    with transaction.atomic():
        if len(connection.atomic_blocks) == 1:  # we opened it: nothing has been read yet
            with connection.cursor() as db:
                db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
