"""The kinds of rows a CSV import takes, in the order a new installation imports them:
each kind refers only to kinds before it (sites to accounts, equipment to sites...)."""

from __future__ import annotations

from typing import Any

from importing.kinds.accounts import AccountKind
from importing.kinds.base import Kind
from importing.kinds.contacts import ContactKind
from importing.kinds.contracts import ContractKind
from importing.kinds.equipment import EquipmentKind
from importing.kinds.sites import SiteKind
from importing.kinds.technicians import TechnicianKind

KINDS: dict[str, type[Kind[Any]]] = {
    kind.name: kind
    for kind in (AccountKind, ContactKind, SiteKind, EquipmentKind, ContractKind, TechnicianKind)
}
