"""Equipment: the units at the sites, with serials, warranty and their place in a hierarchy.

A unit names its model by manufacturer and model number. A model missing from the
catalogue is added when the row also gives model_name, category and required_skill (an
installed-base export usually carries them); an existing catalogue entry is never changed
by an equipment import. A skill such a new model requires is added to the skill catalogue
too, or no technician could ever be given it and the unit could never be scheduled.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assets.models import Equipment, EquipmentModel, Site
from importing import cells
from importing.cells import Column
from importing.kinds.base import (
    EXTERNAL_ID,
    Kind,
    Pending,
    Plan,
    Progress,
    any_of,
    named_rows,
    no_progress,
    reference,
)
from importing.kinds.sites import refuse_unknown
from importing.reading import Row
from importing.validation import refuse_repeats
from scheduling.models import Skill

ModelKey = tuple[str, str]  # (manufacturer, model number)
NodeKey = tuple[str, object]  # ("pk", 17) for a unit in the database, ("new", "EQ-9") for one in the file
MODEL_COLUMNS = ("model_name", "category", "required_skill", "required_skill_level")
# Deeper than any real hierarchy (line, machine, module, component); a walk longer than
# this has found a loop.
MAX_DEPTH = 50


@dataclass(frozen=True)
class NewModel(Pending):
    """A catalogue entry this file adds; its id exists once it is written."""


def model_key(row: Row) -> ModelKey | None:
    if row.has("manufacturer") and row.has("model_number"):
        return (row.values["manufacturer"], row.values["model_number"])
    return None


class EquipmentKind(Kind[Equipment]):
    name = "equipment"
    label = gettext_lazy("Equipment")
    model = Equipment
    columns = (
        EXTERNAL_ID,
        reference("site_external_id"),
        Column("manufacturer", cells.text, required=True, blank=False, max_chars=100),
        Column("model_number", cells.text, required=True, blank=False, max_chars=100),
        Column("serial_number", cells.text, required=True, blank=False, max_chars=100),
        Column("asset_tag", cells.text, max_chars=64),
        reference(
            "parent_external_id",
            required=False,
            help=gettext_lazy(
                "Optional: the unit this one is a component of (in this file or already imported)."
            ),
        ),
        Column("install_date", cells.date, max_chars=10, help=gettext_lazy("YYYY-MM-DD")),
        Column("warranty_end", cells.date, max_chars=10, help=gettext_lazy("YYYY-MM-DD")),
        Column("status", cells.choice(Equipment.Status.choices), max_chars=16),
        Column(
            "criticality",
            cells.named_integer_choice({c.name: c.value for c in Equipment.Criticality}),
            max_chars=10,
            help=gettext_lazy("1-4 or low, medium, high, critical"),
        ),
        Column(
            "average_daily_usage",
            cells.decimal(max_digits=10, places=2, minimum=Decimal(0)),
            max_chars=20,
        ),
        Column("model_name", cells.text, max_chars=200, help=gettext_lazy("Only to add a new model.")),
        Column(
            "category",
            cells.choice(EquipmentModel.Category.choices),
            max_chars=32,
            help=gettext_lazy("Only to add a new model."),
        ),
        Column("required_skill", cells.code, max_chars=50, help=gettext_lazy("Only to add a new model.")),
        Column(
            "required_skill_level",
            cells.integer(minimum=1, maximum=3),
            max_chars=1,
            help=gettext_lazy("Only to add a new model."),
        ),
    )
    copied = {
        "external_id": "external_id",
        "manufacturer": "manufacturer",
        "serial_number": "serial_number",
        "asset_tag": "asset_tag",
        "install_date": "install_date",
        "warranty_end": "warranty_end",
        "status": "status",
        "criticality": "criticality",
        "average_daily_usage": "average_daily_usage",
    }

    # --- references -----------------------------------------------------------------------

    def load_references(self, rows: Sequence[Row]) -> None:
        self.in_file = {row.external_id for row in rows if row.external_id}
        self.sites: dict[str, int] = named_rows(
            Site.objects.all(),
            (row.values["site_external_id"] for row in rows if row.has("site_external_id")),
            "pk",
        )
        manufacturers = {row.values["manufacturer"] for row in rows if row.has("manufacturer")}
        self.models: dict[ModelKey, int] = {
            (manufacturer, number): pk
            for manufacturer, number, pk in EquipmentModel.objects.filter(
                manufacturer__in=any_of(manufacturers)
            ).values_list("manufacturer", "model_number", "pk")
        }
        self.skill_codes = set(Skill.objects.values_list("code", flat=True))
        # Whose is each serial in the database (an external id, or None for a unit without one).
        self.serial_owner: dict[tuple[str, str], str | None] = {
            (manufacturer, serial): external_id
            for manufacturer, serial, external_id in Equipment.objects.filter(
                serial_number__in=any_of(
                    row.values["serial_number"] for row in rows if row.has("serial_number")
                )
            ).values_list("manufacturer", "serial_number", "external_id")
        }
        self._load_hierarchy(rows)

    def _load_hierarchy(self, rows: Sequence[Row]) -> None:
        """The parents named by external id, and every ancestor of theirs and of the units
        in the file, in one recursive query: enough to see a loop the file would close."""
        parent_ids = [row.values["parent_external_id"] for row in rows if row.has("parent_external_id")]
        start = [obj.pk for obj in self.existing.values()]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                WITH RECURSIVE up AS (
                    SELECT id, parent_id, site_id, external_id FROM assets_equipment
                    WHERE external_id = ANY(%s) OR id = ANY(%s)
                  UNION
                    SELECT e.id, e.parent_id, e.site_id, e.external_id
                    FROM assets_equipment e JOIN up ON e.id = up.parent_id
                )
                SELECT id, parent_id, site_id, external_id FROM up
                """,
                [parent_ids, start],
            )
            found = cursor.fetchall()
        self.db_parent: dict[int, int | None] = {pk: parent for pk, parent, _site, _ext in found}
        self.db_units: dict[str, tuple[int, int]] = {
            ext: (pk, site) for pk, _parent, site, ext in found if ext
        }

    # --- rules ----------------------------------------------------------------------------

    def needs(self, row: Row) -> Iterable[tuple[str, str]]:
        if row.has("parent_external_id"):
            yield ("parent_external_id", row.values["parent_external_id"])

    def check_row(self, row: Row) -> None:
        refuse_unknown(row, "site_external_id", self.sites, _("site"))
        self._check_model(row)
        self._check_serial(row)
        self._check_parent(row)
        install = self.effective(row, "install_date", "install_date")
        warranty_end = self.effective(row, "warranty_end", "warranty_end")
        if install is not None and warranty_end is not None and warranty_end < install:
            row.refuse(
                "warranty_end",
                _("%(end)s is before the install date %(install)s")
                % {"end": warranty_end, "install": install},
            )

    def _check_model(self, row: Row) -> None:
        key = model_key(row)
        if key is None or key in self.models:
            return
        missing = [name for name in MODEL_COLUMNS[:3] if not row.has(name)]
        if missing:
            row.refuse(
                "model_number",
                _(
                    "no equipment model %(manufacturer)s %(number)s in the catalogue; to add it, "
                    "fill %(columns)s"
                )
                % {
                    "manufacturer": cells.quoted(key[0]),
                    "number": cells.quoted(key[1]),
                    "columns": ", ".join(MODEL_COLUMNS[:3]),
                },
            )

    def _check_serial(self, row: Row) -> None:
        if not (row.has("manufacturer") and row.has("serial_number")):
            return
        key = (row.values["manufacturer"], row.values["serial_number"])
        if key not in self.serial_owner:
            return
        owner = self.serial_owner[key]
        # A unit this file also lists is judged by its own row (it may be changing serial).
        if owner != row.external_id and (owner is None or owner not in self.in_file):
            row.refuse(
                "serial_number",
                _("serial %(serial)s of %(manufacturer)s is already on equipment %(owner)s in the database")
                % {
                    "serial": cells.quoted(key[1]),
                    "manufacturer": key[0],
                    "owner": owner or _("(without an external id)"),
                },
            )

    def _check_parent(self, row: Row) -> None:
        if not row.has("parent_external_id"):
            return
        parent = row.values["parent_external_id"]
        if parent == row.external_id:
            row.refuse("parent_external_id", _("a unit cannot be its own parent"))
        elif parent not in self.in_file and parent not in self.db_units:
            row.refuse(
                "parent_external_id",
                _("no equipment has the external id %(value)s, in this file or in the database")
                % {"value": cells.quoted(parent)},
            )

    def check_rows(self, rows: Sequence[Row]) -> None:
        refuse_repeats(
            rows,
            column="serial_number",
            key=lambda row: (
                (row.values["manufacturer"], row.values["serial_number"])
                if row.has("manufacturer") and row.has("serial_number")
                else None
            ),
            reason=_("this serial of this manufacturer is also on line %(lines)s"),
        )
        self._check_new_models_agree(rows)
        self._check_parent_sites_and_loops(rows)

    def _check_new_models_agree(self, rows: Sequence[Row]) -> None:
        first: dict[ModelKey, Row] = {}
        for row in rows:
            key = model_key(row)
            if key is None or key in self.models or not row.has("model_name"):
                continue
            defined = first.setdefault(key, row)
            for name in MODEL_COLUMNS:
                if row.has(name) and defined.has(name) and row.values[name] != defined.values[name]:
                    row.refuse(
                        name,
                        _("differs from line %(line)s, which adds the same new model")
                        % {"line": defined.line},
                    )

    def _node(self, external_id: str) -> NodeKey:
        current = self.existing.get(external_id)
        if current is not None:
            return ("pk", current.pk)
        if external_id in self.db_units:
            return ("pk", self.db_units[external_id][0])
        return ("new", external_id)

    def _check_parent_sites_and_loops(self, rows: Sequence[Row]) -> None:
        by_external_id = {row.external_id: row for row in rows if row.external_id}
        # Each unit's parent once the file is written: the file's rows over the database.
        parent_of: dict[NodeKey, NodeKey | None] = {
            ("pk", pk): ("pk", parent) if parent is not None else None
            for pk, parent in self.db_parent.items()
        }
        for row in rows:
            if row.external_id and "parent_external_id" in row.cells and "parent_external_id" in row.values:
                parent = row.values["parent_external_id"]
                parent_of[self._node(row.external_id)] = self._node(parent) if parent else None
        for row in rows:
            if not row.has("parent_external_id") or row.bad:
                continue
            parent = row.values["parent_external_id"]
            parent_row = by_external_id.get(parent)
            if parent_row is not None:
                parent_site = self.sites.get(parent_row.values.get("site_external_id") or "")
            else:
                parent_site = self.db_units[parent][1] if parent in self.db_units else None
            own_site = self.sites.get(row.values.get("site_external_id") or "")
            if parent_site is not None and own_site is not None and parent_site != own_site:
                row.refuse(
                    "parent_external_id", _("%(value)s is at another site") % {"value": cells.quoted(parent)}
                )
                continue
            start = self._node(row.external_id)
            node = parent_of.get(start)
            for _step in range(MAX_DEPTH):
                if node is None:
                    break
                if node == start:
                    row.refuse(
                        "parent_external_id",
                        _("%(value)s is already below this unit: the hierarchy would loop")
                        % {"value": cells.quoted(parent)},
                    )
                    break
                node = parent_of.get(node)

    # --- values and writing -----------------------------------------------------------------

    def derived_values(self, row: Row) -> dict[str, Any]:
        values: dict[str, Any] = {"site_id": self.sites[row.values["site_external_id"]]}
        key = model_key(row)
        assert key is not None  # both columns are required and the row is good
        values["equipment_model_id"] = self.models[key] if key in self.models else NewModel("\x00".join(key))
        if "parent_external_id" in row.cells:
            parent = row.values.get("parent_external_id")
            if not parent:
                values["parent_id"] = None
            elif parent in self.db_units:
                values["parent_id"] = self.db_units[parent][0]
            else:
                values["parent_id"] = Pending(parent)
        return values

    def new_models(self, rows: Iterable[Row]) -> dict[ModelKey, EquipmentModel]:
        added: dict[ModelKey, EquipmentModel] = {}
        for row in rows:
            key = model_key(row)
            if key is None or key in self.models or key in added:
                continue
            added[key] = EquipmentModel(
                manufacturer=key[0],
                model_number=key[1],
                name=row.values["model_name"],
                category=row.values["category"],
                required_skill=row.values["required_skill"],
                required_skill_level=row.values.get("required_skill_level") or 1,
            )
        return added

    def plan(self, rows: Sequence[Row], progress: Progress = no_progress) -> Plan[Equipment]:
        plan = super().plan(rows, progress)
        for (manufacturer, number), unit in self.new_models(rows).items():
            self.notes.append(
                _("new equipment model for the catalogue: %(manufacturer)s %(number)s")
                % {"manufacturer": manufacturer, "number": number}
            )
            if unit.required_skill not in self.skill_codes:
                self.skill_codes.add(unit.required_skill)
                self.notes.append(
                    _("new skill for the skill catalogue (a new model requires it): %(code)s")
                    % {"code": unit.required_skill}
                )
        return plan

    def write(self, plan: Plan[Equipment], progress: Progress = no_progress) -> None:
        rows = [row for row, _obj in plan.creates] + [row for row, _obj, _changed in plan.updates]
        added = self.new_models(rows)
        EquipmentModel.objects.bulk_create(added.values())
        known = set(Skill.objects.values_list("code", flat=True))
        Skill.objects.bulk_create(
            [
                Skill(code=code, name=code.replace("_", " ").capitalize())
                for code in sorted({unit.required_skill for unit in added.values()} - known)
            ]
        )
        model_ids = {"\x00".join(key): unit.pk for key, unit in added.items()}
        for obj in [obj for _row, obj in plan.creates] + [obj for _row, obj, _changed in plan.updates]:
            if isinstance(obj.equipment_model_id, NewModel):
                obj.equipment_model_id = model_ids[obj.equipment_model_id.external_id]
        super().write(plan, progress)
