"""Which customer accounts a user may see: the one rule every account-scoped read follows
(the web pages, the APIs, the back office). At the ground floor, with the accounts, so that
every floor above can scope its own records by it."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from assets.models import Account
from fieldservice import roles


def accounts_visible_to(user: User | AnonymousUser) -> QuerySet[Account]:
    """Admins see every account; an account manager the accounts they manage; anyone else none.
    Every account-manager read goes through here (or the two below), so the rule is in one place."""
    held = roles.user_roles(user)
    if roles.ADMIN in held:
        return Account.objects.all()
    if roles.ACCOUNT_MANAGER in held:
        return Account.objects.filter(account_manager_id=user.pk)
    return Account.objects.none()


def back_office_accounts(user: User | AnonymousUser) -> QuerySet[Account] | None:
    """The accounts whose records a user sees in the back office (the Django admin): None for
    every account (admins, and dispatchers, who plan work at all of them); for anyone else the
    same as on the web, accounts_visible_to (an account manager: the accounts they manage)."""
    held = roles.user_roles(user)
    if roles.ADMIN in held or roles.DISPATCHER in held:
        return None
    return accounts_visible_to(user)
