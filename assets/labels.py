"""What a machine's QR label names: the equipment's id signed with django.core.signing under
a salt of its own, so that nobody can make the label of another machine by changing a number,
and a printed label never expires (labels stay on machines for years). The portal prints and
answers labels; the service desk finds the machine from a label's URL read out or pasted.
"""

from __future__ import annotations

import re

from django.core import signing

from assets.models import Equipment
from fieldservice.errors import NotFound

# Kept from when labels lived in the portal: every printed label is signed with it.
LABEL_SALT = "portal.label"
# A label's URL as it is pasted or scanned: .../l/<token>/
LABEL_URL = re.compile(r"/l/([\w:-]+)/?")


def label_token(equipment: Equipment) -> str:
    return signing.dumps(equipment.pk, salt=LABEL_SALT)


def label_equipment(token: str) -> Equipment:
    """The equipment a label names; NotFound for a token that was not signed here."""
    try:
        equipment_id = signing.loads(token, salt=LABEL_SALT)
    except signing.BadSignature:
        raise NotFound("This label is not one of ours.", code="label_unknown") from None
    equipment = (
        Equipment.objects.select_related("site__account", "equipment_model").filter(pk=equipment_id).first()
        if isinstance(equipment_id, int)
        else None
    )
    if equipment is None:
        raise NotFound("This label's machine is not in the system.", code="label_unknown")
    return equipment


def equipment_of_label_url(text: str) -> Equipment | None:
    """The machine whose label URL is in `text`, or None (no URL, or not one of ours)."""
    found = LABEL_URL.search(text)
    if found is None:
        return None
    try:
        return label_equipment(found[1])
    except NotFound:
        return None
