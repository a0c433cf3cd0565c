"""Signing in to the portal by a one-time link sent by email (no passwords to forget).

- `signin_link_request`: anyone may ask for a link for an email address. Each request is
  counted per address and per client address (portal.limits) whether or not the address
  belongs to a contact, and the page answers the same either way; only a contact's address
  gets an email. A link is good for PORTAL_LINK_VALID_MINUTES, once.
- `signin_link_check` reads a link without using it (the page a link opens, with its button:
  mail scanners that fetch every link in a message must not use it up);
- `signin_link_redeem` uses it: one conditional UPDATE (`used_at IS NULL AND expires_at > now`)
  whose row count says whether this request won the link. Two clicks at once: one wins.
  It returns the contact's portal user, made on the first sign-in (`portal_access_ensure`);
  the view then logs it in through django.contrib.auth.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
import logging
import secrets

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from assets.models import Contact
from fieldservice import clock, roles
from fieldservice.errors import DomainError
from portal import limits
from portal.models import PortalAccess, SignInLink

logger = logging.getLogger(__name__)

# One address can belong to contacts of several accounts (a consultant, a group's buyer): each
# gets its own link, up to this many.
MAX_CONTACTS_PER_EMAIL = 5
USERNAME_PREFIX = "contact-"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkRefused(DomainError):
    """A sign-in link that cannot sign anyone in; `reason` says why, for the page."""

    status = 410

    class Reason(enum.StrEnum):
        UNKNOWN = "unknown"
        EXPIRED = "expired"
        USED = "used"
        REVOKED = "revoked"  # the contact's portal user was switched off

    def __init__(self, reason: LinkRefused.Reason) -> None:
        super().__init__(f"This sign-in link cannot be used: {reason}.", code=f"link_{reason}")
        self.reason = reason
        if reason == self.Reason.UNKNOWN:
            self.status = 404


def signin_link_request(*, email: str, client_ip: str) -> int:
    """Count the request (limits.Limited if over a limit), then email a link to each contact
    with this address. Returns how many links were sent: for tests and logs, never the page."""
    limits.count_or_refuse(
        {
            ("link-email", limits.email_key(email)): settings.PORTAL_LINKS_PER_EMAIL,
            ("link-client", client_ip): settings.PORTAL_LINKS_PER_CLIENT,
        }
    )
    contacts = list(
        Contact.objects.filter(email__iexact=email.strip())
        .exclude(email="")
        .exclude(portal_access__user__is_active=False)
        .select_related("account")
        .order_by("pk")[:MAX_CONTACTS_PER_EMAIL]
    )
    for contact in contacts:
        _link_send(contact)
    return len(contacts)


@transaction.atomic
def _link_send(contact: Contact) -> None:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    SignInLink.objects.create(
        contact=contact,
        token_sha256=token_digest(token),
        created_at=now,
        expires_at=now + dt.timedelta(minutes=settings.PORTAL_LINK_VALID_MINUTES),
    )
    transaction.on_commit(functools.partial(_link_email, contact_id=contact.pk, token=token))


def signin_url(token: str) -> str:
    return settings.SITE_URL + reverse("portal:link", args=[token])


def _link_email(*, contact_id: int, token: str) -> None:
    contact = Contact.objects.select_related("account").get(pk=contact_id)
    with translation.override(contact.language):
        subject = _("Your sign-in link for %(account)s") % {"account": contact.account.name}
        body = _(
            "Hello %(name)s,\n\nOpen this link to sign in to the customer portal of %(account)s:\n\n"
            "%(url)s\n\nThe link works once, within %(minutes)s minutes. If you did not ask for it, "
            "ignore this email: nobody can sign in without it."
        ) % {
            "name": contact.name,
            "account": contact.account.name,
            "url": signin_url(token),
            "minutes": settings.PORTAL_LINK_VALID_MINUTES,
        }
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [contact.email]).send()
    except OSError:  # the mail server refused or did not answer: the person can ask again
        logger.exception("Sign-in link for contact %s not sent", contact_id)


def _refusal(link: SignInLink | None, now: dt.datetime) -> LinkRefused:
    if link is None:
        return LinkRefused(LinkRefused.Reason.UNKNOWN)
    if link.used_at is not None:
        return LinkRefused(LinkRefused.Reason.USED)
    if link.expires_at <= now:
        return LinkRefused(LinkRefused.Reason.EXPIRED)
    return LinkRefused(LinkRefused.Reason.REVOKED)


def signin_link_check(*, token: str) -> Contact:
    """The contact a link would sign in, without using it; LinkRefused if it cannot."""
    now = clock.now()
    link = (
        SignInLink.objects.select_related("contact__account").filter(token_sha256=token_digest(token)).first()
    )
    if link is None or link.used_at is not None or link.expires_at <= now or _revoked(link.contact):
        raise _refusal(link, now)
    return link.contact


def _revoked(contact: Contact) -> bool:
    return PortalAccess.objects.filter(contact=contact, user__is_active=False).exists()


@transaction.atomic
def signin_link_redeem(*, token: str) -> User:
    """Use the link once and return the contact's portal user; LinkRefused otherwise."""
    now = clock.now()
    digest = token_digest(token)
    # Race: the same link clicked twice at once; the row count says which request won it.
    won = SignInLink.objects.filter(token_sha256=digest, used_at__isnull=True, expires_at__gt=now).update(
        used_at=now
    )
    link = SignInLink.objects.select_related("contact").filter(token_sha256=digest).first()
    if not won or link is None:
        raise _refusal(link, now)
    user = portal_access_ensure(contact=link.contact).user
    if not user.is_active:
        raise LinkRefused(LinkRefused.Reason.REVOKED)
    return user


@transaction.atomic
def portal_access_ensure(*, contact: Contact, site_only: bool | None = None) -> PortalAccess:
    """The contact's portal access, with its user in the customer role: made on first use.
    `site_only`, when given, sets how far the contact sees."""
    # Race: a contact's first sign-in from two tabs at once; the contact's row serialises them.
    Contact.objects.select_for_update(of=("self",)).filter(pk=contact.pk).first()
    access = PortalAccess.objects.select_related("user").filter(contact=contact).first()
    if access is None:
        user = User.objects.create_user(
            username=f"{USERNAME_PREFIX}{contact.pk}",
            email=contact.email,
            first_name=contact.name[:150],
        )  # no password: unusable, so the portal link is the only way in
        user.groups.add(Group.objects.get(name=roles.CUSTOMER))
        access = PortalAccess.objects.create(contact=contact, user=user, site_only=bool(site_only))
    elif site_only is not None and access.site_only != site_only:
        access.site_only = site_only
        access.save(update_fields=["site_only"])
    return access
