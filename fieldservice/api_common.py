"""What both JSON APIs share (the dispatcher API root, fieldservice.api, and the technician
app's, mobile_api.api), at the core floor so that neither imports the other and no domain
router imports the root: the error shape `{"code", "message", "details"}` and the one place
that maps every error to it with its status, and the docs page.

Domain errors become that JSON with the right HTTP status here, so handlers raise and never
format errors themselves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from fieldservice.errors import DomainError
from fieldservice.middleware import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, database_unavailable_logged


def api_docs() -> Swagger:
    """Swagger UI for an API, with no online validator: by default it loads a badge from
    validator.swagger.io (the policy's img-src refuses it, and it tells a third party the
    schema's address). One per NinjaAPI: Swagger keeps its API's schema URL."""
    return Swagger(settings={"validatorUrl": None})


class ErrorOut(Schema):
    code: str
    message: str
    details: object = None


def error_response(
    api_: NinjaAPI, request: HttpRequest, *, status: int, code: str, message: str, details: object = None
) -> HttpResponse:
    return api_.create_response(
        request, {"code": code, "message": message, "details": details}, status=status
    )


def _size(count: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count} bytes"


def install_error_handlers(api_: NinjaAPI) -> None:
    """Every error of `api_` leaves as `{"code", "message", "details"}` with its status."""

    def on_domain_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return api_.create_response(request, exc.as_dict(), status=exc.status)

    def on_validation_error(request: HttpRequest, exc: Any) -> HttpResponse:
        message = "The request is not valid."
        return error_response(api_, request, status=422, code="invalid", message=message, details=exc.errors)

    def on_authentication_error(request: HttpRequest, exc: Any) -> HttpResponse:
        message = "Log in or send a valid bearer token."
        return error_response(api_, request, status=401, code="unauthenticated", message=message)

    def on_not_found(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api_, request, status=404, code="not_found", message="Not found.")

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return error_response(api_, request, status=exc.status_code, code="http_error", message=str(exc))

    api_.add_exception_handler(DomainError, on_domain_error)
    api_.add_exception_handler(ValidationError, on_validation_error)
    api_.add_exception_handler(AuthenticationError, on_authentication_error)
    api_.add_exception_handler(Http404, on_not_found)
    api_.add_exception_handler(HttpError, on_http_error)

    def on_bad_multipart(request: HttpRequest, exc: Any) -> HttpResponse:
        message = f"The upload could not be read: {exc}"
        return error_response(api_, request, status=400, code="bad_request", message=message)

    api_.add_exception_handler(MultiPartParserError, on_bad_multipart)

    # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (file parts aside) when it is
    # first read, which for the APIs is inside the operation: without these it left as
    # Django's HTML 400 page. Over the limit is 413, as an upload over its limit is.
    def on_body_too_large(request: HttpRequest, exc: Any) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The request body is over the limit of {_size(limit)}."
        details = {"limit_bytes": limit}
        return error_response(api_, request, status=413, code="too_large", message=message, details=details)

    def on_too_many_parts(request: HttpRequest, exc: Any) -> HttpResponse:
        message = f"The request has too many fields or files: {exc}"
        return error_response(api_, request, status=400, code="bad_request", message=message)

    api_.add_exception_handler(RequestDataTooBig, on_body_too_large)
    api_.add_exception_handler(TooManyFieldsSent, on_too_many_parts)
    api_.add_exception_handler(TooManyFilesSent, on_too_many_parts)

    def on_database_unavailable(request: HttpRequest, exc: Any) -> HttpResponse:
        # PostgreSQL is down or restarting, or dropped the connection mid-request: an
        # uncommitted transaction went down with it. A client that retries with the same
        # Idempotency-Key gets the stored answer if the commit had in fact happened.
        database_unavailable_logged(request, exc)
        message = "The database is unavailable. Try again in a few seconds."
        response = error_response(api_, request, status=503, code="database_unavailable", message=message)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    for error_class in DATABASE_UNAVAILABLE:
        api_.add_exception_handler(error_class, on_database_unavailable)
