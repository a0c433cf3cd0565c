"""Writes to the installed base that involve more than one field's worth of rules."""

from __future__ import annotations

from assets.models import Equipment


def equipment_save(*, equipment: Equipment) -> Equipment:
    """Save equipment, keeping the manufacturer copy that backs the serial's uniqueness."""
    equipment.manufacturer = equipment.equipment_model.manufacturer
    equipment.full_clean(exclude=["manufacturer"])
    equipment.save()
    return equipment
