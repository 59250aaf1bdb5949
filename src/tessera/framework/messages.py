"""What passes between an adapter and the session layer: a small view of the request,
and a complete reply the layer sends itself (auth APIs, errors)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import unquote

from .. import _headers as h

__all__ = ["Reply", "RequestView", "parse_cookies"]


@dataclass(frozen=True)
class RequestView:
    """What the session layer reads from a request. Header names are lower case."""

    method: str
    path: str
    headers: Mapping[str, str]
    #: The raw ``Cookie`` header, parsed on demand (it also shows duplicate names).
    cookie_header: str = ""
    #: The peer address as the server saw it (behind a proxy: the proxy's, unless the
    #: server is told to trust forwarded headers). Recorded with the session.
    client_ip: str | None = None

    @property
    def user_agent(self) -> str | None:
        agent = self.headers.get("user-agent")
        return agent[:512] if agent else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @cached_property
    def cookies(self) -> dict[str, str]:
        return parse_cookies(self.cookie_header)

    def cookie_count(self, name: str) -> int:
        prefix = name + "="
        return sum(1 for part in self.cookie_header.split(";") if part.strip().startswith(prefix))

    def bearer_token(self) -> str | None:
        """The ``Authorization: Bearer`` value, if it has the shape of one of ours."""
        value = self.headers.get(h.AUTHORIZATION, "")
        scheme, _, token = value.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 8192:
            return None
        return token


def parse_cookies(header: str) -> dict[str, str]:
    """``Cookie`` header to a dict; the first non-empty of several same-named cookies
    wins (an empty copy planted ahead of ours must not hide it)."""
    cookies: dict[str, str] = {}
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name and not cookies.get(name):
            cookies[name] = unquote(value.strip().strip('"'))
    return cookies


@dataclass(frozen=True)
class Reply:
    """A complete answer the session layer sends itself (auth APIs, errors)."""

    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def body_bytes(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()

    @property
    def content_type(self) -> str:
        if isinstance(self.body, str | bytes):
            return "text/plain; charset=utf-8"
        return "application/json"
