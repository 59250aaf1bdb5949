"""The Core Driver Interface (CDI 5.4) endpoints: each turns a request into an engine
call and the engine's result into the JSON the SuperTokens SDKs expect.

Session outcomes are HTTP 200 with a ``status``: ``UNAUTHORISED`` and
``TRY_REFRESH_TOKEN`` carry a ``message``, ``TOKEN_THEFT_DETECTED`` the session's
handle and user. Caller mistakes are 400 with the core's plain-text messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..engine import jws
from ..engine.access_token import PROTECTED_CLAIMS, check_custom_claims
from ..engine.sessions import SessionState
from ..errors import TokenTheftError, TryRefreshTokenError, UnauthorisedError
from .apps import AppEngines, AppRegistry
from .http import (
    BadRequest,
    Request,
    Response,
    error,
    json_response,
    query_bool,
    query_str,
    require,
)
from .routing import split_path

__all__ = ["ROUTES", "Context", "Handler"]

CDI_VERSIONS = ["5.4"]
_NULLABLE_STR = (str, type(None))


@dataclass(frozen=True)
class Context:
    registry: AppRegistry
    clock: Callable[[], int]


Handler = Callable[[Context, Request], Response]


def _app(ctx: Context, req: Request) -> AppEngines:
    return ctx.registry.get(req.route.app_id)


def _public_only(req: Request) -> None:
    if req.route.tenant_given:
        raise error("public_only")


def _claims(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in PROTECTED_CLAIMS}


def _session(state: SessionState, claims: dict[str, Any]) -> dict[str, Any]:
    return {
        "handle": state.session_handle,
        "userId": state.user_id,
        "recipeUserId": state.user_id,
        "userDataInJWT": claims,
        "tenantId": state.tenant_id,
    }


def _token(state: SessionState) -> dict[str, Any]:
    token = state.access_token
    return {"token": token.token, "expiry": token.expiry, "createdTime": token.created_at}


def _unauthorised(message: str) -> Response:
    return json_response({"status": "UNAUTHORISED", "message": message})


def _protected_claims(payload: dict[str, Any]) -> None:
    try:
        check_custom_claims(payload)
    except ValueError:
        raise BadRequest("The user payload contains protected field") from None


# -- handshake and users ------------------------------------------------------------


def api_version(ctx: Context, req: Request) -> Response:
    _public_only(req)
    _app(ctx, req)
    return json_response({"versions": CDI_VERSIONS})


def user_by_id(ctx: Context, req: Request) -> Response:
    _app(ctx, req)
    query_str(req.query, "userId")
    # This core keeps sessions only; the SDKs then treat the user id as the session's.
    return json_response({"status": "UNKNOWN_USER_ID_ERROR"})


# -- sessions -----------------------------------------------------------------------


def create_session(ctx: Context, req: Request) -> Response:
    body = req.fields(
        {"userId", "userDataInJWT", "userDataInDatabase", "enableAntiCsrf", "useDynamicSigningKey"}
    )
    user_id = require(body, "userId", str)
    claims = require(body, "userDataInJWT", dict)
    data = require(body, "userDataInDatabase", dict)
    anti_csrf = require(body, "enableAntiCsrf", bool)
    dynamic = require(body, "useDynamicSigningKey", bool, default=True)
    _protected_claims(claims)
    app = _app(ctx, req)
    ctx.registry.check_tenant(req.route.app_id, req.route.tenant_id)
    now = ctx.clock()
    try:
        state = app.engine(dynamic).create_new_session(
            user_id, claims, data, req.route.tenant_id, now=now, disable_anti_csrf=not anti_csrf
        )
    except (ValueError, TypeError) as exc:
        raise BadRequest(str(exc)) from None
    answer: dict[str, Any] = {
        "status": "OK",
        "session": _session(state, claims),
        "accessToken": _token(state),
        "refreshToken": {
            "token": state.refresh_token,
            "expiry": now + app.config.refresh_token_validity_ms,
            "createdTime": now,
        },
    }
    if state.anti_csrf_token is not None:
        answer["antiCsrfToken"] = state.anti_csrf_token
    return json_response(answer)


def verify_session(ctx: Context, req: Request) -> Response:
    _public_only(req)
    body = req.fields(
        {"accessToken", "antiCsrfToken", "doAntiCsrfCheck", "enableAntiCsrf", "checkDatabase"}
    )
    token = require(body, "accessToken", str)
    anti_csrf = require(body, "antiCsrfToken", _NULLABLE_STR, default=None)
    check_anti_csrf = require(body, "doAntiCsrfCheck", bool) and require(
        body, "enableAntiCsrf", bool
    )
    check_database = require(body, "checkDatabase", bool, default=False)
    app = _app(ctx, req)
    engine = app.dynamic
    now = ctx.clock()
    try:
        state = engine.get_session(token, anti_csrf, now=now, anti_csrf_check=check_anti_csrf)
    except (UnauthorisedError, TryRefreshTokenError) as exc:
        return json_response({"status": "TRY_REFRESH_TOKEN", "message": exc.message})
    try:
        confirmed = engine.confirm_access_token(
            state, now=now, check_database=check_database or app.config.access_token_blacklisting
        )
    except UnauthorisedError:
        return _unauthorised("Either the session has ended or has been blacklisted")
    answer: dict[str, Any] = {
        "status": "OK",
        "session": _session(confirmed, _claims(confirmed.access_token.payload)),
    }
    if confirmed is not state:
        answer["accessToken"] = _token(confirmed)
    return json_response(answer)


def refresh_session(ctx: Context, req: Request) -> Response:
    _public_only(req)
    body = req.fields({"refreshToken", "antiCsrfToken", "enableAntiCsrf", "useDynamicSigningKey"})
    token = require(body, "refreshToken", str)
    anti_csrf = require(body, "antiCsrfToken", _NULLABLE_STR, default=None)
    enable = require(body, "enableAntiCsrf", bool)
    dynamic = require(body, "useDynamicSigningKey", bool, default=True)
    app = _app(ctx, req)
    now = ctx.clock()
    try:
        state = app.engine(dynamic).refresh_session(
            token, anti_csrf, now=now, disable_anti_csrf=not enable
        )
    except TokenTheftError as exc:
        who = {"handle": exc.session_handle, "userId": exc.user_id, "recipeUserId": exc.user_id}
        return json_response({"status": "TOKEN_THEFT_DETECTED", "session": who})
    except UnauthorisedError as exc:
        return _unauthorised(exc.message)
    answer: dict[str, Any] = {
        "status": "OK",
        "session": _session(state, _claims(state.access_token.payload)),
        "accessToken": _token(state),
        "refreshToken": {
            "token": state.refresh_token,
            "expiry": now + app.config.refresh_token_validity_ms,
            "createdTime": now,
        },
    }
    if state.anti_csrf_token is not None:
        answer["antiCsrfToken"] = state.anti_csrf_token
    return json_response(answer)


def regenerate(ctx: Context, req: Request) -> Response:
    _public_only(req)
    body = req.fields({"accessToken", "userDataInJWT"})
    token = require(body, "accessToken", str)
    claims = require(body, "userDataInJWT", (dict, type(None)), default=None)
    if claims is not None:
        _protected_claims(claims)
    engine = _app(ctx, req).dynamic
    try:
        state = engine.regenerate_access_token(token, claims, now=ctx.clock())
    except (UnauthorisedError, TryRefreshTokenError):
        state = None
    if state is None:
        return _unauthorised("Session does not exist.")
    shown = (
        _claims(state.access_token.payload)
        if state.access_token_updated or claims is None
        else claims
    )
    answer: dict[str, Any] = {"status": "OK", "session": _session(state, shown)}
    if state.access_token_updated:
        answer["accessToken"] = _token(state)
    return json_response(answer)


def session_information(ctx: Context, req: Request) -> Response:
    _public_only(req)
    handle = query_str(req.query, "sessionHandle")
    info = _app(ctx, req).dynamic.get_session_information(handle, now=ctx.clock())
    if info is None:
        return _unauthorised("Session does not exist.")
    return json_response(
        {
            "status": "OK",
            "sessionHandle": info.session_handle,
            "userId": info.user_id,
            "recipeUserId": info.user_id,
            "userDataInDatabase": info.session_data_in_database,
            "expiry": info.expiry,
            "userDataInJWT": info.custom_claims_in_access_token_payload,
            "timeCreated": info.time_created,
            "tenantId": info.tenant_id,
        }
    )


def update_session_data(ctx: Context, req: Request) -> Response:
    _public_only(req)
    body = req.fields({"sessionHandle", "userDataInDatabase"})
    handle = require(body, "sessionHandle", str)
    data = require(body, "userDataInDatabase", dict)
    if not _app(ctx, req).dynamic.update_session_data_in_database(handle, data, now=ctx.clock()):
        return _unauthorised("Session does not exist.")
    return json_response({"status": "OK"})


def update_access_token_payload(ctx: Context, req: Request) -> Response:
    _public_only(req)
    body = req.fields({"sessionHandle", "userDataInJWT"})
    handle = require(body, "sessionHandle", str)
    claims = require(body, "userDataInJWT", dict)
    _protected_claims(claims)
    engine = _app(ctx, req).dynamic
    now = ctx.clock()
    info = engine.get_session_information(handle, now=now)
    # The CDI replaces the stored claims: remove the ones the new object lacks.
    removed = {} if info is None else dict.fromkeys(info.custom_claims_in_access_token_payload)
    if info is None or not engine.merge_into_access_token_payload(
        handle, {**removed, **claims}, now=now
    ):
        return _unauthorised("Session does not exist.")
    return json_response({"status": "OK"})


def remove_sessions(ctx: Context, req: Request) -> Response:
    body = req.fields(
        {"userId", "sessionHandles", "revokeAcrossAllTenants", "revokeSessionsForLinkedAccounts"}
    )
    engine = _app(ctx, req).dynamic
    if ("userId" in body) == ("sessionHandles" in body):
        raise BadRequest("Invalid JSON input - use one of userId or sessionHandles array")
    if "sessionHandles" in body:
        if "revokeAcrossAllTenants" in body or "revokeSessionsForLinkedAccounts" in body:
            raise BadRequest("Invalid JSON input - use one of userId or sessionHandles array")
        handles = require(body, "sessionHandles", list)
        if not all(isinstance(h, str) for h in handles):
            raise BadRequest("Field name 'sessionHandles' is invalid in JSON input")
        revoked = engine.revoke_multiple_sessions(handles)
    else:
        user_id = require(body, "userId", str)
        across = require(body, "revokeAcrossAllTenants", bool, default=True)
        require(body, "revokeSessionsForLinkedAccounts", bool, default=True)
        if across:
            _public_only(req)
        else:
            ctx.registry.check_tenant(req.route.app_id, req.route.tenant_id)
        revoked = engine.revoke_all_sessions_for_user(
            user_id, req.route.tenant_id, across, now=ctx.clock()
        )
    return json_response({"status": "OK", "sessionHandlesRevoked": revoked})


def sessions_of_user(ctx: Context, req: Request) -> Response:
    user_id = query_str(req.query, "userId")
    across = query_bool(req.query, "fetchAcrossAllTenants", True)
    query_bool(req.query, "fetchSessionsForAllLinkedAccounts", True)
    engine = _app(ctx, req).dynamic
    if across:
        _public_only(req)
    else:
        ctx.registry.check_tenant(req.route.app_id, req.route.tenant_id)
    handles = engine.get_all_session_handles_for_user(
        user_id, req.route.tenant_id, across, now=ctx.clock()
    )
    return json_response({"status": "OK", "sessionHandles": handles})


# -- keys and JWTs --------------------------------------------------------------------


def jwks(ctx: Context, req: Request) -> Response:
    _public_only(req)
    keys = _app(ctx, req).dynamic.keys
    now = ctx.clock()
    keys.signing_key(now, dynamic=False)  # the static key is always published
    document = keys.jwks(now)
    cache = f"max-age={keys.jwks_max_age(now)}, must-revalidate"
    return json_response(document, headers=[("cache-control", cache)])


def create_jwt(ctx: Context, req: Request) -> Response:
    _public_only(req)
    body = req.fields({"payload", "algorithm", "jwksDomain", "validity", "useStaticSigningKey"})
    payload = require(body, "payload", dict)
    algorithm = require(body, "algorithm", str)
    issuer = require(body, "jwksDomain", str)
    validity = require(body, "validity", int)
    static = require(body, "useStaticSigningKey", bool, default=True)
    if validity <= 0:
        raise BadRequest("validity must be greater than 0")
    app = _app(ctx, req)
    if algorithm.upper() != app.config.access_token_signing_algorithm.upper():
        return json_response({"status": "UNSUPPORTED_ALGORITHM_ERROR"})
    now = ctx.clock()
    key = app.dynamic.keys.signing_key(now, dynamic=not static)
    claims = {**payload, "iat": now // 1000, "exp": now // 1000 + validity, "iss": issuer}
    header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT", "version": "5"}
    return json_response({"status": "OK", "jwt": jws.sign(header, claims, key.private_key)})


# -- apps and tenants -------------------------------------------------------------------


def put_app(ctx: Context, req: Request) -> Response:
    if req.route.app_id != "public" or req.route.tenant_given:
        raise BadRequest("Apps can only be managed through the public app")
    body = req.json()
    app_id = require(body, "appId", str).lower()
    core_config = require(body, "coreConfig", dict, default={})
    if split_path(f"/appid-{app_id}/x") is None:
        raise BadRequest("appId must use 1-64 characters from a-z, 0-9 and '-'")
    try:
        created = ctx.registry.put_app(app_id, core_config)
    except ValueError as exc:
        raise BadRequest(f"Invalid core config: {exc}") from None
    return json_response({"status": "OK", "createdNew": created})


def remove_app(ctx: Context, req: Request) -> Response:
    if req.route.app_id != "public" or req.route.tenant_given:
        raise BadRequest("Apps can only be managed through the public app")
    body = req.fields({"appId"})
    app_id = require(body, "appId", str).lower()
    if app_id == "public":
        raise BadRequest("The public app cannot be removed")
    return json_response({"status": "OK", "didExist": ctx.registry.delete_app(app_id)})


def list_apps(ctx: Context, req: Request) -> Response:
    apps = [{"appId": a} for a in ctx.registry.list_apps()]
    return json_response({"status": "OK", "apps": apps})


def put_tenant(ctx: Context, req: Request) -> Response:
    _public_only(req)
    body = req.json()
    tenant_id = require(body, "tenantId", str).lower()
    route = split_path(f"/{tenant_id}/recipe/x")
    if route is None or route.tenant_id != tenant_id:
        raise BadRequest("tenantId must use 1-64 characters from a-z, 0-9 and '-'")
    settings = {k: v for k, v in body.items() if k != "tenantId"}
    created = ctx.registry.put_tenant(req.route.app_id, tenant_id, settings)
    return json_response({"status": "OK", "createdNew": created})


def remove_tenant(ctx: Context, req: Request) -> Response:
    _public_only(req)
    body = req.fields({"tenantId"})
    tenant_id = require(body, "tenantId", str).lower()
    if tenant_id == "public":
        raise BadRequest("The public tenant cannot be removed")
    existed = ctx.registry.delete_tenant(req.route.app_id, tenant_id)
    return json_response({"status": "OK", "didExist": existed})


#: (method, API path) -> (handler, needs an API key)
ROUTES: dict[tuple[str, str], tuple[Handler, bool]] = {
    ("GET", "/apiversion"): (api_version, True),
    ("GET", "/user/id"): (user_by_id, True),
    ("POST", "/recipe/session"): (create_session, True),
    ("GET", "/recipe/session"): (session_information, True),
    ("POST", "/recipe/session/verify"): (verify_session, True),
    ("POST", "/recipe/session/refresh"): (refresh_session, True),
    ("POST", "/recipe/session/regenerate"): (regenerate, True),
    ("PUT", "/recipe/session/data"): (update_session_data, True),
    ("PUT", "/recipe/jwt/data"): (update_access_token_payload, True),
    ("POST", "/recipe/session/remove"): (remove_sessions, True),
    ("GET", "/recipe/session/user"): (sessions_of_user, True),
    ("GET", "/.well-known/jwks.json"): (jwks, False),
    ("GET", "/recipe/jwt/jwks"): (jwks, True),
    ("POST", "/recipe/jwt"): (create_jwt, True),
    ("PUT", "/recipe/multitenancy/app"): (put_app, True),
    ("PUT", "/recipe/multitenancy/app/v2"): (put_app, True),
    ("POST", "/recipe/multitenancy/app/remove"): (remove_app, True),
    ("GET", "/recipe/multitenancy/app/list/v2"): (list_apps, True),
    ("PUT", "/recipe/multitenancy/tenant/v2"): (put_tenant, True),
    ("POST", "/recipe/multitenancy/tenant/remove"): (remove_tenant, True),
}
