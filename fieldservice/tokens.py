"""Issue, check and revoke bearer tokens (integrations and the technician app)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from fieldservice.models import ApiToken

TOKEN_BYTES = 32
PREFIX_LENGTH = 8
# Writing last_used_at on every request would make each read a write; once a minute is enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(
    *, user: User, kind: str, name: str = "", ttl: dt.timedelta | None = None
) -> tuple[str, ApiToken]:
    """Create a token; the raw value is returned once and never stored."""
    raw = secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(
        user=user,
        kind=kind,
        name=name,
        prefix=raw[:PREFIX_LENGTH],
        key_hash=_digest(raw),
        expires_at=timezone.now() + ttl if ttl else None,
    )
    return raw, token


def token_lookup(raw: str, *, kind: str) -> ApiToken | None:
    """The live token of this kind with this value, or None (unknown, expired, revoked, inactive user)."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_digest(raw), kind=kind, revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if token is not None and (token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
