"""The case's timeline and its row lock: the one writer of CaseEvent, and the one way to lock a
case. Every module that writes either goes through here.

Lock order: a case is locked after any work order a writer locks (tickets.events), and cases
are taken in pk order when several are locked at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from cases.models import Case, CaseEvent

Actor = User | AnonymousUser | None


def lock_cases(cases: QuerySet[Case]) -> QuerySet[Case]:
    """These cases, locked as the query runs, in pk order (two sweeps never deadlock)."""
    return cases.select_for_update(of=("self",), no_key=True).order_by("pk")


def lock_case(pk: int) -> Case:
    """Case `pk`, re-read under its row lock until the transaction ends."""
    return lock_cases(Case.objects.filter(pk=pk)).select_related("account").get()


@dataclass(frozen=True, kw_only=True, slots=True)
class NewCaseEvent:
    """One event for `case_event_record_many` (by ids)."""

    case_id: int
    type: str
    at: dt.datetime
    by: Actor = None
    payload: dict[str, Any] | None = None
    dedupe_key: str | None = None


def _by_id(by: Actor) -> int | None:
    return by.pk if by is not None and by.is_authenticated else None


def case_event_record(
    *,
    case: Case,
    type: str,
    by: Actor,
    at: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    text: str = "",
    customer_visible: bool = False,
    payload: dict[str, Any] | None = None,
) -> CaseEvent:
    """Append one event to the case's timeline."""
    return CaseEvent.objects.create(
        case=case,
        type=type,
        by_id=_by_id(by),
        at=at,
        from_status=from_status,
        to_status=to_status,
        text=text,
        customer_visible=customer_visible,
        payload=payload or {},
    )


def case_event_record_many(events: list[NewCaseEvent]) -> int:
    """Append events whose dedupe key makes them happen once: one already recorded (by this
    run or a concurrent one) is skipped. Returns how many were new."""
    if not events:
        return 0
    keys = [event.dedupe_key for event in events]
    before = set(CaseEvent.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case_id=event.case_id,
                type=event.type,
                at=event.at,
                by_id=_by_id(event.by),
                payload=event.payload or {},
                dedupe_key=event.dedupe_key,
            )
            for event in events
            if event.dedupe_key not in before
        ],
        # A concurrent sweep may insert the same key between the read and the write.
        ignore_conflicts=True,
    )
    return CaseEvent.objects.filter(dedupe_key__in=keys).count() - len(before)
