"""The login limiter's counters in Redis: one key per user name and address, each with its window.

Names are counted as Django's login form matches them (NFKC, so `ｔｅｃｈ４０` is `tech40`), and
case-folded. A counter is added to in one atomic step that also starts its window, so that
concurrent attempts each get their own number. While Redis is unreachable the counters are
not kept (fieldservice.cache), and the limiter refuses nothing.
"""

from __future__ import annotations

import hashlib
import logging
import unicodedata
from dataclasses import astuple, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache

from fieldservice.cache import UNAVAILABLE

logger = logging.getLogger(__name__)


def login_name(username: str) -> str:
    """The user name as the limiter counts it: as Django's login form reads it (stripped,
    NFKC, which makes full-width `ｔｅｃｈ４０` plain `tech40`), then case-folded, so that every
    spelling that could reach one account is one name."""
    typed = unicodedata.normalize("NFKC", username.strip())
    return unicodedata.normalize("NFKC", typed.casefold()).strip()


def _digest(text: str) -> str:
    # A user name is whatever the caller typed, and cache keys must be plain ASCII.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class LoginKeys:
    pair: str  # failures of this name from this address (fixed window)
    address: str  # failures from this address, any name (fixed window)
    account: str  # attempts at this name from unknown addresses (forgotten a window after the last)
    next_try: str  # when the next attempt at this name may be made (the business clock's timestamp)
    turn: str  # the attempt that holds this name's turn
    known: str  # this name has logged in from this address
    mailed: str  # the admins were told about this name in this window


def keys_for(name: str, address: str) -> LoginKeys:
    user, place = _digest(name), _digest(address)
    return LoginKeys(
        pair=f"login:pair:{user}:{place}",
        address=f"login:address:{place}",
        account=f"login:account:{user}",
        next_try=f"login:next-try:{user}",
        turn=f"login:turn:{user}",
        known=f"login:known:{user}:{place}",
        mailed=f"login:mailed:{user}",
    )


def _keys(username: str, client_ip: str) -> list[str]:
    """Every key an attempt by this name from this address touches (tests clear them)."""
    return list(astuple(keys_for(login_name(username), client_ip)))


def _redis() -> Any:
    # The raw client, for what Django's cache API cannot say in one atomic step: "add to this
    # counter and, if it is new, start its window". (Its incr() can even recreate a counter
    # that expired meanwhile without any expiry, which would then never end.)
    return cache._cache.get_client(write=True)  # type: ignore[attr-defined]


def counter_add(key: str, amount: int) -> int | None:
    """Add `amount` to a counter and return its new value; a new counter expires a window
    after it starts (EXPIRE NX: a running one keeps its end). None while Redis is down."""
    name = cache.make_and_validate_key(key)
    try:
        pipeline = _redis().pipeline(transaction=True)
        pipeline.incrby(name, amount)
        pipeline.expire(name, settings.LOGIN_FAILURE_WINDOW_SECONDS, nx=True)
        value, _expiry_set = pipeline.execute()
    except UNAVAILABLE as error:
        logger.warning("Cache unavailable, login counter %s not kept: %s", key, error)
        return None
    return int(value)


def seconds_left(key: str) -> int:
    """Until the counter's window ends (the whole window if Redis cannot say)."""
    try:
        left = int(_redis().ttl(cache.make_and_validate_key(key)))
    except UNAVAILABLE:
        left = -1
    return left if left > 0 else settings.LOGIN_FAILURE_WINDOW_SECONDS
