"""Dispatchers price the parts a technician used (issue 14: prices come from the office, never
the phone): their group gets tickets.change_partusage (fieldservice.roles says the same for
new databases)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

DISPATCHER = "dispatcher"


def _grant(apps: Apps) -> tuple[object, object] | None:
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=DISPATCHER).first()
    permission = Permission.objects.filter(
        content_type__app_label="tickets", codename="change_partusage"
    ).first()
    return (group, permission) if group and permission else None


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    found = _grant(apps)
    if found:
        group, permission = found
        group.permissions.add(permission)  # type: ignore[attr-defined]


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    found = _grant(apps)
    if found:
        group, permission = found
        group.permissions.remove(permission)  # type: ignore[attr-defined]


class Migration(migrations.Migration):
    dependencies = [
        ("fieldservice", "0005_defaults_from_business_clock"),
        ("tickets", "0006_part_price_from_the_office_event_flag_reason"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
