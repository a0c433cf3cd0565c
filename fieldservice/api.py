"""The dispatcher and integration API root (`/api/v1/`): one NinjaAPI, one Router per domain.

Domain errors become `{"code", "message", "details"}` with the right HTTP status here, in
one place, so handlers raise and never format errors themselves.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from fieldservice.auth import session_or_token
from fieldservice.errors import DomainError

api = NinjaAPI(
    title="Fieldservice API",
    version="1.0",
    description=(
        "Dispatcher and integration API: work orders, scheduling, contracts, accounts. "
        "Authenticate with the web session (send the CSRF token on writes) or with "
        "`Authorization: Bearer <token>` (create one with `manage.py create_api_token`). "
        "Errors are JSON: `{code, message, details}`."
    ),
    urls_namespace="api-v1",
    auth=session_or_token,
)


class ErrorOut(Schema):
    code: str
    message: str
    details: object = None


def error_response(
    request: HttpRequest, *, status: int, code: str, message: str, details: object = None
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "details": details}, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return error_response(
        request, status=422, code="invalid", message="The request is not valid.", details=exc.errors
    )


@api.exception_handler(AuthenticationError)
def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(
        request, status=401, code="unauthenticated", message="Log in or send a valid bearer token."
    )


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, status=404, code="not_found", message="Not found.")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, status=exc.status_code, code="http_error", message=str(exc))


class HealthOut(Schema):
    status: str


@api.get("/health", response=HealthOut, auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: the web process answers."""
    return {"status": "ok"}


def _register_routers() -> None:
    from tickets.api import router as tickets_router

    api.add_router("/work-orders", tickets_router, tags=["work orders"])


_register_routers()
