"""Meter readings taken on site: meters only go up, an implausible jump is held for review."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction

from assets.models import Equipment, MeterReading
from fieldservice import ranges
from fieldservice.errors import Conflict, Invalid
from tickets.models import WorkOrder, WorkOrderEvent
from tickets.records.recording import lock_for_recording, on_site_event, record_time

SECONDS_PER_DAY = Decimal(24 * 60 * 60)
# A daily usage measured over less than this is noise (two reads minutes apart, a typo put
# right), and can be too large for Equipment.average_daily_usage: the average stays as it was.
MIN_USAGE_SPAN = dt.timedelta(days=1)
_usage_field = Equipment._meta.get_field("average_daily_usage")
USAGE_CEILING = Decimal(10) ** (_usage_field.max_digits - _usage_field.decimal_places)

logger = logging.getLogger(__name__)


def _most_a_meter_can_run(kind: str, *, since: dt.datetime, until: dt.datetime) -> Decimal:
    """The most a meter of `kind` can advance between two readings: its machine running flat
    out the whole time (settings.METER_MAX_RATE_PER_HOUR), plus the grace for readings that
    carry a day rather than a time."""
    hours = Decimal(max(0.0, (until - since).total_seconds())) / 3600 + settings.METER_JUMP_GRACE_HOURS
    return (Decimal(settings.METER_MAX_RATE_PER_HOUR[kind]) * hours).quantize(Decimal("0.01"))


def _implausible_jump(
    equipment: Equipment, kind: str, value: Decimal, at: dt.datetime, previous: MeterReading | None
) -> dict[str, Any] | None:
    """What makes `value` more than the machine could have run since the last reading (or,
    for its first, since it was installed), or None if it could have."""
    if previous is not None:
        since, start = previous.read_at, previous.value
        baseline = {"value": previous.value, "read_at": previous.read_at}
    elif equipment.install_date is not None:
        zone = ZoneInfo(equipment.site.time_zone)
        since, start = dt.datetime.combine(equipment.install_date, dt.time.min, tzinfo=zone), Decimal(0)
        baseline = {"value": Decimal(0), "installed_on": equipment.install_date}
    else:
        # Installed we do not know when, but not before the earliest date kept here: a typo in a
        # first reading would otherwise be the baseline every later reading is refused against.
        since, start = ranges.EARLIEST_DATETIME, Decimal(0)
        baseline = {"value": Decimal(0), "installed_by": ranges.EARLIEST_DATE}
    most = start + _most_a_meter_can_run(kind, since=since, until=at)
    return None if value <= most else {"previous": baseline, "most": most}


@transaction.atomic
def meter_reading_record(
    *,
    work_order: WorkOrder,
    kind: str,
    value: Decimal,
    by: User | None,
    at: dt.datetime | None = None,
    idempotency_key: str | None = None,
    clock_skew: dt.timedelta | None = None,
) -> MeterReading | None:
    """A meter read on site; meters only go up, and the equipment's daily usage is refreshed.

    A reading higher than the machine could have run since the last one (a typo, a meter
    swapped) is held for review: kept in the audit trail as a flagged `meter_read` event and
    not stored as a reading, so it is not the baseline later readings must exceed. None then.
    """
    if not 0 <= value <= ranges.MAX_METER_VALUE:
        raise Invalid(
            f"A meter reading is between 0 and {ranges.MAX_METER_VALUE}.", code="meter_out_of_range"
        )
    locked = lock_for_recording(work_order)
    when = record_time(locked, at, clock_skew)
    at = when.at
    if locked.equipment_id is None:
        raise Invalid(f"{locked.number} is not about a piece of equipment.", code="no_equipment")
    if kind not in MeterReading.Kind.values:
        raise Invalid(f"Unknown meter kind {kind!r}.", code="unknown_meter_kind")
    same_moment = MeterReading.objects.filter(equipment_id=locked.equipment_id, kind=kind, read_at=at).first()
    if same_moment is not None:
        raise Conflict(
            f"A {kind} reading of {same_moment.value} is already recorded at {at:%Y-%m-%d %H:%M}.",
            code="meter_reading_exists",
        )
    previous = (
        MeterReading.objects.filter(equipment_id=locked.equipment_id, kind=kind, read_at__lt=at)
        .order_by("-read_at")
        .first()
    )
    if previous is not None and value < previous.value:
        raise Invalid(
            f"The meter read {previous.value} on {previous.read_at:%Y-%m-%d}; it cannot go down to {value}.",
            code="meter_went_down",
            details={"previous": {"kind": kind, "value": previous.value, "read_at": previous.read_at}},
        )
    # A reading sent late (queued offline) lands between readings already stored: it must not
    # exceed the one taken after it either.
    following = (
        MeterReading.objects.filter(equipment_id=locked.equipment_id, kind=kind, read_at__gt=at)
        .order_by("read_at")
        .first()
    )
    if following is not None and value > following.value:
        raise Invalid(
            f"The meter read {following.value} later, on {following.read_at:%Y-%m-%d}; "
            f"a reading taken before that cannot be {value}.",
            code="meter_above_later_reading",
            details={"next": {"kind": kind, "value": following.value, "read_at": following.read_at}},
        )
    equipment = Equipment.objects.select_related("site").get(pk=locked.equipment_id)
    jump = _implausible_jump(equipment, kind, value, at, previous)
    if jump is not None:
        logger.warning(
            "Meter reading %s %s of unit %s held for review: more than %s possible",
            kind,
            value,
            locked.equipment_id,
            jump["most"],
        )
        payload = {"kind": kind, "value": value, "held": True, **jump}
        on_site_event(
            locked,
            WorkOrderEvent.Type.METER_READ,
            by=by,
            when=when,
            payload=payload,
            key=idempotency_key,
            flag_reason=WorkOrderEvent.FlagReason.METER_JUMP,
        )
        return None
    reading = MeterReading.objects.create(
        equipment_id=locked.equipment_id,
        kind=kind,
        value=value,
        read_at=at,
        recorded_by=by,
        source=MeterReading.Source.TECHNICIAN,
    )
    window_start = at - dt.timedelta(days=settings.PM_USAGE_WINDOW_DAYS)
    oldest_in_window = (
        MeterReading.objects.filter(equipment_id=locked.equipment_id, kind=kind, read_at__gte=window_start)
        .exclude(pk=reading.pk)
        .order_by("read_at")
        .first()
    ) or previous
    if oldest_in_window is not None and at - oldest_in_window.read_at >= MIN_USAGE_SPAN:
        days = Decimal((at - oldest_in_window.read_at).total_seconds()) / SECONDS_PER_DAY
        daily_usage = round((value - oldest_in_window.value) / days, 2)
        if daily_usage < USAGE_CEILING:
            Equipment.objects.filter(pk=locked.equipment_id).update(average_daily_usage=daily_usage)
        else:
            logger.warning(
                "Meter reading %s of unit %s implies %s per day: implausible, average kept",
                value,
                locked.equipment_id,
                daily_usage,
            )
    payload = {"kind": kind, "value": value}
    on_site_event(
        locked, WorkOrderEvent.Type.METER_READ, by=by, when=when, payload=payload, key=idempotency_key
    )
    return reading
