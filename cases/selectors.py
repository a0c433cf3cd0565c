"""Reads of cases, scoped to who may see them: dispatchers and admins every case, an account
manager the cases of the accounts they manage (assets.visibility), anyone else none."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext

from assets.models import Account
from assets.visibility import accounts_visible_to
from cases.models import Case, CaseEvent, breached_q
from fieldservice import clock, roles
from fieldservice.errors import NotFound
from tickets.models import WorkOrder

# Who works cases: they may open them and move them (each within what they see).
CASE_ROLES = (roles.DISPATCHER, roles.ACCOUNT_MANAGER, roles.ADMIN)


def works_cases(user: User | AnonymousUser) -> bool:
    return bool(roles.user_roles(user) & set(CASE_ROLES))


def case_accounts(user: User | AnonymousUser) -> QuerySet[Account]:
    """The accounts whose cases `user` sees and may open: every one for dispatchers and admins,
    an account manager's own accounts."""
    held = roles.user_roles(user)
    if roles.ADMIN in held or roles.DISPATCHER in held:
        return Account.objects.all()
    return accounts_visible_to(user)


def cases_visible_to(user: User | AnonymousUser) -> QuerySet[Case]:
    held = roles.user_roles(user)
    if roles.ADMIN in held or roles.DISPATCHER in held:
        return Case.objects.all()
    return Case.objects.filter(account__in=accounts_visible_to(user))


@dataclass(frozen=True, kw_only=True)
class CaseFilters:
    status: list[str] | None = None
    account_id: int | None = None
    breached: bool | None = None


def _with_related(cases: QuerySet[Case]) -> QuerySet[Case]:
    return cases.select_related("account", "contact", "owner", "contract").prefetch_related(
        Prefetch("work_orders", queryset=WorkOrder.objects.only("pk", "number").order_by("pk"))
    )


def case_list(
    *, user: User | AnonymousUser, filters: CaseFilters, as_of: dt.datetime | None = None
) -> QuerySet[Case]:
    """The cases `user` may see, filtered; newest first."""
    cases = cases_visible_to(user)
    if filters.status:
        cases = cases.filter(status__in=filters.status)
    if filters.account_id is not None:
        cases = cases.filter(account_id=filters.account_id)
    if filters.breached is not None:
        breached = breached_q(as_of=as_of or clock.now())
        cases = cases.filter(breached) if filters.breached else cases.exclude(breached)
    return _with_related(cases).order_by("-created_at", "-pk")


def case_get(*, user: User | AnonymousUser, case_id: int) -> Case:
    """Case `case_id` with its timeline, or NotFound when it does not exist or `user` may not
    see it (the same answer: another manager's case is not confirmed to exist)."""
    events = CaseEvent.objects.select_related("by").order_by("at", "pk")
    found = (
        _with_related(cases_visible_to(user))
        .prefetch_related(Prefetch("events", queryset=events))
        .filter(pk=case_id)
        .first()
    )
    if found is None:
        raise NotFound(gettext("Case %(id)s not found.") % {"id": case_id})
    return found
