"""What every kind of import shares: upsert by external id, field by field.

A kind lists its columns and which model field each fills; the base class loads the rows
the file names (one query), turns a row into field values, tells created from updated from
unchanged, and writes with bulk statements. A kind adds its references (each loaded with
one query for the whole file, never one per row), its cross-row rules and any related rows.

A column missing from the header leaves that field alone on update (and takes the model's
default on create); an empty cell sets the field to empty: blank text, NULL, or the
model's default for a field that has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from django.contrib.gis.geos import GEOSGeometry
from django.db import connection
from django.db.models import Field, Model, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fieldservice import clock
from importing import cells
from importing.cells import Column
from importing.reading import Row

M = TypeVar("M", bound=Model)
Progress = Callable[[str, int, int], None]
# Rows per INSERT/UPDATE statement: large enough that 100,000 rows take a few hundred
# statements, small enough to stay far below PostgreSQL's 65,535 parameters per statement.
WRITE_BATCH = 2000


EXTERNAL_ID = Column(
    "external_id",
    cells.text,
    required=True,
    blank=False,
    max_chars=64,
    help=gettext_lazy("Your system's id for the row: a row with this id is updated, else created."),
)


def reference(name: str, *, required: bool = True, help: str | Promise = "") -> Column:
    """A column naming another row by its external id."""
    return Column(name, cells.text, required=required, blank=not required, max_chars=64, help=help)


def no_progress(stage: str, done: int, total: int) -> None:
    pass


def any_of(values: Iterable[str]) -> RawSQL:
    """`field__in=any_of(ids)`: one array parameter, however many ids (a plain __in list
    would send one parameter each, past PostgreSQL's limit at 65,535)."""
    return RawSQL("SELECT unnest(%s::text[])", (sorted(set(values)),))


def named_rows(queryset: QuerySet[Any], external_ids: Iterable[str], *fields: str) -> dict[str, Any]:
    """external id -> the field's value (a tuple for several fields) of each row named, in
    one query whatever the number of ids."""
    found = queryset.filter(external_id__in=any_of(external_ids)).values_list("external_id", *fields)
    if len(fields) == 1:
        return {external_id: value for external_id, value in found if external_id is not None}
    return {external_id: tuple(rest) for external_id, *rest in found if external_id is not None}


@dataclass(frozen=True)
class Pending:
    """A reference to a row created by this same file: its id exists only once written."""

    external_id: str


@dataclass
class Plan(Generic[M]):
    creates: list[tuple[Row, M]] = field(default_factory=list)
    # (row, object with the new values set, the attnames that changed)
    updates: list[tuple[Row, M, set[str]]] = field(default_factory=list)
    unchanged: int = 0
    # pk -> {attname: value before the import} for the fields an update changes (the audit).
    before: dict[int, dict[str, Any]] = field(default_factory=dict)


def same(current: Any, wanted: Any) -> bool:
    if isinstance(wanted, Pending):
        return False  # the target is new, so nothing can point at it yet
    if isinstance(current, GEOSGeometry) and isinstance(wanted, GEOSGeometry):
        return bool(current.srid == wanted.srid and current.equals_exact(wanted, tolerance=0))
    return bool(current == wanted)


class Kind(Generic[M]):
    name: ClassVar[str]
    label: ClassVar[str | Promise]
    model: ClassVar[type[Model]]
    columns: ClassVar[tuple[Column, ...]]
    # column -> model attname, for columns whose value is stored as it is.
    copied: ClassVar[dict[str, str]] = {}

    def __init__(self) -> None:
        self.existing: dict[str, M] = {}
        self.notes: list[str] = []
        self._fields: dict[str, Field[Any, Any]] = {
            f.attname: f for f in self.model._meta.concrete_fields if isinstance(f, Field)
        }

    # --- validation -------------------------------------------------------------------

    def existing_queryset(self) -> QuerySet[M]:
        return self.model._default_manager.all()  # type: ignore[return-value]

    def load(self, rows: Sequence[Row]) -> None:
        """The rows the file names, then whatever the kind references (a query per table)."""
        ids = [row.external_id for row in rows if row.external_id]
        found = self.existing_queryset().filter(external_id__in=any_of(ids))
        self.existing = {obj.external_id: obj for obj in found}  # type: ignore[attr-defined]
        self.load_references(rows)

    def load_references(self, rows: Sequence[Row]) -> None:
        """Load what the rows refer to; a kind with references overrides this."""

    def check_row(self, row: Row) -> None:
        """Rules within one row and its references; add problems with row.refuse()."""

    def check_rows(self, rows: Sequence[Row]) -> None:
        """Rules across rows (a serial on two lines)."""

    def needs(self, row: Row) -> Iterable[tuple[str, str]]:
        """(column, external id) of the rows of this same file that this row refers to:
        if one of them is refused, so is this row."""
        return ()

    def empty(self, attname: str) -> Any:
        """What an empty cell stores: the field's default, else NULL, else blank text."""
        model_field = self._fields[attname]
        if model_field.has_default():
            return model_field.to_python(model_field.get_default())
        return None if model_field.null else ""

    def effective(self, row: Row, column: str, attname: str) -> Any:
        """The field's value once this row is written, for rules across fields. None when
        unknown (the cell is invalid) or empty."""
        if column in row.cells:
            value = row.values.get(column)
            return self.empty(attname) if value is None and column in row.values else value
        current = self.existing.get(row.external_id)
        return getattr(current, attname) if current is not None else self.empty(attname)

    # --- planning ---------------------------------------------------------------------

    def values(self, row: Row) -> dict[str, Any]:
        """attname -> value for the fields this row sets."""
        values: dict[str, Any] = {}
        for column, attname in self.copied.items():
            if column in row.cells:
                value = row.values.get(column)
                values[attname] = self.empty(attname) if value is None else value
        values.update(self.derived_values(row))
        return values

    def derived_values(self, row: Row) -> dict[str, Any]:
        """Fields computed from several cells or references (a point, a foreign key)."""
        return {}

    def related_changed(self, row: Row, obj: M | None) -> bool:
        """Whether rows hanging off this one (skills, coverage) change; None for a new row."""
        return False

    def plan(self, rows: Sequence[Row], progress: Progress = no_progress) -> Plan[M]:
        plan: Plan[M] = Plan()
        for index, row in enumerate(rows, start=1):
            values = self.values(row)
            current = self.existing.get(row.external_id)
            if current is None:
                plan.creates.append((row, self.model(**values)))  # type: ignore[arg-type]
            else:
                changed = {name for name, value in values.items() if not same(getattr(current, name), value)}
                if changed or self.related_changed(row, current):
                    plan.before[current.pk] = {name: getattr(current, name) for name in changed}
                    for name in changed:
                        setattr(current, name, values[name])
                    plan.updates.append((row, current, changed))
                else:
                    plan.unchanged += 1
            if index % WRITE_BATCH == 0:
                progress(_("comparing"), index, len(rows))
        return plan

    # --- writing ----------------------------------------------------------------------

    def write(self, plan: Plan[M], progress: Progress = no_progress) -> None:
        created = [obj for _row, obj in plan.creates]
        new_ids = allocate_ids(self.model, len(created))
        for obj, pk in zip(created, new_ids, strict=True):
            obj.pk = pk
        ids = {row.external_id: obj.pk for row, obj in plan.creates}
        for obj in (*created, *(obj for _row, obj, _changed in plan.updates)):
            resolve_pending(obj, ids)
        total = len(created) + len(plan.updates)
        for start in range(0, len(created), WRITE_BATCH):
            self.model._default_manager.bulk_create(created[start : start + WRITE_BATCH])
            progress(_("writing"), start + len(created[start : start + WRITE_BATCH]), total)
        if plan.updates:
            now = clock.now()
            changed_fields = {"updated_at"}
            for _row, obj, changed in plan.updates:
                obj.updated_at = now  # type: ignore[attr-defined]
                changed_fields |= changed
            updated = [obj for _row, obj, _changed in plan.updates]
            fields = [self._fields[name] for name in sorted(changed_fields)]
            for start in range(0, len(updated), WRITE_BATCH):
                batch = updated[start : start + WRITE_BATCH]
                update_by_pk(self.model, batch, fields)
                progress(_("writing"), len(created) + start + len(batch), total)
        self.write_related(plan)

    def write_related(self, plan: Plan[M]) -> None:
        """Write the rows hanging off the imported ones (their ids are set by now)."""


def allocate_ids(model: type[Model], count: int) -> list[int]:
    """Take `count` ids from the table's sequence in one query, so rows of this file can
    refer to each other before any of them is inserted."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def update_by_pk(model: type[Model], objs: Sequence[Model], fields: Sequence[Field[Any, Any]]) -> None:
    """UPDATE the fields of many rows in one statement joined to a VALUES list.

    Django's bulk_update writes `CASE WHEN id = 1 THEN ... WHEN id = 2 ...` per field, which
    PostgreSQL evaluates row by row through the whole list: quadratic in the batch size
    (20,000 changed units took 14 s). A join on a VALUES list is linear. Each value is cast
    to its column's type, because VALUES alone would guess text for a column of NULLs.
    """
    if not objs:
        return
    pk = model._meta.pk
    assert pk is not None
    columns = ", ".join(f'"{f.column}"' for f in fields)
    assignments = ", ".join(f'"{f.column}" = v."{f.column}"::{f.db_type(connection)}' for f in fields)
    row = "(" + ", ".join(["%s"] * (len(fields) + 1)) + ")"
    params: list[Any] = []
    for obj in objs:
        params.append(obj.pk)
        params += [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE "{model._meta.db_table}" AS t SET {assignments} '
            f"FROM (VALUES {', '.join([row] * len(objs))}) AS v(pk, {columns}) "
            f'WHERE t."{pk.column}" = v.pk::{pk.db_type(connection)}',
            params,
        )


def resolve_pending(obj: Model, ids: dict[str, int]) -> None:
    for name, value in list(vars(obj).items()):
        if isinstance(value, Pending):
            setattr(obj, name, ids[value.external_id])
