"""Remove the previous demo data so that a second run gives the same rows and ids.

The project's own tables are truncated (identities restarted); the demo logins are
deleted. Auth groups and permissions, made by a migration, stay. If only demo users
exist, the auth tables are truncated too (identities restart), and sessions are always cleared so a
browser holding an old session cannot wake up as a different user with a reused id.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q

from tickets.models import WORK_ORDER_NUMBER_SEQUENCE

DEMO_APPS = ("fieldservice", "assets", "contracts", "tickets", "scheduling", "mobile_api")
DEMO_STAFF_USERNAMES = ("admin", "dispatcher", "manager", "manager2", "manager3", "director")
TECHNICIAN_USERNAME = re.compile(r"^tech\d{2,}$")
AUTH_TABLES = ("auth_user_groups", "auth_user_user_permissions", "django_admin_log", "auth_user")


def demo_tables() -> list[str]:
    tables = {
        model._meta.db_table
        for label in DEMO_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    }
    return sorted(tables)


def demo_tables_with_id_sequence() -> list[str]:
    """The demo tables whose primary key is an `id` with a sequence (not, say, a one-to-one)."""
    return sorted(
        model._meta.db_table
        for label in DEMO_APPS
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
        if model._meta.pk is not None and model._meta.pk.column == "id"
    )


def wipe_demo_data() -> None:
    user_model = get_user_model()
    with connection.cursor() as cursor:
        quoted = ", ".join(f'"{t}"' for t in demo_tables())
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
        cursor.execute(f"ALTER SEQUENCE {WORK_ORDER_NUMBER_SEQUENCE} RESTART WITH 1")
        cursor.execute("TRUNCATE django_session")
    demo_users = user_model.objects.filter(
        Q(username__in=DEMO_STAFF_USERNAMES) | Q(username__regex=TECHNICIAN_USERNAME.pattern)
    )
    if user_model.objects.exclude(pk__in=demo_users.values("pk")).exists():
        demo_users.delete()
    else:  # only demo users: start the auth tables afresh so user ids repeat too
        with connection.cursor() as cursor:
            quoted = ", ".join(f'"{t}"' for t in AUTH_TABLES)
            cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
