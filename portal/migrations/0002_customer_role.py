"""The "customer" role group (fieldservice.roles.CUSTOMER): a customer's contact signed in to the
portal. No model permissions: the portal scopes every read itself (portal.access). A fresh
database gets the group from fieldservice's 0002_roles as well, which reads the roles' current
list; this adds it to databases migrated before the portal existed."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

CUSTOMER = "customer"


def create(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=CUSTOMER)
    group.permissions.clear()  # type: ignore[attr-defined]


def remove(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name=CUSTOMER).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0001_initial"),
        ("fieldservice", "0002_roles"),
    ]

    operations = [migrations.RunPython(create, remove)]
