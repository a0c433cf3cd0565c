"""Create the four role groups with their model permissions (fieldservice.roles)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def create_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from django.contrib.auth.management import create_permissions

    from fieldservice.roles import ADMIN, ADMIN_APPS, ROLE_PERMISSIONS

    # Permissions are normally made after all migrations; make them now so we can grant them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    present = {app_config.label for app_config in apps.get_app_configs()}
    for role, grants in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        if role == ADMIN:
            permissions = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
        else:
            codenames = []
            for model_label, actions in grants.items():
                app_label, model = model_label.split(".")
                if app_label not in present:
                    continue  # an app added later: its own migration grants it (0007 for cases)
                codenames += [(app_label, f"{action}_{model}") for action in actions]
            permissions = Permission.objects.none()
            for app_label, codename in codenames:
                permissions |= Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            missing = {c for _, c in codenames} - set(permissions.values_list("codename", flat=True))
            if missing:
                raise RuntimeError(f"role {role}: unknown permissions {sorted(missing)}")
        group.permissions.set(permissions)


def remove_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from fieldservice.roles import ALL_ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ALL_ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fieldservice", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("assets", "0001_initial"),
        ("contracts", "0001_initial"),
        ("tickets", "0001_initial"),
        ("scheduling", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
