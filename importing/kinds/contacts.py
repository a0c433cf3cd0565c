"""Contacts: the people at an account (and, optionally, at one of its sites)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets.models import Contact, Site
from importing import cells
from importing.cells import Column
from importing.kinds.base import (
    EXTERNAL_ID,
    Kind,
    Plan,
    Progress,
    named_rows,
    no_progress,
    reference,
)
from importing.kinds.sites import account_ids, refuse_unknown
from importing.reading import Row
from importing.validation import refuse_repeats


class ContactKind(Kind[Contact]):
    name = "contacts"
    label = gettext_lazy("Contacts")
    model = Contact
    columns = (
        EXTERNAL_ID,
        reference("account_external_id"),
        reference(
            "site_external_id",
            required=False,
            help=gettext_lazy("Optional: the site of the account this person works at."),
        ),
        Column("name", cells.text, required=True, blank=False, max_chars=200),
        Column("title", cells.text, max_chars=100),
        Column("email", cells.email, max_chars=254),
        Column("phone", cells.text, max_chars=40),
        Column("language", cells.choice(settings.LANGUAGES), max_chars=10),
        Column(
            "is_primary",
            cells.boolean,
            max_chars=5,
            help=gettext_lazy("The site's primary contact receives its service reports; one per site."),
        ),
    )
    copied = {
        "external_id": "external_id",
        "name": "name",
        "title": "title",
        "email": "email",
        "phone": "phone",
        "language": "language",
        "is_primary": "is_primary",
    }

    def load_references(self, rows: Sequence[Row]) -> None:
        self.accounts = account_ids(rows)
        wanted = [row.values["site_external_id"] for row in rows if row.has("site_external_id")]
        self.sites: dict[str, tuple[int, int]] = named_rows(Site.objects.all(), wanted, "pk", "account_id")
        in_file = {row.external_id for row in rows}
        site_pks = [pk for pk, _account in self.sites.values()] + [
            c.site_id for c in self.existing.values() if c.site_id is not None
        ]
        # A primary contact this file does not mention keeps its place; one it mentions
        # is judged by its row.
        self.primary_elsewhere: dict[int, str] = {
            site_id: name
            for site_id, external_id, name in Contact.objects.filter(
                site_id__in=site_pks, is_primary=True
            ).values_list("site_id", "external_id", "name")
            if external_id not in in_file
        }

    def _site_id(self, row: Row) -> int | None:
        if "site_external_id" in row.cells:
            external_id = row.values.get("site_external_id")
            return self.sites[external_id][0] if external_id in self.sites else None
        current = self.existing.get(row.external_id)
        return current.site_id if current is not None else None

    def _primary_at(self, row: Row) -> int | None:
        """The site this contact will be the primary contact of, if any."""
        return self._site_id(row) if self.effective(row, "is_primary", "is_primary") else None

    def check_row(self, row: Row) -> None:
        refuse_unknown(row, "account_external_id", self.accounts, _("account"))
        refuse_unknown(row, "site_external_id", self.sites, _("site"))
        site = self.sites.get(row.values.get("site_external_id") or "")
        account = self.accounts.get(row.values.get("account_external_id") or "")
        if site and account and site[1] != account:
            row.refuse("site_external_id", _("the site belongs to another account"))
        site_id = self._primary_at(row)
        if site_id is not None and site_id in self.primary_elsewhere:
            row.refuse(
                "is_primary",
                _("the site already has a primary contact (%(name)s)")
                % {"name": self.primary_elsewhere[site_id]},
            )

    def check_rows(self, rows: Sequence[Row]) -> None:
        refuse_repeats(
            rows,
            column="is_primary",
            key=self._primary_at,
            reason=_("another primary contact of this site is on line %(lines)s"),
        )

    def derived_values(self, row: Row) -> dict[str, Any]:
        values: dict[str, Any] = {"account_id": self.accounts[row.values["account_external_id"]]}
        if "site_external_id" in row.cells:
            values["site_id"] = self._site_id(row)
        return values

    def write(self, plan: Plan[Contact], progress: Progress = no_progress) -> None:
        # One primary per site is checked row by row, not at the end of the statement: step
        # down the primaries this file demotes first, or a swap between two contacts (or a
        # new primary replacing an old one) would collide with the old primary mid-write.
        demoted = [
            obj.pk for _row, obj, changed in plan.updates if "is_primary" in changed and not obj.is_primary
        ]
        if demoted:
            Contact.objects.filter(pk__in=demoted).update(is_primary=False)
        super().write(plan, progress)
