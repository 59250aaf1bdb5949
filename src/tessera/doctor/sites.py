"""Origins, sites and the cookie matching rules browsers apply (RFC 6265 and the
"site" of the HTML standard).

An *origin* is scheme, host and port: ``http://localhost:3000``. A *site* is the scheme
and the registrable domain: the host's public suffix plus one label (``example.com`` for
``app.example.com``, ``example.co.uk`` for ``www.example.co.uk``). Ports do not count,
the scheme does. Public suffixes come from the Public Suffix List, private part included
(``github.io``, ``herokuapp.com``: ``a.github.io`` and ``b.github.io`` are different
sites), read from the snapshot bundled with ``tldextract``; nothing is fetched.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import tldextract

__all__ = [
    "Origin",
    "default_cookie_path",
    "domain_matches",
    "is_ip",
    "is_loopback",
    "is_public_suffix",
    "path_matches",
    "registrable_domain",
    "same_site",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    """Scheme, host and port of a URL."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        """The origin of ``url``; ``ValueError`` unless it is an http(s) URL with a host."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError(f"{url!r} is not an http(s) URL such as 'https://app.example.com'")
        return cls(parts.scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS[parts.scheme])

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        if self.port == _DEFAULT_PORTS[self.scheme]:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def site(self) -> str:
        """``scheme://registrable-domain``, the unit browsers use for SameSite."""
        return f"{self.scheme}://{registrable_domain(self.host)}"


@functools.cache
def _extractor() -> tldextract.TLDExtract:
    import tldextract

    # No cache directory and no list URLs: the snapshot in the package, never the network.
    return tldextract.TLDExtract(
        cache_dir=None, suffix_list_urls=(), include_psl_private_domains=True
    )


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def is_loopback(host: str) -> bool:
    """``localhost``, a name under it, or a loopback address: hosts browsers treat as
    potentially trustworthy even over plain http."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    return is_ip(host) and ipaddress.ip_address(host.strip("[]")).is_loopback


def _public_suffix(host: str) -> str:
    host = host.lower().rstrip(".")
    suffix = _extractor()(host).suffix
    # A name the list does not know (``.test``, ``.internal``) falls under the list's
    # implicit rule "*": its last label is the public suffix.
    return suffix or host.rpartition(".")[2]


def registrable_domain(host: str) -> str:
    """The registrable domain of ``host`` (the host itself for IPs, single labels and
    public suffixes)."""
    host = host.lower().rstrip(".")
    if is_ip(host) or "." not in host:
        return host
    suffix = _public_suffix(host)
    if host == suffix:
        return host
    label = host[: -len(suffix) - 1].rpartition(".")[2]
    return f"{label}.{suffix}"


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` (``com``, ``co.uk``, ``github.io``) is a public suffix:
    browsers refuse cookies scoped to one (unless it is the very host that sets it)."""
    domain = domain.lower().strip(".")
    if is_ip(domain) or domain == "localhost":
        return False
    return "." not in domain or _public_suffix(domain) == domain


def same_site(a: Origin, b: Origin) -> bool:
    return a.site == b.site


def domain_matches(host: str, domain: str) -> bool:
    """RFC 6265 5.1.3: a cookie with ``Domain=domain`` may be set by, and is sent to,
    ``host``."""
    host, domain = host.lower().rstrip("."), domain.lower().lstrip(".").rstrip(".")
    if host == domain:
        return True
    return host.endswith("." + domain) and not is_ip(host)


def default_cookie_path(request_path: str) -> str:
    """RFC 6265 5.1.4: the path a cookie gets when ``Set-Cookie`` names none (the
    request path up to, not including, its last ``/``)."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rindex("/")]


def path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 5.1.4: the browser sends a cookie with ``Path=cookie_path`` to
    ``request_path``."""
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
