"""The cache degrades to a cold cache while Redis is unreachable, instead of raising."""

from __future__ import annotations

import socket

import pytest

from fieldservice.cache import ReusingRedisCache


@pytest.fixture
def unreachable() -> ReusingRedisCache:
    with socket.socket() as probe:  # a port nothing listens on: connections are refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return ReusingRedisCache(f"redis://127.0.0.1:{port}/0", {})


def test_reads_miss(unreachable: ReusingRedisCache) -> None:
    assert unreachable.get("token", "fallback") == "fallback"
    assert unreachable.get_many(["a", "b"]) == {}
    assert unreachable.has_key("a") is False


def test_writes_are_dropped_and_say_so(unreachable: ReusingRedisCache) -> None:
    unreachable.set("a", 1)
    assert unreachable.add("a", 1) is False
    assert unreachable.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert unreachable.delete("a") is False
    unreachable.delete_many(["a"])
    assert unreachable.touch("a") is False


def test_a_counter_is_missing(unreachable: ReusingRedisCache) -> None:
    with pytest.raises(ValueError):
        unreachable.incr("login-failures")


def test_each_failure_is_logged(unreachable: ReusingRedisCache, caplog: pytest.LogCaptureFixture) -> None:
    unreachable.get("a")
    assert "Cache unavailable, get skipped" in caplog.text
