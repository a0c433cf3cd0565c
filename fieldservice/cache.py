"""Django's Redis cache, keeping one client per connection pool, and never failing a request.

Django builds a new `redis.Redis` object for every cache operation; building one costs more
than a GET on loopback (its response-callback table is rebuilt each time). The clients are
thread-safe and share the pool, so one per pool is enough.

Redis holds nothing here that the database does not (cached job lists and tokens, login
failure counters), so while it is down or restarting the cache degrades instead of raising:
a read is a miss, a write is dropped, a counter is missing. What that costs: more database
reads; login failures go uncounted (the limit is not enforced until Redis is back); and a
token revoked meanwhile can still be served from a copy cached before the outage for up to
fieldservice.tokens.TOKEN_CACHE_SECONDS after Redis returns. Every such failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Redis is on the local network: a server that does not answer within this is treated as
# down, rather than holding the request (and a web worker) for the kernel's TCP timeout.
SOCKET_TIMEOUT_SECONDS = 0.5
# Connection refused, reset, timed out, or Redis still loading its data (a ConnectionError).
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError)
T = TypeVar("T")


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("socket_connect_timeout", SOCKET_TIMEOUT_SECONDS)
        kwargs.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # The private helpers are Django's own (django-stubs does not declare them).
        base: Any = self
        index = base._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = base._client(connection_pool=base._get_connection_pool(write))
        return client


class ReusingRedisCache(RedisCache):
    """The cache behind `django.core.cache.cache`: an unreachable Redis is a cold cache."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def _or(self, fallback: T, operation: str, *args: Any) -> T:
        """Django's `operation`, or `fallback` if Redis cannot be reached."""
        try:
            result: T = getattr(super(), operation)(*args)
        except UNAVAILABLE as error:
            logger.warning("Cache unavailable, %s skipped: %s", operation, error)
            return fallback
        return result

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._or(False, "add", key, value, timeout, version)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._or(default, "get", key, default, version)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._or(None, "set", key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._or(False, "touch", key, timeout, version)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._or(False, "delete", key, version)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        return self._or({}, "get_many", list(keys), version)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._or(False, "has_key", key, version)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as error:
            # As for a missing key (Django's contract): the caller decides what that means.
            logger.warning("Cache unavailable, incr skipped: %s", error)
            raise ValueError(f"Key '{key}' not found: the cache is unavailable") from error

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        # Django's contract: the keys that could not be stored.
        return self._or(list(data), "set_many", data, timeout, version)

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        self._or(None, "delete_many", list(keys), version)
