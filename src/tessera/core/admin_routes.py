"""The admin API: an operator's operations (``tessera.admin.SessionAdmin``) as JSON,
under ``[/appid-<app>]/tessera/admin/``, opened by the keys that open the app's CDI
routes (sent in the ``api-key`` header, as the SDKs send them).

Answers follow the CDI: 200 with a ``status`` (``OK``; ``UNAUTHORISED`` for a session
that is gone, from the error table; ``COUNT_CHANGED`` when a bulk revocation would end
more sessions than were previewed), caller mistakes as plain-text 400s. Every
revocation is audited with the operator: a ``tessera-operator`` header names them.
(``admin_api.py`` holds other CDI routes: apps, tenants and keys.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._observer import Observer
from ..admin import Operator, SessionAdmin, session_match
from ..admin._http import presented_key, refuse_keys_in_url
from ..admin.auth import key_id, matching_key, operator_name
from ..admin.operations import MAX_PAGE, Preview
from ..devices import describe_device
from ..engine.values import is_clean_text
from ..errors import BadRequestError, UnauthorisedError
from ..storage.base import SessionMatch, SessionRecord
from .context import Context, public_only
from .http import Request, Response, json_response, require, session_outcome

if TYPE_CHECKING:
    from ..engine.sessions import SessionEngine

__all__ = ["ADMIN_ROUTES", "AppSubject", "admin_for", "detail", "summary"]

PREFIX = "/tessera/admin"
_FILTER = ("userId", "tenantId", "ip", "userAgent")


@dataclass(frozen=True)
class AppSubject:
    """One app of the core, as ``SessionAdmin`` works on it."""

    engine: SessionEngine
    observer: Observer
    clock: Callable[[], int]

    def now(self) -> int:
        return self.clock()


def admin_for(ctx: Context, app_id: str) -> SessionAdmin:
    app = ctx.registry.get(app_id)
    return SessionAdmin(AppSubject(app.dynamic, ctx.observer.for_app(app_id), ctx.clock))


def _admin(ctx: Context, req: Request) -> SessionAdmin:
    public_only(req)  # tenants are a filter here, not a path segment
    name = req.headers.get("tessera-operator", "").strip()
    if name and operator_name(name) is None:
        raise BadRequestError("tessera-operator must be at most 64 printable characters")
    return admin_for(ctx, req.route.app_id)


def _operator(ctx: Context, req: Request) -> Operator:
    presented = presented_key(req.headers)
    used = None
    if presented is not None:
        used = matching_key(presented, ctx.registry.api_keys(req.route.app_id))
    name = operator_name(req.headers.get("tessera-operator"))
    return Operator(name, None if used is None else key_id(used), req.client_ip)


def _query(req: Request, allowed: set[str]) -> dict[str, str]:
    refuse_keys_in_url(req.query)
    for name, value in req.query.items():
        if name not in allowed:
            raise BadRequestError(f"Field name '{name}' is not known to this API")
        if not is_clean_text(value):
            raise BadRequestError(f"Field name '{name}' is invalid in GET request")
    return dict(req.query)


def _match(fields: dict[str, Any]) -> SessionMatch:
    return session_match(
        user_id=fields.get("userId"),
        tenant_id=fields.get("tenantId"),
        ip=fields.get("ip"),
        user_agent=fields.get("userAgent"),
    )


def _body_filter(req: Request, *extra: str) -> dict[str, Any]:
    body = req.fields({*_FILTER, *extra})
    for name in _FILTER:
        require(body, name, (str, type(None)), default=None)
    return body


# -- the JSON shapes --------------------------------------------------------------------------


def summary(r: SessionRecord) -> dict[str, Any]:
    return {
        "sessionHandle": r.session_handle,
        "userId": r.user_id,
        "tenantId": r.tenant_id,
        "device": describe_device(r.last_user_agent or r.user_agent).label,
        "ip": r.ip,
        "userAgent": r.user_agent,
        "lastIp": r.last_ip or r.ip,
        "lastUserAgent": r.last_user_agent or r.user_agent,
        "createdAt": r.created_at,
        "lastActiveAt": r.last_active_at,
        "expiresAt": r.expires_at,
    }


def detail(r: SessionRecord) -> dict[str, Any]:
    return {
        **summary(r),
        "lastRefreshedAt": r.last_refreshed_at,
        "accessTokenPayload": r.access_token_payload,
        "sessionData": r.session_data,
    }


def _preview_json(preview: Preview) -> dict[str, Any]:
    return {
        "count": preview.count,
        "confirmation": preview.confirmation,
        "expiresAt": preview.expires_at,
    }


# -- the routes -------------------------------------------------------------------------------


def search(ctx: Context, req: Request) -> Response:
    query = _query(req, {*_FILTER, "limit", "cursor"})
    limit_text = query.get("limit", "50")
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= MAX_PAGE:
        raise BadRequestError(f"limit must be a whole number from 1 to {MAX_PAGE}")
    admin = _admin(ctx, req)
    page = admin.search(_match(query), limit=int(limit_text), cursor=query.get("cursor") or None)
    return json_response(
        {
            "status": "OK",
            "sessions": [summary(r) for r in page.sessions],
            "nextCursor": page.next_cursor,
        }
    )


def view(ctx: Context, req: Request) -> Response:
    query = _query(req, {"sessionHandle"})
    if "sessionHandle" not in query:
        raise BadRequestError("Field name 'sessionHandle' is missing in GET request")
    record = _admin(ctx, req).session(query["sessionHandle"])
    if record is None:
        return session_outcome(UnauthorisedError, message="Session does not exist.")
    return json_response({"status": "OK", "session": detail(record)})


def revoke_session(ctx: Context, req: Request) -> Response:
    handle = require(req.fields({"sessionHandle"}), "sessionHandle", str)
    revoked = _admin(ctx, req).revoke_session(handle, _operator(ctx, req))
    return json_response({"status": "OK", "revoked": revoked})


def revoke_user(ctx: Context, req: Request) -> Response:
    body = req.fields({"userId", "tenantId"})
    user_id = require(body, "userId", str)
    tenant_id = require(body, "tenantId", (str, type(None)), default=None)
    ended = _admin(ctx, req).revoke_user(user_id, tenant_id, _operator(ctx, req))
    return json_response({"status": "OK", "sessionHandlesRevoked": ended})


def preview(ctx: Context, req: Request) -> Response:
    body = _body_filter(req)
    result = _admin(ctx, req).preview(_match(body))
    return json_response({"status": "OK", **_preview_json(result)})


def revoke_matching(ctx: Context, req: Request) -> Response:
    body = _body_filter(req, "expectedCount", "confirmation")
    expected = require(body, "expectedCount", int)
    confirmation = require(body, "confirmation", str)
    if expected < 0:
        raise BadRequestError("expectedCount must be the count the preview gave")
    admin = _admin(ctx, req)
    outcome = admin.revoke_matching(_match(body), expected, confirmation, _operator(ctx, req))
    if outcome.ended is None:
        assert outcome.preview is not None
        return json_response({"status": "COUNT_CHANGED", **_preview_json(outcome.preview)})
    return json_response({"status": "OK", "sessionHandlesRevoked": outcome.ended})


def keys(ctx: Context, req: Request) -> Response:
    _query(req, set())
    schedule = _admin(ctx, req).key_schedule()
    return json_response(
        {
            "status": "OK",
            "keys": [
                {
                    "kid": k.kid,
                    "algorithm": k.algorithm,
                    "kind": "dynamic" if k.dynamic else "static",
                    "createdAt": k.created_at,
                    "verifiesUntil": k.verifies_until,
                    "signing": k.signing,
                }
                for k in schedule.keys
            ],
            "rotationIntervalMs": schedule.rotation_interval_ms,
            "nextRotationAt": schedule.next_rotation_at,
        }
    )


#: (method, API path) -> handler; each needs the app's API key.
ADMIN_ROUTES: dict[tuple[str, str], Callable[[Context, Request], Response]] = {
    ("GET", f"{PREFIX}/sessions"): search,
    ("GET", f"{PREFIX}/session"): view,
    ("POST", f"{PREFIX}/session/revoke"): revoke_session,
    ("POST", f"{PREFIX}/user/revoke"): revoke_user,
    ("POST", f"{PREFIX}/sessions/preview"): preview,
    ("POST", f"{PREFIX}/sessions/revoke"): revoke_matching,
    ("GET", f"{PREFIX}/keys"): keys,
}
