"""Writes to the installed base that involve more than one field's worth of rules.

Every change to a piece of equipment made here is recorded in the audit trail
(fieldservice.audit) with who made it, through which door, and its old and new values.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from assets.models import Equipment
from fieldservice.audit import Action, audit_record, changes_between, snapshot


@transaction.atomic
def equipment_save(*, equipment: Equipment, by: User | None, source: str) -> Equipment:
    """Save equipment, keeping the manufacturer copy that backs the serial's uniqueness,
    and record what changed."""
    before = None
    if equipment.pk is not None:
        # Race: two people saving the same unit; the second's before-image is the first's result.
        before = snapshot(Equipment.objects.select_for_update(of=("self",)).get(pk=equipment.pk))
    equipment.manufacturer = equipment.equipment_model.manufacturer
    equipment.full_clean(exclude=["manufacturer"])
    equipment.save()
    audit_record(
        obj=equipment,
        action=Action.CREATED if before is None else Action.CHANGED,
        by=by,
        source=source,
        changes=changes_between(before, snapshot(Equipment.objects.get(pk=equipment.pk))),
    )
    return equipment


@transaction.atomic
def equipment_delete(*, equipment: Equipment, by: User | None, source: str) -> None:
    """Delete a unit (the back office only), keeping in the audit trail what it was. A unit
    that work orders or contracts refer to cannot be deleted (ProtectedError): decommission it."""
    locked = Equipment.objects.select_for_update(of=("self",)).get(pk=equipment.pk)
    audit_record(
        obj=locked,
        action=Action.DELETED,
        by=by,
        source=source,
        changes=changes_between(snapshot(locked), None),
    )
    locked.delete()
