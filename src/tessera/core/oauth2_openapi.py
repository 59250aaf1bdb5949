"""The OpenAPI description of the OAuth endpoints (``oauth2.py``): form bodies, and the
RFC 6749 JSON errors instead of the CDI's plain text. ``openapi.py`` adds these paths to
the core's document."""

from __future__ import annotations

from typing import Any

from .oauth2 import INTROSPECT_PATH, REVOKE_PATH

__all__ = ["oauth2_paths"]

_STR: dict[str, Any] = {"type": "string"}
_TEXT = {"text/plain": {"schema": _STR}}
_FORM: dict[str, Any] = {
    "type": "object",
    "required": ["token"],
    "properties": {
        "token": {"type": "string", "minLength": 1},
        "token_type_hint": {
            "type": "string",
            "description": "access_token or refresh_token; only orders the checks, and "
            "any other value is ignored.",
        },
        "client_id": {"type": "string", "description": "Any value: it is not checked."},
        "client_secret": {
            "type": "string",
            "description": "An API key that opens the app (client_secret_post). Send the "
            "key one way only: here, in HTTP Basic, in api-key or as a Bearer token.",
        },
    },
}
_INTROSPECTION: dict[str, Any] = {
    "type": "object",
    "required": ["active"],
    "properties": {
        "active": {"type": "boolean"},
        "token_type": {"const": "Bearer", "description": "Access tokens only."},
        "token_use": {"enum": ["access_token", "refresh_token"]},
        "sub": {"type": "string", "description": "The user id."},
        "exp": {"type": "integer", "description": "Seconds since the epoch."},
        "iat": {
            "type": "integer",
            "description": "Seconds since the epoch; for a refresh token, when its "
            "session was last refreshed.",
        },
        "sid": {"type": "string", "description": "The session handle."},
        "tenant_id": _STR,
        "iss": {"type": "string", "description": "The access token's iss claim, if any."},
        "scope": {"type": "string", "description": "The access token's scope claim, if any."},
    },
    "additionalProperties": False,
}
_ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"enum": ["invalid_request", "invalid_client"]},
        "error_description": _STR,
    },
}
_OPERATIONS = (
    (
        INTROSPECT_PATH,
        "Token introspection (RFC 7662) of an access or refresh token of the app: "
        '{"active": false} for any token not honoured now, without a reason.',
        _INTROSPECTION,
    ),
    (
        REVOKE_PATH,
        "Token revocation (RFC 7009): ends the session of any token tessera issued for "
        "it; 200 whatever the token.",
        {"type": "object", "maxProperties": 0},
    ),
)
_TEXT_ERRORS = {
    "403": "Refused: the IP, a tenant in the path, or (without API keys) a web page or an "
    "unknown Host",
    "404": "No such path (an app id the path grammar does not accept)",
    "408": "The request body did not arrive in time",
    "413": "Request body too large",
    "503": "The database is unavailable, or too many connections",
}
_AUTH: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}, {"basic": []}]


def _operation(
    summary: str, answer: dict[str, Any], parameters: list[dict[str, Any]], keyed: bool | None
) -> dict[str, Any]:
    """``keyed``: True when a key is needed, None when only if the app has its own."""
    json_answer = {"application/json": {"schema": answer}}
    no_store = {"Cache-Control": {"schema": {"const": "no-store"}}}
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": json_answer, "headers": no_store},
        "400": {
            "description": "A malformed request: not a form, a parameter given twice or in "
            "the URL, no token, an unknown app, client credentials sent more than one way "
            "(JSON); or a bad header or body (plain text)",
            "content": {"application/json": {"schema": _ERROR}, **_TEXT},
        },
    }
    if keyed is not False:
        responses["401"] = {
            "description": "No key, or a key that does not open the app (invalid_client)",
            "content": {"application/json": {"schema": _ERROR}},
            "headers": {"WWW-Authenticate": {"required": True, "schema": _STR}},
        }
    for status, why in _TEXT_ERRORS.items():
        responses[status] = {"description": why, "content": _TEXT}
    operation: dict[str, Any] = {
        "summary": summary,
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": _FORM}},
        },
        "responses": responses,
        "security": _AUTH if keyed else [{}, *_AUTH] if keyed is None else [],
    }
    if parameters:
        operation["parameters"] = parameters
    return operation


def oauth2_paths(core_keys: bool, app_id: dict[str, Any]) -> dict[str, Any]:
    """The paths of the OAuth endpoints on a core with (or without) keys of its own;
    ``app_id`` is the document's path parameter for ``/appid-{appId}``."""
    paths: dict[str, Any] = {}
    for path, summary, answer in _OPERATIONS:
        # The public app has the core's keys; another app may have its own.
        public: bool | None = core_keys
        other: bool | None = True if core_keys else None
        paths[path] = {"post": _operation(summary, answer, [], public)}
        paths["/appid-{appId}" + path] = {"post": _operation(summary, answer, [app_id], other)}
    return paths
