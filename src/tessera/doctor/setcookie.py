"""Reading a ``Set-Cookie`` header the way a browser does (RFC 6265 section 5.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["SetCookie", "parse_set_cookie"]


@dataclass(frozen=True)
class SetCookie:
    """One cookie as set. ``domain`` has its leading dot removed; ``same_site`` is lower
    case as written (``None`` when absent); ``path`` is ``None`` when absent or not
    starting with ``/`` (the browser then uses the default path)."""

    name: str
    value: str
    path: str | None = None
    domain: str | None = None
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None
    expires: datetime | None = None
    max_age: int | None = None
    partitioned: bool = False

    @property
    def size(self) -> int:
        """Bytes of name and value: what browsers hold to 4096."""
        return len(self.name.encode()) + len(self.value.encode())

    def expiry(self, received: datetime) -> datetime | None:
        """When the browser drops it (``None``: at the end of the browsing session).
        ``Max-Age`` wins over ``Expires``."""
        if self.max_age is not None:
            return received.fromtimestamp(received.timestamp() + self.max_age, UTC)
        return self.expires

    def removes(self, received: datetime) -> bool:
        """Whether this header deletes the cookie rather than setting it."""
        expiry = self.expiry(received)
        return expiry is not None and expiry <= received


def parse_set_cookie(header: str) -> SetCookie | None:
    """The cookie a ``Set-Cookie`` header sets, or ``None`` if a browser would ignore it."""
    first, *attributes = header.split(";")
    if "=" not in first:
        return None
    name, _, value = first.partition("=")
    name, value = name.strip(), value.strip()
    if not name:
        return None
    cookie = SetCookie(name, value)
    for attribute in attributes:
        key, _, raw = attribute.partition("=")
        key, raw = key.strip().lower(), raw.strip()
        if key == "path":
            cookie = replace(cookie, path=raw if raw.startswith("/") else None)
        elif key == "domain" and raw:
            cookie = replace(cookie, domain=raw.lstrip(".").lower())
        elif key == "secure":
            cookie = replace(cookie, secure=True)
        elif key == "httponly":
            cookie = replace(cookie, http_only=True)
        elif key == "samesite":
            cookie = replace(cookie, same_site=raw.lower())
        elif key == "expires":
            cookie = replace(cookie, expires=_http_date(raw))
        elif key == "max-age" and re.fullmatch(r"-?\d+", raw):
            cookie = replace(cookie, max_age=int(raw))
        elif key == "partitioned":
            cookie = replace(cookie, partitioned=True)
    return cookie


def _http_date(raw: str) -> datetime | None:
    # The cookie date format allows dashes ("Wed, 10-Mar-2027 18:19:48 GMT").
    text = re.sub(r"(\d{1,2})-([A-Za-z]{3})-(\d{2,4})", r"\1 \2 \3", raw)
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
