"""Checks made on every request before it is routed: who the client is (and whether its
address is allowed), and, on a core without API keys, whether a web page sent it.

A core without keys trusts every program that can reach it, which on a developer's
machine includes any web page the browser shows. Two things keep pages out: a page on
another site always sends ``Origin`` (or ``Sec-Fetch-Site``) with the requests it
forges, and a page that rebinds its own DNS name to 127.0.0.1 still sends that name in
``Host``. So without keys the core refuses both; an SDK sends neither.

``X-Forwarded-For`` names the client only when the peer is a configured proxy: anyone
else could write any address there; so does ``X-Forwarded-Proto`` (whether the browser
spoke HTTPS, for the admin console's cookie).

The admin console, opened without a key for local use on purpose, is a web page itself:
its own pages may send ``Origin`` (same host) and ``Sec-Fetch-Site: same-origin``;
another site's still may not, and the ``Host`` check still applies.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, MutableMapping
from typing import Any

from ..errors import ForbiddenError
from .config import CoreConfig

__all__ = ["RequestGuard"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


_BROWSER = "Requests from web pages are refused: this core has no API key"
_UNKNOWN_HOST = "Unknown host name in Host: this core has no API key (see allowed_hosts)"


class RequestGuard:
    def __init__(self, config: CoreConfig) -> None:
        self._allow = re.compile(config.ip_allow_regex) if config.ip_allow_regex else None
        self._deny = re.compile(config.ip_deny_regex) if config.ip_deny_regex else None
        self._proxies: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(p) for p in config.trusted_proxies
        )
        self._keyless = not config.api_keys
        self._hosts = frozenset({"localhost", config.host.lower(), *config.allowed_hosts})

    def check(self, scope: MutableMapping[str, Any], *, local_console: bool = False) -> None:
        """Raise the ``ForbiddenError`` that refuses this request, if one does.
        ``local_console``: the request is for the admin console opened without a key,
        whose own pages are same-origin requests from a browser."""
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        if self._allow is not None or self._deny is not None:
            ip = self.client_ip(scope.get("client"), headers)
            if (self._allow is not None and not self._allow.fullmatch(ip)) or (
                self._deny is not None and self._deny.fullmatch(ip)
            ):
                raise ForbiddenError("Your IP is not allowed")
        if self._keyless:
            host = next((v for n, v in headers if n == b"host"), b"").decode("latin-1")
            for name, value in headers:
                if local_console and _same_origin(name, value, host):
                    continue
                if name == b"origin" or (name == b"sec-fetch-site" and value != b"none"):
                    raise ForbiddenError(_BROWSER)
                if name == b"host" and not self._known_host(value.decode("latin-1")):
                    raise ForbiddenError(_UNKNOWN_HOST)

    def is_https(self, peer: Any, headers: Iterable[tuple[bytes, bytes]], scheme: str) -> bool:
        """Whether the browser spoke HTTPS: to this server, or to a trusted proxy that
        says so in ``X-Forwarded-Proto`` (its last value: the one it wrote)."""
        if scheme == "https":
            return True
        ip = str(peer[0]) if peer else ""
        if not self._proxies or not self._is_proxy(ip):
            return False
        protos = [
            proto.strip().lower()
            for name, value in headers
            if name == b"x-forwarded-proto"
            for proto in value.decode("latin-1").split(",")
        ]
        return bool(protos) and protos[-1] == "https"

    def client_ip(self, peer: Any, headers: Iterable[tuple[bytes, bytes]]) -> str:
        """The client's address: the peer's, or, when the peer is a trusted proxy, the
        nearest address in ``X-Forwarded-For`` that is not a trusted proxy."""
        ip = str(peer[0]) if peer else ""
        if not self._proxies or not self._is_proxy(ip):
            return ip
        hops = [
            hop.strip()
            for name, value in headers
            if name == b"x-forwarded-for"
            for hop in value.decode("latin-1").split(",")
        ]
        for hop in reversed(hops):
            if not self._is_proxy(hop):
                return hop
        return hops[0] if hops else ip

    def _is_proxy(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip in network for network in self._proxies)

    def _known_host(self, value: str) -> bool:
        host = value.strip().lower()
        if host.startswith("["):  # [IPv6]:port
            host = host[1:].partition("]")[0]
        else:
            name, colon, port = host.rpartition(":")
            if colon and port.isdigit():
                host = name
        host = host.removesuffix(".")
        if host in self._hosts:
            return True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True  # an address names no site, so no page can rebind it


def _same_origin(name: bytes, value: bytes, host: str) -> bool:
    """An ``Origin`` naming this very host, or ``Sec-Fetch-Site: same-origin``."""
    if name == b"sec-fetch-site":
        return value == b"same-origin"
    if name == b"origin":
        origin = value.decode("latin-1").lower()
        return bool(host) and origin.partition("://")[2] == host.lower()
    return False
