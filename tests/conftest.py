"""Named personas shared by every test: a dispatcher, two technicians, an account manager,
an admin. Each is a real user in its role group (groups come from a migration)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache

from fieldservice import roles
from tests import factories


@pytest.fixture(autouse=True)
def django_db_serialized_rollback() -> None:
    """Every transactional test restores the database as migrations left it (content types,
    permissions, the role groups). Without this, a transactional test's flush recreates
    content types, and the next test that restores the serialized state collides with them."""


@pytest.fixture(autouse=True)
def _role_groups(request: pytest.FixtureRequest) -> None:
    """Every database test sees the migrated role groups, even after a transactional test
    (browser tests, concurrency tests) flushed them, whatever order the tests run in."""
    marker = request.node.get_closest_marker("django_db")
    fixtures = set(request.fixturenames)
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & fixtures
    )
    if transactional:
        request.getfixturevalue("transactional_db")
    elif marker is not None or "db" in fixtures:
        request.getfixturevalue("db")
    else:
        return
    ensure_role_groups()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """The real hasher costs ~0.3 s per user on purpose; tests create many users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def ensure_role_groups() -> None:
    """The role groups come from a data migration. A transactional test's flush empties
    auth_group (post_migrate brings back content types and permissions, not data); re-run
    that migration's step against its own historical app registry when they are missing."""
    import importlib

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    if Group.objects.filter(name__in=roles.ALL_ROLES).count() == len(roles.ALL_ROLES):
        return
    state = MigrationLoader(connection).project_state(("fieldservice", "0002_roles"))
    importlib.import_module("fieldservice.migrations.0002_roles").create_roles(state.apps, None)


@pytest.fixture
def dispatcher(db: None) -> User:
    return factories.user(username="dispatcher", role=roles.DISPATCHER)


@pytest.fixture
def account_manager(db: None) -> User:
    return factories.user(username="manager", role=roles.ACCOUNT_MANAGER)


@pytest.fixture
def admin_user(db: None) -> User:
    person = factories.user(username="admin", role=roles.ADMIN, is_staff=True, is_superuser=True)
    return person


@pytest.fixture
def tech_a(db: None) -> User:
    return factories.user(username="tech01", role=roles.TECHNICIAN)


@pytest.fixture
def tech_b(db: None) -> User:
    return factories.user(username="tech02", role=roles.TECHNICIAN)


@contextlib.contextmanager
def own_cache_keys(settings: Any, name: str) -> Iterator[None]:
    """This test's cache entries (failed-login counters, cached answers) under a key prefix of
    its own, deleted afterwards: Redis outlives the test database and is shared by runs."""
    prefix = f"fieldservice-test-{name}-{uuid.uuid4().hex[:12]}"
    settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    yield
    redis = cache._cache.get_client(write=True)  # type: ignore[attr-defined]
    for key in redis.scan_iter(match=f"{prefix}*"):
        redis.delete(key)
