"""The dispatcher and integration API root (`/api/v1/`): one NinjaAPI, one Router per domain,
its errors as fieldservice.api_common maps them. A face: the domain routers never import it."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest
from ninja import NinjaAPI, Schema

from cases.api import router as cases_router
from fieldservice.api_common import api_docs, install_error_handlers
from fieldservice.auth import session_or_token
from fieldservice.parsers import TextParser
from retention.api import router as retention_router
from scheduling.api import router as scheduling_router
from tickets.api import router as tickets_router

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
    docs=api_docs(),
    auth=session_or_token,
    parser=TextParser(),
)


install_error_handlers(api)


class HealthOut(Schema):
    status: str


@api.get("/health", response=HealthOut, auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness: the web process answers."""
    return {"status": "ok"}


class ReadinessOut(Schema):
    status: str
    nearest_site_id: int | None


@api.get("/health/db", response=ReadinessOut, auth=None, tags=["system"])
def health_db(request: HttpRequest) -> dict[str, Any]:
    """Readiness: one indexed PostGIS query (the site nearest a point, by the GiST index).
    Also the ceiling the load benchmark compares the real endpoints with."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM assets_site ORDER BY location <-> ST_GeogFromText('POINT(120.62 31.30)') LIMIT 1"
        )
        row = cursor.fetchone()
    return {"status": "ok", "nearest_site_id": row[0] if row else None}


api.add_router("/work-orders", tickets_router, tags=["work orders"])
api.add_router("/schedule", scheduling_router, tags=["scheduling"])
api.add_router("/cases", cases_router, tags=["cases"])
api.add_router("/", retention_router)
