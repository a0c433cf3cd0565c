"""Sites: where equipment stands, with the coordinates the scheduler drives to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets.models import Account, Site
from importing import cells
from importing.cells import Column
from importing.kinds.base import EXTERNAL_ID, Kind, named_rows, reference
from importing.reading import Row


def account_ids(rows: Sequence[Row], column: str = "account_external_id") -> dict[str, int]:
    """external id -> pk of the accounts the rows name, in one query."""
    return named_rows(Account.objects.all(), (row.values[column] for row in rows if row.has(column)), "pk")


def refuse_unknown(row: Row, column: str, known: dict[str, Any], what: str) -> None:
    if row.has(column) and row.values[column] not in known:
        row.refuse(
            column,
            _("no %(what)s has the external id %(value)s")
            % {"what": what, "value": cells.quoted(row.values[column])},
        )


class SiteKind(Kind[Site]):
    name = "sites"
    label = gettext_lazy("Sites")
    model = Site
    columns = (
        EXTERNAL_ID,
        reference("account_external_id"),
        Column("name", cells.text, required=True, blank=False, max_chars=200),
        Column("address", cells.text, required=True, blank=False, max_chars=300),
        Column("city", cells.text, required=True, blank=False, max_chars=100),
        Column("country", cells.country, max_chars=2),
        Column("lat", cells.latitude, required=True, blank=False, max_chars=32),
        Column("lon", cells.longitude, required=True, blank=False, max_chars=32),
        Column("time_zone", cells.time_zone, max_chars=64),
        Column("access_opens", cells.clock, max_chars=8, help=gettext_lazy("HH:MM, site local time")),
        Column("access_closes", cells.clock, max_chars=8, help=gettext_lazy("HH:MM, site local time")),
        Column(
            "access_weekdays",
            cells.weekdays,
            max_chars=40,
            help=gettext_lazy("Days the site lets technicians in, such as mon;tue;wed;thu;fri"),
        ),
        Column("access_notes", cells.text, max_chars=300),
    )
    copied = {
        "external_id": "external_id",
        "name": "name",
        "address": "address",
        "city": "city",
        "country": "country",
        "time_zone": "time_zone",
        "access_opens": "access_opens",
        "access_closes": "access_closes",
        "access_weekdays": "access_weekdays",
        "access_notes": "access_notes",
    }

    def load_references(self, rows: Sequence[Row]) -> None:
        self.accounts = account_ids(rows)

    def check_row(self, row: Row) -> None:
        refuse_unknown(row, "account_external_id", self.accounts, _("account"))
        opens = self.effective(row, "access_opens", "access_opens")
        closes = self.effective(row, "access_closes", "access_closes")
        if opens is not None and closes is not None and closes <= opens:
            row.refuse(
                "access_closes",
                _("%(closes)s is not after the opening time %(opens)s")
                % {"closes": closes.strftime("%H:%M"), "opens": opens.strftime("%H:%M")},
            )

    def derived_values(self, row: Row) -> dict[str, Any]:
        return {
            "account_id": self.accounts[row.values["account_external_id"]],
            "location": Point(row.values["lon"], row.values["lat"], srid=4326),
        }
