"""What a signed-in contact may see: their own account, or only their own site when their
portal access says so. Every portal read is scoped here, and an object outside the scope is
a 404 (`Http404`), never a 403 that would say it exists.

Equipment that is decommissioned stays visible (its history and reports are the customer's),
but no fault can be reported on it.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q, QuerySet

from assets.models import Equipment, Site
from cases.models import Case
from contracts.models import RenewalOpportunity, ServiceContract
from fieldservice import roles
from portal.models import PortalAccess
from tickets.models import WorkOrder

# A renewal quote is the customer's once it has been sent: from "quoted" on (won included;
# a lost renewal's quote is withdrawn).
QUOTE_SENT_STAGES = (
    RenewalOpportunity.Stage.QUOTED,
    RenewalOpportunity.Stage.NEGOTIATING,
    RenewalOpportunity.Stage.WON,
)


def portal_access_of(user: User | AnonymousUser) -> PortalAccess | None:
    """The portal access of a signed-in, active customer user; None for anyone else."""
    if not user.is_authenticated or not user.is_active or not roles.has_role(user, roles.CUSTOMER):
        return None
    return (
        PortalAccess.objects.select_related("contact__account", "contact__site")
        .filter(user_id=user.pk)
        .first()
    )


def site_filter(access: PortalAccess, field: str = "site") -> Q:
    """The rows at the sites `access` sees (`field` names the site)."""
    contact = access.contact
    if access.site_only and contact.site_id is not None:
        return Q(**{f"{field}_id": contact.site_id})
    return Q(**{f"{field}__account_id": contact.account_id})


def sites_visible(access: PortalAccess) -> QuerySet[Site]:
    contact = access.contact
    if access.site_only and contact.site_id is not None:
        return Site.objects.filter(pk=contact.site_id)
    return Site.objects.filter(account_id=contact.account_id)


def equipment_visible(access: PortalAccess) -> QuerySet[Equipment]:
    return (
        Equipment.objects.filter(site_filter(access))
        .select_related("site", "equipment_model")
        .order_by("site__name", "serial_number", "pk")
    )


def work_orders_visible(access: PortalAccess) -> QuerySet[WorkOrder]:
    return (
        WorkOrder.objects.filter(site_filter(access))
        .select_related("site", "equipment__equipment_model", "assigned_technician")
        .order_by("-created_at", "-pk")
    )


def contracts_visible(access: PortalAccess) -> QuerySet[ServiceContract]:
    """The account's contracts. A site-only contact sees those covering equipment at their
    site (a contract belongs to the account, not to a site)."""
    contracts = ServiceContract.objects.filter(account_id=access.contact.account_id)
    contact = access.contact
    if access.site_only and contact.site_id is not None:
        contracts = contracts.filter(coverage__equipment__site_id=contact.site_id).distinct()
    return contracts.order_by("end_date", "pk")


def quote_sent(opportunity: RenewalOpportunity | None) -> bool:
    return bool(opportunity and opportunity.quote_pdf and opportunity.stage in QUOTE_SENT_STAGES)


def cases_visible(access: PortalAccess) -> QuerySet[Case]:
    """The account's cases; a site-only contact's own cases only (a case has no site)."""
    cases = Case.objects.filter(account_id=access.contact.account_id)
    if access.site_only and access.contact.site_id is not None:
        cases = cases.filter(contact_id=access.contact.pk)
    return cases.order_by("-created_at", "-pk")
