"""The small request and response views the core's handlers work on, and the one table
that turns failures into HTTP answers.

Errors follow the SuperTokens core: plain-text bodies with a 4xx status for caller
mistakes; session outcomes such as UNAUTHORISED are not errors here but HTTP 200
answers with a ``status`` field (the SDKs raise on any 4xx or 5xx).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.values import MAX_JSON_DEPTH, checked_json, is_clean_text, json_nesting_exceeds
from .routing import Route

__all__ = ["BadRequest", "HttpError", "Request", "Response", "json_response"]


class HttpError(Exception):
    """An answer other than 200, with a plain-text message safe to show the caller."""

    def __init__(
        self, status: int, message: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class BadRequest(HttpError):
    def __init__(self, message: str) -> None:
        super().__init__(400, message)


#: Status and text for failures that are not the caller's fault or choice.
ERROR_TABLE: dict[str, tuple[int, str]] = {
    "not_found": (404, "Not found"),
    "method": (405, "Method not supported"),
    "api_key": (401, "Invalid API key"),
    "ip": (403, "Your IP is not allowed"),
    "browser": (403, "Requests from web pages are refused: this core has no API key"),
    "host": (403, "Unknown host name in Host: this core has no API key (see allowed_hosts)"),
    "too_large": (413, "Request body too large"),
    "public_only": (403, "Only public tenantId can call this app specific API"),
    "storage": (503, "The database is unavailable; try again"),
    "internal": (500, "Internal error"),
}


def error(name: str) -> HttpError:
    status, message = ERROR_TABLE[name]
    return HttpError(status, message)


@dataclass
class Request:
    method: str
    route: Route
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    #: The ``cdi-version`` the caller speaks, as (major, minor); the newest when absent.
    cdi_version: tuple[int, int] = (5, 4)
    _json: Any = field(default=None, repr=False)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; ``BadRequest`` otherwise. Refused as well: NaN
        and Infinity (not JSON, though Python's parser takes them), lone surrogates
        (``"\\ud800"``: not text, so no database can store them) and nesting deeper
        than any payload may (checked before parsing)."""
        if self._json is None:
            body = self.body or b"null"
            # The body is one level above the payloads it carries.
            if json_nesting_exceeds(body, _MAX_BODY_DEPTH):
                raise BadRequest("Invalid Json Input")
            try:
                value = json.loads(body, parse_constant=_refuse_constant)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise BadRequest("Invalid Json Input") from None
            if not isinstance(value, dict):
                raise BadRequest("Invalid Json Input")
            try:
                self._json = checked_json(value, "body", max_depth=_MAX_BODY_DEPTH)
            except (ValueError, TypeError) as exc:
                raise BadRequest(f"Invalid Json Input: {exc}") from None
        return dict(self._json)

    def fields(self, allowed: set[str]) -> dict[str, Any]:
        """The JSON body, refusing fields this API does not know."""
        body = self.json()
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise BadRequest(f"Field name '{unknown[0]}' is not known to this API")
        return body


_MAX_BODY_DEPTH = MAX_JSON_DEPTH + 1


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_response(value: Any, *, headers: list[tuple[str, str]] | None = None) -> Response:
    data = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    return Response(200, data, "application/json; charset=utf-8", headers or [])


def text_response(status: int, text: str) -> Response:
    return Response(status, text.encode(), "text/plain; charset=utf-8")


def require(
    body: Mapping[str, Any], name: str, kind: type | tuple[type, ...], *, default: Any = ...
) -> Any:
    """A field of the right JSON type, or the core's 400 naming it."""
    if name not in body:
        if default is ...:
            raise BadRequest(f"Field name '{name}' is invalid in JSON input")
        return default
    value = body[name]
    bad_bool = isinstance(value, bool) and bool not in (
        kind if isinstance(kind, tuple) else (kind,)
    )
    # Ids and tokens never hold NUL; PostgreSQL could not even look one up.
    if not isinstance(value, kind) or bad_bool or (isinstance(value, str) and "\x00" in value):
        raise BadRequest(f"Field name '{name}' is invalid in JSON input")
    return value


def query_bool(query: Mapping[str, str], name: str, default: bool) -> bool:
    value = query.get(name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise BadRequest(f"Field name '{name}' is invalid in GET request")
    return value.lower() == "true"


def query_str(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if value is None:
        raise BadRequest(f"Field name '{name}' is missing in GET request")
    if not is_clean_text(value):
        raise BadRequest(f"Field name '{name}' is invalid in GET request")
    return value
