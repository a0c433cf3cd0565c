"""The import itself: every row judged first, then all written in one transaction, or none.

With `partial`, the good rows are written and the bad ones reported; without it, one bad
row means nothing is written. A dry run judges and counts exactly as the import would
(same checks, same created/updated/unchanged counts) and writes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from assets.models import Equipment
from contracts.models import ServiceContract
from fieldservice import audit
from fieldservice.models import AuditEntry
from importing.kinds import KINDS
from importing.kinds.base import Kind, Plan, Progress, no_progress
from importing.reading import Row, read_table
from importing.report import FileRefused, ImportReport, Problem
from importing.validation import validate

logger = logging.getLogger(__name__)

# Key of the PostgreSQL advisory lock that lets one import run at a time (an arbitrary
# constant; nothing else in the project takes advisory locks).
IMPORT_LOCK_KEY = 7_240_117
# The models whose every change is in the audit trail (fieldservice.audit).
AUDITED_MODELS = (Equipment, ServiceContract)


def csv_import(
    *,
    kind: str,
    data: bytes,
    by: AbstractBaseUser | AnonymousUser | None = None,
    dry_run: bool = False,
    partial: bool = False,
    progress: Progress = no_progress,
) -> ImportReport:
    """Import one CSV file of `kind` (a key of KINDS); the report says what was done or refused.
    `by` is who imports (none from the command line), for the audit trail."""
    spec = KINDS[kind]()
    report = ImportReport(kind=kind, dry_run=dry_run, partial=partial)
    try:
        table = read_table(data, columns=spec.columns)
    except FileRefused as refused:
        report.file_problems = refused.problems
        return report
    report.rows = len(table.rows)
    if dry_run:
        _judge(spec, table.rows, report, progress)
        return report
    try:
        with transaction.atomic():
            # Two imports at once would each see the other's new external ids as missing and
            # both insert them; and the checks must see the database the rows are written to.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])
            plan = _judge(spec, table.rows, report, progress)
            if report.bad_rows and not partial:
                return report
            spec.write(plan, progress)
            _audit(spec, plan, by=by)
            report.written = True
    except IntegrityError as error:
        # Someone changed the same rows in the back office between the checks and the write
        # (the lock keeps out other imports only). Nothing was written; running again sees it.
        logger.warning("csv import of %s refused by the database: %s", kind, error)
        report.written = False
        report.file_problems.append(
            Problem(
                _("The database refused the rows (%(error)s); nothing was written. Import the file again.")
                % {"error": str(error).splitlines()[0]}
            )
        )
    return report


def _judge(spec: Kind[Any], rows: Sequence[Row], report: ImportReport, progress: Progress) -> Plan[Any]:
    validate(spec, rows, progress)
    bad = [row for row in rows if row.bad]
    report.bad_rows = len(bad)
    report.row_problems = [problem for row in bad for problem in row.problems]
    plan = spec.plan([row for row in rows if not row.bad], progress)
    report.created, report.updated, report.unchanged = len(plan.creates), len(plan.updates), plan.unchanged
    report.notes = spec.notes
    return plan


AUDIT_BATCH = 2000


def _audit(spec: Kind[Any], plan: Plan[Any], *, by: AbstractBaseUser | AnonymousUser | None) -> None:
    """The audit trail's entries for imported contracts and equipment, written in bulk: one
    per created or changed row, with the fields as the file set them (no related lookups,
    which would cost a query a row on 100,000 rows)."""
    if spec.model not in AUDITED_MODELS:
        return
    fields = [f for f in spec.model._meta.concrete_fields if f.name not in audit.UNAUDITED_FIELDS]
    entries = [
        audit.audit_entry(
            obj=obj,
            action=audit.Action.CREATED,
            by=by,
            source=audit.Source.IMPORT,
            changes=audit.changes_between(None, {f.attname: getattr(obj, f.attname) for f in fields}),
            object_repr=_name(obj),
        )
        for _row, obj in plan.creates
    ]
    entries += [
        audit.audit_entry(
            obj=obj,
            action=audit.Action.CHANGED,
            by=by,
            source=audit.Source.IMPORT,
            changes=audit.changes_between(
                plan.before.get(obj.pk, {}), {name: getattr(obj, name) for name in changed}
            ),
            object_repr=_name(obj),
        )
        for _row, obj, changed in plan.updates
        if changed
    ]
    AuditEntry.objects.bulk_create(entries, batch_size=AUDIT_BATCH)


def _name(obj: Any) -> str:
    """How the audit list names an imported row, from its own fields (no related lookups)."""
    label = getattr(obj, "serial_number", None) or getattr(obj, "number", None) or ""
    return f"{obj.external_id} {label}".strip()
