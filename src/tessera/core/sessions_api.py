"""The session endpoints of the Core Driver Interface (CDI 5.4): each turns a request
into an engine call and the engine's result into the JSON the SuperTokens SDKs expect.

Session outcomes are HTTP 200 with a ``status``: ``UNAUTHORISED`` and
``TRY_REFRESH_TOKEN`` carry a ``message``, ``TOKEN_THEFT_DETECTED`` the session's
handle and user. Caller mistakes are 400 with the core's plain-text messages.

Older clients are answered in their own dialect: below CDI 2.21 access tokens are
minted in version 2 (``legacy_tokens``), below 3.0 sessions carry no tenant or recipe
user. Version-2 tokens are verified whatever version the caller speaks.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from ..engine.access_token import PROTECTED_CLAIMS, AccessToken, check_custom_claims
from ..engine.keys import SigningKey
from ..engine.sessions import SessionEngine, SessionState
from ..errors import TokenTheftError, TryRefreshTokenError, UnauthorisedError
from .apps import AppEngines
from .context import Context, app_of, public_only
from .http import BadRequest, Request, Response, json_response, query_bool, query_str, require
from .legacy_tokens import is_v2_token, sign_v2_token, verify_v2_token

__all__ = [
    "create_session",
    "refresh_session",
    "regenerate",
    "remove_sessions",
    "session_information",
    "sessions_of_user",
    "update_access_token_payload",
    "update_session_data",
    "verify_session",
]

_NULLABLE_STR = (str, type(None))
#: Callers speaking an older CDI than this get version-2 access tokens.
_V2_TOKENS_BELOW = (2, 21)
#: Sessions name their tenant and recipe user from this CDI on.
_TENANTS_SINCE = (3, 0)

security_log = logging.getLogger("tessera.security")


def _claims(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in PROTECTED_CLAIMS}


def _session(state: SessionState, claims: dict[str, Any], req: Request) -> dict[str, Any]:
    if req.cdi_version < _TENANTS_SINCE:
        return {"handle": state.session_handle, "userId": state.user_id, "userDataInJWT": claims}
    return {
        "handle": state.session_handle,
        "userId": state.user_id,
        "recipeUserId": state.user_id,
        "userDataInJWT": claims,
        "tenantId": state.tenant_id,
    }


def _v2_key(req: Request, app: AppEngines, now: int) -> SigningKey | None:
    """The key to sign version-2 tokens with when the caller needs them, else ``None``.
    Checked before anything changes, so a refused request leaves no trace."""
    if req.cdi_version >= _V2_TOKENS_BELOW:
        return None
    if app.config.access_token_signing_algorithm != "RS256":
        raise BadRequest("cdi-version below 2.21 needs RS256 access token signing keys")
    return app.dynamic.keys.signing_key(now, dynamic=True)


def _token(state: SessionState, v2_key: SigningKey | None) -> dict[str, Any]:
    token = state.access_token
    text = token.token
    if v2_key is not None:
        payload = token.payload
        text = sign_v2_token(
            v2_key,
            session_handle=state.session_handle,
            user_id=state.user_id,
            refresh_token_hash1=payload["refreshTokenHash1"],
            parent_refresh_token_hash1=payload["parentRefreshTokenHash1"],
            user_data=_claims(payload),
            anti_csrf_token=payload["antiCsrfToken"],
            expiry=token.expiry,
            created_at=token.created_at,
        )
    return {"token": text, "expiry": token.expiry, "createdTime": token.created_at}


def _unauthorised(message: str) -> Response:
    return json_response({"status": "UNAUTHORISED", "message": message})


def _protected_claims(payload: dict[str, Any]) -> None:
    try:
        check_custom_claims(payload)
    except ValueError:
        raise BadRequest("The user payload contains protected field") from None


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
    app = app_of(ctx, req)
    ctx.registry.check_tenant(req.route.app_id, req.route.tenant_id)
    now = ctx.clock()
    v2_key = _v2_key(req, app, now)
    if v2_key is not None:
        dynamic = True  # version-2 tokens are signed with the dynamic keys
    try:
        state = app.engine(dynamic).create_new_session(
            user_id, claims, data, req.route.tenant_id, now=now, disable_anti_csrf=not anti_csrf
        )
    except (ValueError, TypeError) as exc:
        raise BadRequest(str(exc)) from None
    return _new_tokens_answer(state, claims, req, v2_key, now)


def verify_session(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields(
        {"accessToken", "antiCsrfToken", "doAntiCsrfCheck", "enableAntiCsrf", "checkDatabase"}
    )
    token = require(body, "accessToken", str)
    anti_csrf = require(body, "antiCsrfToken", _NULLABLE_STR, default=None)
    check_anti_csrf = require(body, "doAntiCsrfCheck", bool) and require(
        body, "enableAntiCsrf", bool
    )
    check_database = require(body, "checkDatabase", bool, default=False)
    app = app_of(ctx, req)
    engine = app.dynamic
    now = ctx.clock()
    v2_key = _v2_key(req, app, now)
    try:
        if is_v2_token(token):
            state = _v2_session(engine, token, anti_csrf, check_anti_csrf, now)
        else:
            state = engine.get_session(token, anti_csrf, now=now, anti_csrf_check=check_anti_csrf)
    except (UnauthorisedError, TryRefreshTokenError) as exc:
        return json_response({"status": "TRY_REFRESH_TOKEN", "message": exc.message})
    check = check_database or app.config.access_token_blacklisting
    if check:
        # The revocation feed answers when it is current (within its staleness bound).
        revoked = engine.is_revoked(state.session_handle)
        if revoked:
            return _unauthorised("Either the session has ended or has been blacklisted")
        # A stored payload changed since: the database gives the token its new claims.
        check = revoked is None or engine.payload_changed(state.session_handle) is not False
    try:
        confirmed = engine.confirm_access_token(state, now=now, check_database=check)
    except UnauthorisedError:
        return _unauthorised("Either the session has ended or has been blacklisted")
    answer: dict[str, Any] = {
        "status": "OK",
        "session": _session(confirmed, _claims(confirmed.access_token.payload), req),
    }
    if confirmed is not state:
        answer["accessToken"] = _token(confirmed, v2_key)
    return json_response(answer)


def _v2_session(
    engine: SessionEngine, token: str, anti_csrf: str | None, check_anti_csrf: bool, now: int
) -> SessionState:
    """What ``SessionEngine.get_session`` does for version-5 tokens, for a version-2 one:
    the signature of any live dynamic key, the claims, the expiry, the anti-CSRF token."""
    ring = engine.keys
    kids = [jwk["kid"] for jwk in ring.jwks(now)["keys"] if jwk["kid"].startswith("d-")]
    keys = [key for kid in kids if (key := ring.verification_key(kid, now)) is not None]
    try:
        payload = verify_v2_token(token, keys, now)
        expected = payload["antiCsrfToken"]
        if check_anti_csrf and (
            expected is None
            or anti_csrf is None
            or not hmac.compare_digest(expected.encode(), anti_csrf.encode())
        ):
            raise TryRefreshTokenError(reason="version-2 token: anti-CSRF token missing or wrong")
    except TryRefreshTokenError as exc:
        security_log.debug("access token rejected: %s", exc.reason)
        raise
    access = AccessToken(token, payload, payload["exp"] * 1000, payload["iat"] * 1000)
    return SessionState(
        session_handle=payload["sessionHandle"],
        user_id=payload["sub"],
        tenant_id=payload["tId"],
        access_token=access,
        anti_csrf_token=expected,
    )


def refresh_session(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"refreshToken", "antiCsrfToken", "enableAntiCsrf", "useDynamicSigningKey"})
    token = require(body, "refreshToken", str)
    anti_csrf = require(body, "antiCsrfToken", _NULLABLE_STR, default=None)
    enable = require(body, "enableAntiCsrf", bool)
    dynamic = require(body, "useDynamicSigningKey", bool, default=True)
    app = app_of(ctx, req)
    now = ctx.clock()
    v2_key = _v2_key(req, app, now)
    if v2_key is not None:
        dynamic = True
    try:
        state = app.engine(dynamic).refresh_session(
            token, anti_csrf, now=now, disable_anti_csrf=not enable
        )
    except TokenTheftError as exc:
        who = {"handle": exc.session_handle, "userId": exc.user_id, "recipeUserId": exc.user_id}
        return json_response({"status": "TOKEN_THEFT_DETECTED", "session": who})
    except UnauthorisedError as exc:
        return _unauthorised(exc.message)
    return _new_tokens_answer(state, _claims(state.access_token.payload), req, v2_key, now)


def regenerate(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"accessToken", "userDataInJWT"})
    token = require(body, "accessToken", str)
    claims = require(body, "userDataInJWT", (dict, type(None)), default=None)
    if claims is not None:
        _protected_claims(claims)
    app = app_of(ctx, req)
    now = ctx.clock()
    v2_key = _v2_key(req, app, now)
    try:
        state = app.dynamic.regenerate_access_token(token, claims, now=now)
    except (UnauthorisedError, TryRefreshTokenError):
        state = None
    if state is None:
        return _unauthorised("Session does not exist.")
    shown = (
        _claims(state.access_token.payload)
        if state.access_token_updated or claims is None
        else claims
    )
    answer: dict[str, Any] = {"status": "OK", "session": _session(state, shown, req)}
    if state.access_token_updated:
        answer["accessToken"] = _token(state, v2_key)
    return json_response(answer)


def session_information(ctx: Context, req: Request) -> Response:
    public_only(req)
    handle = query_str(req.query, "sessionHandle")
    info = app_of(ctx, req).dynamic.get_session_information(handle, now=ctx.clock())
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
    public_only(req)
    body = req.fields({"sessionHandle", "userDataInDatabase"})
    handle = require(body, "sessionHandle", str)
    data = require(body, "userDataInDatabase", dict)
    if not app_of(ctx, req).dynamic.update_session_data_in_database(handle, data, now=ctx.clock()):
        return _unauthorised("Session does not exist.")
    return json_response({"status": "OK"})


def update_access_token_payload(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"sessionHandle", "userDataInJWT"})
    handle = require(body, "sessionHandle", str)
    claims = require(body, "userDataInJWT", dict)
    _protected_claims(claims)
    engine = app_of(ctx, req).dynamic
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
    engine = app_of(ctx, req).dynamic
    if ("userId" in body) == ("sessionHandles" in body):
        raise BadRequest("Invalid JSON input - use one of userId or sessionHandles array")
    if "sessionHandles" in body:
        if "revokeAcrossAllTenants" in body or "revokeSessionsForLinkedAccounts" in body:
            raise BadRequest("Invalid JSON input - use one of userId or sessionHandles array")
        handles = require(body, "sessionHandles", list)
        if not all(isinstance(h, str) and "\x00" not in h for h in handles):
            raise BadRequest("Field name 'sessionHandles' is invalid in JSON input")
        revoked = engine.revoke_multiple_sessions(handles)
    else:
        user_id = require(body, "userId", str)
        across = require(body, "revokeAcrossAllTenants", bool, default=True)
        require(body, "revokeSessionsForLinkedAccounts", bool, default=True)
        if across:
            public_only(req)
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
    engine = app_of(ctx, req).dynamic
    if across:
        public_only(req)
    else:
        ctx.registry.check_tenant(req.route.app_id, req.route.tenant_id)
    handles = engine.get_all_session_handles_for_user(
        user_id, req.route.tenant_id, across, now=ctx.clock()
    )
    return json_response({"status": "OK", "sessionHandles": handles})


def _new_tokens_answer(
    state: SessionState,
    claims: dict[str, Any],
    req: Request,
    v2_key: SigningKey | None,
    now: int,
) -> Response:
    """The answer to create and refresh: the session, both new tokens, the anti-CSRF token.
    The refresh token's expiry is the engine's (capped by ``session_max_lifetime``)."""
    answer: dict[str, Any] = {
        "status": "OK",
        "session": _session(state, claims, req),
        "accessToken": _token(state, v2_key),
        "refreshToken": {
            "token": state.refresh_token,
            "expiry": state.refresh_token_expiry,
            "createdTime": now,
        },
    }
    if state.anti_csrf_token is not None:
        answer["antiCsrfToken"] = state.anti_csrf_token
    return json_response(answer)
