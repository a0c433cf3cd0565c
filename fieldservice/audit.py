"""The audit trail of contracts and equipment (fieldservice.models.AuditEntry), and of the few
other things that change by hand or by force: a part priced by the office
(tickets.backoffice), a user locked out by repeated failed logins (fieldservice.ratelimit,
with `by` empty and the login door as the source).

A service that changes one of them takes an image of it before and after (`snapshot`, plus
whatever the service adds, such as a contract's coverage), and records the difference with
`audit_record`, inside its own transaction: the entry commits with the change or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import models

from fieldservice.models import AuditEntry

Action = AuditEntry.Action
Source = AuditEntry.Source
Image = dict[str, Any]
# Bookkeeping every row has; a change to it alone is not a change anyone made.
UNAUDITED_FIELDS = frozenset({"id", "created_at", "updated_at"})


def _plain(value: Any) -> Any:
    """A value as it reads in JSON: what the admin shows and what two images compare by."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)


def snapshot(obj: models.Model) -> Image:
    """The row's own fields, as plain values; a foreign key reads as "name (#id)"."""
    image: Image = {}
    for field in obj._meta.concrete_fields:
        if field.name in UNAUDITED_FIELDS:
            continue
        if field.is_relation:
            related_id = getattr(obj, field.attname)
            related = getattr(obj, field.name) if related_id is not None else None
            image[field.name] = None if related is None else f"{related} (#{related_id})"
        else:
            image[field.name] = _plain(getattr(obj, field.attname))
    return image


def changes_between(
    before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> dict[str, list[Any]]:
    """{"field": [old, new]} for every key whose value differs (a missing image: all None)."""
    before, after = before or {}, after or {}
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if _plain(before.get(key)) != _plain(after.get(key))
    }


def audit_entry(
    *,
    obj: models.Model,
    action: str,
    by: AbstractBaseUser | AnonymousUser | None,
    source: str,
    changes: Mapping[str, list[Any]],
    note: str = "",
    object_repr: str | None = None,
) -> AuditEntry:
    """An unsaved entry, for callers that write many at once (bulk_create). They may name
    the object themselves: str() of equipment reads its model, a query per row."""
    if source not in Source.values:
        raise ValueError(f"Unknown audit source {source!r}.")
    return AuditEntry(
        by=by if by is not None and by.is_authenticated else None,  # type: ignore[misc]
        source=source,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=True),
        object_id=obj.pk,
        object_repr=(str(obj) if object_repr is None else object_repr)[:200],
        action=action,
        changes=dict(changes),
        note=note[:300],
    )


def audit_record(
    *,
    obj: models.Model,
    action: str,
    by: AbstractBaseUser | AnonymousUser | None,
    source: str,
    changes: Mapping[str, list[Any]],
    note: str = "",
) -> AuditEntry | None:
    """Write one entry. A change that changed nothing (a form saved as it was) writes none."""
    if action == Action.CHANGED and not changes:
        return None
    entry = audit_entry(obj=obj, action=action, by=by, source=source, changes=changes, note=note)
    entry.save()
    return entry
