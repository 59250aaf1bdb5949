"""The console's requests and answers, whatever serves them (the core, an ASGI or a
WSGI server), and the few header rules every answer follows."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from ..errors import BadRequestError

__all__ = [
    "HTML",
    "SECURITY_HEADERS",
    "ConsoleRequest",
    "ConsoleResponse",
    "cookie",
    "host_of",
    "is_local_host",
    "parse_form",
    "parse_query",
    "presented_key",
    "redirect",
    "refuse_keys_in_url",
]

HTML = "text/html; charset=utf-8"
SECURITY_HEADERS = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    # Not no-referrer: that makes browsers send "Origin: null" with the console's own forms.
    ("referrer-policy", "same-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("cache-control", "no-store"),
]


@dataclass(frozen=True)
class ConsoleRequest:
    method: str
    #: The path below the console's own: "" or "/sessions".
    path: str
    #: The console's own path, as the browser sees it: "/admin".
    mount: str
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    #: Lower-case names.
    headers: Mapping[str, str] = field(default_factory=dict)
    client_ip: str | None = None
    https: bool = False

    def cookie(self, name: str) -> str | None:
        for part in self.headers.get("cookie", "").split(";"):
            key, _, value = part.strip().partition("=")
            if key == name:
                return value.strip('"')
        return None


@dataclass
class ConsoleResponse:
    status: int
    body: bytes
    content_type: str = HTML
    headers: list[tuple[str, str]] = field(default_factory=list)


def redirect(location: str) -> ConsoleResponse:
    return ConsoleResponse(303, b"", "text/plain; charset=utf-8", [("location", location)])


def cookie(request: ConsoleRequest, name: str, value: str, max_age: int) -> tuple[str, str]:
    secure = "; Secure" if request.https else ""
    return (
        "set-cookie",
        f"{name}={value}; Path={request.mount or '/'}; Max-Age={max_age}; HttpOnly; "
        f"SameSite=Strict{secure}",
    )


def presented_key(headers: Mapping[str, str]) -> str | None:
    given = headers.get("api-key")
    if given is None:
        bearer = headers.get("authorization", "")
        if bearer[:7].lower() != "bearer ":
            return None
        given = bearer[7:]
    return given


def host_of(request: ConsoleRequest) -> str:
    return request.headers.get("host", "").strip().lower()


def is_local_host(host: str, allowed: frozenset[str]) -> bool:
    if host.startswith("["):
        name = host[1:].partition("]")[0]
    else:
        name, colon, port = host.rpartition(":")
        name = name if colon and port.isdigit() else host
    name = name.removesuffix(".")
    if name == "localhost" or name in allowed:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


#: Most fields a form or a query may carry: the console's have a handful.
_MAX_FIELDS = 50


def parse_query(raw: bytes) -> dict[str, str]:
    """The query string's fields (the last of a repeated name)."""
    return _fields(raw, "query string")


def parse_form(body: bytes, content_type: str | None) -> dict[str, str]:
    """A form post's fields; the console's forms are all URL-encoded."""
    if not body:
        return {}
    if (content_type or "").split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise BadRequestError("Forms must be sent as application/x-www-form-urlencoded")
    return _fields(body, "form")


def _fields(raw: bytes, what: str) -> dict[str, str]:
    try:
        text = raw.decode("ascii")  # percent-encoded: anything else is not a browser's
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=_MAX_FIELDS, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise BadRequestError(f"The {what} is not valid URL-encoded UTF-8") from None
    return dict(pairs)


#: Query names that would put a key in a URL (compared without case, "-" and "_").
_KEY_NAMES = frozenset({"apikey", "key", "password", "secret", "token", "authorization"})


def refuse_keys_in_url(names: Iterable[str]) -> None:
    """``BadRequestError`` when a query names a key: URLs end up in logs and histories."""
    if any(name.lower().replace("-", "").replace("_", "") in _KEY_NAMES for name in names):
        raise BadRequestError(
            "Never put an API key in a URL: send it in the api-key header (or log in to "
            "the console with the form)"
        )
