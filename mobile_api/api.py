"""The technician app's API: `/api/mobile/v1/` with its own OpenAPI schema and docs.

Every mutating call takes an `Idempotency-Key` header (mobile_api.idempotency), so the
app can retry anything it queued while offline without doing it twice.
"""

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, NinjaAPI, Query, Status
from ninja.files import UploadedFile
from pydantic import TypeAdapter

from fieldservice import clock, ratelimit, roles
from fieldservice.api import ErrorOut, install_error_handlers
from fieldservice.errors import DomainError, Invalid
from fieldservice.models import ApiToken
from fieldservice.parsers import TextParser
from fieldservice.tokens import token_issue, token_revoke
from mobile_api import schemas, selectors, services, sync
from mobile_api.auth import MobileTokenAuth, TechnicianRequest
from mobile_api.idempotency import HEADER, run_once
from mobile_api.serializers import job_dict
from tickets import records
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
    auth=MobileTokenAuth(),
    parser=TextParser(),
)
install_error_handlers(api)

ERRORS: dict[int, Any] = {code: ErrorOut for code in (400, 401, 404, 409, 413, 422, 429)}
MAX_RANGE_DAYS = 31
JOBS_CACHE_SECONDS = 60
JOB_LIST = TypeAdapter(list[schemas.JobOut])


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
    address = ratelimit.client_ip(request.META)
    if ratelimit.login_blocked(username=payload.username, client_ip=address):
        raise TooManyAttempts("Too many failed logins. Wait a few minutes and try again.")
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None or not roles.has_role(user, roles.TECHNICIAN):
        ratelimit.login_failed(username=payload.username, client_ip=address)
        raise _Unauthorized("Wrong user name or password, or not a technician.")
    ratelimit.login_succeeded(username=payload.username)
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
    date_from: dt.date | None = Query(None, alias="from"),
    date_to: dt.date | None = Query(None, alias="to"),
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
def pull_changes(request: TechnicianRequest, cursor: str | None = None) -> dict[str, Any]:
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


@api.post("/jobs/{int:job_id}/events", response={200: schemas.EventOut, **ERRORS}, tags=["jobs"])
def post_event(request: TechnicianRequest, job_id: int, payload: schemas.EventIn) -> Status:
    """Move my job along: en_route, arrived, started, paused, resumed, completed.
    `completed` carries the resolution and may carry checklist answers, parts, a meter
    reading and the signature; if anything required is missing it is refused (422) with
    the list, and nothing is kept."""
    key = request.META.get(HEADER, "")
    return _once(
        request,
        lambda: (200, services.event_apply(user=request.auth, job_id=job_id, event=payload, key=key)),
    )


def _record(request: TechnicianRequest, job_id: int, write: Any) -> Status:
    def handler() -> tuple[int, Any]:
        job = services.job_for_records(user=request.auth, job_id=job_id)
        write(job)
        return 200, job_dict(selectors.my_job(user=request.auth, job_id=job_id))

    return _once(request, handler)


@api.post("/jobs/{int:job_id}/checklist", response={200: schemas.JobOut, **ERRORS}, tags=["on-site records"])
def answer_checklist(request: TechnicianRequest, job_id: int, payload: schemas.ChecklistIn) -> Status:
    at = payload.at or clock.now()
    services.check_device_time(at)
    return _record(
        request,
        job_id,
        lambda job: services.records_apply(job=job, user=request.auth, at=at, checklist=payload.answers),
    )


@api.post("/jobs/{int:job_id}/parts", response={200: schemas.JobOut, **ERRORS}, tags=["on-site records"])
def log_parts(request: TechnicianRequest, job_id: int, payload: schemas.PartsIn) -> Status:
    at = payload.at or clock.now()
    services.check_device_time(at)
    return _record(
        request,
        job_id,
        lambda job: services.records_apply(job=job, user=request.auth, at=at, parts=payload.parts),
    )


@api.post(
    "/jobs/{int:job_id}/meter-readings", response={200: schemas.JobOut, **ERRORS}, tags=["on-site records"]
)
def read_meter(request: TechnicianRequest, job_id: int, payload: schemas.MeterIn) -> Status:
    at = payload.at or clock.now()
    services.check_device_time(at)
    return _record(
        request, job_id, lambda job: services.records_apply(job=job, user=request.auth, at=at, meter=payload)
    )


@api.post("/jobs/{int:job_id}/signature", response={200: schemas.JobOut, **ERRORS}, tags=["on-site records"])
def sign(request: TechnicianRequest, job_id: int, payload: schemas.SignatureRecordIn) -> Status:
    at = payload.at or clock.now()
    services.check_device_time(at)
    return _record(
        request,
        job_id,
        lambda job: services.records_apply(job=job, user=request.auth, at=at, signature=payload),
    )


@api.post("/jobs/{int:job_id}/photos", response={200: schemas.JobOut, **ERRORS}, tags=["on-site records"])
def upload_photo(
    request: TechnicianRequest, job_id: int, file: File[UploadedFile], caption: Form[str] = ""
) -> Status:
    """A photo (JPEG, PNG, WebP) or PDF, multipart; over the size limit → 413."""
    return _record(
        request,
        job_id,
        lambda job: records.attachment_add(work_order=job, upload=file, caption=caption, by=request.auth),
    )


@api.get("/jobs/{int:job_id}/report.pdf", response={200: None, **ERRORS}, tags=["jobs"])
def service_report(request: TechnicianRequest, job_id: int) -> FileResponse:
    """The service report of my completed job."""
    job = selectors.my_job(user=request.auth, job_id=job_id)
    report = service_report_ensure(work_order=job)
    return FileResponse(report.pdf.open("rb"), content_type="application/pdf", filename=f"{job.number}.pdf")
