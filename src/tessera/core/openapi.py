"""The OpenAPI 3.1 document served at ``/openapi.json``: every route the core answers,
its parameters (path, query, body), the statuses it may answer and which routes need no
API key. CI checks the running core against it (tests/core/test_openapi.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .admin_openapi import admin_paths
from .oauth2_openapi import oauth2_paths
from .openapi_parts import BOOL, ID, OBJ, STR, STRINGS, Operation, answer
from .routing import CDI_VERSIONS
from .sessions_openapi import DEVICE_OPERATIONS

__all__ = ["openapi_document"]

#: An app's settings: the session settings of config.yaml, and its own API keys.
_CORE_CONFIG: dict[str, Any] = {
    "type": ["object", "null"],
    "description": "Session settings (strings, numbers or booleans; null resets one to "
    "the core's value) and api_keys: comma-separated keys that alone open this app "
    "(not for the public app, which uses the core's keys). A tenant other than public "
    "may set only max_sessions_per_user, session_limit_policy and session_idle_timeout "
    "(null: the app's).",
    "properties": {
        "api_keys": {
            "type": ["string", "null"],
            "pattern": "^[A-Za-z0-9=-]{20,}(,[A-Za-z0-9=-]{20,})*$",
        }
    },
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}
_FACTORS: dict[str, Any] = {"type": ["array", "null"], "items": STR}
#: Fields of ``PUT .../app/v2`` and ``.../tenant/v2`` besides the id; the factor lists
#: belong to recipes this core does not have, and are checked for shape only.
_TENANT_FIELDS = {
    "coreConfig": _CORE_CONFIG,
    "firstFactors": _FACTORS,
    "requiredSecondaryFactors": _FACTORS,
}
_KEYS = {"type": "object", "required": ["keys"], "properties": {"keys": {"type": "array"}}}
_SESSION_OUT = answer(["OK"], session=OBJ, accessToken=OBJ, refreshToken=OBJ)
_OK_OR_GONE = answer(["OK", "UNAUTHORISED"])
_API = [
    Operation("get", "/hello", "Health check; answers the text Hello.", None, open=True),
    Operation("head", "/hello", "Health check without a body.", None, open=True),
    Operation(
        "get",
        "/apiversion",
        "CDI versions this core speaks.",
        {"type": "object", "required": ["versions"], "properties": {"versions": STRINGS}},
    ),
    Operation(
        "get",
        "/user/id",
        "User lookup; this core keeps no users.",
        answer(["UNKNOWN_USER_ID_ERROR"]),
        {"userId": STR},
        ("userId",),
    ),
    Operation(
        "post",
        "/recipe/session",
        "Create a session.",
        _SESSION_OUT,
        {
            "userId": STR,
            "userDataInJWT": OBJ,
            "userDataInDatabase": OBJ,
            "enableAntiCsrf": BOOL,
            "useDynamicSigningKey": BOOL,
        },
        ("userId", "userDataInJWT", "userDataInDatabase", "enableAntiCsrf"),
        tenant=True,
        refusals={
            "409": "Session limit reached: the user holds max_sessions_per_user live "
            "sessions in this tenant and session_limit_policy is deny; no session was made",
        },
    ),
    Operation(
        "get",
        "/recipe/session",
        "A session's information.",
        _OK_OR_GONE,
        {"sessionHandle": STR},
        ("sessionHandle",),
    ),
    Operation(
        "post",
        "/recipe/session/verify",
        "Verify an access token; may answer a new one.",
        answer(["OK", "UNAUTHORISED", "TRY_REFRESH_TOKEN"]),
        {
            "accessToken": STR,
            "antiCsrfToken": {"type": ["string", "null"]},
            "doAntiCsrfCheck": BOOL,
            "enableAntiCsrf": BOOL,
            "checkDatabase": BOOL,
        },
        ("accessToken", "doAntiCsrfCheck"),  # enableAntiCsrf too when checking
    ),
    Operation(
        "post",
        "/recipe/session/refresh",
        "Exchange a refresh token for new tokens; detects theft.",
        answer(["OK", "UNAUTHORISED", "TOKEN_THEFT_DETECTED"]),
        {
            "refreshToken": STR,
            "antiCsrfToken": {"type": ["string", "null"]},
            "enableAntiCsrf": BOOL,
            "useDynamicSigningKey": BOOL,
        },
        ("refreshToken", "enableAntiCsrf"),
    ),
    Operation(
        "post",
        "/recipe/session/regenerate",
        "Re-sign an access token with a new payload.",
        _OK_OR_GONE,
        {"accessToken": STR, "userDataInJWT": {"type": ["object", "null"]}},
        ("accessToken",),
    ),
    Operation(
        "put",
        "/recipe/session/data",
        "Replace a session's data in the database.",
        _OK_OR_GONE,
        {"sessionHandle": STR, "userDataInDatabase": OBJ},
        ("sessionHandle", "userDataInDatabase"),
    ),
    Operation(
        "put",
        "/recipe/jwt/data",
        "Replace the claims future access tokens carry.",
        _OK_OR_GONE,
        {"sessionHandle": STR, "userDataInJWT": OBJ},
        ("sessionHandle", "userDataInJWT"),
    ),
    Operation(
        "post",
        "/recipe/session/remove",
        "Revoke sessions by handles, or all of a user's (give one of the two).",
        answer(["OK"], sessionHandlesRevoked=STRINGS),
        {
            "sessionHandles": STRINGS,
            "userId": STR,
            "revokeAcrossAllTenants": BOOL,
            "revokeSessionsForLinkedAccounts": BOOL,
        },
        tenant=True,
    ),
    Operation(
        "get",
        "/recipe/session/user",
        "Handles of a user's live sessions.",
        answer(["OK"], sessionHandles=STRINGS),
        {
            "userId": STR,
            "fetchAcrossAllTenants": BOOL,
            "fetchSessionsForAllLinkedAccounts": BOOL,
        },
        ("userId",),
        tenant=True,
    ),
    Operation(
        "get",
        "/.well-known/jwks.json",
        "Public keys that verify access tokens (the last known set while the database is down).",
        _KEYS,
        open=True,
    ),
    Operation("get", "/recipe/jwt/jwks", "The same key set, for the JWT recipe.", _KEYS),
    Operation(
        "post",
        "/recipe/jwt",
        "Sign a JWT with the app's keys.",
        answer(["OK", "UNSUPPORTED_ALGORITHM_ERROR"], jwt=STR),
        {
            "payload": OBJ,
            "algorithm": STR,
            "jwksDomain": STR,
            "validity": {"type": "integer", "minimum": 1},
            "useStaticSigningKey": BOOL,
        },
        ("payload", "algorithm", "jwksDomain", "validity"),
    ),
    *(
        Operation(
            "put",
            path,
            "Create an app, or merge coreConfig into its settings (null resets a key).",
            answer(["OK"], createdNew=BOOL),
            {"appId": ID, **_TENANT_FIELDS},
            ("appId",),
        )
        for path in ("/recipe/multitenancy/app/v2", "/recipe/multitenancy/app")
    ),
    Operation(
        "post",
        "/recipe/multitenancy/app/remove",
        "Remove an app.",
        answer(["OK"], didExist=BOOL),
        {"appId": STR},
        ("appId",),
    ),
    Operation(
        "get",
        "/recipe/multitenancy/app/list/v2",
        "List the apps.",
        answer(["OK"], apps={"type": "array", "items": OBJ}),
    ),
    Operation(
        "put",
        "/recipe/multitenancy/tenant/v2",
        "Create a tenant of the app; for tenant public, coreConfig updates the app's settings.",
        answer(["OK"], createdNew=BOOL),
        {"tenantId": ID, **_TENANT_FIELDS},
        ("tenantId",),
    ),
    Operation(
        "post",
        "/recipe/multitenancy/tenant/remove",
        "Remove a tenant of the app.",
        answer(["OK"], didExist=BOOL),
        {"tenantId": STR},
        ("tenantId",),
    ),
    *DEVICE_OPERATIONS,
    Operation(
        "get", "/openapi.json", "This document.", {"type": "object", "required": ["openapi"]}
    ),
    Operation(
        "get",
        "/metrics",
        "Prometheus metrics of every worker of this core, in the text exposition format "
        "(404 when prometheus_client is not installed). Guarded like this document.",
        None,
    ),
]
#: Routes of the core itself, not of an app: the core's keys guard them, never an app's.
_CORE_ROUTES = ("/openapi.json", "/metrics")

_TEXT = {"text/plain": {"schema": STR}}
_ERRORS = {
    "400": "Bad request: invalid JSON, a missing, mistyped or unknown field, an unknown "
    "app or tenant, an unsupported cdi-version",
    "403": "Refused: the IP, a tenant on an app-level API, or (without API keys) a web "
    "page or an unknown Host",
    "404": "No such path (or a tenant segment from a caller below CDI 3.0)",
    "408": "The request body did not arrive in time",
    "413": "Request body too large",
    "503": "The database is unavailable, or too many connections",
}
_PATH_PARAMETERS = {
    "appId": {"name": "appId", "in": "path", "required": True, "schema": ID},
    "tenantId": {
        "name": "tenantId",
        "in": "path",
        "required": True,
        "schema": ID,
        "description": "Not one of the words that start API paths (recipe, hello, ...).",
    },
}
_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}]
_CDI_VERSION = {
    "name": "cdi-version",
    "in": "header",
    "required": False,
    "schema": {"enum": [f"{major}.{minor}" for major, minor in sorted(CDI_VERSIONS)]},
    "description": "The CDI version the caller speaks; 5.4 when absent.",
}


def _operation(op: Operation, path_parameters: list[str], core_keys: bool) -> dict[str, Any]:
    # An app may have API keys of its own (its coreConfig's api_keys): they guard the
    # app's routes even on a core without keys. The unprefixed routes are the public
    # app's, which has the core's keys only.
    app_keys = "appId" in path_parameters and op.path not in _CORE_ROUTES and not op.open
    answer = _TEXT if op.answer is None else {"application/json": {"schema": op.answer}}
    responses: dict[str, Any] = {"200": {"description": "OK", "content": answer}}
    if (core_keys and not op.open) or app_keys:
        responses["401"] = {"description": "Missing or invalid API key", "content": _TEXT}
    for status, why in {**_ERRORS, **op.refusals}.items():
        responses[status] = {"description": why, "content": _TEXT}
    parameters: list[dict[str, Any]] = [_PATH_PARAMETERS[p] for p in path_parameters]
    operation: dict[str, Any] = {"summary": op.summary, "responses": responses}
    if op.method in ("post", "put"):
        schema = {
            "type": "object",
            "properties": op.fields,
            "additionalProperties": False,
        }
        if op.required:
            schema["required"] = list(op.required)
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    else:
        parameters += [
            {"name": name, "in": "query", "required": name in op.required, "schema": schema}
            for name, schema in op.fields.items()
        ]
    if op.path != "/hello" and op.path not in _CORE_ROUTES:
        parameters.append(_CDI_VERSION)
    if parameters:
        operation["parameters"] = parameters
    if core_keys and op.open:
        operation["security"] = []  # served without an API key
    elif app_keys and not core_keys:
        operation["security"] = [{}, *_SECURITY]  # a key if the app has its own
    return operation


@cache
def openapi_document(api_key_required: bool = True, base_path: str = "") -> dict[str, Any]:
    """The document for a core with (or without) API keys of its own, served under
    ``base_path``. Apps with keys of their own need them on a core without keys too."""
    paths: dict[str, Any] = {}
    # A path that takes a tenant takes one for every method (an app-level API answers
    # 403 for a tenant other than public), so its tenant forms list every method.
    tenant_paths = {op.path for op in _API if op.tenant}
    for op in _API:
        variants = [("", []), ("/appid-{appId}", ["appId"])]
        if op.path in tenant_paths:
            variants += [
                ("/{tenantId}", ["tenantId"]),
                ("/appid-{appId}/{tenantId}", ["appId", "tenantId"]),
            ]
        for prefix, names in variants:
            operation = _operation(op, names, api_key_required)
            paths.setdefault(prefix + op.path, {})[op.method] = operation
    paths.update(admin_paths(api_key_required, _PATH_PARAMETERS["appId"]))
    paths.update(oauth2_paths(api_key_required, _PATH_PARAMETERS["appId"]))
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "tessera core",
            "version": "5.4",
            "description": "Sessions over HTTP, speaking the SuperTokens Core Driver "
            "Interface 5.4. Session outcomes (UNAUTHORISED, TRY_REFRESH_TOKEN, ...) are "
            "200 answers with a status field; errors are plain text, except on the OAuth "
            "endpoints under /tessera/oauth2 (RFC 6749 JSON errors). The operator's admin "
            "API is under /tessera/admin (the admin console, HTML for browsers, at /admin).",
        },
        "servers": [{"url": base_path or "/"}],
        "paths": paths,
    }
    document["components"] = {
        "securitySchemes": {
            "apiKey": {"type": "apiKey", "in": "header", "name": "api-key"},
            "bearer": {"type": "http", "scheme": "bearer"},
            # The OAuth endpoints only: any user name, an API key as the password.
            "basic": {"type": "http", "scheme": "basic"},
        }
    }
    if api_key_required:
        document["security"] = list(_SECURITY)
    return document
