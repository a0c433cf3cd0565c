"""The four roles exist on a fresh database with the permissions fieldservice.roles gives them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from fieldservice import roles

pytestmark = pytest.mark.django_db


def perms(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_every_role_group_exists() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ALL_ROLES)


def test_dispatcher_plans_work_but_does_not_edit_contracts() -> None:
    granted = perms(roles.DISPATCHER)
    assert {"tickets.change_workorder", "scheduling.add_schedulerun", "scheduling.change_shift"} <= granted
    assert "contracts.change_servicecontract" not in granted
    assert "tickets.delete_workorder" not in granted


def test_technician_records_on_site_work_only() -> None:
    granted = perms(roles.TECHNICIAN)
    assert {"tickets.add_partusage", "tickets.add_attachment", "tickets.add_signature"} <= granted
    assert "tickets.change_workorder" not in granted
    assert not any(p.startswith("contracts.") for p in granted)


def test_account_manager_owns_contracts_and_renewals() -> None:
    granted = perms(roles.ACCOUNT_MANAGER)
    assert {"contracts.change_servicecontract", "contracts.change_renewalopportunity"} <= granted
    assert "scheduling.add_schedulerun" not in granted


def test_admin_has_every_project_permission() -> None:
    granted = perms(roles.ADMIN)
    assert {
        "assets.delete_equipment",
        "contracts.delete_servicecontract",
        "tickets.delete_workorder",
    } <= granted


def test_user_roles_and_has_role(dispatcher: User, tech_a: User, admin_user: User) -> None:
    assert roles.user_roles(dispatcher) == {roles.DISPATCHER}
    assert roles.has_role(tech_a, roles.TECHNICIAN)
    assert not roles.has_role(tech_a, roles.DISPATCHER)
    # A superuser is an admin, not every role: it is not a technician with "my jobs".
    assert roles.has_role(admin_user, roles.ADMIN)
    assert not roles.has_role(admin_user, roles.TECHNICIAN)


def test_group_permissions_take_effect(dispatcher: User, tech_a: User) -> None:
    assert dispatcher.has_perm("tickets.change_workorder")
    assert not tech_a.has_perm("tickets.change_workorder")
    assert tech_a.has_perm("tickets.add_signature")
