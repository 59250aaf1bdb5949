"""The token endpoints of the Core Driver Interface (CDI 5.4): create, verify, refresh
and regenerate, each turning a request into an engine call and the engine's result into
the JSON the SuperTokens SDKs expect.

Session outcomes are HTTP 200 with a ``status``: ``UNAUTHORISED`` and
``TRY_REFRESH_TOKEN`` carry a ``message``, ``TOKEN_THEFT_DETECTED`` the session's
handle and user. Caller mistakes are 400 with the core's plain-text messages.

Older clients are answered in their own dialect: create and refresh mint the access
token version of the caller's CDI, verify and regenerate answer in the version of the
token given (``tessera.engine.token_versions``). Tokens of every version are verified
whatever the caller speaks.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..engine.access_token import PROTECTED_CLAIMS
from ..engine.sessions import SessionEngine, SessionState
from ..errors import (
    SessionLimitReachedError,
    StorageError,
    TokenTheftError,
    TryRefreshTokenError,
    UnauthorisedError,
)
from .apps import AppEngines
from .context import Context, app_of, observer_of, public_only
from .http import BadRequestError, Request, Response, json_response, require, session_outcome
from .sessions_api import refuse_protected_claims, session_answer, session_gone

if TYPE_CHECKING:
    from ..metrics._recorder import Recorder

__all__ = ["create_session", "refresh_session", "regenerate", "verify_session"]

_NULLABLE_STR = (str, type(None))


def _claims(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in PROTECTED_CLAIMS}


def _minted_version(req: Request, app: AppEngines) -> int:
    """The token version create and refresh mint for this caller; checked before
    anything changes, so a refused request leaves no trace."""
    version = _token_version_for(req.cdi_version)
    if version == 2 and app.config.access_token_signing_algorithm != "RS256":
        raise BadRequestError("cdi-version below 2.21 needs RS256 access token signing keys")
    return version


def _token_version_for(cdi: tuple[int, int]) -> int:
    """The token version the SuperTokens core mints for a caller of this CDI version."""
    if cdi >= (4, 0):
        return 5
    if cdi >= (3, 0):
        return 4
    return 3 if cdi >= (2, 21) else 2


def _token(state: SessionState, version: int, app: AppEngines, now: int) -> dict[str, Any]:
    token = state.access_token
    text = app.dynamic.access_token_in_version(token, version, now=now)
    return {"token": text, "expiry": token.expiry, "createdTime": token.created_at}


def _ended(metrics: Recorder | None = None) -> Response:
    if metrics is not None:
        metrics.verify_failed(UnauthorisedError("revoked", reason="revoked"))
    return session_outcome(
        UnauthorisedError, message="Either the session has ended or has been blacklisted"
    )


def create_session(ctx: Context, req: Request) -> Response:
    body = req.fields(
        {"userId", "userDataInJWT", "userDataInDatabase", "enableAntiCsrf", "useDynamicSigningKey"}
    )
    user_id = require(body, "userId", str)
    claims = require(body, "userDataInJWT", dict)
    data = require(body, "userDataInDatabase", dict)
    anti_csrf = require(body, "enableAntiCsrf", bool)
    dynamic = require(body, "useDynamicSigningKey", bool, default=True)
    refuse_protected_claims(claims)
    app = app_of(ctx, req)
    ctx.registry.check_tenant(req.route.app_id, req.route.tenant_id)
    now = ctx.clock()
    version = _minted_version(req, app)
    if version == 2:
        dynamic = True  # version-2 tokens are checked against the dynamic keys
    observer = observer_of(ctx, req)
    started = observer.start()
    try:
        state = app.engine(dynamic).create_new_session(
            user_id, claims, data, req.route.tenant_id, now=now, disable_anti_csrf=not anti_csrf
        )
    except (ValueError, TypeError) as exc:
        raise BadRequestError(str(exc)) from None
    except (StorageError, SessionLimitReachedError) as exc:
        observer.create_failed(exc, now, None, None)
        raise
    observer.created(state, now, started, None, None)
    return _new_tokens_answer(state, claims, req, app, version, now)


def verify_session(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields(
        {"accessToken", "antiCsrfToken", "doAntiCsrfCheck", "enableAntiCsrf", "checkDatabase"}
    )
    token = require(body, "accessToken", str)
    anti_csrf = require(body, "antiCsrfToken", _NULLABLE_STR, default=None)
    # Both are checked, whatever the first says: a mistyped field is a 400, never ignored.
    do_check = require(body, "doAntiCsrfCheck", bool)
    enabled = require(body, "enableAntiCsrf", bool)
    check_anti_csrf = do_check and enabled
    check_database = require(body, "checkDatabase", bool, default=False)
    app = app_of(ctx, req)
    engine = app.dynamic
    now = ctx.clock()
    metrics = ctx.observer.metrics
    started = time.perf_counter()
    if metrics is not None:
        next(metrics.verify_calls)
    try:
        state, version = _verified_session(engine, token, anti_csrf, check_anti_csrf, now)
    except (UnauthorisedError, TryRefreshTokenError, StorageError) as exc:
        if metrics is not None:
            metrics.verify_failed(exc)
        if isinstance(exc, StorageError):
            raise
        # Whatever is wrong with the token, the SuperTokens core's answer is: refresh.
        return session_outcome(TryRefreshTokenError, message=exc.message)
    check = check_database or app.config.access_token_blacklisting
    if check:
        # The revocation feed answers when it is current (within its staleness bound).
        revoked = engine.is_revoked(state.session_handle)
        if revoked:
            return _ended(metrics)
        # A stored payload changed since: the database gives the token its new claims.
        check = revoked is None or engine.payload_changed(state.session_handle) is not False
    try:
        confirmed = engine.confirm_access_token(state, now=now, check_database=check)
    except UnauthorisedError:
        return _ended(metrics)
    if metrics is not None:  # every one: next to an HTTP request, timing costs nothing
        metrics.timed("verify", started)
    if check_database and state.activity_due:
        _note_activity(ctx, app, state.session_handle, now)
    answer: dict[str, Any] = {
        "status": "OK",
        "session": session_answer(confirmed, _claims(confirmed.access_token.payload), req),
    }
    if confirmed is not state:
        answer["accessToken"] = _token(confirmed, version, app, now)
    return json_response(answer)


def _note_activity(ctx: Context, app: AppEngines, handle: str, now: int) -> None:
    """The SDK asked for a database check, so the session is in use: record its last
    activity (time only: the SDK does not say from where), at most once per
    ``activity_write_interval``, from a background thread."""
    memo, write = app.activity, app.record_activity
    if memo is None or write is None or not memo.is_due(handle, now):
        return
    record = memo.take(handle, now, None, None)
    if record is not None:
        ctx.registry.activity_writer.submit(record, write)


def _verified_session(
    engine: SessionEngine, token: str, anti_csrf: str | None, check_anti_csrf: bool, now: int
) -> tuple[SessionState, int]:
    """The session of an access token of any version, and that version. Version 5 is
    tried first: a token of another version is not even shaped like one."""
    try:
        state = engine.verify_access_token(
            token, anti_csrf, now=now, anti_csrf_check=check_anti_csrf
        )
    except UnauthorisedError:
        older = engine.read_older_access_token(token, now=now)
        if older is None:
            raise
        upgraded, version = older
        state = engine.verify_access_token(
            upgraded, anti_csrf, now=now, anti_csrf_check=check_anti_csrf
        )
        return state, version
    return state, 5


def refresh_session(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"refreshToken", "antiCsrfToken", "enableAntiCsrf", "useDynamicSigningKey"})
    token = require(body, "refreshToken", str)
    anti_csrf = require(body, "antiCsrfToken", _NULLABLE_STR, default=None)
    enable = require(body, "enableAntiCsrf", bool)
    dynamic = require(body, "useDynamicSigningKey", bool, default=True)
    app = app_of(ctx, req)
    now = ctx.clock()
    version = _minted_version(req, app)
    if version == 2:
        dynamic = True
    observer = observer_of(ctx, req)
    started = observer.start()
    try:
        # As the SuperTokens core: a refresh is confirmed by the first use of its new
        # access token (verify), so it needs no acknowledgement write of its own.
        state = app.engine(dynamic).refresh_session(
            token, anti_csrf, now=now, disable_anti_csrf=not enable, confirmed_by_first_use=True
        )
    except (TokenTheftError, UnauthorisedError, StorageError) as exc:
        observer.refresh_failed(exc, now, None, None)
        if isinstance(exc, TokenTheftError):
            who = {"handle": exc.session_handle, "userId": exc.user_id, "recipeUserId": exc.user_id}
            return session_outcome(TokenTheftError, session=who)
        if isinstance(exc, StorageError):
            raise
        return session_outcome(UnauthorisedError, message=exc.message)
    observer.refreshed(state, now, started, None, None)
    return _new_tokens_answer(state, _claims(state.access_token.payload), req, app, version, now)


def regenerate(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"accessToken", "userDataInJWT"})
    token = require(body, "accessToken", str)
    claims = require(body, "userDataInJWT", (dict, type(None)), default=None)
    if claims is not None:
        refuse_protected_claims(claims)
    app = app_of(ctx, req)
    now = ctx.clock()
    version = 5
    try:
        older = app.dynamic.read_older_access_token(token, now=now, check_expiry=False)
        if older is not None:
            token, version = older
        state = app.dynamic.regenerate_access_token(token, claims, now=now)
    except (UnauthorisedError, TryRefreshTokenError):
        state = None
    if state is None:
        return session_gone()
    shown = (
        _claims(state.access_token.payload)
        if state.access_token_updated or claims is None
        else claims
    )
    answer: dict[str, Any] = {"status": "OK", "session": session_answer(state, shown, req)}
    if state.access_token_updated:
        answer["accessToken"] = _token(state, version, app, now)
    return json_response(answer)


def _new_tokens_answer(
    state: SessionState,
    claims: dict[str, Any],
    req: Request,
    app: AppEngines,
    version: int,
    now: int,
) -> Response:
    """The answer to create and refresh: the session, both new tokens, the anti-CSRF token.
    The refresh token's expiry is the engine's (capped by ``session_max_lifetime``)."""
    answer: dict[str, Any] = {
        "status": "OK",
        "session": session_answer(state, claims, req),
        "accessToken": _token(state, version, app, now),
        "refreshToken": {
            "token": state.refresh_token,
            "expiry": state.refresh_token_expiry,
            "createdTime": now,
        },
    }
    if state.anti_csrf_token is not None:
        answer["antiCsrfToken"] = state.anti_csrf_token
    return json_response(answer)
