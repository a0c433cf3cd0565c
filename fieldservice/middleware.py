"""The project's own middleware: the Permissions-Policy header on every response, and web
pages while the database is unreachable (503 with Retry-After, not a 500 error page).

PostgreSQL restarting (a failover, a minor upgrade) makes every query raise OperationalError
or InterfaceError for a while. That is not a bug in the page, so it should not look like
one to the user, to monitoring or to a load balancer: the request answers 503 and says when
to try again. The transaction the request was in, if any, went down with its connection.
The JSON APIs answer the same way through their exception handlers (fieldservice.api_common).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# What the 503 answers tell clients to wait before retrying (a restart takes seconds).
RETRY_AFTER_SECONDS = 5


def database_unavailable_logged(request: HttpRequest, error: Exception) -> None:
    logger.warning("Database unavailable during %s %s: %s", request.method, request.path, error)


class DatabaseUnavailableMiddleware:
    """Turns a view's database connection failure into a plain 503 page. Install it last in
    MIDDLEWARE, so its process_exception sees the view's exception first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_UNAVAILABLE):
            return None
        database_unavailable_logged(request, exception)
        # No base template: it would read the session and the user, i.e. the database.
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def permissions_policy_header(policy: dict[str, list[str]]) -> str:
    """`{"geolocation": ["self"], "camera": []}` → `geolocation=(self), camera=()`.

    An allowlist holds `self`, `*` or origins (quoted in the header, as the syntax wants)."""

    def source(item: str) -> str:
        return item if item in {"self", "*"} else f'"{item}"'

    return ", ".join(
        f"{feature}=({' '.join(source(item) for item in allowed)})" for feature, allowed in policy.items()
    )


class PermissionsPolicyMiddleware:
    """Sends settings.PERMISSIONS_POLICY as the Permissions-Policy header on every response:
    the browser features the pages may use at all (django-csp's Content-Security-Policy says
    where they may load from; this says what they may ask the device for)."""

    HEADER = "Permissions-Policy"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.header = permissions_policy_header(settings.PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.HEADER not in response:
            response[self.HEADER] = self.header
        return response
