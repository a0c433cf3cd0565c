"""Issue, check and revoke bearer tokens (integrations and the technician app)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db.models import Q

from fieldservice import clock
from fieldservice.models import ApiToken
from fieldservice.roles import user_roles

TOKEN_BYTES = 32
PREFIX_LENGTH = 8
# Writing last_used_at on every request would make each read a write; once a minute is enough.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
TOKEN_CACHE_SECONDS = 60


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
        expires_at=clock.now() + ttl if ttl else None,
    )
    return raw, token


def _cache_key(key_hash: str) -> str:
    return f"api-token:{key_hash}"


def token_lookup(raw: str, *, kind: str) -> ApiToken | None:
    """The live token of this kind with this value, or None (unknown, expired, revoked,
    inactive user).

    Every API call checks a token, so a found token (with its user and roles) is cached in
    Redis for TOKEN_CACHE_SECONDS. Revoking deletes the entry at once; deactivating a user or
    changing their roles takes effect within that time.
    """
    now = clock.now()
    key_hash = _digest(raw)
    cached = cache.get(_cache_key(key_hash))
    if cached is not None:
        remembered = _from_cache(cached)
        if remembered.kind != kind or (remembered.expires_at is not None and remembered.expires_at <= now):
            return None
        return remembered
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=key_hash, kind=kind, revoked_at__isnull=True, user__is_active=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if token is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    cache.set(_cache_key(key_hash), _to_cache(token), timeout=TOKEN_CACHE_SECONDS)
    return token


def _to_cache(token: ApiToken) -> dict[str, Any]:
    user = token.user
    return {
        "id": token.pk,
        "kind": token.kind,
        "prefix": token.prefix,
        "key_hash": token.key_hash,
        "expires_at": token.expires_at,
        "user": {
            "id": user.pk,
            "username": user.username,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            "is_superuser": user.is_superuser,
            "is_staff": user.is_staff,
            "roles": sorted(user_roles(user)),
        },
    }


def _from_cache(cached: dict[str, Any]) -> ApiToken:
    fields = dict(cached["user"])
    roles = frozenset(fields.pop("roles"))
    user = User(is_active=True, **fields)
    user._state.adding = False  # a stored row, as far as the ORM is concerned
    user.__dict__["_fieldservice_roles"] = roles
    token = ApiToken(
        id=cached["id"],
        kind=cached["kind"],
        prefix=cached["prefix"],
        key_hash=cached["key_hash"],
        expires_at=cached["expires_at"],
        user=user,
    )
    token._state.adding = False
    return token


def token_revoke(*, token: ApiToken) -> None:
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    token_forget(token=token)


def token_forget(*, token: ApiToken) -> None:
    """Drop the cached copy, so a change made to the token row takes effect at once."""
    cache.delete(_cache_key(token.key_hash))
