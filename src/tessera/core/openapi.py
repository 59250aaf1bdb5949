"""The OpenAPI 3.1 document served at ``/openapi.json``: every route the core answers."""

from __future__ import annotations

from functools import cache
from typing import Any

__all__ = ["openapi_document"]

_T = "/{tenantId}"  # marks routes that accept a tenant segment
# (method, path, summary, JSON body fields or query fields, tenant segment allowed)
_API: list[tuple[str, str, str, list[str], bool]] = [
    ("get", "/hello", "Health check; answers the text Hello. No API key.", [], False),
    ("get", "/apiversion", "CDI versions this core speaks: {versions: ['5.4']}.", [], False),
    (
        "get",
        "/user/id",
        "User lookup; this core keeps no users: UNKNOWN_USER_ID_ERROR.",
        ["userId"],
        False,
    ),
    (
        "post",
        "/recipe/session",
        "Create a session.",
        ["userId", "userDataInJWT", "userDataInDatabase", "enableAntiCsrf", "useDynamicSigningKey"],
        True,
    ),
    ("get", "/recipe/session", "A session's information.", ["sessionHandle"], False),
    (
        "post",
        "/recipe/session/verify",
        "Verify an access token; may answer a new one.",
        ["accessToken", "antiCsrfToken", "doAntiCsrfCheck", "enableAntiCsrf", "checkDatabase"],
        False,
    ),
    (
        "post",
        "/recipe/session/refresh",
        "Exchange a refresh token for new tokens; detects theft.",
        ["refreshToken", "antiCsrfToken", "enableAntiCsrf", "useDynamicSigningKey"],
        False,
    ),
    (
        "post",
        "/recipe/session/regenerate",
        "Re-sign an access token with a new payload.",
        ["accessToken", "userDataInJWT"],
        False,
    ),
    (
        "put",
        "/recipe/session/data",
        "Replace a session's data in the database.",
        ["sessionHandle", "userDataInDatabase"],
        False,
    ),
    (
        "put",
        "/recipe/jwt/data",
        "Replace the claims future access tokens carry.",
        ["sessionHandle", "userDataInJWT"],
        False,
    ),
    (
        "post",
        "/recipe/session/remove",
        "Revoke sessions by handles, or all of a user's.",
        ["sessionHandles", "userId", "revokeAcrossAllTenants", "revokeSessionsForLinkedAccounts"],
        True,
    ),
    (
        "get",
        "/recipe/session/user",
        "Handles of a user's live sessions.",
        ["userId", "fetchAcrossAllTenants", "fetchSessionsForAllLinkedAccounts"],
        True,
    ),
    (
        "get",
        "/.well-known/jwks.json",
        "Public keys that verify access tokens. No API key.",
        [],
        False,
    ),
    ("get", "/recipe/jwt/jwks", "The same key set, for the JWT recipe.", [], False),
    (
        "post",
        "/recipe/jwt",
        "Sign a JWT with the app's keys.",
        ["payload", "algorithm", "jwksDomain", "validity", "useStaticSigningKey"],
        False,
    ),
    (
        "put",
        "/recipe/multitenancy/app/v2",
        "Create an app, or merge coreConfig into its settings (null resets a key).",
        ["appId", "coreConfig", "firstFactors", "requiredSecondaryFactors"],
        False,
    ),
    (
        "put",
        "/recipe/multitenancy/app",
        "Same as /recipe/multitenancy/app/v2.",
        ["appId", "coreConfig", "firstFactors", "requiredSecondaryFactors"],
        False,
    ),
    ("post", "/recipe/multitenancy/app/remove", "Remove an app.", ["appId"], False),
    ("get", "/recipe/multitenancy/app/list/v2", "List the apps.", [], False),
    (
        "put",
        "/recipe/multitenancy/tenant/v2",
        "Create a tenant of the app; for tenant public, coreConfig updates the app's settings.",
        ["tenantId", "coreConfig", "firstFactors", "requiredSecondaryFactors"],
        False,
    ),
    (
        "post",
        "/recipe/multitenancy/tenant/remove",
        "Remove a tenant of the app.",
        ["tenantId"],
        False,
    ),
    ("get", "/openapi.json", "This document.", [], False),
]

_ERRORS = {
    "400": {
        "description": "Bad request: invalid JSON, a missing or unknown field, "
        "an unknown app or tenant (plain text)"
    },
    "401": {"description": "Invalid or missing API key (plain text)"},
    "403": {"description": "Only the public tenant may call this API, or the IP is not allowed"},
    "413": {"description": "Request body too large"},
    "503": {"description": "The database is unavailable"},
}


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for method, path, summary, names, tenant in _API:
        operation: dict[str, Any] = {
            "summary": summary,
            "responses": {
                "200": {"description": "OK; session outcomes are in the status field"},
                **_ERRORS,
            },
        }
        if method in ("post", "put") and names:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {n: {} for n in names},
                            "additionalProperties": False,
                        }
                    }
                },
            }
        elif names:
            operation["parameters"] = [
                {"name": n, "in": "query", "schema": {"type": "string"}} for n in names
            ]
        for prefix in ("", "/appid-{appId}"):
            paths.setdefault(prefix + path, {})[method] = operation
            if tenant:
                paths.setdefault(prefix + _T + path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "tessera core",
            "version": "5.4",
            "description": "Sessions over HTTP, speaking the SuperTokens Core Driver "
            "Interface 5.4.",
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "api-key"}},
        },
        "security": [{"apiKey": []}],
        "paths": paths,
    }
