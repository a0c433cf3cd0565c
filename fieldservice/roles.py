"""The four roles and what each may do.

A role is a Django group; its model permissions are set here and applied by a migration
(fieldservice/migrations), so a fresh database has them without any manual step.
Object-level rules (a technician sees only their own work orders, an account manager
only their accounts) live in each app's selectors, not here.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

DISPATCHER = "dispatcher"
TECHNICIAN = "technician"
ACCOUNT_MANAGER = "account_manager"
ADMIN = "admin"
# A customer's contact signed in to the portal (portal/): no model permissions; what they see
# is scoped to their own account by portal.access.
CUSTOMER = "customer"

ALL_ROLES = (DISPATCHER, TECHNICIAN, ACCOUNT_MANAGER, ADMIN, CUSTOMER)

VIEW = ("view",)
EDIT = ("view", "add", "change")
FULL = ("view", "add", "change", "delete")

# role -> {"app_label.model": actions}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    DISPATCHER: {
        "assets.account": VIEW,
        "assets.site": VIEW,
        "assets.contact": VIEW,
        "assets.equipment": VIEW,
        "assets.equipmentmodel": VIEW,
        "assets.meterreading": VIEW,
        "assets.maintenanceplan": VIEW,
        "contracts.servicecontract": VIEW,
        "tickets.workorder": EDIT,
        "tickets.workorderevent": VIEW,
        "tickets.checklistitem": VIEW,
        "tickets.partusage": ("view", "change"),  # the office prices parts (tickets.backoffice)
        "tickets.attachment": VIEW,
        "tickets.signature": VIEW,
        "tickets.servicereport": VIEW,
        "scheduling.technician": VIEW,
        "scheduling.skill": VIEW,
        "scheduling.technicianskill": VIEW,
        "scheduling.territory": VIEW,
        "scheduling.shift": FULL,
        "scheduling.absence": FULL,
        "scheduling.schedulerun": EDIT,
        "scheduling.assignment": VIEW,
        "cases.case": EDIT,
        "cases.caseevent": VIEW,
    },
    TECHNICIAN: {
        "assets.site": VIEW,
        "assets.contact": VIEW,
        "assets.equipment": VIEW,
        "assets.meterreading": ("view", "add"),
        "tickets.workorder": VIEW,
        "tickets.checklistitem": ("view", "change"),
        "tickets.partusage": ("view", "add"),
        "tickets.attachment": ("view", "add"),
        "tickets.signature": ("view", "add"),
        "scheduling.shift": VIEW,
    },
    ACCOUNT_MANAGER: {
        "assets.account": ("view", "change"),
        "assets.site": VIEW,
        "assets.contact": EDIT,
        "assets.equipment": VIEW,
        "assets.maintenanceplan": VIEW,
        "contracts.servicecontract": EDIT,
        "contracts.contractslaterm": EDIT,
        "contracts.coveredequipment": EDIT,
        "contracts.renewalopportunity": EDIT,
        "contracts.renewalreminder": VIEW,
        "contracts.accounttask": EDIT,
        "contracts.healthscore": VIEW,
        "tickets.workorder": VIEW,
        "tickets.survey": VIEW,
        "tickets.servicereport": VIEW,
        "scheduling.preferredtechnician": FULL,
        "cases.case": EDIT,
        "cases.caseevent": VIEW,
    },
    CUSTOMER: {},  # the portal reads through its own scoped selectors, never model permissions
    # Admins are staff with every permission of the project's apps (back office, imports).
    ADMIN: {},
}

ADMIN_APPS = ("fieldservice", "assets", "contracts", "tickets", "cases", "scheduling", "mobile_api", "auth")


def has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    if not user.is_authenticated:
        return False
    if role == ADMIN and getattr(user, "is_superuser", False):
        return True
    return role in user_roles(user)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The user's role names, read once per user object."""
    if not user.is_authenticated:
        return frozenset()
    cached: frozenset[str] | None = getattr(user, "_fieldservice_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        if getattr(user, "is_superuser", False):
            names.add(ADMIN)
        cached = frozenset(names & set(ALL_ROLES))
        user.__dict__["_fieldservice_roles"] = cached
    return cached
