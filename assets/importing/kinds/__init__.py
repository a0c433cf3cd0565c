"""The kinds of rows a CSV import takes, in the order a new installation imports them:
each kind refers only to kinds before it (sites to accounts, equipment to sites...)."""

from __future__ import annotations

from typing import Any

from assets.importing.kinds.accounts import AccountKind
from assets.importing.kinds.base import Kind
from assets.importing.kinds.contacts import ContactKind
from assets.importing.kinds.contracts import ContractKind
from assets.importing.kinds.equipment import EquipmentKind
from assets.importing.kinds.sites import SiteKind
from assets.importing.kinds.technicians import TechnicianKind

KINDS: dict[str, type[Kind[Any]]] = {
    kind.name: kind
    for kind in (AccountKind, ContactKind, SiteKind, EquipmentKind, ContractKind, TechnicianKind)
}
