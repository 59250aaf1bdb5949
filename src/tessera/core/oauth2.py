"""Token introspection (RFC 7662) and token revocation (RFC 7009) for tessera's own
access and refresh tokens: ``POST [/appid-<app>]/tessera/oauth2/introspect`` and
``.../revoke``.

Requests are forms (``application/x-www-form-urlencoded``) with ``token`` and an optional
``token_type_hint`` (``access_token`` or ``refresh_token``; a hint only orders the
checks, and any other value is ignored). Parameters in the URL are refused: a token or a
key there ends up in proxy logs.

The client authenticates with a key that opens the app, as for the CDI routes: the app's
own keys, else the core's. It may send it in one of four ways: HTTP Basic with any
client id and the key as password (``client_secret_basic``), ``client_id`` and
``client_secret`` in the form (``client_secret_post``), the ``api-key`` header the SDKs
send, or ``Authorization: Bearer <key>``. A core without keys (and an app without keys
of its own on it) asks for none, as for every other route: ``guards.RequestGuard`` keeps
web pages and unknown host names out.

Refusals follow RFC 6749 section 5.2 (JSON ``{"error": ...}``), not the CDI's plain
text: these are OAuth endpoints and OAuth clients read them. A token is never a refusal:
introspection answers ``{"active": false}`` for anything it would not honour, without
saying why, and revocation answers 200 whatever the token was.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from ..engine.introspection import TokenIntrospection
from ..errors import UnknownAppError
from .apps import AppEngines
from .context import Context, app_of, observer_of, public_only
from .http import Request, Response, json_response

__all__ = ["INTROSPECT_PATH", "REVOKE_PATH", "introspect", "revoke"]

INTROSPECT_PATH = "/tessera/oauth2/introspect"
REVOKE_PATH = "/tessera/oauth2/revoke"

_FORM = "application/x-www-form-urlencoded"
#: More form fields than any client sends; a body of thousands is refused unparsed.
_MAX_FIELDS = 20
#: Token answers must not be cached (RFC 6749 section 5.1, RFC 7662 section 4).
_NO_STORE = [("cache-control", "no-store"), ("pragma", "no-cache")]


class _Refusal(Exception):
    """An RFC 6749 error answer: ``status``, ``error`` code, optional description."""

    def __init__(
        self, status: int, error: str, description: str = "", *, challenge: str = ""
    ) -> None:
        super().__init__(error)
        self.status, self.error = status, error
        self.description, self.challenge = description, challenge

    def response(self) -> Response:
        body = {"error": self.error}
        if self.description:
            body["error_description"] = self.description
        answer = _json(body)
        answer.status = self.status
        if self.challenge:
            answer.headers.append(("www-authenticate", f'{self.challenge} realm="tessera"'))
        return answer


def introspect(ctx: Context, req: Request) -> Response:
    """RFC 7662: whether ``token`` is active, and if so whose session it belongs to."""
    try:
        app, token, hint = _authorised(ctx, req)
    except _Refusal as refusal:
        return refusal.response()
    found = app.dynamic.introspect_token(token, now=ctx.clock(), hint=hint)
    return _json(_introspection(found))


def revoke(ctx: Context, req: Request) -> Response:
    """RFC 7009: end the session ``token`` was issued for; 200 whatever the token."""
    try:
        app, token, hint = _authorised(ctx, req)
    except _Refusal as refusal:
        return refusal.response()
    engine = app.dynamic
    now = ctx.clock()
    started = time.perf_counter()
    owner = engine.token_owner(token, now=now, hint=hint)
    # Through the engine's revoke, like every other: the revocation log and feed see it.
    if owner is not None and engine.revoke_session(owner.session_handle):
        observer_of(ctx, req).revoked(
            [owner.session_handle],
            "client",
            now,
            started,
            user_id=owner.user_id,
            tenant_id=owner.tenant_id,
        )
    return _json({})


def _introspection(found: TokenIntrospection | None) -> dict[str, Any]:
    """RFC 7662 section 2.2 names where one fits; tessera's own under plain names."""
    if found is None:
        return {"active": False}
    answer: dict[str, Any] = {"active": True}
    if found.kind == "access_token":
        answer["token_type"] = "Bearer"  # the RFC 6749 type: how the token is sent
    answer.update(
        token_use=found.kind,
        sub=found.user_id,
        exp=found.expires_at // 1000,
        iat=found.issued_at // 1000,
        sid=found.session_handle,
        tenant_id=found.tenant_id,
    )
    if found.issuer is not None:
        answer["iss"] = found.issuer
    if found.scope is not None:
        answer["scope"] = found.scope
    return answer


# -- the request ----------------------------------------------------------------------


def _authorised(ctx: Context, req: Request) -> tuple[AppEngines, str, str | None]:
    """The app, the token and the hint of a well-formed request from a client that
    holds a key of the app; ``_Refusal`` otherwise."""
    if req.query:
        raise _Refusal(
            400, "invalid_request", "Send parameters in the request body, never in the URL"
        )
    form = _form(req)
    _authenticate(ctx, req, form)
    public_only(req)
    try:
        app = app_of(ctx, req)
    except UnknownAppError:
        raise _Refusal(400, "invalid_request", "Unknown app") from None
    token = form.get("token")
    if token is None:
        raise _Refusal(400, "invalid_request", "The token parameter is missing")
    return app, token, form.get("token_type_hint")


def _form(req: Request) -> dict[str, str]:
    """The form's fields; empty ones count as absent (RFC 6749 section 3.1)."""
    media_type = req.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != _FORM:
        raise _Refusal(400, "invalid_request", f"Send the parameters as {_FORM}")
    try:
        pairs = parse_qsl(
            req.body.decode("utf-8"),
            keep_blank_values=True,
            errors="strict",
            max_num_fields=_MAX_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError too
        raise _Refusal(400, "invalid_request", "The body is not a valid form") from None
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise _Refusal(400, "invalid_request", "A parameter is given more than once")
    return {name: value for name, value in pairs if value}


def _authenticate(ctx: Context, req: Request, form: dict[str, str]) -> None:
    keys = _keys_of(ctx, req.route.app_id)
    if not keys:
        return  # as every route of a core (or app) without keys: see guards.py
    presented: list[str | None] = []
    challenge = "Basic"
    authorization = req.headers.get("authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "bearer":
            challenge = "Bearer"
            presented.append(credentials.strip())
        else:
            presented.append(_basic_password(credentials) if scheme.lower() == "basic" else None)
    if "api-key" in req.headers:
        presented.append(req.headers["api-key"].strip())
    if "client_secret" in form:
        presented.append(form["client_secret"])
    if len(presented) > 1:
        raise _Refusal(400, "invalid_request", "Use one way of client authentication")
    if not presented or not _opens(presented[0], keys):
        raise _Refusal(401, "invalid_client", challenge=challenge)


def _keys_of(ctx: Context, app_id: str) -> tuple[str, ...]:
    try:
        return ctx.registry.api_keys(app_id)
    except UnknownAppError:
        # As for the CDI routes: the core's keys guard unknown apps, so a caller
        # without them cannot learn which apps exist.
        return ctx.registry.core_api_keys


def _basic_password(credentials: str) -> str | None:
    """The password of HTTP Basic credentials, form-decoded as RFC 6749 section 2.3.1
    asks; the client id is not checked (the core has one client: whoever holds a key)."""
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    _, colon, password = decoded.partition(":")
    return unquote_plus(password) if colon else None


def _opens(secret: str | None, keys: tuple[str, ...]) -> bool:
    """Compared with every key, without stopping early: timing reveals nothing."""
    if secret is None:
        return False
    given = secret.encode("utf-8", "replace")
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(given, key.encode())
    return matched


def _json(value: dict[str, Any]) -> Response:
    return json_response(value, headers=list(_NO_STORE))
