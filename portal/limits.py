"""Rate limits of the portal's doors that anyone can knock on: asking for a sign-in link, and
reporting a fault from a machine's QR label.

Counted with the login limiter's counters (fieldservice.login_counters): one atomic INCR per
request that also starts the counter's window (LOGIN_FAILURE_WINDOW_SECONDS), so concurrent
requests each get their own number and cannot slip through together. Every request counts,
whether or not the address belongs to anyone, so the limit itself says nothing about who is a
customer. While Redis is unreachable nothing is counted and nothing refused (fieldservice.cache).
"""

from __future__ import annotations

import hashlib

from fieldservice.login_counters import counter_add, login_name, seconds_left


class Limited(Exception):
    """Refused: too many requests through one of the counters. `retry_after` is in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many requests; retry after {retry_after} s")
        self.retry_after = retry_after


def _key(kind: str, value: str) -> str:
    return f"portal:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


def count_or_refuse(limits: dict[tuple[str, str], int]) -> None:
    """Count this request under each `(kind, value)` and raise Limited if any count is now
    over its limit. All are counted, even past the first refusal, so that hammering one door
    keeps it closed."""
    refused: list[int] = []
    for (kind, value), limit in limits.items():
        key = _key(kind, value)
        count = counter_add(key, 1)
        if count is not None and count > limit:
            refused.append(seconds_left(key))
    if refused:
        raise Limited(max(1, max(refused)))


def email_key(email: str) -> str:
    """An email address as the limits count it: case-folded, NFKC (as user names are)."""
    return login_name(email)
