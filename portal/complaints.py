"""A contact's complaint from the portal: a case (cases.services.case_open) of kind complaint,
channel portal, for the contact's account, with an email back to the contact; and the
contact's answer to the case's closing question (cases.services.case_confirm)."""

from __future__ import annotations

import functools
import logging

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from cases.models import Case
from cases.services import case_confirm, case_open
from portal.models import PortalAccess
from tickets.models import WorkOrder

logger = logging.getLogger(__name__)


@transaction.atomic
def complaint_raise(
    *, access: PortalAccess, title: str, description: str, severity: int, work_order: WorkOrder | None
) -> Case:
    """Open the contact's complaint (`work_order`, if any, fetched through the contact's scope)."""
    contact = access.contact
    case = case_open(
        account=contact.account,
        kind=Case.Kind.COMPLAINT,
        severity=severity,
        channel=Case.Channel.PORTAL,
        title=title,
        description=description,
        by=None,
        contact=contact,
        work_orders=[work_order] if work_order is not None else [],
    )
    if contact.email:
        transaction.on_commit(functools.partial(_received_email, case_id=case.pk, language=contact.language))
    return case


def complaint_answer(*, access: PortalAccess, case: Case, resolved: bool, comment: str) -> Case:
    """The contact's answer to "was this resolved for you?" (409 unless the case is resolved)."""
    return case_confirm(case=case, resolved=resolved, by=access.user, comment=comment)


def _received_email(*, case_id: int, language: str) -> None:
    case = Case.objects.select_related("contact").get(pk=case_id)
    if case.contact is None or not case.contact.email:
        return
    with translation.override(language):
        subject = _("We received your complaint: %(number)s") % {"number": case.number}
        body = _(
            "Hello %(name)s,\n\nWe have received your complaint %(number)s: %(title)s\n\n"
            "Its owner will answer you; you can follow it in the service portal."
        ) % {"name": case.contact.name, "number": case.number, "title": case.title}
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [case.contact.email]).send()
    except OSError:
        logger.exception("Complaint %s receipt not sent", case_id)
