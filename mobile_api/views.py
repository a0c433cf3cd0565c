"""The technician app (a progressive web app) served at /app/.

Three responses make the app: the HTML shell, the web app manifest and the service worker.
The worker is served from /app/sw.js so that its scope is /app/ without extra headers, and
its cache name carries a digest of the app's files: a deploy that changes any of them
installs a new worker and drops the old cache; an unchanged deploy keeps the phone's cache.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from fieldservice import ranges
from mobile_api.steps import step_table

# The app's JavaScript: native ES modules, no build step. The page loads the entry; the entry
# imports the rest, and they each other, by relative URL ("./store.js"), so all of them sit
# beside it. Every one is listed: the worker caches only these, and a module it lacks stops
# the app from starting with no signal.
APP_ENTRY = "mobile_api/app.js"
APP_MODULES = (
    APP_ENTRY,
    "mobile_api/actions.js",
    "mobile_api/api.js",
    "mobile_api/changes.js",
    "mobile_api/completion.js",
    "mobile_api/dom.js",
    "mobile_api/format.js",
    "mobile_api/i18n.js",
    "mobile_api/indicator.js",
    "mobile_api/job-summary.js",
    "mobile_api/job.js",
    "mobile_api/local-view.js",
    "mobile_api/outbox.js",
    "mobile_api/page.js",
    "mobile_api/photo.js",
    "mobile_api/place.js",
    "mobile_api/problems.js",
    "mobile_api/records.js",
    "mobile_api/screen.js",
    "mobile_api/session.js",
    "mobile_api/signature.js",
    "mobile_api/store.js",
    "mobile_api/sync-screen.js",
    "mobile_api/sync.js",
    "mobile_api/today.js",
)
# The shell: everything the app needs to start with no signal.
APP_FILES = (
    "mobile_api/app.css",
    *APP_MODULES,
    "mobile_api/icons/icon.svg",
    "mobile_api/icons/icon-192.png",
    "mobile_api/icons/icon-512.png",
)


TEMPLATES = Path(__file__).resolve().parent / "templates" / "mobile_api"


def app_limits() -> dict[str, object]:
    """The bounds the API puts on what the app sends (fieldservice.ranges, as mobile_api.schemas
    uses them), for the app's `maxlength`s and `max`es: the page carries them, so the phone
    has them with no signal and a field never takes what the server would refuse."""
    return {
        "caption": ranges.SHORT_TEXT_LENGTH,
        "signerName": ranges.NAME_LENGTH,
        "partNumber": ranges.CODE_LENGTH,
        "partDescription": ranges.SHORT_TEXT_LENGTH,
        "quantity": str(ranges.MAX_QUANTITY),
        "checklistText": ranges.LONG_TEXT_LENGTH,
        "measurement": str(ranges.MAX_MEASUREMENT),
        "meter": str(ranges.MAX_METER_VALUE),
        "resolution": ranges.LONG_TEXT_LENGTH,
        "reason": ranges.SHORT_TEXT_LENGTH,
        "photos": settings.MAX_PHOTOS_PER_WORK_ORDER,
    }


def app_version() -> str:
    """A digest of the shell's templates and files: it names the worker's cache. Read once
    per process in production; in development on every request, so an edited file reaches
    the phone on its next start."""
    return _digest_of_app_files() if settings.DEBUG else _cached_digest()


@lru_cache(maxsize=1)
def _cached_digest() -> str:
    return _digest_of_app_files()


def _digest_of_app_files() -> str:
    paths = [TEMPLATES / "app.html", TEMPLATES / "sw.js", TEMPLATES / "manifest.webmanifest"]
    for name in APP_FILES:
        found = finders.find(name)
        if found is None:
            raise FileNotFoundError(f"technician app file missing from static files: {name}")
        paths.append(Path(str(found)))
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    # New limits or steps are a new shell, as a new file is.
    digest.update(_limits_json().encode())
    digest.update(_steps_json().encode())
    return digest.hexdigest()[:12]


def _limits_json() -> str:
    return json.dumps(app_limits(), sort_keys=True)


def _steps_json() -> str:
    """The technician's steps from every status (mobile_api.steps): each job says what it
    allows now (`next_steps`); the page says what follows a step queued with no signal."""
    return json.dumps(step_table(), sort_keys=True)


def _app_context() -> dict[str, object]:
    return {
        "version": app_version(),
        "files": [static(name) for name in APP_FILES],
        # Fetched with the entry, not one import level after another (app.html).
        "imported_modules": [static(name) for name in APP_MODULES if name != APP_ENTRY],
        "limits": _limits_json(),
        "steps": _steps_json(),
    }


@require_GET
def shell(request: HttpRequest) -> HttpResponse:
    """The same page for every /app/ URL: the app routes in the browser (#/today, #/job/12)."""
    return render(request, "mobile_api/app.html", _app_context())


@require_GET
@never_cache  # the browser checks for a new worker on every start; the worker caches the rest
def service_worker(request: HttpRequest) -> HttpResponse:
    return render(request, "mobile_api/sw.js", _app_context(), content_type="text/javascript; charset=utf-8")


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    return render(request, "mobile_api/manifest.webmanifest", content_type="application/manifest+json")
