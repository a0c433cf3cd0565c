"""One settings module read from the environment; a bad value stops the process at start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from fieldservice import settings as project_settings

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-secret-that-is-long-and-random-8c1f0e2b7d9a4c3e5f6a7b8c9d0e1f2a",
    "ALLOWED_HOSTS": "fieldservice.example.com",
    "DATABASE_URL": "postgres:///fieldservice",
}


def run_django(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The test run's own settings (and the browser tests' async switch) must not leak in.
    leaking = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in leaking}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://localhost/x", "scheme 'mysql' is not supported"),
        ("DATABASE_URL", "postgres://localhost/", "names no database"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT='twenty-five' is not an integer"),
        ("TIME_ZONE", "Mars/Olympus", "not an IANA time zone"),
        ("TRUSTED_PROXIES", "127.0.0.1,nginx.internal", "TRUSTED_PROXIES: 'nginx.internal' is not an IP"),
        ("LOGIN_ADDRESS_MAX_FAILURES", "0", "LOGIN_ADDRESS_MAX_FAILURES=0 is below the minimum 1"),
        ("LOGIN_ACCOUNT_MAX_DELAY_SECONDS", "1", "LOGIN_ACCOUNT_MAX_DELAY_SECONDS=1 is below the minimum 2"),
    ],
)
def test_bad_value_fails_loudly_at_start(name: str, value: str, message: str) -> None:
    result = run_django("check", env={**PRODUCTION_ENV, name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_production_needs_a_real_secret_key() -> None:
    result = run_django("check", env={**PRODUCTION_ENV, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run_django("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_database_url_parsing() -> None:
    parsed = project_settings.database_from_url("postgres://svc:p%40ss@db.internal:6543/fs?sslmode=require")
    assert (parsed["USER"], parsed["PASSWORD"], parsed["HOST"], parsed["PORT"], parsed["NAME"]) == (
        "svc",
        "p@ss",
        "db.internal",
        "6543",
        "fs",
    )
    assert parsed["OPTIONS"] == {"sslmode": "require"}
    with pytest.raises(ImproperlyConfigured):
        project_settings.database_from_url("postgres://db:notaport/fs")


def test_no_pending_migrations() -> None:
    result = run_django("makemigrations", "--check", "--dry-run", env={"DEBUG": "1"})
    assert result.returncode == 0, result.stdout + result.stderr
