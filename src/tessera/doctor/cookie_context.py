"""What the cookie rules share: the session cookies' names, where a cookie was set and
must go back to (``CookieContext``), and how sites differ from origins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .findings import Finding, Status
from .setcookie import SetCookie
from .sites import Origin, same_site

__all__ = [
    "ACCESS_COOKIE",
    "COOKIE_SIZE_LIMIT",
    "LEGACY_COOKIE",
    "REFRESH_COOKIE",
    "SITE_EXPLAINED",
    "CookieContext",
    "cookie_finding",
]

ACCESS_COOKIE = "sAccessToken"
REFRESH_COOKIE = "sRefreshToken"
LEGACY_COOKIE = "sIdRefreshToken"
#: Browsers keep a cookie whose name and value together are at most this many bytes.
COOKIE_SIZE_LIMIT = 4096

SITE_EXPLAINED = (
    "Browsers compare sites, not origins. An origin is scheme, host and port "
    "(http://localhost:3000); a site is the scheme and the registrable domain, that is "
    "the public suffix plus one label (https://example.com for https://app.example.com). "
    "Ports do not count, the scheme does: app.example.com and api.example.com are one "
    "site, while localhost and 127.0.0.1 are two, and so are a.github.io and b.github.io "
    "(github.io is on the Public Suffix List)."
)


@dataclass(frozen=True)
class CookieContext:
    """Where a cookie was set and where the browser must send it back."""

    #: The API's origin (where the cookie was set).
    api: Origin
    #: Path of the API's root (``/`` or the URL's path, e.g. ``/api``).
    api_root: str
    #: Path the SDK posts refresh calls to.
    refresh_path: str
    #: Path of the request whose answer set the cookie (for the default Path).
    set_by_path: str
    #: The website's origin, when known.
    website: Origin | None
    #: When the answer arrived, by this machine's clock.
    received: datetime

    @property
    def cross_site(self) -> bool | None:
        """Whether the website's calls to the API are cross-site (``None``: unknown)."""
        return None if self.website is None else not same_site(self.website, self.api)


def cookie_finding(
    cookie: SetCookie, aspect: str, status: Status, summary: str, **text: str
) -> Finding:
    """A finding about one cookie, named ``cookie.<name>.<aspect>``."""
    return Finding(f"cookie.{cookie.name}.{aspect}", status, summary, **text)
