"""The technician app's shell at /app/: the page, its manifest and its service worker."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
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


def test_the_page_loads_one_module_and_preloads_what_it_imports() -> None:
    page = Client().get("/app/").content.decode()
    assert re.findall(r"<script[^>]*>", page) == ['<script type="module" src="/static/mobile_api/app.js">']
    preloaded = re.findall(r'<link rel="modulepreload" href="([^"]+)">', page)
    assert sorted(preloaded) == sorted(
        f"/static/{name}" for name in views.APP_MODULES if name != views.APP_ENTRY
    )


# A static import or re-export (`import { t } from "./i18n.js";`, `import "./x.js";`), or any
# dynamic import(), which the check below refuses: its target would not be listed.
IMPORT = re.compile(r"""^(?:import|export)\b(?:[^"';]*?\bfrom)?\s*["']([^"']+)["'];$|\bimport\(""", re.M)


def test_every_module_the_app_imports_is_in_the_shell() -> None:
    """The worker caches the listed files only: a module the app imports and the list lacks
    would stop the app from starting with no signal. Each is reached from the entry, imported
    from beside it, and shares nothing through `window`."""
    folder = Path(str(finders.find(views.APP_ENTRY))).parent
    assert {f"mobile_api/{path.name}" for path in folder.glob("*.js")} == set(views.APP_MODULES)
    reached, waiting = set(), [views.APP_ENTRY]
    while waiting:
        name = waiting.pop()
        reached.add(name)
        source = (folder / Path(name).name).read_text()
        assert not re.search(r"\bwindow\.\w+\s*=[^=]", source), name
        for found in IMPORT.finditer(source):
            specifier = found[1]
            assert specifier and re.fullmatch(r"\./[\w-]+\.js", specifier), (name, found[0])
            imported = f"mobile_api/{specifier[2:]}"
            assert imported in views.APP_MODULES, (name, specifier)
            if imported not in reached:
                waiting.append(imported)
    assert reached == set(views.APP_MODULES)


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


def test_the_page_gives_the_app_the_apis_own_limits() -> None:
    """The app's fields stop where the API does (maxlength, max), offline too: the limits come
    with the page, from the bounds the API's schema states, so nothing queued is refused for
    its length (a long caption was, with a 500, and blocked the phone's queue)."""
    page = Client().get("/app/").content.decode()
    found = re.search(r'data-limits="([^"]*)"', page)
    assert found is not None
    limits = json.loads(html.unescape(found[1]))
    spec = Client().get("/api/mobile/v1/openapi.json").json()
    schemas = spec["components"]["schemas"]
    photos = spec["paths"]["/api/mobile/v1/jobs/{job_id}/photos"]["post"]["requestBody"]["content"]
    stated = {
        "caption": photos["multipart/form-data"]["schema"]["properties"]["caption"]["maxLength"],
        "signerName": schemas["SignatureIn"]["properties"]["signer_name"]["maxLength"],
        "partNumber": schemas["PartIn"]["properties"]["part_number"]["maxLength"],
        "partDescription": schemas["PartIn"]["properties"]["description"]["maxLength"],
        "checklistText": schemas["ChecklistAnswerIn"]["properties"]["text"]["maxLength"],
        "resolution": schemas["EventIn"]["properties"]["resolution"]["maxLength"],
        "reason": schemas["EventIn"]["properties"]["reason"]["maxLength"],
        "quantity": schemas["PartIn"]["properties"]["quantity"]["anyOf"][0]["maximum"],
        "meter": schemas["MeterReadingIn"]["properties"]["value"]["anyOf"][0]["maximum"],
        "measurement": schemas["ChecklistAnswerIn"]["properties"]["value"]["anyOf"][0]["maximum"],
    }
    assert {name: float(limits[name]) for name in stated} == {name: float(v) for name, v in stated.items()}
    assert limits["photos"] == settings.MAX_PHOTOS_PER_WORK_ORDER


def test_new_limits_are_a_new_app_version(settings: Any) -> None:
    before = views._digest_of_app_files()
    settings.MAX_PHOTOS_PER_WORK_ORDER += 1
    assert views._digest_of_app_files() != before
