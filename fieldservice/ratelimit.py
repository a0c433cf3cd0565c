"""Counting failed logins in Redis, per user name and per client address.

A fixed window per key: the first failure starts it, later ones add to it, and the key
expires with the window. Used by the mobile token endpoint and the web login.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache


def _keys(username: str, client_ip: str) -> list[str]:
    # Hashed: a user name is whatever the caller typed, and cache keys must be plain ASCII.
    user = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    address = hashlib.sha256(client_ip.encode()).hexdigest()[:32]
    return [f"login-failures:user:{user}", f"login-failures:ip:{address}"]


def login_blocked(*, username: str, client_ip: str) -> bool:
    counts = cache.get_many(_keys(username, client_ip))
    return any(count >= settings.LOGIN_MAX_FAILURES for count in counts.values())


def login_failed(*, username: str, client_ip: str) -> None:
    for key in _keys(username, client_ip):
        # add() starts the window only if it is not running; incr() never extends it.
        cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr: start again
            cache.set(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login_succeeded(*, username: str) -> None:
    cache.delete(_keys(username, "")[0])


def client_ip(meta: dict[str, str]) -> str:
    """The caller's address as the server saw it (behind nginx, its X-Real-IP)."""
    return meta.get("HTTP_X_REAL_IP") or meta.get("REMOTE_ADDR") or "unknown"
