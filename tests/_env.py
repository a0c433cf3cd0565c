"""Loaded as a pytest plugin (see pyproject addopts) before Django reads its settings.

Tests run with development defaults unless the environment says otherwise; the database
is a real PostGIS one that pytest-django creates as test_<name>.
"""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789abcdef")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
# One test database per run, so that two runs on one machine (a developer's and CI's, or
# parallel checkouts) never drop each other's database.
os.environ.setdefault("TEST_DATABASE_NAME", f"test_fieldservice_{os.getpid()}")
