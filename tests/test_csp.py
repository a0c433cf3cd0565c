"""Every response carries the Content-Security-Policy and the Permissions-Policy, and no
template needs more than the policy allows.

The policy: everything from this origin, no inline script or style, no eval, no framing;
only the map's tile server adds an image origin. The browser tests fail on any violation of
it in the pages they open (tests/browser/conftest.py); this module checks the header on each
kind of response, the settings that build it, and every template's source, so that a page
added later with an inline `style=""` or `onclick=""` fails here before it fails in a browser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse

from fieldservice import urls as project_urls
from fieldservice.environment import tile_server_source
from fieldservice.middleware import permissions_policy_header
from tests import factories
from tests.test_settings import PRODUCTION_ENV, run_django
from tickets.survey import survey_token_for

ROOT = Path(settings.BASE_DIR)


def _server_error(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


def _database_down(request: HttpRequest) -> HttpResponse:
    raise OperationalError("connection refused")


# The project's URLs, and two views that fail, to see the error pages' headers.
urlpatterns = [
    path("test-csp/server-error/", _server_error),
    path("test-csp/database-down/", _database_down),
    *project_urls.urlpatterns,
]


def directives(header: str) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in policy, f"{name} twice in {header!r}"
        policy[name] = sources
    return policy


def assert_policy(response: Any, what: str) -> None:
    header = response.get("Content-Security-Policy")
    assert header, f"{what}: no Content-Security-Policy (status {response.status_code})"
    policy = directives(header)
    assert policy["default-src"] == ["'self'"], what
    # Scripts and styles fall back to default-src: this origin's files, nothing inline.
    for name in ("script-src", "style-src", "script-src-attr", "style-src-attr", "connect-src"):
        assert name not in policy, f"{what}: {name} {policy[name]} widens default-src"
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header, what
    assert policy["frame-ancestors"] == ["'none'"], what
    assert policy["base-uri"] == ["'none'"], what
    assert policy["form-action"] == ["'self'"], what
    assert policy["img-src"] == ["'self'", "data:"], what  # no MAP_TILE_URL in the tests
    assert response.get("Permissions-Policy") == permissions_policy_header(settings.PERMISSIONS_POLICY), what


@pytest.fixture
def world(account_manager: User) -> dict[str, Any]:
    account = factories.account(account_manager=account_manager)
    site = factories.site(account=account)
    work_order = factories.work_order(site=site)
    return {"account": account, "work_order": work_order}


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.urls("tests.test_csp")
def test_every_kind_of_page_carries_the_policy(
    world: dict[str, Any], dispatcher: User, account_manager: User, admin_user: User, tech_a: User
) -> None:
    account, work_order = world["account"], world["work_order"]
    anonymous = Client()
    pages: list[tuple[str, Client, str, int]] = [
        ("login page", anonymous, "/login/", 200),
        ("dispatch board", logged_in(dispatcher), "/dispatch/", 200),
        ("work order page", logged_in(dispatcher), f"/work-orders/{work_order.pk}/", 200),
        ("KPI page", logged_in(dispatcher), "/kpis/", 200),
        ("renewals and accounts", logged_in(account_manager), "/accounts/", 200),
        ("account 360", logged_in(account_manager), f"/accounts/{account.pk}/", 200),
        ("back office", logged_in(admin_user), "/admin/", 200),
        ("back office list", logged_in(admin_user), "/admin/assets/account/", 200),
        ("back office form", logged_in(admin_user), f"/admin/assets/account/{account.pk}/change/", 200),
        ("back office CSV import", logged_in(admin_user), reverse("admin:assets_import_csv"), 200),
        ("back office login", anonymous, "/admin/login/", 200),
        ("API docs", logged_in(dispatcher), "/api/v1/docs", 200),
        ("technician API docs", anonymous, "/api/mobile/v1/docs", 200),
        ("API answer", logged_in(dispatcher), "/api/v1/openapi.json", 200),
        ("technician app", logged_in(tech_a), "/app/", 200),
        ("technician app's service worker", anonymous, "/app/sw.js", 200),
        ("technician app's manifest", anonymous, "/app/manifest.webmanifest", 200),
        ("customer survey", anonymous, f"/survey/{survey_token_for(work_order)}/", 200),
        ("customer survey, bad link", anonymous, "/survey/not-a-token/", 404),
        ("page for another role", logged_in(tech_a), "/dispatch/", 403),
        ("not found", anonymous, "/no-such-page/", 404),
        ("database down", anonymous, "/test-csp/database-down/", 503),
    ]
    for what, client, url, status in pages:
        response = client.get(url)
        assert response.status_code == status, (what, url, response.status_code)
        assert_policy(response, what)

    crashing = Client(raise_request_exception=False)
    assert_policy(crashing.get("/test-csp/server-error/"), "server error")

    stale_form = Client(enforce_csrf_checks=True)
    refused = stale_form.post("/login/", {"username": "dispatcher", "password": "demo"})
    assert refused.status_code == 403
    assert_policy(refused, "CSRF failure")
    # Django's own CSRF page carries an inline <style>: the project's replaces it.
    assert b"<style" not in refused.content and b"CSRF verification failed" in refused.content


def test_the_tile_server_is_the_only_other_image_origin() -> None:
    assert tile_server_source("") is None
    assert tile_server_source("/tiles/{z}/{x}/{y}.png") is None  # this site: 'self'
    assert tile_server_source("https://tiles.example.com/{z}/{x}/{y}.png") == "https://tiles.example.com"
    assert tile_server_source("http://10.0.0.5:8080/osm/{z}/{x}/{y}.png") == "http://10.0.0.5:8080"
    assert tile_server_source("https://{s}.tile.example.com/{z}/{x}/{y}.png") == "https://*.tile.example.com"
    for bad in ("ftp://tiles.example.com/{z}.png", "//tiles.example.com/{z}.png", "tiles/{z}.png"):
        with pytest.raises(ImproperlyConfigured, match="MAP_TILE_URL"):
            tile_server_source(bad)


def test_the_policy_follows_the_map_tile_setting() -> None:
    shown = (
        "import json; from django.conf import settings; print(json.dumps(settings.CONTENT_SECURITY_POLICY))"
    )
    tiles = {**PRODUCTION_ENV, "MAP_TILE_URL": "https://{s}.tiles.example.com/{z}/{x}/{y}.png"}
    result = run_django("shell", "-c", shown, env=tiles)
    assert result.returncode == 0, result.stderr
    policy = json.loads(result.stdout.strip().splitlines()[-1])
    assert policy["DIRECTIVES"]["img-src"] == ["'self'", "data:", "https://*.tiles.example.com"]

    result = run_django("check", env={**PRODUCTION_ENV, "MAP_TILE_URL": "javascript:alert(1)"})
    assert result.returncode != 0 and "MAP_TILE_URL='javascript:alert(1)'" in result.stderr


def test_permissions_policy_header() -> None:
    header = permissions_policy_header(
        {"geolocation": ["self"], "camera": [], "usb": ["self", "https://a.example"]}
    )
    assert header == 'geolocation=(self), camera=(), usb=(self "https://a.example")'
    allowed = {feature: sources for feature, sources in settings.PERMISSIONS_POLICY.items() if sources}
    assert allowed == {"geolocation": ["self"]}  # the technician app's arrival check, nothing else


DOCS = ["/api/v1/docs", "/api/mobile/v1/docs"]


@pytest.mark.parametrize("docs", DOCS)
def test_the_api_docs_load_their_files_from_this_site(docs: str, dispatcher: User) -> None:
    """django-ninja serves Swagger UI from its own static files when "ninja" is an installed
    app (it falls back to a CDN otherwise)."""
    page = logged_in(dispatcher).get(docs).content.decode()
    sources = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page)
    assert any("swagger-ui-bundle" in source for source in sources), sources
    assert all(source.startswith("/") and not source.startswith("//") for source in sources), sources


@pytest.mark.parametrize("docs", DOCS)
def test_the_api_docs_ask_no_online_validator(docs: str, dispatcher: User) -> None:
    page = logged_in(dispatcher).get(docs).content.decode()
    found = re.search(r'<script type="application/json" id="swagger-settings">(.*?)</script>', page, re.S)
    assert found is not None
    assert json.loads(found.group(1)).get("validatorUrl", "the default") in (None, "none")


# --- Templates: nothing inline, so that a new page passes the policy too ----------------------------

# Rendered by WeasyPrint into PDFs, never served: their <style> is no page's.
PDF_TEMPLATES = {
    Path("tickets/templates/tickets/service_report.html"),
    Path("retention/templates/retention/renewal_quote.html"),
}
INLINE = {
    "a <style> element": re.compile(r"<style[\s>]", re.I),
    "a style attribute": re.compile(r"""\sstyle\s*=\s*["'{]""", re.I),
    "an event handler attribute": re.compile(r"""\son[a-z]+\s*=\s*["'{]""", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    # A <script> element with neither a src nor a JSON type (json_script's data blocks).
    "an inline <script>": re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
}

TEMPLATE_COMMENT = re.compile(r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", re.S)


def served_templates() -> list[Path]:
    found = [
        template.relative_to(ROOT)
        for template in ROOT.glob("*/templates/**/*.html")
        if not template.relative_to(ROOT).parts[0].startswith((".", "var"))
    ]
    return sorted(set(found) - PDF_TEMPLATES)


def test_templates_are_found() -> None:
    found = served_templates()
    assert Path("fieldservice/templates/base.html") in found
    assert Path("scheduling/templates/scheduling/board.html") in found
    assert Path("mobile_api/templates/mobile_api/app.html") in found  # the app is served too
    assert not PDF_TEMPLATES & set(found)


@pytest.mark.parametrize("template", served_templates(), ids=str)
def test_no_template_holds_inline_script_or_style(template: Path) -> None:
    # Template comments never reach the browser (kept as line breaks, for the line numbers).
    source = TEMPLATE_COMMENT.sub(lambda c: "\n" * c.group(0).count("\n"), (ROOT / template).read_text())
    problems = [
        f"{template}:{source.count(chr(10), 0, match.start()) + 1}: {what}: {match.group(0)!r}"
        for what, pattern in INLINE.items()
        for match in pattern.finditer(source)
    ]
    assert not problems, "the Content-Security-Policy refuses these:\n" + "\n".join(problems)
