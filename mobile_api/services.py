"""Applying what the technician did, possibly hours late and out of order.

Rules for a queued event (the app sends the job's version as it saw it):
* The job must still be mine. A job reassigned away from me is a conflict (409), so the app
  can show the technician what happened; a job that was never mine is 404.
* Same version: applied as usual.
* Stale version (a dispatcher changed the job meanwhile): applied if it is still a legal
  move from the job's current state; the dispatcher's change is kept. Otherwise 409 with
  the job's current state.
* Which event goes from which status, and through which statuses, is mobile_api.steps (the
  table the app receives too); each move is made by tickets.moves.work_order_move. The app
  may skip steps (no "en route" tapped): forward steps on the way are applied at the event's
  time. An event for a step the job has already passed changes nothing; it is kept in the
  audit trail as a note and answered 200 with applied=false.

Times are the phone's. The app sends its clock's reading with every change (the Device-Time
header); a phone whose clock is off by more than MOBILE_EVENT_MAX_CLOCK_SKEW_MINUTES has what
it sends recorded at our time and flagged, and the order of a job's events is checked, by
tickets.event_times.event_time, which every other face goes through too.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point

from fieldservice import clock
from fieldservice.errors import Conflict, Invalid, NotFound
from mobile_api import schemas, selectors, steps
from mobile_api.serializers import job_dict
from tickets import event_times, moves
from tickets.events import event_record
from tickets.models import WorkOrder, WorkOrderEvent
from tickets.records import checklists, files, meter_readings, parts_used

Status = WorkOrder.Status


def _job_state(job: WorkOrder) -> dict[str, Any]:
    return {"id": job.pk, "number": job.number, "status": job.status, "version": job.version}


def _mine_or_conflict(*, user: User, job_id: int) -> WorkOrder:
    """The job as the services need it (one query); the app's full view is loaded once, after
    the change, for the answer."""
    job = WorkOrder.objects.select_related("site", "contract").filter(pk=job_id).first()
    if job is not None and job.assigned_technician_id == user.pk:
        return job
    if job is not None and selectors.was_mine(user=user, job_id=job_id):
        raise Conflict(
            f"{job.number} was reassigned by the dispatcher; your change was not applied.",
            code="reassigned",
            details={"current": {"id": job.pk, "number": job.number, "assigned_to_you": False}},
        )
    raise NotFound(f"Job {job_id} not found.")


def _point(location: schemas.LatLon | None) -> Point | None:
    return Point(location.lon, location.lat, srid=4326) if location else None


def clock_skew(device_time: dt.datetime | None) -> dt.timedelta | None:
    """How far the phone's clock is ahead of ours (behind: negative), from the Device-Time it
    sent; None when it sent none (an older app, a script)."""
    return None if device_time is None else device_time - clock.now()


def check_device_time(at: dt.datetime, *, skew: dt.timedelta | None = None) -> None:
    """A queued action's time must be plausible: not older than the offline allowance, not
    in the future beyond clock skew (a phone with a wrong clock would corrupt the timeline).
    From a phone whose clock is known to be wrong the time is not used at all (the services
    record such actions at our time, flagged), so it is not judged here either."""
    if skew is not None and abs(skew) > event_times.clock_skew_allowance():
        return
    now = clock.now()
    oldest = now - dt.timedelta(days=settings.MOBILE_EVENT_MAX_AGE_DAYS)
    latest = now + event_times.clock_skew_allowance()
    if not oldest <= at <= latest:
        raise Invalid(
            f"The time {at.isoformat()} is not plausible: check the phone's clock.",
            code="implausible_time",
            details={"oldest": oldest, "latest": latest},
        )


def event_apply(
    *, user: User, job_id: int, event: schemas.EventIn, key: str, skew: dt.timedelta | None = None
) -> dict[str, Any]:
    check_device_time(event.at, skew=skew)
    job = _mine_or_conflict(user=user, job_id=job_id)
    audit_key = f"mobile:{user.pk}:{key}"
    route = steps.route(job.status, event.type)
    # Dispatching on the technician's behalf is only safe on the job as they saw it: a stale
    # event on a scheduled job may be undoing the dispatcher's recall.
    stale_dispatch = route is not None and Status.DISPATCHED in route and event.version != job.version
    if route is None or stale_dispatch:
        _refuse(job, event)
    applied, note = True, ""
    if not route:
        applied, note = False, f"Already {job.status}: nothing to do."
        _note_late_event(job, event, user=user, key=audit_key)
    elif event.type == "completed":
        _complete(job, event, route, user=user, key=audit_key, skew=skew)
    else:
        _walk(job, event, route, user=user, key=audit_key, skew=skew)
    fresh = selectors.my_job(user=user, job_id=job_id)
    arrival = (
        WorkOrderEvent.objects.filter(idempotency_key=audit_key)
        .values("flagged", "flag_reason", "distance_from_site_m")
        .first()
    )
    return {
        "applied": applied,
        "note": note,
        "flagged": bool(arrival and arrival["flagged"]),
        "flag_reason": arrival["flag_reason"] if arrival else "",
        "distance_from_site_m": arrival["distance_from_site_m"] if arrival else None,
        "job": job_dict(fresh),
    }


def _walk(
    job: WorkOrder,
    event: schemas.EventIn,
    route: list[str],
    *,
    user: User,
    key: str | None,
    skew: dt.timedelta | None,
    resolution: str = "",
    resolution_code: str = "",
) -> WorkOrder:
    """Move the job through `route`, each step at the event's time; the last step carries the
    event's place and key. A stale version is allowed when the move is still
    legal: the services check against the version read here, so a change racing with us is
    still caught."""
    for state in route:
        final = state == route[-1]
        job = moves.work_order_move(
            work_order=job,
            to=state,
            by=user,
            version=job.version,
            at=event.at,
            clock_skew=skew,
            reason=event.reason,
            location=_point(event.location) if final else None,
            idempotency_key=key if final else None,
            resolution=resolution,
            resolution_code=resolution_code,
        )
    return job


def _refuse(job: WorkOrder, event: schemas.EventIn) -> NoReturn:
    raise Conflict(
        f"{job.number} is {job.status}: '{event.type}' cannot be applied.",
        code="stale_version" if event.version != job.version else "illegal_transition",
        details={"current": _job_state(job)},
    )


def _note_late_event(job: WorkOrder, event: schemas.EventIn, *, user: User, key: str) -> None:
    event_record(
        work_order=job,
        type=WorkOrderEvent.Type.NOTE,
        at=event.at,
        by=user,
        location=_point(event.location),
        payload={"late_event": event.type, "status_then": job.status},
        idempotency_key=key,
    )


def _complete(
    job: WorkOrder,
    event: schemas.EventIn,
    route: list[str],
    *,
    user: User,
    key: str,
    skew: dt.timedelta | None,
) -> None:
    """Records carried by the `completed` event are written, then the job is completed; if
    anything is missing, nothing is kept and the answer lists what is missing."""
    # The technician may tap "complete" without "start work" or "resume": those steps are
    # implied, at the completion's time, as for the other skipped forward steps.
    job = _walk(job, event, route[:-1], user=user, key=None, skew=skew)
    # All of this runs in the idempotent call's transaction: a refusal undoes it all.
    records_apply(
        job=job,
        user=user,
        at=event.at,
        checklist=event.checklist,
        parts=event.parts,
        meter=event.meter_reading,
        signature=event.signature,
        skew=skew,
    )
    _walk(
        job,
        event,
        route[-1:],
        user=user,
        key=key,
        skew=skew,
        resolution=event.resolution,
        resolution_code=event.resolution_code,
    )


def decode_png(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("The signature is not valid base64.", code="signature_not_base64") from None


def records_apply(
    *,
    job: WorkOrder,
    user: User,
    at: Any,
    checklist: list[schemas.ChecklistAnswerIn] = (),  # type: ignore[assignment]
    parts: list[schemas.PartIn] = (),  # type: ignore[assignment]
    meter: schemas.MeterReadingIn | None = None,
    signature: schemas.SignatureIn | None = None,
    skew: dt.timedelta | None = None,
) -> None:
    """The on-site records the app sends, one service call each. A part carries no price:
    the phone never sets one (tickets.records.parts_used.part_record)."""
    for answer in checklist:
        checklists.checklist_answer(work_order=job, by=user, at=at, clock_skew=skew, **answer.dict())
    for part in parts:
        parts_used.part_record(work_order=job, by=user, at=at, clock_skew=skew, **part.dict())
    if meter is not None:
        meter_readings.meter_reading_record(
            work_order=job, kind=meter.kind, value=meter.value, by=user, at=at, clock_skew=skew
        )
    if signature is not None:
        png = decode_png(signature.png_base64)
        files.signature_capture(
            work_order=job, png=png, signer_name=signature.signer_name, by=user, at=at, clock_skew=skew
        )


def job_for_records(*, user: User, job_id: int) -> WorkOrder:
    """My job, for adding on-site records (a reassigned one is a conflict, as for events)."""
    return _mine_or_conflict(user=user, job_id=job_id)
