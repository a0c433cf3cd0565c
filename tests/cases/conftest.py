"""A customer account with a site and a primary contact, managed by the account manager."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from tests import factories


@pytest.fixture
def customer(account_manager: User) -> dict[str, Any]:
    account = factories.account(account_manager=account_manager)
    site = factories.site(account=account)
    contact = factories.contact(site=site, is_primary=True)
    return {"account": account, "site": site, "contact": contact}
