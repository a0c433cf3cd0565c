"""Accounts: the customers. The account manager is named by username."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets.models import Account
from importing import cells
from importing.cells import Column
from importing.kinds.base import EXTERNAL_ID, Kind, any_of
from importing.reading import Row


class AccountKind(Kind[Account]):
    name = "accounts"
    label = gettext_lazy("Accounts")
    model = Account
    columns = (
        EXTERNAL_ID,
        Column("name", cells.text, required=True, blank=False, max_chars=200),
        Column("industry", cells.choice(Account.Industry.choices), required=True, blank=False, max_chars=32),
        Column("tier", cells.choice(Account.Tier.choices), max_chars=16),
        Column(
            "annual_contract_value",
            cells.decimal(max_digits=14, places=2, minimum=Decimal(0)),
            max_chars=20,
        ),
        Column("currency", cells.currency, max_chars=3),
        Column(
            "account_manager",
            cells.text,
            max_chars=150,
            help=gettext_lazy("Username of an existing user."),
        ),
    )
    copied = {
        "external_id": "external_id",
        "name": "name",
        "industry": "industry",
        "tier": "tier",
        "annual_contract_value": "annual_contract_value",
        "currency": "currency",
    }

    def load_references(self, rows: Sequence[Row]) -> None:
        usernames = [row.values["account_manager"] for row in rows if row.has("account_manager")]
        self.managers = dict(
            get_user_model()
            .objects.filter(username__in=any_of(usernames), is_active=True)
            .values_list("username", "pk")
        )

    def check_row(self, row: Row) -> None:
        if row.has("account_manager") and row.values["account_manager"] not in self.managers:
            row.refuse(
                "account_manager",
                _("%(value)s is not an active user") % {"value": cells.quoted(row.values["account_manager"])},
            )

    def derived_values(self, row: Row) -> dict[str, Any]:
        if "account_manager" not in row.cells:
            return {}
        username = row.values.get("account_manager")
        return {"account_manager_id": self.managers[username] if username else None}
