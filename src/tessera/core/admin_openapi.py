"""The admin API's part of the OpenAPI document (``openapi.py``): its paths under
``/tessera/admin`` and ``/appid-{appId}/tessera/admin``."""

from __future__ import annotations

from typing import Any

from ..admin.operations import MAX_PAGE

__all__ = ["admin_paths"]

_STR: dict[str, Any] = {"type": "string"}
_TEXT = {"text/plain": {"schema": _STR}}
_INT: dict[str, Any] = {"type": "integer"}
_NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}
_FILTER_TEXT: dict[str, Any] = {"type": "string", "maxLength": 256}
_TENANT: dict[str, Any] = {"type": "string", "pattern": "^([A-Za-z0-9][A-Za-z0-9-]{0,63})?$"}
#: The filter of a search, a preview and a bulk revocation; absent or empty: any.
_FILTER = {
    "userId": _FILTER_TEXT,
    "tenantId": _TENANT,
    "ip": _FILTER_TEXT,
    "userAgent": _FILTER_TEXT,
}
_BODY_FILTER = {
    name: {**schema, "type": [schema["type"], "null"]} for name, schema in _FILTER.items()
}
_SUMMARY_FIELDS = {
    "sessionHandle": _STR,
    "userId": _STR,
    "tenantId": _STR,
    "device": _STR,
    "ip": _NULLABLE_STR,
    "userAgent": _NULLABLE_STR,
    "lastIp": _NULLABLE_STR,
    "lastUserAgent": _NULLABLE_STR,
    "createdAt": _INT,
    "lastActiveAt": _INT,
    "expiresAt": _INT,
}
_SUMMARY = {"type": "object", "required": list(_SUMMARY_FIELDS), "properties": _SUMMARY_FIELDS}
_DETAIL = {
    "type": "object",
    "required": [*_SUMMARY_FIELDS, "accessTokenPayload", "sessionData"],
    "properties": {
        **_SUMMARY_FIELDS,
        "lastRefreshedAt": _INT,
        "accessTokenPayload": {"type": "object"},
        "sessionData": {"type": "object"},
    },
}
_HANDLES = {"type": "array", "items": _STR}
_PREVIEW = {"count": _INT, "confirmation": _STR, "expiresAt": _INT}
_KEY = {
    "type": "object",
    "required": ["kid", "algorithm", "kind", "createdAt", "verifiesUntil", "signing"],
    "properties": {
        "kid": _STR,
        "algorithm": _STR,
        "kind": {"enum": ["dynamic", "static"]},
        "createdAt": _INT,
        "verifiesUntil": {"type": ["integer", "null"]},
        "signing": {"type": "boolean"},
    },
}
_ERRORS = {
    "400": "A caller mistake: an unknown or mistyped field, a bad filter value, a limit "
    "out of range, a cursor or confirmation this API did not give, an API key in the URL",
    "403": "Refused: the IP, or (without API keys) a web page or an unknown Host",
    "404": "No such path",
    "408": "The request body did not arrive in time",
    "413": "Request body too large",
    "503": "The database is unavailable, or too many connections",
}


def _answer(statuses: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status"],
        "properties": {"status": {"enum": statuses}, **properties},
    }


#: (method, path below /tessera/admin, summary, 200 answer, fields, required fields)
_OPERATIONS: list[tuple[str, str, str, dict[str, Any], dict[str, Any], tuple[str, ...]]] = [
    (
        "get",
        "/sessions",
        "Search live sessions, most recently active first, a page at a time.",
        _answer(["OK"], sessions={"type": "array", "items": _SUMMARY}, nextCursor=_NULLABLE_STR),
        {
            **_FILTER,
            "limit": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 50},
            "cursor": {"type": "string", "description": "nextCursor of the page before"},
        },
        (),
    ),
    (
        "get",
        "/session",
        "One live session: device, addresses, times, access-token payload, session data.",
        _answer(["OK", "UNAUTHORISED"], session=_DETAIL, message=_STR),
        {"sessionHandle": _STR},
        ("sessionHandle",),
    ),
    (
        "post",
        "/session/revoke",
        "Revoke one session.",
        _answer(["OK"], revoked={"type": "boolean"}),
        {"sessionHandle": _STR},
        ("sessionHandle",),
    ),
    (
        "post",
        "/user/revoke",
        "Revoke a user's sessions, in one tenant or (tenantId absent) in all.",
        _answer(["OK"], sessionHandlesRevoked=_HANDLES),
        {"userId": {**_FILTER_TEXT, "minLength": 1}, "tenantId": _BODY_FILTER["tenantId"]},
        ("userId",),
    ),
    (
        "post",
        "/sessions/preview",
        "Count the live sessions a filter matches, with the confirmation that lets "
        "/sessions/revoke end them (for ten minutes).",
        _answer(["OK"], **_PREVIEW),
        _BODY_FILTER,
        (),
    ),
    (
        "post",
        "/sessions/revoke",
        "End the sessions a previewed filter matches, unless more match now than "
        "expectedCount: then nothing ends and the answer is COUNT_CHANGED with a new "
        "preview.",
        _answer(["OK", "COUNT_CHANGED"], sessionHandlesRevoked=_HANDLES, **_PREVIEW),
        {**_BODY_FILTER, "expectedCount": {"type": "integer", "minimum": 0}, "confirmation": _STR},
        ("expectedCount", "confirmation"),
    ),
    (
        "get",
        "/keys",
        "The signing keys that verify now (never private keys) and the next rotation.",
        _answer(
            ["OK"],
            keys={"type": "array", "items": _KEY},
            rotationIntervalMs=_INT,
            nextRotationAt={"type": ["integer", "null"]},
        ),
        {},
        (),
    ),
]
_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}]


def admin_paths(api_key_required: bool, app_parameter: dict[str, Any]) -> dict[str, Any]:
    """The admin API's paths, for a core with (or without) API keys of its own."""
    paths: dict[str, Any] = {}
    for method, path, summary, answer, fields, required in _OPERATIONS:
        for prefix, app in (("", False), ("/appid-{appId}", True)):
            # An app may have keys of its own, even on a core without keys.
            keyed = api_key_required or app
            responses: dict[str, Any] = {
                "200": {"description": "OK", "content": {"application/json": {"schema": answer}}}
            }
            if keyed:
                responses["401"] = {"description": "Missing or invalid API key", "content": _TEXT}
            for status, why in _ERRORS.items():
                responses[status] = {"description": why, "content": _TEXT}
            operation: dict[str, Any] = {
                "summary": summary,
                "tags": ["admin"],
                "responses": responses,
                "parameters": [app_parameter] if app else [],
            }
            operator: dict[str, Any] = {
                "name": "tessera-operator",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 64},
                "description": "The operator's name, for the audit log (not verified).",
            }
            if method == "post":
                schema: dict[str, Any] = {
                    "type": "object",
                    "properties": fields,
                    "additionalProperties": False,
                }
                if required:
                    schema["required"] = list(required)
                operation["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": schema}},
                }
            else:
                operation["parameters"] += [
                    {"name": n, "in": "query", "required": n in required, "schema": s}
                    for n, s in fields.items()
                ]
            operation["parameters"].append(operator)
            if app and not api_key_required:
                operation["security"] = [{}, *_SECURITY]
            paths.setdefault(f"{prefix}/tessera/admin{path}", {})[method] = operation
    return paths
