"""The technician app's API: `/api/mobile/v1/` with its own OpenAPI schema and docs.

Every mutating call takes an `Idempotency-Key` header (mobile_api.idempotency), so the
app can retry anything it queued while offline without doing it twice, and may send its
clock's reading as `Device-Time` (mobile_api.services: a wrong clock is not trusted).
Every input is bounded in the OpenAPI schema (fieldservice.ranges): a value outside is 422.
"""

import datetime as dt
from typing import Annotated, Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Header, NinjaAPI, Query, Status
from ninja.files import UploadedFile
from pydantic import Field, StringConstraints, TypeAdapter

from fieldservice import client_address, clock, ratelimit, roles
from fieldservice.api_common import ErrorOut, api_docs, install_error_handlers
from fieldservice.audit import Source
from fieldservice.errors import DomainError, Invalid
from fieldservice.models import ApiToken
from fieldservice.parsers import TextParser
from fieldservice.ranges import CURSOR_LENGTH, BoundedDate, BoundedDateTime, ShortText
from fieldservice.tokens import token_issue, token_revoke
from mobile_api import schemas, selectors, services, sync
from mobile_api.auth import MobileTokenAuth, TechnicianRequest
from mobile_api.idempotency import HEADER, OPENAPI_PARAMETER, run_once
from mobile_api.serializers import job_dict
from tickets.records import files
from tickets.reports import service_report_ensure

api = NinjaAPI(
    title="Fieldservice technician app API",
    version="1.0",
    description=(
        "For the technician app. Log in with `POST /auth/token`, then send `Authorization: Bearer <token>`. "
        "Every change takes an `Idempotency-Key` header: a retry with the same key returns the first answer "
        "and does nothing again. Errors are JSON: `{code, message, details}`."
    ),
    urls_namespace="api-mobile-v1",
    docs=api_docs(),
    auth=MobileTokenAuth(),
    parser=TextParser(),
)
install_error_handlers(api)

ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 404, 409, 413, 422, 429)}
MAX_RANGE_DAYS = 31
JOBS_CACHE_SECONDS = 60
JOB_LIST = TypeAdapter(list[schemas.JobOut])
# Every change takes an Idempotency-Key; the schema says so on each (see OPENAPI_PARAMETER).
CHANGE: dict[str, Any] = {"openapi_extra": {"parameters": [OPENAPI_PARAMETER]}}
SyncCursor = Annotated[
    str,
    StringConstraints(min_length=1, max_length=CURSOR_LENGTH, pattern=sync.CURSOR_PATTERN),
    Field(description="The `cursor` of the previous answer, as it came"),
]
# The phone's clock when it sent the request (ISO 8601 with its offset).
DeviceTime = Annotated[
    BoundedDateTime | None,
    Header(
        alias="Device-Time",
        description="The device's clock when it sent this (ISO 8601 with offset). A clock further "
        "from the server's than the allowed skew has the change recorded at the server's time, flagged.",
    ),
]


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"


def _once(request: TechnicianRequest, handler: Any) -> Status:
    status, body = run_once(request, request.auth, handler)
    return Status(status, body)


# --- auth ----------------------------------------------------------------------------------------


@api.post("/auth/token", auth=None, response={200: schemas.TokenOut, **ERRORS}, tags=["auth"])
def issue_token(request: HttpRequest, payload: schemas.TokenIn) -> dict[str, Any]:
    """Exchange a technician's user name and password for a bearer token."""
    address = client_address.client_ip(request.META)
    try:
        with ratelimit.login_attempt(
            username=payload.username, address=address, source=Source.API
        ) as attempt:
            user = authenticate(request, username=payload.username, password=payload.password)
            if user is None or not roles.has_role(user, roles.TECHNICIAN):
                raise _Unauthorized("Wrong user name or password, or not a technician.")
            attempt.succeeded()
    except ratelimit.LoginRefused as refused:
        raise TooManyAttempts(
            "Too many failed logins. Wait and try again.",
            details={"retry_after_seconds": refused.retry_after},
        ) from None
    ttl = dt.timedelta(hours=settings.MOBILE_TOKEN_TTL_HOURS)
    raw, token = token_issue(user=user, kind=ApiToken.Kind.MOBILE, name="technician app", ttl=ttl)
    return {"token": raw, "expires_at": token.expires_at}


class _Unauthorized(DomainError):
    status = 401
    code = "bad_credentials"


@api.post("/auth/revoke", response={204: None, **ERRORS}, tags=["auth"])
def revoke_token(request: TechnicianRequest) -> Status:
    """Log out: the token used for this call stops working."""
    token_revoke(token=request.mobile_token)
    return Status(204, None)


# --- me and my jobs -------------------------------------------------------------------------------


@api.get("/me", response={200: schemas.MeOut, **ERRORS}, tags=["me"])
def me(request: TechnicianRequest) -> dict[str, Any]:
    from scheduling.models import Shift, Technician

    user = request.auth
    technician = Technician.objects.filter(user=user).prefetch_related("skill_levels__skill").first()
    today = clock.today()
    shift = Shift.objects.filter(technician=technician, date=today).first() if technician else None
    return {
        "username": user.username,
        "full_name": user.get_full_name(),
        "employee_code": technician.employee_code if technician else None,
        "phone": technician.phone if technician else "",
        "skills": [
            {"code": s.skill.code, "name": s.skill.name, "level": s.level}
            for s in (technician.skill_levels.all() if technician else [])
        ],
        "today_shift": shift,
    }


@api.get("/jobs", response={200: list[schemas.JobOut], **ERRORS}, tags=["jobs"])
def list_jobs(
    request: TechnicianRequest,
    date_from: BoundedDate | None = Query(None, alias="from"),
    date_to: BoundedDate | None = Query(None, alias="to"),
) -> HttpResponse:
    """My assigned jobs planned between `from` and `to` (local dates, default today), in planned order."""
    day_from = date_from or clock.today()
    day_to = date_to or day_from
    if day_to < day_from or (day_to - day_from).days > MAX_RANGE_DAYS:
        raise Invalid(
            f"'to' must be on or after 'from', at most {MAX_RANGE_DAYS} days later.", code="bad_range"
        )
    # The app polls this list all day; it is served from Redis until one of the jobs changes
    # (the change log's stamp) or JOBS_CACHE_SECONDS pass (for what the log does not see,
    # such as another job completing on the same equipment).
    user = request.auth
    key = f"mobile-jobs:{user.pk}:{day_from}:{day_to}:{selectors.change_stamp(user=user)}"
    body = cache.get(key)
    if body is None:
        jobs = [job_dict(job) for job in selectors.my_jobs(user=user, day_from=day_from, day_to=day_to)]
        body = JOB_LIST.dump_json(JOB_LIST.validate_python(jobs), by_alias=True)
        cache.set(key, body, timeout=JOBS_CACHE_SECONDS)
    return HttpResponse(body, content_type="application/json")


@api.get("/jobs/{int:job_id}", response={200: schemas.JobOut, **ERRORS}, tags=["jobs"])
def get_job(request: TechnicianRequest, job_id: int) -> dict[str, Any]:
    return job_dict(selectors.my_job(user=request.auth, job_id=job_id))


@api.get("/sync", response={200: schemas.SyncOut, **ERRORS}, tags=["sync"])
def pull_changes(request: TechnicianRequest, cursor: SyncCursor | None = None) -> dict[str, Any]:
    """Every change to my jobs since `cursor` (none: all my current jobs) and the next cursor.
    A job reassigned away from me comes as `remove`."""
    user = request.auth
    with sync.snapshot_transaction():
        changed, next_cursor = sync.changed_job_ids(user=user, cursor=cursor)
        if changed is None:
            jobs = list(selectors.my_current_jobs(user=user, today=clock.today()))
            changes = [{"op": "upsert", "id": job.pk, "job": job_dict(job)} for job in jobs]
        else:
            mine = selectors.my_jobs_by_id(user=user, ids=changed)
            changes = [
                {"op": "upsert", "id": job_id, "job": job_dict(mine[job_id])}
                if job_id in mine
                else {"op": "remove", "id": job_id, "job": None}
                for job_id in changed
            ]
    return {"cursor": next_cursor, "full": changed is None, "changes": changes}


# --- what the technician does ---------------------------------------------------------------------


@api.post("/jobs/{int:job_id}/events", response={200: schemas.EventOut, **ERRORS}, tags=["jobs"], **CHANGE)
def post_event(
    request: TechnicianRequest, job_id: int, payload: schemas.EventIn, device_time: DeviceTime = None
) -> Status:
    """Move my job along: en_route, arrived, started, paused, resumed, completed.
    `completed` carries the resolution and may carry checklist answers, parts, a meter
    reading and the signature; if anything required is missing it is refused (422) with
    the list, and nothing is kept. An event earlier than the job's previous one is refused."""
    key = request.META.get(HEADER, "")
    skew = services.clock_skew(device_time)
    return _once(
        request,
        lambda: (
            200,
            services.event_apply(user=request.auth, job_id=job_id, event=payload, key=key, skew=skew),
        ),
    )


def _record(request: TechnicianRequest, job_id: int, write: Any) -> Status:
    def handler() -> tuple[int, Any]:
        job = services.job_for_records(user=request.auth, job_id=job_id)
        write(job)
        return 200, job_dict(selectors.my_job(user=request.auth, job_id=job_id))

    return _once(request, handler)


def _recorded_at(at: dt.datetime | None, skew: dt.timedelta | None) -> dt.datetime:
    """When the device says a record was made (default now), if that is plausible at all."""
    at = at or clock.now()
    services.check_device_time(at, skew=skew)
    return at


RECORD: dict[str, Any] = {"response": {200: schemas.JobOut, **ERRORS}, "tags": ["on-site records"], **CHANGE}


def _records(
    request: TechnicianRequest,
    job_id: int,
    at: dt.datetime | None,
    device_time: dt.datetime | None,
    **records: Any,
) -> Status:
    """Apply on-site records (services.records_apply's checklist, parts, meter, signature) at
    the device's time, checked against its clock."""
    skew = services.clock_skew(device_time)
    when = _recorded_at(at, skew)
    return _record(
        request,
        job_id,
        lambda job: services.records_apply(job=job, user=request.auth, at=when, skew=skew, **records),
    )


@api.post("/jobs/{int:job_id}/checklist", **RECORD)
def answer_checklist(
    request: TechnicianRequest, job_id: int, payload: schemas.ChecklistIn, device_time: DeviceTime = None
) -> Status:
    return _records(request, job_id, payload.at, device_time, checklist=payload.answers)


@api.post("/jobs/{int:job_id}/parts", **RECORD)
def log_parts(
    request: TechnicianRequest, job_id: int, payload: schemas.PartsIn, device_time: DeviceTime = None
) -> Status:
    """Parts used, without prices: the office prices them."""
    return _records(request, job_id, payload.at, device_time, parts=payload.parts)


@api.post("/jobs/{int:job_id}/meter-readings", **RECORD)
def read_meter(
    request: TechnicianRequest, job_id: int, payload: schemas.MeterIn, device_time: DeviceTime = None
) -> Status:
    """A meter reading. One higher than the machine could have run since the last one is kept
    for review, not as the meter's latest reading."""
    return _records(request, job_id, payload.at, device_time, meter=payload)


@api.post("/jobs/{int:job_id}/signature", **RECORD)
def sign(
    request: TechnicianRequest,
    job_id: int,
    payload: schemas.SignatureRecordIn,
    device_time: DeviceTime = None,
) -> Status:
    return _records(request, job_id, payload.at, device_time, signature=payload)


@api.post("/jobs/{int:job_id}/photos", **RECORD)
def upload_photo(
    request: TechnicianRequest,
    job_id: int,
    file: File[UploadedFile],
    caption: ShortText = Form(""),
    at: BoundedDateTime | None = Form(None, description="When it was taken on the device; default now"),
    device_time: DeviceTime = None,
) -> Status:
    """A photo (JPEG, PNG, WebP) or PDF, multipart; over the size limit → 413. A photo is
    stored as a JPEG of bounded size; one of too many pixels, or past the job's number of
    photos, is refused (422), and nothing of a refused upload is kept. The app's own photos
    carry no EXIF (it shrinks them first): `at` is their capture time, as for other records."""
    skew = services.clock_skew(device_time)
    taken = _recorded_at(at, skew)
    return _record(
        request,
        job_id,
        lambda job: files.attachment_add(
            work_order=job, upload=file, caption=caption, by=request.auth, at=taken, clock_skew=skew
        ),
    )


@api.get("/jobs/{int:job_id}/report.pdf", response={200: None, **ERRORS}, tags=["jobs"])
def service_report(request: TechnicianRequest, job_id: int) -> FileResponse:
    """The service report of my completed job."""
    job = selectors.my_job(user=request.auth, job_id=job_id)
    report = service_report_ensure(work_order=job)
    return FileResponse(report.pdf.open("rb"), content_type="application/pdf", filename=f"{job.number}.pdf")
