"""tessera's own session routes on the core, beside the CDI (whose routes the official
SDKs use and which stay as the SuperTokens core has them): a user's sessions as
devices, "log out my other devices", and "the user just re-authenticated".

All live under ``/tessera/sessions``; outcomes follow the CDI's style (HTTP 200 with a
``status``; ``UNAUTHORISED`` with ``"Session does not exist."`` for a session that is
gone), caller mistakes are plain-text 400s.
"""

from __future__ import annotations

from typing import Any

from ..engine._base import check_amr
from ..engine.sessions import DeviceSession
from .context import Context, app_of, observer_of, public_only
from .http import BadRequestError, Request, Response, json_response, query_bool, query_str, require

__all__ = ["mark_reauthenticated", "revoke_other_sessions", "sessions_of_user_with_devices"]

_GONE = {"status": "UNAUTHORISED", "message": "Session does not exist."}


def sessions_of_user_with_devices(ctx: Context, req: Request) -> Response:
    """``GET [/<tenant>]/tessera/sessions/user?userId=&fetchAcrossAllTenants=&limit=&cursor=
    &currentSessionHandle=``: a page of the user's sessions, most recently active first."""
    query = req.query
    user_id = query_str(query, "userId")
    across = query_bool(query, "fetchAcrossAllTenants", True)
    limit_text = query.get("limit", "20")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= 100:
        raise BadRequestError("Field name 'limit' must be a whole number from 1 to 100")
    cursor = query_str(query, "cursor") if "cursor" in query else None
    current = query_str(query, "currentSessionHandle") if "currentSessionHandle" in query else None
    if across:
        public_only(req)
    else:
        ctx.registry.check_tenant(req.route.app_id, req.route.tenant_id)
    engine = app_of(ctx, req).dynamic
    try:
        page = engine.get_sessions_for_user(
            user_id,
            None if across else req.route.tenant_id,
            now=ctx.clock(),
            limit=int(limit_text),
            cursor=cursor,
            current=current,
        )
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None
    return json_response(
        {
            "status": "OK",
            "sessions": [_item(item) for item in page.items],
            "nextCursor": page.next_cursor,
        }
    )


def revoke_other_sessions(ctx: Context, req: Request) -> Response:
    """``POST /tessera/sessions/revoke-others {"sessionHandle", "revokeAcrossAllTenants"?}``:
    end the user's sessions but this one (in its tenant, or in all)."""
    public_only(req)
    body = req.fields({"sessionHandle", "revokeAcrossAllTenants"})
    handle = require(body, "sessionHandle", str)
    across = require(body, "revokeAcrossAllTenants", bool, default=False)
    engine = app_of(ctx, req).dynamic
    now = ctx.clock()
    try:
        info = engine.get_session_information(handle, now=now)
    except ValueError as exc:
        raise BadRequestError(str(exc)) from None
    if info is None:
        return json_response(_GONE)
    observer = observer_of(ctx, req)
    started = observer.start()
    revoked = engine.revoke_other_sessions(handle, info.user_id, info.tenant_id, across, now=now)
    observer.revoked(revoked, "sign_out", now, started, user_id=info.user_id)
    return json_response({"status": "OK", "sessionHandlesRevoked": revoked})


def mark_reauthenticated(ctx: Context, req: Request) -> Response:
    """``POST /tessera/sessions/reauthenticated {"sessionHandle", "amr"?}``: the user
    proved who they are again just now. The session's stored claims get ``auth_time``
    (seconds) and, when given, ``amr``; its next access token (a refresh, or
    ``/recipe/session/regenerate`` without a payload) carries them."""
    public_only(req)
    body = req.fields({"sessionHandle", "amr"})
    handle = require(body, "sessionHandle", str)
    amr = require(body, "amr", list, default=None)
    now = ctx.clock()
    change: dict[str, Any] = {"auth_time": now // 1000}
    try:
        if amr is not None:
            change["amr"] = check_amr(amr)
        changed = app_of(ctx, req).dynamic.merge_into_access_token_payload(handle, change, now=now)
    except (ValueError, TypeError) as exc:
        raise BadRequestError(str(exc)) from None
    if not changed:
        return json_response(_GONE)
    return json_response({"status": "OK", "authTime": change["auth_time"]})


def _item(item: DeviceSession) -> dict[str, Any]:
    device = item.device
    return {
        "sessionHandle": item.session_handle,
        "userId": item.user_id,
        "tenantId": item.tenant_id,
        "timeCreated": item.time_created,
        "lastActive": item.last_active,
        "expiry": item.expiry,
        "ip": item.ip,
        "userAgent": item.user_agent,
        "lastIp": item.last_ip,
        "lastUserAgent": item.last_user_agent,
        "current": item.current,
        "device": {
            "label": device.label,
            "browser": device.browser,
            "browserVersion": device.browser_version,
            "os": device.os,
            "model": device.model,
            "deviceClass": device.device_class,
        },
    }
