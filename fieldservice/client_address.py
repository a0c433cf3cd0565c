"""The caller's address: a proxy's headers are believed only from one of TRUSTED_PROXIES."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping
from typing import Any

from django.conf import settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> Address | None:
    try:
        found = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(found, ipaddress.IPv6Address) and found.ipv4_mapped is not None:
        return found.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack socket is 127.0.0.1
    return found


@functools.lru_cache(maxsize=8)
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in configured)


def _trusted(address: Address) -> bool:
    return any(
        address.version == network.version and address in network
        for network in _networks(tuple(settings.TRUSTED_PROXIES))
    )


def client_ip(meta: Mapping[str, Any]) -> str:
    """The caller's address. From a trusted proxy (TRUSTED_PROXIES: nginx), the client it
    names: its X-Real-IP, or else the nearest address in X-Forwarded-For that is not itself a
    trusted proxy. From anywhere else, the peer's own address, whatever headers it sent: a
    client cannot choose the address it is counted under."""
    peer = _address(str(meta.get("REMOTE_ADDR", "")))
    if peer is None:
        return "unknown"
    if not _trusted(peer):
        return str(peer)
    real = _address(str(meta.get("HTTP_X_REAL_IP", "")))
    if real is not None:
        return str(real)
    # Each proxy appends the address it received from; read from the right, past our own.
    for hop in reversed(str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",")):
        address = _address(hop)
        if address is None:
            break  # not an address: nothing left of it can be believed
        if not _trusted(address):
            return str(address)
    return str(peer)
