"""Service contracts with their SLA terms and the equipment they cover.

The status is taken as it is when a contract is created (the import brings over contracts
signed elsewhere). On an existing contract the import refuses to change it: activation,
renewal, expiry and cancellation are transitions with side effects (renewal opportunities,
coverage) that only contracts.services performs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets.models import Equipment
from contracts.models import ContractSLATerm, CoveredEquipment, Priority, ServiceContract
from importing import cells
from importing.cells import CellError, Column
from importing.kinds.base import EXTERNAL_ID, Kind, Plan, any_of, named_rows, reference
from importing.kinds.sites import account_ids, refuse_unknown
from importing.reading import Row
from importing.validation import refuse_repeats

Terms = dict[int, tuple[Decimal, Decimal]]  # priority -> (response hours, resolution hours)
HOURS = cells.decimal(max_digits=6, places=2, minimum=Decimal("0.01"))
# Room for a few hundred external ids in one cell; a larger contract is better split.
MAX_COVERED_CHARS = 8000


def sla_terms(value: str) -> Terms:
    """`P1:4/24;P2:8/48` → {1: (4, 24), 2: (8, 48)}: response/resolution hours per priority."""
    terms: Terms = {}
    for item in cells.items(value):
        name, sep, hours = item.partition(":")
        response, slash, resolution = hours.partition("/")
        name = name.strip().upper()
        if not sep or not slash or name not in Priority.names:
            raise CellError(
                _("%(value)s is not PRIORITY:RESPONSE/RESOLUTION hours, such as P1:4/24")
                % {"value": cells.quoted(item)}
            )
        priority = Priority[name].value
        if priority in terms:
            raise CellError(_("%(priority)s is listed twice") % {"priority": name})
        response_hours, resolution_hours = HOURS(response.strip()), HOURS(resolution.strip())
        if resolution_hours < response_hours:
            raise CellError(
                _("%(priority)s: the resolution time is shorter than the response time") % {"priority": name}
            )
        terms[priority] = (response_hours, resolution_hours)
    return terms


class ContractKind(Kind[ServiceContract]):
    name = "contracts"
    label = gettext_lazy("Service contracts")
    model = ServiceContract
    columns = (
        EXTERNAL_ID,
        Column("number", cells.text, required=True, blank=False, max_chars=40),
        reference("account_external_id"),
        Column("start_date", cells.date, required=True, blank=False, max_chars=10),
        Column("end_date", cells.date, required=True, blank=False, max_chars=10),
        Column(
            "annual_value",
            cells.decimal(max_digits=14, places=2, minimum=Decimal(0)),
            required=True,
            blank=False,
            max_chars=20,
        ),
        Column("currency", cells.currency, max_chars=3),
        Column(
            "status",
            cells.choice(ServiceContract.Status.choices),
            max_chars=16,
            help=gettext_lazy(
                "Taken when the contract is created; changed only through the contract's lifecycle."
            ),
        ),
        Column("auto_renew", cells.boolean, max_chars=5),
        Column("notice_days", cells.integer(minimum=0, maximum=3650), max_chars=5),
        Column(
            "uplift_percent",
            cells.decimal(max_digits=5, places=2, minimum=Decimal(-50), maximum=Decimal(100)),
            max_chars=10,
        ),
        Column("sla_calendar", cells.choice(ServiceContract.Calendar.choices), max_chars=16),
        Column("included_pm_visits_per_year", cells.integer(minimum=0, maximum=365), max_chars=3),
        Column("requires_signature", cells.boolean, max_chars=5),
        Column(
            "sla_terms",
            sla_terms,
            max_chars=200,
            help=gettext_lazy("Response/resolution hours per priority, such as P1:4/24;P2:8/48;P3:24/120"),
        ),
        Column(
            "covered_equipment",
            cells.unique_items,
            max_chars=MAX_COVERED_CHARS,
            help=gettext_lazy("External ids of the account's equipment, separated by ;"),
        ),
    )
    copied = {
        "external_id": "external_id",
        "number": "number",
        "start_date": "start_date",
        "end_date": "end_date",
        "annual_value": "annual_value",
        "currency": "currency",
        "status": "status",
        "auto_renew": "auto_renew",
        "notice_days": "notice_days",
        "uplift_percent": "uplift_percent",
        "sla_calendar": "sla_calendar",
        "included_pm_visits_per_year": "included_pm_visits_per_year",
        "requires_signature": "requires_signature",
    }

    def load_references(self, rows: Sequence[Row]) -> None:
        self.accounts = account_ids(rows)
        covered = {
            external_id
            for row in rows
            if row.has("covered_equipment")
            for external_id in row.values["covered_equipment"]
        }
        self.equipment: dict[str, tuple[int, int]] = named_rows(
            Equipment.objects.all(), covered, "pk", "site__account_id"
        )
        numbers = [row.values["number"] for row in rows if row.has("number")]
        # An active number belongs to one contract: which external id holds each now.
        self.active_numbers: dict[str, str | None] = dict(
            ServiceContract.objects.filter(
                number__in=any_of(numbers), status=ServiceContract.Status.ACTIVE
            ).values_list("number", "external_id")
        )
        self.in_file = {row.external_id for row in rows if row.external_id}
        pks = [contract.pk for contract in self.existing.values()]
        self.current_terms: dict[int, Terms] = defaultdict(dict)
        for term in ContractSLATerm.objects.filter(contract_id__in=pks):
            self.current_terms[term.contract_id][term.priority] = (term.response_hours, term.resolution_hours)
        # contract pk -> {equipment pk: coverage row pk}
        self.current_coverage: dict[int, dict[int, int]] = defaultdict(dict)
        for pk, contract_id, equipment_id in CoveredEquipment.objects.filter(contract_id__in=pks).values_list(
            "pk", "contract_id", "equipment_id"
        ):
            self.current_coverage[contract_id][equipment_id] = pk

    def check_row(self, row: Row) -> None:
        refuse_unknown(row, "account_external_id", self.accounts, _("account"))
        start = self.effective(row, "start_date", "start_date")
        end = self.effective(row, "end_date", "end_date")
        if start is not None and end is not None and end <= start:
            row.refuse(
                "end_date", _("%(end)s is not after the start date %(start)s") % {"end": end, "start": start}
            )
        current = self.existing.get(row.external_id)
        if current is not None and row.has("status") and row.values["status"] != current.status:
            row.refuse(
                "status",
                _(
                    "the contract is %(current)s; an import does not change a contract's status "
                    "(activate, renew or cancel it in the application)"
                )
                % {"current": current.status},
            )
        self._check_number(row)
        self._check_coverage(row)

    def _check_number(self, row: Row) -> None:
        if not row.has("number") or self.effective(row, "status", "status") != ServiceContract.Status.ACTIVE:
            return
        holder = self.active_numbers.get(row.values["number"], row.external_id)
        if holder != row.external_id and (holder is None or holder not in self.in_file):
            row.refuse(
                "number",
                _("%(number)s is the number of another active contract")
                % {"number": cells.quoted(row.values["number"])},
            )

    def _check_coverage(self, row: Row) -> None:
        account = self.accounts.get(row.values.get("account_external_id") or "")
        for external_id in row.values.get("covered_equipment") or ():
            if external_id not in self.equipment:
                row.refuse(
                    "covered_equipment",
                    _("no equipment has the external id %(value)s") % {"value": cells.quoted(external_id)},
                )
            elif account is not None and self.equipment[external_id][1] != account:
                row.refuse(
                    "covered_equipment",
                    _("%(value)s stands at another account's site") % {"value": cells.quoted(external_id)},
                )

    def check_rows(self, rows: Sequence[Row]) -> None:
        refuse_repeats(
            rows,
            column="number",
            key=lambda row: (
                row.values["number"]
                if row.has("number")
                and self.effective(row, "status", "status") == ServiceContract.Status.ACTIVE
                else None
            ),
            reason=_("another active contract with the number %(value)s is on line %(lines)s"),
        )

    def derived_values(self, row: Row) -> dict[str, Any]:
        return {"account_id": self.accounts[row.values["account_external_id"]]}

    def _wanted_terms(self, row: Row) -> Terms | None:
        return (row.values.get("sla_terms") or {}) if "sla_terms" in row.cells else None

    def _wanted_coverage(self, row: Row) -> set[int] | None:
        if "covered_equipment" not in row.cells:
            return None
        return {self.equipment[external_id][0] for external_id in row.values.get("covered_equipment") or ()}

    def related_changed(self, row: Row, obj: ServiceContract | None) -> bool:
        if obj is None:
            return False
        terms, coverage = self._wanted_terms(row), self._wanted_coverage(row)
        return (terms is not None and terms != self.current_terms[obj.pk]) or (
            coverage is not None and coverage != set(self.current_coverage[obj.pk])
        )

    def write_related(self, plan: Plan[ServiceContract]) -> None:
        rows = [(row, obj) for row, obj in plan.creates] + [(row, obj) for row, obj, _changed in plan.updates]
        replaced: list[int] = []
        new_terms: list[ContractSLATerm] = []
        dropped: list[int] = []
        added: list[CoveredEquipment] = []
        for row, obj in rows:
            terms = self._wanted_terms(row)
            if terms is not None and terms != self.current_terms[obj.pk]:
                replaced.append(obj.pk)
                new_terms += [
                    ContractSLATerm(
                        contract_id=obj.pk,
                        priority=priority,
                        response_hours=response,
                        resolution_hours=resolution,
                    )
                    for priority, (response, resolution) in sorted(terms.items())
                ]
            wanted = self._wanted_coverage(row)
            if wanted is not None:
                current = self.current_coverage[obj.pk]
                dropped += [current[pk] for pk in set(current) - wanted]
                added += [
                    CoveredEquipment(contract_id=obj.pk, equipment_id=pk)
                    for pk in sorted(wanted - set(current))
                ]
        ContractSLATerm.objects.filter(contract_id__in=replaced).delete()
        ContractSLATerm.objects.bulk_create(new_terms)
        CoveredEquipment.objects.filter(pk__in=dropped).delete()
        CoveredEquipment.objects.bulk_create(added)
