"""Every route, with every kind of user: who gets in, and how everyone else is refused.

The routes come from the URL configuration, walked recursively (web pages, the technician
app's shell, the back office: every model's pages and the site's own), and from both APIs'
OpenAPI schemas (every path and method of /api/v1/ and /api/mobile/v1/). Each must have a
rule below: `test_every_route_has_a_rule` fails on a route without one, and on a rule whose
route is gone, so the matrix cannot silently go stale.

A rule gives the expected outcome per role, in this column order:

    anonymous · technician A · technician B · dispatcher · account manager · admin · inactive
    · customer (a contact of the "mine" account signed in to the portal)

A rule may leave out the customer's column: a customer then gets what the technician who does
not work on the object gets (technician B for "mine", A for "foreign"; none of an office
role's pages, the back office or the mobile API, whose tokens a customer is refused).

    ok      the rule's success status (200 unless it says otherwise)
    login   302 to the web login          alogin  302 to the back office's login
    plogin  302 to the portal's sign-in page
    gone    the back office's "no such object" (302 to /admin/)
    tochange  302 to the object's change page   ->/x/  302 to /x/
    401 403 404 …  that status

Rules about one object run twice: with technician A's job at the account manager's own
account ("mine"), and with technician B's job at another manager's account ("foreign");
a user who may not see an object gets 404 (the back office: "gone"), never its data.

Dispatchers and account managers are staff, as in the demo: the back office lets them do
what their role's model permissions (fieldservice.roles.ROLE_PERMISSIONS) allow, an account
manager only for their own accounts; the audit trail is for admins only. Web pages and the
dispatcher API use the session and integration tokens; the mobile API, mobile tokens (also
issued, wrongly, to non-technicians, to show the API refuses them).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from assets.labels import label_token
from assets.models import ChecklistTemplate, MeterReading
from cases import services as case_services
from contracts import services as contract_services
from contracts.models import AccountTask, HealthScore, RenewalOpportunity, RenewalReminder, ServiceContract
from fieldservice import clock, roles
from fieldservice.admin import AccountScopedAdmin
from fieldservice.api import api as dispatcher_api
from fieldservice.audit import Source
from fieldservice.models import ApiToken, AuditEntry, StaffProfile
from fieldservice.tokens import token_issue
from mobile_api.api import api as mobile_api
from portal.signin import portal_access_ensure
from scheduling.models import Absence, Assignment, PreferredTechnician, ScheduleRun, Technician
from tests import factories
from tests.conftest import own_cache_keys
from tests.mobile_api.conftest import ADVANCE, PATH_TO, PNG
from tickets import creation, lifecycle, site_visit
from tickets.models import ServiceReport, Survey, WorkOrder
from tickets.records import files, parts_used
from tickets.survey import survey_token_for

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "tech_a", "tech_b", "dispatcher", "manager", "admin", "inactive", "customer")
STAFF_ROLES = {"dispatcher": roles.DISPATCHER, "manager": roles.ACCOUNT_MANAGER}
PDF = b"%PDF-1.4\n% a stand-in for a rendered report\n%%EOF\n"
TODAY = dt.date(2026, 6, 10)


# --- the rules ------------------------------------------------------------------------------------------


def _row(spec: str) -> dict[str, str]:
    tokens = spec.split()
    assert len(tokens) in (len(ROLES) - 1, len(ROLES)), spec  # the customer's column is optional
    return dict(zip(ROLES, tokens, strict=False))


Body = Callable[["Context"], Any]


@dataclass(frozen=True)
class Rule:
    mine: str
    foreign: str | None = None
    ok: frozenset[int] = frozenset({200})
    body: Body | None = None
    encoding: str = "json"  # json | form | multipart
    params: dict[str, str] = field(default_factory=dict)  # path parameter → context key
    url: str | None = None  # for routes that are regular expressions
    check: Callable[[str, HttpResponse, Context], str | None] | None = None

    def expected(self, variant: str) -> dict[str, str]:
        return _row(self.foreign if variant == "foreign" and self.foreign else self.mine)


def R(mine: str, foreign: str | None = None, ok: int | tuple[int, ...] = 200, **options: Any) -> Rule:
    codes = (ok,) if isinstance(ok, int) else ok
    return Rule(mine=mine, foreign=foreign, ok=frozenset(codes), **options)


EVERYONE = "ok ok ok ok ok ok ok"
PLANNERS = "login 403 403 ok 403 ok login"
MANAGERS = "login 403 403 403 ok ok login"
MANAGERS_FOREIGN = "login 403 403 403 404 ok login"
OFFICE = "login 403 403 ok ok ok login"  # dispatchers, account managers, admins
OFFICE_FOREIGN = "login 403 403 ok 404 ok login"
# The dispatcher API (integration tokens): technicians may read their own work orders there.
API_READ = "401 ok 404 ok ok ok 401"
API_READ_FOREIGN = "401 404 ok ok 404 ok 401"
API_PLAN = "401 403 403 ok 403 ok 401"
API_PLAN_OBJECT = "401 403 404 ok 403 ok 401"
API_PLAN_OBJECT_FOREIGN = "401 404 403 ok 404 ok 401"
API_MANAGERS = "401 403 403 403 ok ok 401"
API_MANAGERS_FOREIGN = "401 403 403 403 404 ok 401"
# Cases: dispatchers and admins work every one, an account manager their accounts'.
API_CASES = "401 403 403 ok ok ok 401"
API_CASES_FOREIGN = "401 403 403 ok 404 ok 401"
# The mobile API: technicians only, each to their own jobs.
MOBILE_ME = "401 ok ok 401 401 401 401"
MOBILE_JOB = "401 ok 404 401 401 401 401"
MOBILE_JOB_FOREIGN = "401 404 ok 401 401 401 401"
BACK_OFFICE = "alogin alogin alogin ok ok ok alogin"
# The customer portal: the contact's own account only ("foreign": another account's object, 404).
PORTAL = "plogin 403 403 403 403 403 plogin ok"
PORTAL_FOREIGN = "plogin 403 403 403 403 403 plogin 404"
ADMINS_IN_BACK_OFFICE = "alogin alogin alogin 403 403 ok alogin"


def _now(ctx: Context) -> str:
    return clock.now().isoformat()


def _png(ctx: Context) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("photo.png", PNG, content_type="image/png"), "caption": "valve"}


def _json(response: HttpResponse) -> Any:
    return json.loads(response.content)


def _only_visible_work_orders(role: str, response: HttpResponse, ctx: Context) -> str | None:
    """The list shows technicians their own jobs and managers their accounts' only."""
    if response.status_code != 200:
        return None
    shown = {row["id"] for row in _json(response)["items"]}
    visible = {
        "tech_a": {ctx.world.jobs["mine"].pk, ctx.world.jobs["mine_done"].pk},
        "tech_b": {ctx.world.jobs["foreign"].pk, ctx.world.jobs["foreign_done"].pk},
        "manager": set(
            WorkOrder.objects.filter(account=ctx.world.accounts["mine"]).values_list("pk", flat=True)
        ),
    }.get(role)
    if visible is not None and not shown <= visible:
        return f"shows work orders {sorted(shown - visible)} it may not see"
    return None


def _only_my_jobs(role: str, response: HttpResponse, ctx: Context) -> str | None:
    if response.status_code != 200:
        return None
    body = _json(response)
    rows = body if isinstance(body, list) else [change["job"] for change in body["changes"] if change["job"]]
    variant = {"tech_a": "mine", "tech_b": "foreign"}[role]
    mine = {ctx.world.jobs[variant].pk, ctx.world.jobs[f"{variant}_done"].pk}
    others = {row["id"] for row in rows} - mine
    return f"shows jobs {sorted(others)} of another technician" if others else None


def _only_visible_accounts(role: str, response: HttpResponse, ctx: Context) -> str | None:
    if response.status_code != 200:
        return None
    shown = {int(row["id"]) for row in _json(response)["results"]}
    if role == "manager" and shown != {ctx.world.accounts["mine"].pk}:
        return f"offers accounts {sorted(shown)}: only the manager's own may be offered"
    return None


RULES: dict[str, Rule] = {
    # --- the web app ------------------------------------------------------------------------------------
    "GET /": R("login ->/app/ ->/app/ ->/dispatch/ ->/accounts/ ->/dispatch/ login ->/portal/"),
    "GET /login/": R(EVERYONE),
    "POST /logout/": R("->/login/ ->/login/ ->/login/ ->/login/ ->/login/ ->/login/ ->/login/"),
    "POST /i18n/setlang/": R("->/ ->/ ->/ ->/ ->/ ->/ ->/", body=lambda c: {"language": "en", "next": "/"}),
    "GET /app/": R(EVERYONE),  # the technician app's shell: it logs in with the mobile API
    "GET /app/sw.js": R(EVERYONE),
    "GET /app/manifest.webmanifest": R(EVERYONE),
    "GET /dispatch/": R(PLANNERS),
    "POST /dispatch/runs/": R(PLANNERS, body=lambda c: {"day": (TODAY + dt.timedelta(days=1)).isoformat()}),
    "GET /dispatch/runs/<int:run_id>/status/": R(PLANNERS),
    "POST /dispatch/runs/<int:run_id>/accept/": R(PLANNERS, ok=(200, 302)),
    "POST /dispatch/insert/": R(PLANNERS, ok=(200, 302), body=lambda c: {"work_order": c.obj("job_new")}),
    "GET /dispatch/work-orders/<int:work_order_id>/move/": R(PLANNERS),
    "GET /desk/": R(PLANNERS),
    "POST /desk/": R(
        PLANNERS,
        ok=302,
        body=lambda c: {"site": c.job.site_id, "kind": "corrective", "priority": 3, "title": "Leaking seal"},
    ),
    "GET /desk/search/": R(PLANNERS),
    "POST /dispatch/work-orders/<int:work_order_id>/move/save/": R(
        PLANNERS,
        ok=(200, 302),
        body=lambda c: {
            "version": c.job.version,
            "technician": c.world.technicians["tech_b"],
            "start": "10:00",
        },
    ),
    "GET /accounts/": R(MANAGERS),
    "GET /accounts/<int:account_id>/": R(MANAGERS, MANAGERS_FOREIGN),
    "POST /accounts/renewals/<int:opportunity_id>/stage/": R(
        MANAGERS, MANAGERS_FOREIGN, ok=302, body=lambda c: {"stage": "contacted"}
    ),
    # Tasks are personal: the manager's own, and for admins only the tasks nobody owns.
    "POST /accounts/tasks/<int:task_id>/done/": R(
        "login 403 403 403 ok 404 login", "login 403 403 403 404 404 login", ok=302
    ),
    "GET /kpis/": R(OFFICE),
    "GET /kpis/export.csv": R(OFFICE),
    "GET /survey/<str:token>/": R(EVERYONE),  # the signed token is the customer's only credential
    "GET /work-orders/": R(OFFICE),
    "GET /work-orders/<int:work_order_id>/": R(OFFICE, OFFICE_FOREIGN),
    "GET /work-orders/<int:work_order_id>/signature.png": R(OFFICE, OFFICE_FOREIGN),
    # --- the customer portal and the QR labels ------------------------------------------------------------
    "GET /portal/": R(PORTAL),
    "GET /portal/login/": R("ok ok ok ok ok ok ok ok"),
    "POST /portal/login/": R("ok ok ok ok ok ok ok ok", body=lambda c: {"email": "nobody@example.com"}),
    "GET /portal/login/<str:token>/": R("404 404 404 404 404 404 404 404", params={"token": "no_such_token"}),
    "POST /portal/logout/": R(" ".join(["->/portal/login/"] * 8)),
    "GET /portal/equipment/": R(PORTAL),
    "GET /portal/equipment/<int:equipment_id>/": R(
        PORTAL, PORTAL_FOREIGN, params={"equipment_id": "equipment"}
    ),
    "GET /portal/work-orders/": R(PORTAL),
    "GET /portal/work-orders/<int:work_order_id>/report.pdf": R(
        PORTAL, PORTAL_FOREIGN, params={"work_order_id": "job_done"}
    ),
    "GET /portal/contracts/": R(PORTAL),
    "GET /portal/contracts/<int:contract_id>/quote.pdf": R(
        PORTAL, PORTAL_FOREIGN, params={"contract_id": "contract"}
    ),
    "GET /portal/report/": R(PORTAL),
    "POST /portal/report/": R(  # another account's machine is not among the contact's choices: 400
        PORTAL,
        "plogin 403 403 403 403 403 plogin 400",
        ok=302,
        body=lambda c: {"equipment": c.obj("equipment"), "symptom": "Oil leak", "line_stopped": "no"},
    ),
    "GET /portal/cases/": R(PORTAL),
    "GET /portal/cases/new/": R(PORTAL),
    "POST /portal/cases/new/": R(
        PORTAL,
        ok=302,
        body=lambda c: {"title": "Late visit", "description": "Two hours late", "severity": "2"},
    ),
    "GET /portal/cases/<int:case_id>/": R(PORTAL, PORTAL_FOREIGN),
    # The world's case is not resolved: the closing question is not asked yet (409).
    "POST /portal/cases/<int:case_id>/answer/": R(
        "plogin 403 403 403 403 403 plogin 409", PORTAL_FOREIGN, body=lambda c: {"resolved": "yes"}
    ),
    "GET /portal/confirm/<str:token>/": R(
        "404 404 404 404 404 404 404 404", params={"token": "no_such_token"}
    ),
    "GET /portal/labels/site/<int:site_id>.pdf": R(PLANNERS + " 403", params={"site_id": "site"}),
    # The label's signed token is all the public page knows; a contact of the machine's account
    # is sent to the machine's page, anyone else gets the form (another account's contact too).
    "GET /l/<str:token>/": R(
        "ok ok ok ok ok ok ok 302", "ok ok ok ok ok ok ok ok", params={"token": "label"}
    ),
    "POST /l/<str:token>/": R(
        "ok ok ok ok ok ok ok ok",
        params={"token": "label"},
        body=lambda c: {"name": "李娜", "email": f"{c.role}@example.com", "symptom": "Oil leak"},
    ),
    # --- the APIs' own pages ----------------------------------------------------------------------------
    "GET /api/v1/openapi.json": R(EVERYONE),
    "GET /api/v1/docs": R(EVERYONE),
    "GET /api/v1/": R("404 404 404 404 404 404 404"),
    "GET /api/mobile/v1/openapi.json": R(EVERYONE),
    "GET /api/mobile/v1/docs": R(EVERYONE),
    "GET /api/mobile/v1/": R("404 404 404 404 404 404 404"),
    # --- the dispatcher and integration API -----------------------------------------------------------------
    "GET /api/v1/health": R(EVERYONE),
    "GET /api/v1/health/db": R(EVERYONE),
    "GET /api/v1/work-orders": R("401 ok ok ok ok ok 401", check=_only_visible_work_orders),
    "POST /api/v1/work-orders": R(
        API_PLAN, ok=201, body=lambda c: {"site_id": c.world.sites["mine"].pk, "title": "Chiller alarm"}
    ),
    "GET /api/v1/work-orders/{work_order_id}": R(API_READ, API_READ_FOREIGN),
    "PATCH /api/v1/work-orders/{work_order_id}": R(
        API_PLAN_OBJECT, API_PLAN_OBJECT_FOREIGN, body=lambda c: {"version": c.job.version, "priority": 2}
    ),
    "POST /api/v1/work-orders/{work_order_id}/transition": R(
        API_PLAN_OBJECT,
        API_PLAN_OBJECT_FOREIGN,
        body=lambda c: {"version": c.job.version, "to": "on_hold", "reason": "Waiting for parts"},
    ),
    "POST /api/v1/work-orders/{work_order_id}/cancel": R(
        API_PLAN_OBJECT,
        API_PLAN_OBJECT_FOREIGN,
        body=lambda c: {"version": c.job.version, "reason": "Duplicate"},
    ),
    "GET /api/v1/work-orders/{work_order_id}/attachments": R(API_READ, API_READ_FOREIGN),
    "POST /api/v1/work-orders/{work_order_id}/attachments": R(
        API_PLAN_OBJECT, API_PLAN_OBJECT_FOREIGN, ok=201, body=_png, encoding="multipart"
    ),
    "GET /api/v1/work-orders/{work_order_id}/attachments/{attachment_id}": R(API_READ, API_READ_FOREIGN),
    "GET /api/v1/work-orders/{work_order_id}/report.pdf": R(
        API_READ, API_READ_FOREIGN, params={"work_order_id": "job_done"}
    ),
    "POST /api/v1/schedule/runs": R(API_PLAN, ok=202, body=lambda c: {"date": TODAY.isoformat()}),
    "GET /api/v1/schedule/runs/{run_id}": R(API_PLAN),
    "POST /api/v1/schedule/runs/{run_id}/accept": R(API_PLAN, ok=(200, 409)),
    "POST /api/v1/schedule/insert": R(
        API_PLAN, ok=(200, 409), body=lambda c: {"work_order_id": c.obj("job_new")}
    ),
    "GET /api/v1/renewals": R(API_MANAGERS),
    "POST /api/v1/renewals/{opportunity_id}/stage": R(
        API_MANAGERS, API_MANAGERS_FOREIGN, body=lambda c: {"stage": "contacted"}
    ),
    "GET /api/v1/renewals/{opportunity_id}/quote.pdf": R(API_MANAGERS, API_MANAGERS_FOREIGN),
    "GET /api/v1/tasks": R(API_MANAGERS),
    "PATCH /api/v1/tasks/{task_id}": R(
        "401 403 403 403 ok 404 401", "401 403 403 403 404 404 401", body=lambda c: {"status": "done"}
    ),
    "GET /api/v1/accounts/at-risk": R(API_MANAGERS),
    "GET /api/v1/accounts/{account_id}": R(API_MANAGERS, API_MANAGERS_FOREIGN),
    "GET /api/v1/cases": R(API_CASES),
    "POST /api/v1/cases": R(
        API_CASES, ok=201, body=lambda c: {"account_id": c.obj("account"), "title": "Noise"}
    ),
    "GET /api/v1/cases/{case_id}": R(API_CASES, API_CASES_FOREIGN),
    "POST /api/v1/cases/{case_id}/transition": R(
        API_CASES, API_CASES_FOREIGN, body=lambda c: {"to": "acknowledged", "version": 1}
    ),
    "POST /api/v1/cases/{case_id}/notes": R(
        API_CASES, API_CASES_FOREIGN, ok=201, body=lambda c: {"text": "Called the plant"}
    ),
    # --- the technician app's API ---------------------------------------------------------------------------
    "POST /api/mobile/v1/auth/token": R(
        "401 ok ok 401 401 401 401", body=lambda c: {"username": c.username, "password": "demo"}
    ),
    "POST /api/mobile/v1/auth/revoke": R("401 204 204 401 401 401 401"),
    "GET /api/mobile/v1/me": R(MOBILE_ME),
    "GET /api/mobile/v1/jobs": R(MOBILE_ME, check=_only_my_jobs),
    "GET /api/mobile/v1/sync": R(MOBILE_ME, check=_only_my_jobs),
    "GET /api/mobile/v1/jobs/{job_id}": R(MOBILE_JOB, MOBILE_JOB_FOREIGN),
    "POST /api/mobile/v1/jobs/{job_id}/events": R(
        MOBILE_JOB,
        MOBILE_JOB_FOREIGN,
        body=lambda c: {"type": "paused", "at": _now(c), "version": c.job.version, "reason": "Parts"},
    ),
    "POST /api/mobile/v1/jobs/{job_id}/checklist": R(
        MOBILE_JOB, MOBILE_JOB_FOREIGN, body=lambda c: {"answers": [{"position": 1, "result": "pass"}]}
    ),
    "POST /api/mobile/v1/jobs/{job_id}/parts": R(
        MOBILE_JOB, MOBILE_JOB_FOREIGN, body=lambda c: {"parts": [{"part_number": "F-1", "quantity": "1"}]}
    ),
    "POST /api/mobile/v1/jobs/{job_id}/meter-readings": R(
        MOBILE_JOB, MOBILE_JOB_FOREIGN, body=lambda c: {"kind": "operating_hours", "value": "1234"}
    ),
    "POST /api/mobile/v1/jobs/{job_id}/signature": R(
        MOBILE_JOB,
        MOBILE_JOB_FOREIGN,
        ok=(200, 409),  # one signature per job: the job already has one
        body=lambda c: {"png_base64": base64.b64encode(PNG).decode(), "signer_name": "王伟"},
    ),
    "POST /api/mobile/v1/jobs/{job_id}/photos": R(
        MOBILE_JOB, MOBILE_JOB_FOREIGN, body=_png, encoding="multipart"
    ),
    "GET /api/mobile/v1/jobs/{job_id}/report.pdf": R(
        MOBILE_JOB, MOBILE_JOB_FOREIGN, params={"job_id": "job_done"}
    ),
    # --- the back office's own pages (its models' pages follow ROLE_PERMISSIONS, below) ---------------------
    "GET /admin/": R(BACK_OFFICE),
    "GET /admin/login/": R(EVERYONE, ok=(200, 302)),  # staff already logged in are sent on
    "POST /admin/logout/": R("->/admin/ ->/admin/ ->/admin/ ->/login/ ->/login/ ->/login/ ->/admin/"),
    "GET /admin/password_change/": R(BACK_OFFICE),
    "GET /admin/password_change/done/": R(BACK_OFFICE),
    "GET /admin/autocomplete/": R(  # who may view accounts may look them up: a manager, only theirs
        BACK_OFFICE,
        url="/admin/autocomplete/?app_label=contracts&model_name=servicecontract&field_name=account",
        check=_only_visible_accounts,
    ),
    "GET /admin/jsi18n/": R(BACK_OFFICE),
    "GET /admin/r/<path:content_type_id>/<path:object_id>/": R(
        "alogin alogin alogin 404 404 404 alogin",
        params={"content_type_id": "contract_type", "object_id": "contract"},
    ),
    "GET /admin/auth/user/<id>/password/": R(ADMINS_IN_BACK_OFFICE, params={"id": "manager_user"}),
    "GET /admin/assets/account/import/": R(ADMINS_IN_BACK_OFFICE),
    "GET /admin/assets/account/import/report/<str:token>/": R(
        "alogin alogin alogin 403 403 404 alogin", params={"token": "no_such_token"}
    ),
    "GET /admin/^(?P<app_label>auth|fieldservice|assets|contracts|tickets|cases|scheduling)/$": R(
        "alogin alogin alogin ok ok ok alogin", url="/admin/contracts/"
    ),
    "GET /admin/(?P<url>.*)$": R(  # the catch-all: an unknown back-office URL
        "alogin alogin alogin 404 404 404 alogin", url="/admin/no-such-page/"
    ),
}

# Records only their services write (the technician's records, the optimizer's runs and
# assignments, health and renewal milestones, the trails): the back office shows them but
# never adds or deletes one, whatever the permissions (issue 14: it bypassed the rules).
# The audit trail only admins see (fieldservice.admin).
WRITTEN_BY_SERVICES_ONLY = {
    "assets.meterreading",
    "cases.caseevent",
    "contracts.accounttask",
    "contracts.healthscore",
    "contracts.renewalopportunity",
    "contracts.renewalreminder",
    "fieldservice.auditentry",
    "scheduling.assignment",
    "scheduling.schedulerun",
    "tickets.attachment",
    "tickets.checklistitem",
    "tickets.partusage",
    "tickets.servicereport",
    "tickets.signature",
    "tickets.survey",
    "tickets.workorderevent",
}
NO_ADD = WRITTEN_BY_SERVICES_ONLY | {"fieldservice.apitoken"}
NO_DELETE = WRITTEN_BY_SERVICES_ONLY | {"cases.case"}  # a case's trail is kept
ADMINS_ONLY = {"fieldservice.auditentry"}
ADMIN_MODEL_ROUTE = re.compile(
    r"^/admin/(?P<app>\w+)/(?P<model>\w+)/"
    r"(?:(?P<add>add/)|<path:object_id>/(?:(?P<page>history|delete|change)/)?)?$"
)


def _staff_outcome(role: str, label: str, page: str, variant: str, scoped: bool) -> str:
    """What a staff dispatcher or account manager gets on one of a model's back-office pages,
    from their role's model permissions (Django's rules, in the order its views apply them)."""
    actions = set() if label in ADMINS_ONLY else set(roles.ROLE_PERMISSIONS[STAFF_ROLES[role]].get(label, ()))
    can_view = bool(actions & {"view", "change"})
    hidden = scoped and variant == "foreign" and role == "manager"
    if page == "changelist":
        return "ok" if can_view else "403"
    if page == "add":
        return "ok" if "add" in actions and label not in NO_ADD else "403"
    if page == "object":
        return "tochange"
    if page == "history":  # looks the object up first, then checks the permission
        return "gone" if hidden else "ok" if can_view else "403"
    allowed = can_view if page == "change" else "delete" in actions and label not in NO_DELETE
    return "403" if not allowed else "gone" if hidden else "ok"


def _admin_model_rule(label: str, page: str) -> Rule:
    model_admin = admin.site._registry[_model(label)]
    scoped = isinstance(model_admin, AccountScopedAdmin)
    superuser = "ok"
    if page == "add" and label in NO_ADD or page == "delete" and label in NO_DELETE:
        superuser = "403"
    if page == "object":
        superuser = "tochange"

    def spec(variant: str) -> str:
        staff = [_staff_outcome(role, label, page, variant, scoped) for role in ("dispatcher", "manager")]
        return " ".join(["alogin", "alogin", "alogin", *staff, superuser, "alogin"])

    return R(spec("mine"), spec("foreign") if scoped else None, params={"object_id": f"admin:{label}"})


def _model(label: str) -> type[models.Model]:
    return next(model for model in admin.site._registry if model._meta.label_lower == label)


# --- the routes -------------------------------------------------------------------------------------------


def django_routes() -> dict[str, URLPattern]:
    """Every route of the URL configuration, as "/" + its pattern, walked recursively."""
    found: dict[str, URLPattern] = {}

    def walk(patterns: list[URLPattern | URLResolver], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            else:
                found.setdefault("/" + route, pattern)

    walk(get_resolver().url_patterns, "")
    return found


def _is_api_operation(pattern: URLPattern) -> bool:
    return pattern.lookup_str.startswith("ninja.operation.")


def api_operations() -> list[str]:
    """Every operation of both APIs, from their OpenAPI schemas: "METHOD /path"."""
    operations = []
    for api in (dispatcher_api, mobile_api):
        for path, methods in api.get_openapi_schema()["paths"].items():
            operations += [f"{method.upper()} {path}" for method in methods]
    return sorted(operations)


def _openapi_path(route: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


@dataclass(frozen=True)
class Endpoint:
    key: str  # "METHOD /route" as in RULES
    rule: Rule
    kind: str  # web | v1 | mobile

    @property
    def method(self) -> str:
        return self.key.split(" ", 1)[0]

    @property
    def route(self) -> str:
        return self.key.split(" ", 1)[1]


def endpoints() -> list[Endpoint]:
    found = []
    for route in django_routes():
        match = ADMIN_MODEL_ROUTE.match(route)
        if match and f"{match['app']}.{match['model']}" in _registered_labels():
            label = f"{match['app']}.{match['model']}"
            if match["add"]:
                page = "add"
            elif "<path:object_id>" not in route:
                page = "changelist"
            else:
                page = match["page"] or "object"
            found.append(Endpoint(f"GET {route}", _admin_model_rule(label, page), "web"))
    operations = set(api_operations())
    for key, rule in RULES.items():
        kind = "web"
        if key in operations:
            kind = "mobile" if key.split(" ", 1)[1].startswith("/api/mobile/") else "v1"
        found.append(Endpoint(key, rule, kind))
    return found


def _registered_labels() -> set[str]:
    return {model._meta.label_lower for model in admin.site._registry}


def test_every_route_has_a_rule() -> None:
    routes = django_routes()
    ruled_paths = {key.split(" ", 1)[1] for key in RULES}
    generated = {
        route
        for route in routes
        if (match := ADMIN_MODEL_ROUTE.match(route))
        and f"{match['app']}.{match['model']}" in _registered_labels()
    }
    operations = set(api_operations())
    operation_paths = {operation.split(" ", 1)[1] for operation in operations}
    unruled = sorted(
        route
        for route, pattern in routes.items()
        if route not in generated
        and not (_is_api_operation(pattern) and _openapi_path(route) in operation_paths)
        and route not in ruled_paths
    )
    assert unruled == [], f"routes without a rule in {__name__}.RULES: {unruled}"
    missing_operations = sorted(operations - set(RULES))
    assert missing_operations == [], f"API operations without a rule: {missing_operations}"
    stale = sorted(key for key in RULES if key.split(" ", 1)[1] not in routes and key not in operations)
    assert stale == [], f"rules for routes that no longer exist: {stale}"
    django_operations = {_openapi_path(r) for r, p in routes.items() if _is_api_operation(p)}
    assert django_operations == operation_paths, "the OpenAPI schemas and the URL configuration disagree"


def test_the_matrix_is_the_size_it_claims() -> None:
    """The walk found the admin's model pages and both APIs: not an empty loop."""
    found = endpoints()
    assert len({e.key for e in found if e.route.startswith("/admin/")}) > 6 * 30
    assert len([e for e in found if e.kind == "mobile"]) == len(
        [o for o in api_operations() if "/mobile/" in o]
    )
    assert len([e for e in found if e.kind == "v1"]) == len([o for o in api_operations() if "/api/v1/" in o])


# --- the world they are tried on ----------------------------------------------------------------------------


@dataclass
class World:
    users: dict[str, User]
    sessions: dict[str, str]
    integration_tokens: dict[str, str]
    mobile_tokens: dict[str, str]
    technicians: dict[str, int]
    accounts: dict[str, Any]
    sites: dict[str, Any]
    jobs: dict[str, WorkOrder]
    objects: dict[str, dict[str, Any]]  # variant → context key → value
    admin_objects: dict[str, dict[str, int]]  # model label → variant → pk


@dataclass
class Context:
    world: World
    role: str
    variant: str

    def obj(self, key: str) -> Any:
        if key.startswith("admin:"):
            by_variant = self.world.admin_objects[key.removeprefix("admin:")]
            return by_variant.get(self.variant, by_variant["mine"])
        return self.world.objects[self.variant][key]

    @property
    def job(self) -> WorkOrder:
        return WorkOrder.objects.get(pk=self.obj("job"))

    @property
    def username(self) -> str:
        user = self.world.users.get(self.role)
        return user.username if user is not None else "nobody"


@pytest.fixture(autouse=True)
def _isolated(settings: Any, tmp_path: Any) -> Iterator[None]:
    """Files in a temporary media root; failed logins and cached answers under this test's
    own cache prefix (Redis outlives the test database)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    with own_cache_keys(settings, "matrix"):
        yield


def _job(*, technician: User, site: Any, status: str, by: User, checklist: bool = True) -> WorkOrder:
    unit = factories.equipment(site=site)
    start = clock.now().replace(microsecond=0)
    job = creation.work_order_create(
        site=site,
        equipment=unit,
        kind="corrective",
        title="Compressor trips",
        by=by,
        checklist=[{"label": "Pressure"}] if checklist else [],
    )
    job = lifecycle.work_order_schedule(
        work_order=job,
        technician=technician,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
        by=by,
        version=job.version,
    )
    for state in PATH_TO[1 : PATH_TO.index(status) + 1]:
        job = ADVANCE[state](work_order=job, by=technician, version=job.version)
    return WorkOrder.objects.get(pk=job.pk)


def _stored(name: str, content: bytes) -> str:
    return default_storage.save(name, ContentFile(content))


@pytest.fixture
def world() -> World:
    users = {
        "tech_a": factories.user(username="tech01", role=roles.TECHNICIAN),
        "tech_b": factories.user(username="tech02", role=roles.TECHNICIAN),
        "dispatcher": factories.user(username="dispatcher", role=roles.DISPATCHER, is_staff=True),
        "manager": factories.user(username="manager", role=roles.ACCOUNT_MANAGER, is_staff=True),
        "admin": factories.user(username="admin", role=roles.ADMIN, is_staff=True, is_superuser=True),
        # Once a dispatcher and a technician, with staff status and tokens: all of it dead now.
        "inactive": factories.user(username="leaver", role=roles.DISPATCHER, is_staff=True),
    }
    users["inactive"].groups.add(*users["tech_a"].groups.all())
    other_manager = factories.user(username="manager2", role=roles.ACCOUNT_MANAGER, is_staff=True)
    technicians = {
        role: factories.technician(person=users[role], skills={"compressor": 3}).pk
        for role in ("tech_a", "tech_b")
    }
    dispatcher = users["dispatcher"]

    accounts, sites, jobs, objects, contacts = {}, {}, {}, {}, {}
    admin_objects: dict[str, dict[str, int]] = {}

    def keep(obj: models.Model | None, variant: str) -> None:
        assert obj is not None
        admin_objects.setdefault(obj._meta.label_lower, {})[variant] = obj.pk

    for variant, manager, technician in (
        ("mine", users["manager"], users["tech_a"]),
        ("foreign", other_manager, users["tech_b"]),
    ):
        account = factories.account(account_manager=manager)
        site = factories.site(account=account)
        unit = factories.equipment(site=site)
        contact = factories.contact(site=site, is_primary=True)
        contract = factories.contract(
            account=account,
            covers=[unit],
            start_date=dt.date(2020, 1, 1),
            end_date=dt.date(2099, 1, 1),
            requires_signature=False,
        )
        plan = factories.calendar_plan(equipment=unit)
        opportunity = RenewalOpportunity.objects.create(
            contract=contract,
            owner=manager,
            quote_pdf=_stored("quotes/q.pdf", PDF),
            stage=RenewalOpportunity.Stage.QUOTED,  # sent: the customer's portal offers it
        )
        task = AccountTask.objects.create(
            account=account,
            contract=contract,
            owner=manager,
            kind=AccountTask.Kind.RENEWAL_REMINDER,
            title="Call the plant",
        )
        reminder = RenewalReminder.objects.create(contract=contract, milestone="t90", due_date=TODAY)
        health = HealthScore.objects.create(
            account=account, date=TODAY, score=70, band=HealthScore.Band.YELLOW
        )
        preferred = PreferredTechnician.objects.create(account=account, technician_id=technicians["tech_a"])
        job = _job(technician=technician, site=site, status=WorkOrder.Status.IN_PROGRESS, by=dispatcher)
        attachment = files.attachment_add(
            work_order=job, upload=SimpleUploadedFile("p.png", PNG, content_type="image/png"), by=technician
        )
        signature = files.signature_capture(work_order=job, png=PNG, signer_name="王伟", by=technician)
        parts_used.part_record(
            work_order=job, part_number="F-1", quantity=Decimal(1), unit_cost=Decimal(5), by=technician
        )
        done = _job(
            technician=technician,
            site=site,
            status=WorkOrder.Status.IN_PROGRESS,
            by=dispatcher,
            checklist=False,
        )
        done = site_visit.work_order_complete(
            work_order=done, by=technician, version=done.version, resolution="Fixed"
        )
        report = ServiceReport.objects.create(
            work_order=done, pdf=_stored("reports/r.pdf", PDF), generated_at=clock.now()
        )
        survey = Survey.objects.create(work_order=job, csat=5, submitted_at=clock.now())
        reading = MeterReading.objects.filter(equipment=unit).first() or MeterReading.objects.create(
            equipment=unit, kind="operating_hours", value=Decimal(100), read_at=clock.now()
        )
        contract.notice_days = 90
        contract_services.contract_save(contract=contract, by=users["admin"], source=Source.ADMIN)
        accounts[variant], sites[variant], jobs[variant], jobs[f"{variant}_done"] = account, site, job, done
        new_job = creation.work_order_create(site=site, kind="corrective", title="Leak", by=dispatcher)
        case = case_services.case_open(
            account=account,
            contact=contact,
            kind="complaint",
            severity=2,
            channel="phone",
            title="Noise",
            by=None,
        )
        objects[variant] = {
            "job": job.pk,
            "job_done": done.pk,
            "job_new": new_job.pk,
            "attachment": attachment.pk,
            "account": account.pk,
            "opportunity": opportunity.pk,
            "task": task.pk,
            "case": case.pk,
            "token": survey_token_for(done),
            "equipment": unit.pk,
            "site": site.pk,
            "label": label_token(unit),
        }
        contacts[variant] = contact
        for obj in (
            account,
            site,
            unit,
            contact,
            contract,
            plan,
            opportunity,
            task,
            reminder,
            health,
            preferred,
            job,
            attachment,
            signature,
            done,
            report,
            survey,
            reading,
            contract.sla_terms.first(),
            contract.coverage.first(),
            job.checklist.first(),
            job.parts.first(),
            job.events.first(),
            case,
            case.events.first(),
        ):
            keep(obj, variant)

    # The customer: a contact of the "mine" account, signed in to the portal.
    users["customer"] = portal_access_ensure(contact=contacts["mine"]).user
    run = ScheduleRun.objects.create(created_by=dispatcher, horizon_start=TODAY)
    assignment = Assignment.objects.create(
        run=run,
        work_order=jobs["mine"],
        technician_id=technicians["tech_a"],
        sequence=1,
        planned_start=clock.now(),
        planned_end=clock.now() + dt.timedelta(hours=1),
    )
    technician_a = Technician.objects.get(pk=technicians["tech_a"])
    shift = factories.shift(technician=technician_a, date=TODAY)
    absence = Absence.objects.create(
        technician=technician_a, starts_at=clock.now(), ends_at=clock.now() + dt.timedelta(hours=4)
    )
    template = ChecklistTemplate.objects.create(name="Compressor PM", items=[{"label": "Oil"}])
    profile = StaffProfile.objects.create(user=users["manager"], reports_to=users["admin"])
    for thing in (
        run,
        assignment,
        shift,
        absence,
        template,
        profile,
        technician_a,
        factories.skill(),
        factories.territory(),
        technician_a.skill_levels.first(),
        users["dispatcher"],
        Group.objects.get(name=roles.DISPATCHER),
        unit.equipment_model,
    ):
        keep(thing, "mine")

    sessions, integration_tokens, mobile_tokens = {}, {}, {}
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        integration_tokens[role] = token_issue(user=user, kind=ApiToken.Kind.INTEGRATION)[0]
        mobile_tokens[role] = token_issue(user=user, kind=ApiToken.Kind.MOBILE)[0]
    keep(ApiToken.objects.first(), "mine")
    keep(AuditEntry.objects.first(), "mine")
    users["inactive"].is_active = False
    users["inactive"].save()
    for variant in objects:
        objects[variant].update(
            run=run.pk,
            contract_type=ContentType.objects.get_for_model(ServiceContract).pk,
            contract=admin_objects["contracts.servicecontract"][variant],
            manager_user=users["manager"].pk,
            no_such_token="no-such-report",
        )
    return World(
        users=users,
        sessions=sessions,
        integration_tokens=integration_tokens,
        mobile_tokens=mobile_tokens,
        technicians=technicians,
        accounts=accounts,
        sites=sites,
        jobs=jobs,
        objects=objects,
        admin_objects=admin_objects,
    )


# --- trying every route as every role ---------------------------------------------------------------------

DEFAULT_PARAMS = {
    "work_order_id": "job",
    "job_id": "job",
    "attachment_id": "attachment",
    "account_id": "account",
    "opportunity_id": "opportunity",
    "task_id": "task",
    "case_id": "case",
    "run_id": "run",
    "token": "token",
}


def _url(endpoint: Endpoint, ctx: Context) -> str:
    rule = endpoint.rule
    if rule.url:
        return rule.url

    def fill(match: re.Match[str]) -> str:
        name = match[1]
        return str(ctx.obj(rule.params.get(name, DEFAULT_PARAMS.get(name, name))))

    return re.sub(r"[<{](?:\w+:)?(\w+)[>}]", fill, endpoint.route)


def call(endpoint: Endpoint, ctx: Context) -> HttpResponse:
    """One request as `ctx.role`, undone afterwards, so every request sees the same world."""
    world, role, rule = ctx.world, ctx.role, endpoint.rule
    client = Client(raise_request_exception=False, REMOTE_ADDR=f"10.20.{ROLES.index(role)}.1")
    headers: dict[str, str] = {}
    if role != "anonymous":
        if endpoint.kind == "web":
            client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
        else:
            tokens = world.mobile_tokens if endpoint.kind == "mobile" else world.integration_tokens
            headers["HTTP_AUTHORIZATION"] = f"Bearer {tokens[role]}"
    if endpoint.kind == "mobile":
        headers["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4())
    url = _url(endpoint, ctx)
    body = rule.body(ctx) if rule.body else {}
    method = getattr(client, endpoint.method.lower())
    with transaction.atomic():
        try:
            if endpoint.method == "GET":
                response = method(url, **headers)
            elif rule.encoding == "json" and endpoint.kind != "web":
                response = method(url, body, content_type="application/json", **headers)
            else:
                response = method(url, body, **headers)
            if response.streaming:
                # Read to the end: the test client's wrapper then closes the file. (Not
                # response.close() again: its signal would close the test's connection.)
                b"".join(response.streaming_content)
        finally:
            transaction.set_rollback(True)
    return response


def _customer_default(endpoint: Endpoint, variant: str) -> str:
    """A rule without a customer's column: the mobile API refuses them (401); elsewhere they get
    what the technician who does not work on the object gets."""
    if endpoint.kind == "mobile":
        return "401"
    return endpoint.rule.expected(variant)["tech_b" if variant == "mine" else "tech_a"]


def matches(expected: str, response: HttpResponse, rule: Rule) -> bool:
    status, location = response.status_code, response.get("Location", "")
    if expected == "ok":
        return status in rule.ok
    if expected == "login":
        return status == 302 and location.startswith("/login/")
    if expected == "plogin":
        return status == 302 and location.startswith("/portal/login/")
    if expected == "alogin":
        return status == 302 and location.startswith("/admin/login/")
    if expected == "gone":
        return status == 302 and location == "/admin/"
    if expected == "tochange":
        return status == 302 and location.endswith("/change/")
    if expected.startswith("->"):
        return status == 302 and location == expected[2:]
    return status == int(expected)


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_its_rule_says(role: str, world: World) -> None:
    failures = []
    tried = 0
    for endpoint in endpoints():
        for variant in ("mine", "foreign") if endpoint.rule.foreign else ("mine",):
            ctx = Context(world, role, variant)
            expected = endpoint.rule.expected(variant).get(role) or _customer_default(endpoint, variant)
            response = call(endpoint, ctx)
            tried += 1
            got = f"{response.status_code} {response.get('Location', '')}".strip()
            if not matches(expected, response, endpoint.rule):
                failures.append(f"{endpoint.key} [{variant}]: expected {expected}, got {got}")
            elif endpoint.rule.check and (problem := endpoint.rule.check(role, response, ctx)):
                failures.append(f"{endpoint.key} [{variant}]: {problem}")
    assert tried > 300
    assert failures == [], f"{len(failures)} of {tried} requests as {role} broke their rule:\n" + "\n".join(
        failures
    )


def test_the_world_has_an_object_for_every_back_office_model(world: World) -> None:
    missing = sorted(_registered_labels() - set(world.admin_objects))
    assert missing == [], f"give the matrix's world an object of {missing}"
    scoped = {
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, AccountScopedAdmin)
    }
    without_foreign = sorted(label for label in scoped if "foreign" not in world.admin_objects[label])
    assert without_foreign == [], f"give the world another account's {without_foreign}"


def _session(world: World, role: str) -> Client:
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    return client


def test_the_back_office_lists_and_offers_an_account_manager_only_their_accounts(world: World) -> None:
    contracts = world.admin_objects["contracts.servicecontract"]
    manager = _session(world, "manager")
    listing = manager.get("/admin/contracts/servicecontract/")
    assert {row.pk for row in listing.context["cl"].result_list} == {contracts["mine"]}
    # Nor can they move their contract to another manager's account: it is not a choice.
    form = (
        manager.get(f"/admin/contracts/servicecontract/{contracts['mine']}/change/").context["adminform"].form
    )
    assert list(form.fields["account"].queryset) == [world.accounts["mine"]]
    dispatcher = _session(world, "dispatcher").get("/admin/contracts/servicecontract/")
    assert {row.pk for row in dispatcher.context["cl"].result_list} == {
        contracts["mine"],
        contracts["foreign"],
    }
