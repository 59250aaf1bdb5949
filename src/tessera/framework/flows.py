"""What happens on a request, written once for sync and async frameworks.

Each flow (verify a session, refresh, sign out, create a session) is a generator that
reads the request view and decides. Where it needs the database it yields a ``Call``
naming a function that ``tessera.syncio`` and ``tessera.asyncio`` both offer, with the
same arguments; the driver of the framework's concurrency model (``run_sync`` or
``run_async``, at the end) makes the call and sends the result back into the flow. The
sessions a flow hands to the route are recorded on the ``Exchange``, whose ``finish``
turns their token changes into the response.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from .. import _headers as h
from .. import get_default
from .._session import SessionBase
from ..config import AntiCsrf
from ..errors import TesseraError, TryRefreshTokenError, UnauthorisedError
from .claims import ClaimValidator, check_claims
from .config import FrameworkConfig
from .error_table import DuplicateCookiesError, reply_for_error
from .messages import Reply, RequestView
from .transport import (
    ResponsePlan,
    TokenSource,
    attach_tokens,
    clear_duplicate_cookies,
    clear_legacy_cookie,
    clear_tokens,
    creation_method,
    read_access_token,
    read_refresh_token,
    tokens_present,
)

if TYPE_CHECKING:
    from .._tessera import Tessera

__all__ = ["Call", "Exchange", "SessionLayer", "VerifyOptions", "run_async", "run_sync"]

R = TypeVar("R")


class Call:
    """A session function a flow needs called: ``Call("revoke_session", handle)`` is
    ``tessera.syncio.revoke_session(handle)`` or ``await tessera.asyncio...`` alike."""

    __slots__ = ("args", "kwargs", "name")

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        self.name, self.args, self.kwargs = name, args, kwargs


Flow = Generator[Call, Any, R]


@dataclass(frozen=True, kw_only=True)
class VerifyOptions:
    session_required: bool = True
    #: ``None``: check on every method but GET.
    anti_csrf_check: bool | None = None
    check_database: bool = False
    claim_validators: Sequence[ClaimValidator] = field(default_factory=tuple)


# -- per app, per request ------------------------------------------------------------


class SessionLayer:
    """A ``Tessera`` object bound to a ``FrameworkConfig``: what each adapter holds.

    Without a ``Tessera`` object, the default from ``tessera.init()`` is used, looked up
    at the first request (so the app may call ``init`` after building the adapter)."""

    def __init__(self, tessera: Tessera | None, config: FrameworkConfig) -> None:
        if not isinstance(config, FrameworkConfig):
            raise TypeError("config must be a tessera.framework.FrameworkConfig")
        self.config = config
        self._tessera = tessera
        self._anti_csrf: AntiCsrf | None = None
        if tessera is not None:
            self._anti_csrf = config.anti_csrf_mode(tessera.config)

    @property
    def tessera(self) -> Tessera:
        if self._tessera is None:
            self._tessera = get_default()
        return self._tessera

    @property
    def anti_csrf(self) -> AntiCsrf:
        if self._anti_csrf is None:
            self._anti_csrf = self.config.anti_csrf_mode(self.tessera.config)
        return self._anti_csrf

    def exchange(self, request: RequestView) -> Exchange:
        return Exchange(self, request)

    def serves(self, path: str) -> bool:
        """Whether ``path`` is one of the auth APIs this layer answers."""
        config = self.config
        return (config.serve_refresh_api and path == config.refresh_path) or (
            config.serve_sign_out_api and path == config.sign_out_path
        )

    def api_flow(self, exchange: Exchange) -> Flow[Reply] | None:
        """The auth API this request calls, if any."""
        request = exchange.request
        if request.method != "POST" or not self.serves(request.path):
            return None
        if request.path == self.config.refresh_path:
            return refresh_flow(exchange)
        return sign_out_flow(exchange)


class Exchange:
    """One request's session business: what came in and what must go out."""

    def __init__(self, layer: SessionLayer, request: RequestView) -> None:
        self.layer = layer
        self.config = layer.config
        self.request = request
        self.plan = ResponsePlan()
        #: The sessions handed to the route, and how their tokens travel.
        self.sessions: list[tuple[SessionBase, TokenSource]] = []

    def hand_out(self, session: SessionBase, method: TokenSource) -> SessionBase:
        """Record a session the response must reflect, and return it for the route."""
        self.sessions.append((session, method))
        return session

    def fail(self, error: TesseraError) -> Reply:
        """The answer to ``error`` (token clearing goes onto the plan)."""
        return reply_for_error(error, self.request, self.config, self.plan)

    def finish(self) -> ResponsePlan:
        """The response changes, once the handler is done with its sessions."""
        plan, config = self.plan, self.config
        for session, method in self.sessions:
            state = session._state
            if session._revoked:
                clear_tokens(plan, config)
            elif state.access_token_updated:
                now = self.layer.tessera.now()
                tokens = session.get_all_session_tokens_dangerously()
                attach_tokens(
                    plan,
                    config,
                    method,
                    now=now,
                    access_token=tokens["accessToken"],
                    front_token=tokens["frontToken"],
                    refresh_token=state.refresh_token,
                    refresh_expiry=state.refresh_token_expiry,
                    anti_csrf_token=state.anti_csrf_token,
                )
        self.sessions.clear()
        return plan


# -- the flows -----------------------------------------------------------------------


def verify_flow(exchange: Exchange, options: VerifyOptions) -> Flow[Any]:
    request, config = exchange.request, exchange.config
    cookies = request.cookies
    if h.LEGACY_ID_REFRESH_COOKIE in cookies:
        raise TryRefreshTokenError(reason="legacy id-refresh cookie")
    token, source = read_access_token(request, config)
    if token is not None and source == "cookie" and request.cookie_count(h.ACCESS_TOKEN_COOKIE) > 1:
        # Which copy is ours is unknown: expire the others, then the refresh sets ours.
        clear_duplicate_cookies(exchange.plan, config, request, h.ACCESS_TOKEN_COOKIE)
        raise TryRefreshTokenError(reason="several access-token cookies")
    check = options.anti_csrf_check
    if check is None:
        check = request.method not in ("GET", "HEAD", "OPTIONS")
    engine_check = False
    if token is not None and source == "cookie" and check:
        mode = exchange.layer.anti_csrf
        if mode == "VIA_CUSTOM_HEADER" and not request.header(h.RID):
            raise TryRefreshTokenError(reason="anti-CSRF: rid header missing")
        engine_check = mode == "VIA_TOKEN"
    session = yield Call(
        "get_session_without_request_response",
        token,
        request.header(h.ANTI_CSRF),
        anti_csrf_check=engine_check,
        check_database=options.check_database,
        session_required=options.session_required,
    )
    if session is None:
        return None
    validators = options.claim_validators
    if validators:
        check_claims(session.get_access_token_payload(), validators, exchange.layer.tessera.now())
    return exchange.hand_out(session, source)


def refresh_flow(exchange: Exchange) -> Flow[Reply]:
    request, config, plan = exchange.request, exchange.config, exchange.plan
    token, source = read_refresh_token(request, config)
    # Neither a request without a refresh token nor one failing the anti-CSRF check
    # clears anything: a cross-site form POST is such a request, and clearing on it
    # would let any site log the user out.
    if token is None:
        raise UnauthorisedError("no session", reason="no refresh token", clear_tokens=False)
    disable_anti_csrf = True
    if source == "cookie":
        mode = exchange.layer.anti_csrf
        if mode == "VIA_CUSTOM_HEADER" and not request.header(h.RID):
            raise UnauthorisedError(
                "anti-CSRF check failed", reason="refresh: rid header missing", clear_tokens=False
            )
        disable_anti_csrf = mode != "VIA_TOKEN"
        duplicated = tuple(
            name
            for name in (h.REFRESH_TOKEN_COOKIE, h.ACCESS_TOKEN_COOKIE)
            if request.cookie_count(name) > 1
        )
        if h.REFRESH_TOKEN_COOKIE in duplicated:
            raise DuplicateCookiesError(duplicated)
        if duplicated:  # only the access token: refresh, and expire the other copies
            clear_duplicate_cookies(plan, config, request, h.ACCESS_TOKEN_COOKIE)
    session = yield Call(
        "refresh_session_without_request_response",
        token,
        request.header(h.ANTI_CSRF),
        disable_anti_csrf=disable_anti_csrf,
        ip=request.client_ip,
        user_agent=request.user_agent,
    )
    for other in tokens_present(request) - {source}:
        clear_tokens(plan, config, (other,))
    if h.LEGACY_ID_REFRESH_COOKIE in request.cookies:
        clear_legacy_cookie(plan, config)
    exchange.hand_out(session, source)  # its new tokens go onto the reply
    return Reply(200, {})


def sign_out_flow(exchange: Exchange) -> Flow[Reply]:
    session = yield from verify_flow(exchange, VerifyOptions())
    yield Call("_sign_out", session.get_handle())
    session._revoked = True  # so ``finish`` clears the client's tokens
    return Reply(200, {"status": "OK"})


def create_flow(
    exchange: Exchange,
    user_id: str,
    access_token_payload: Mapping[str, Any] | None,
    session_data_in_database: Mapping[str, Any] | None,
    tenant_id: str,
    amr: Sequence[str] | None = None,
) -> Flow[Any]:
    request, config = exchange.request, exchange.config
    method = creation_method(request, config)
    replaced = read_access_token(request, config)[0] if config.end_replaced_session else None
    session = yield Call(
        "create_new_session",
        user_id,
        access_token_payload,
        session_data_in_database,
        tenant_id,
        ip=request.client_ip,
        user_agent=request.user_agent,
        disable_anti_csrf=method == "header",
        amr=amr,
    )
    if replaced is not None:
        yield Call("_end_replaced_session", replaced, session.get_handle())
    for other in tokens_present(request) - {method}:
        clear_tokens(exchange.plan, config, (other,))
    return exchange.hand_out(session, method)


# -- the two drivers: each makes the calls a flow asks for, until it returns ----------


def run_sync(flow: Flow[R], exchange: Exchange) -> R:
    sessions = exchange.layer.tessera.syncio
    result: Any = None
    while True:
        try:
            call = flow.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        result = getattr(sessions, call.name)(*call.args, **call.kwargs)


async def run_async(flow: Flow[R], exchange: Exchange) -> R:
    sessions = exchange.layer.tessera.asyncio
    result: Any = None
    while True:
        try:
            call = flow.send(result)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        result = await getattr(sessions, call.name)(*call.args, **call.kwargs)
