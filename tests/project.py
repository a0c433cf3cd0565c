"""The project's own packages (the apps in this checkout that INSTALLED_APPS names), for the
tests that walk every module: a new app joins them without anyone editing a list."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = tuple(sorted(app for app in settings.INSTALLED_APPS if (ROOT / app).is_dir()))
