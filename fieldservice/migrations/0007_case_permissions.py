"""Cases (cases/): dispatchers and account managers work them (view, add, change), and see their
timelines; admins get every permission of the new app. fieldservice.roles says the same for
new databases, where 0002_roles skips the app when its tables come after it."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

GRANTS = {
    "dispatcher": ["view_case", "add_case", "change_case", "view_caseevent"],
    "account_manager": ["view_case", "add_case", "change_case", "view_caseevent"],
    "admin": [
        f"{action}_{model}"
        for model in ("case", "caseevent")
        for action in ("view", "add", "change", "delete")
    ],
}


def _permissions(apps: Apps, codenames: list[str]) -> list[object]:
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; make them now so we can grant them.
    app_config = apps.get_app_config("cases")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return list(Permission.objects.filter(content_type__app_label="cases", codename__in=codenames))


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    for role, codenames in GRANTS.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.add(*_permissions(apps, codenames))  # type: ignore[attr-defined]


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Group = apps.get_model("auth", "Group")
    for role, codenames in GRANTS.items():
        group = Group.objects.filter(name=role).first()
        if group is not None:
            group.permissions.remove(*_permissions(apps, codenames))  # type: ignore[attr-defined]


class Migration(migrations.Migration):
    dependencies = [
        ("fieldservice", "0006_dispatchers_price_parts"),
        ("cases", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
