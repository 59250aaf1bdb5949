"""The small request and response views the core's handlers work on, and the answers
to errors, from the CDI column of the table in ``tessera.error_answers``.

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
from ..error_answers import cdi_answer
from ..errors import BadRequestError, RequestError, SessionError, TesseraError
from .routing import Route

# BadRequestError (a leaf of the error tree) is re-exported: every handler raises it.
__all__ = [
    "BadRequestError",
    "Request",
    "Response",
    "error_response",
    "json_response",
    "session_outcome",
]


def error_response(exc: BaseException) -> Response:
    """The plain-text refusal the answer table gives ``exc``; anything outside the tree,
    and a session error that escaped its handler, is an internal error."""
    answer = cdi_answer(type(exc), refusals_only=True)
    own = str(exc) if isinstance(exc, TesseraError) else ""
    response = text_response(answer.status, own if answer.text is None else answer.text)
    if isinstance(exc, RequestError):
        response.headers.extend(exc.headers)
    return response


def session_outcome(kind: type[SessionError], **fields: Any) -> Response:
    """A session outcome, answered as the SuperTokens core does: 200 with the ``status``
    word the table gives ``kind``, then ``fields``."""
    return json_response({"status": cdi_answer(kind).text, **fields})


@dataclass
class Request:
    method: str
    route: Route
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    #: The ``cdi-version`` the caller speaks, as (major, minor); the newest when absent.
    cdi_version: tuple[int, int] = (5, 4)
    #: The client's address (``X-Forwarded-For`` only from trusted proxies).
    client_ip: str | None = None
    _json: Any = field(default=None, repr=False)

    def json(self) -> dict[str, Any]:
        """The body as a JSON object; ``BadRequestError`` otherwise. Refused as well: NaN
        and Infinity (not JSON, though Python's parser takes them), lone surrogates
        (``"\\ud800"``: not text, so no database can store them) and nesting deeper
        than any payload may (checked before parsing)."""
        if self._json is None:
            body = self.body or b"null"
            # The body is one level above the payloads it carries.
            if json_nesting_exceeds(body, _MAX_BODY_DEPTH):
                raise BadRequestError("Invalid Json Input")
            try:
                value = json.loads(body, parse_constant=_refuse_constant)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise BadRequestError("Invalid Json Input") from None
            if not isinstance(value, dict):
                raise BadRequestError("Invalid Json Input")
            try:
                self._json = checked_json(value, "body", max_depth=_MAX_BODY_DEPTH)
            except (ValueError, TypeError) as exc:
                raise BadRequestError(f"Invalid Json Input: {exc}") from None
        return dict(self._json)

    def fields(self, allowed: set[str]) -> dict[str, Any]:
        """The JSON body, refusing fields this API does not know."""
        body = self.json()
        unknown = sorted(set(body) - allowed)
        if unknown:
            raise BadRequestError(f"Field name '{unknown[0]}' is not known to this API")
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
            raise BadRequestError(f"Field name '{name}' is invalid in JSON input")
        return default
    value = body[name]
    bad_bool = isinstance(value, bool) and bool not in (
        kind if isinstance(kind, tuple) else (kind,)
    )
    # Ids and tokens never hold NUL; PostgreSQL could not even look one up.
    if not isinstance(value, kind) or bad_bool or (isinstance(value, str) and "\x00" in value):
        raise BadRequestError(f"Field name '{name}' is invalid in JSON input")
    return value


def query_bool(query: Mapping[str, str], name: str, default: bool) -> bool:
    value = query.get(name)
    if value is None:
        return default
    if value.lower() not in ("true", "false"):
        raise BadRequestError(f"Field name '{name}' is invalid in GET request")
    return value.lower() == "true"


def query_str(query: Mapping[str, str], name: str) -> str:
    value = query.get(name)
    if value is None:
        raise BadRequestError(f"Field name '{name}' is missing in GET request")
    if not is_clean_text(value):
        raise BadRequestError(f"Field name '{name}' is invalid in GET request")
    return value
