"""The dispatcher and integration API root (`/api/v1/`): one NinjaAPI, one Router per domain.

Domain errors become `{"code", "message", "details"}` with the right HTTP status here, in
one place, so handlers raise and never format errors themselves.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema

api = NinjaAPI(
    title="Fieldservice API",
    version="1.0",
    description="Dispatcher and integration API: work orders, scheduling, contracts, accounts.",
    urls_namespace="api-v1",
)


class HealthOut(Schema):
    status: str


@api.get("/health", response=HealthOut, auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: the web process answers."""
    return {"status": "ok"}


def error_response(
    request: HttpRequest, *, status: int, code: str, message: str, details: object = None
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, "details": details}, status=status)
