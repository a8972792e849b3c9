"""The real client address behind trusted proxies (load balancers), for throttling and logs.

A proxy appends the address it was connected from to X-Forwarded-For; anything to the left of
the entries our own proxies wrote was written by the client and proves nothing. So the header is
read from the right, and only as far as the configuration says proxies of ours stand:
TRUSTED_PROXY_COUNT (how many proxies are always in front) or TRUSTED_PROXIES (their addresses or
networks). With neither, the connecting address is the client's.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# The address the request came from before this middleware, kept for diagnosis.
CONNECTING_ADDRESS_KEY = "aha.connecting_address"


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _is_trusted(text: str, proxies: tuple[Network, ...]) -> bool:
    address = _address(text)
    return address is not None and any(address in network for network in proxies)


def client_address(
    connecting: str, forwarded_for: str, *, proxy_count: int, proxies: tuple[Network, ...]
) -> str:
    """The client's address: the connecting one unless trusted proxies forwarded the request."""
    hops = [hop.strip() for hop in forwarded_for.split(",")] if forwarded_for else []
    if proxies:
        if not _is_trusted(connecting, proxies):
            return connecting
        # Walk back over our own proxies; the first address that is not one is the client.
        for hop in reversed(hops):
            if _address(hop) is None:
                break
            if not _is_trusted(hop, proxies):
                return str(_address(hop))
        return connecting
    if proxy_count and len(hops) >= proxy_count:
        found = _address(hops[-proxy_count])
        if found is not None:
            return str(found)
    return connecting


@functools.lru_cache(maxsize=8)
def _configured_proxies(values: tuple[str, ...]) -> tuple[Network, ...]:
    # Validated at start-up (aha_site.env.env_networks).
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


class ClientAddressMiddleware:
    """Sets REMOTE_ADDR to the real client address, before throttling or logging read it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        connecting = request.META.get("REMOTE_ADDR", "")
        request.META[CONNECTING_ADDRESS_KEY] = connecting
        request.META["REMOTE_ADDR"] = client_address(
            connecting,
            request.META.get("HTTP_X_FORWARDED_FOR", ""),
            proxy_count=settings.TRUSTED_PROXY_COUNT,
            proxies=_configured_proxies(tuple(settings.TRUSTED_PROXIES)),
        )
        return self.get_response(request)
