"""The session endpoints of the Core Driver Interface (CDI 5.4) that read and change
stored sessions: information, data, access-token payload, removal, a user's sessions;
and the session object every session answer carries (``tokens_api`` answers with it too).

A session that does not exist is an ``UNAUTHORISED`` outcome (HTTP 200 with a
``status``, as the SuperTokens core answers); caller mistakes are 400 with the core's
plain-text messages. Sessions name their tenant from CDI 3.0 and their recipe user from
4.0: older callers get answers without them.
"""

from __future__ import annotations

import time
from typing import Any

from ..engine.access_token import check_custom_claims
from ..engine.sessions import SessionState
from ..errors import UnauthorisedError
from .context import Context, app_of, observer_of, public_only
from .http import (
    BadRequestError,
    Request,
    Response,
    json_response,
    query_bool,
    query_str,
    require,
    session_outcome,
)

__all__ = [
    "refuse_protected_claims",
    "remove_sessions",
    "session_answer",
    "session_gone",
    "session_information",
    "sessions_of_user",
    "update_access_token_payload",
    "update_session_data",
]

#: Sessions name their tenant from this CDI on, and their recipe user from the next.
_TENANTS_SINCE = (3, 0)
_RECIPE_USERS_SINCE = (4, 0)


def session_answer(state: SessionState, claims: dict[str, Any], req: Request) -> dict[str, Any]:
    """The ``session`` object of an answer, in the caller's dialect."""
    session: dict[str, Any] = {
        "handle": state.session_handle,
        "userId": state.user_id,
        "recipeUserId": state.user_id,
        "userDataInJWT": claims,
        "tenantId": state.tenant_id,
    }
    _dialect(session, req)
    return session


def _dialect(answer: dict[str, Any], req: Request) -> None:
    """Leave out what the caller's CDI version did not have yet."""
    if req.cdi_version < _TENANTS_SINCE:
        answer.pop("tenantId")
    if req.cdi_version < _RECIPE_USERS_SINCE:
        answer.pop("recipeUserId")


def session_gone() -> Response:
    """The answer about a session that does not exist."""
    return session_outcome(UnauthorisedError, message="Session does not exist.")


def refuse_protected_claims(payload: dict[str, Any]) -> None:
    """``BadRequestError`` when ``payload`` sets a claim tessera owns (``sub``, ``exp``, ...)."""
    try:
        check_custom_claims(payload)
    except ValueError:
        raise BadRequestError("The user payload contains protected field") from None


def session_information(ctx: Context, req: Request) -> Response:
    public_only(req)
    handle = query_str(req.query, "sessionHandle")
    info = app_of(ctx, req).dynamic.get_session_information(handle, now=ctx.clock())
    if info is None:
        return session_gone()
    answer = {
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
    _dialect(answer, req)
    return json_response(answer)


def update_session_data(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"sessionHandle", "userDataInDatabase"})
    handle = require(body, "sessionHandle", str)
    data = require(body, "userDataInDatabase", dict)
    if not app_of(ctx, req).dynamic.update_session_data_in_database(handle, data, now=ctx.clock()):
        return session_gone()
    return json_response({"status": "OK"})


def update_access_token_payload(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"sessionHandle", "userDataInJWT"})
    handle = require(body, "sessionHandle", str)
    claims = require(body, "userDataInJWT", dict)
    refuse_protected_claims(claims)
    engine = app_of(ctx, req).dynamic
    now = ctx.clock()
    info = engine.get_session_information(handle, now=now)
    # The CDI replaces the stored claims: remove the ones the new object lacks.
    removed = {} if info is None else dict.fromkeys(info.custom_claims_in_access_token_payload)
    if info is None or not engine.merge_into_access_token_payload(
        handle, {**removed, **claims}, now=now
    ):
        return session_gone()
    return json_response({"status": "OK"})


def remove_sessions(ctx: Context, req: Request) -> Response:
    body = req.fields(
        {"userId", "sessionHandles", "revokeAcrossAllTenants", "revokeSessionsForLinkedAccounts"}
    )
    engine = app_of(ctx, req).dynamic
    if ("userId" in body) == ("sessionHandles" in body):
        raise BadRequestError("Invalid JSON input - use one of userId or sessionHandles array")
    if "sessionHandles" in body:
        if "revokeAcrossAllTenants" in body or "revokeSessionsForLinkedAccounts" in body:
            raise BadRequestError("Invalid JSON input - use one of userId or sessionHandles array")
        handles = require(body, "sessionHandles", list)
        if not all(isinstance(h, str) and "\x00" not in h for h in handles):
            raise BadRequestError("Field name 'sessionHandles' is invalid in JSON input")
        started = time.perf_counter()
        revoked = engine.revoke_multiple_sessions(handles)
    else:
        user_id = require(body, "userId", str)
        across = require(body, "revokeAcrossAllTenants", bool, default=True)
        require(body, "revokeSessionsForLinkedAccounts", bool, default=True)
        if across:
            public_only(req)
        else:
            ctx.registry.check_tenant(req.route.app_id, req.route.tenant_id)
        started = time.perf_counter()
        revoked = engine.revoke_all_sessions_for_user(
            user_id, req.route.tenant_id, across, now=ctx.clock()
        )
    # Through an API key: the SDK's revoke functions and an operator's scripts alike.
    observer_of(ctx, req).revoked(revoked, "operator", ctx.clock(), started)
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
