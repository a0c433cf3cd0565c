"""The technician app's shell at /app/: the page, its manifest and its service worker."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from mobile_api import views

pytestmark = pytest.mark.django_db

JS_BUDGET_BYTES = 300 * 1024


def test_every_app_route_is_the_same_shell_for_anyone() -> None:
    response = Client().get("/app/")
    assert response.status_code == 200
    page = response.content.decode()
    for name in views.APP_FILES:
        if name.endswith((".js", ".css")):
            assert f"/static/{name}" in page
    assert 'data-api="/api/mobile/v1/"' in page
    assert 'rel="manifest" href="/app/manifest.webmanifest"' in page


def test_the_worker_caches_the_whole_shell_under_the_apps_version() -> None:
    response = Client().get("/app/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    worker = response.content.decode()
    assert f'const CACHE = "fieldservice-app-{views.app_version()}";' in worker
    cached = set(re.findall(r'^\s+"(/[^"]+)",$', worker, flags=re.MULTILINE))
    assert cached == {f"/static/{name}" for name in views.APP_FILES} | {"/app/manifest.webmanifest"}


def test_the_manifest_makes_the_app_installable() -> None:
    manifest = json.loads(Client().get("/app/manifest.webmanifest").content)
    assert manifest["start_url"].startswith("/app/") and manifest["scope"] == "/app/"
    assert manifest["display"] == "standalone"
    assert {"192x192", "512x512"} <= {icon["sizes"] for icon in manifest["icons"]}


def test_the_apps_javascript_stays_under_its_budget() -> None:
    sizes = {
        name: Path(str(finders.find(name))).stat().st_size for name in views.APP_FILES if name.endswith(".js")
    }
    assert sum(sizes.values()) < JS_BUDGET_BYTES, sizes


def test_every_string_the_app_shows_has_its_chinese() -> None:
    """The app carries its own strings (i18n.js): each literal it passes to t() has a Chinese
    entry, or a Chinese reader meets English on the phone."""
    source = {
        name: Path(str(finders.find(name))).read_text() for name in views.APP_FILES if name.endswith(".js")
    }
    catalogue = source["mobile_api/i18n.js"]
    chinese_block = catalogue[catalogue.index("const ZH = {") : catalogue.index("const EN = {")]
    translated = set(re.findall(r'^\s*"((?:[^"\\]|\\.)*)":', chinese_block, re.MULTILINE))
    shown = {
        text
        for name, code in source.items()
        if name != "mobile_api/i18n.js"
        for text in re.findall(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', code)
    }
    assert shown and sorted(shown - translated) == []
