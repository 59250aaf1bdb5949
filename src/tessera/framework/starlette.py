"""Sessions for Starlette and any ASGI app::

    from tessera.framework.starlette import TesseraMiddleware, create_new_session, verify_session

    app = Starlette(routes=[...])
    app.add_middleware(TesseraMiddleware, config=FrameworkConfig(api_base_path="/auth"))

    async def login(request):
        await create_new_session(request, "user-1")
        return JSONResponse({"ok": True})

    async def me(request):
        session = await verify_session()(request)
        return JSONResponse({"user": session.get_user_id()})

The middleware (pure ASGI) serves ``POST /auth/session/refresh`` and ``/auth/signout``,
turns session errors into the protocol's 401/403 answers, and writes tokens onto
responses. Settings come as ``config=FrameworkConfig(...)``; without ``tessera=``, the
default object set up by ``tessera.init()`` is used.

``CORSMiddleware`` may be added before or after it: the answers it makes itself pass
through every ``CORSMiddleware`` it wraps, as the app's own answers do.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..asyncio import Session
from ..errors import TesseraError
from .claims import ClaimValidator
from .config import FrameworkConfig
from .flows import Exchange, SessionLayer, VerifyOptions, create_flow, run_async, verify_flow
from .messages import Reply, RequestView

if TYPE_CHECKING:
    from .._tessera import Tessera

__all__ = ["Session", "TesseraMiddleware", "create_new_session", "get_session", "verify_session"]

_KEY = "tessera.exchange"
_REPLY = "tessera.reply"
#: How far down the wrapped app the middleware looks for ``CORSMiddleware``.
_MAX_DEPTH = 64


class TesseraMiddleware:
    """Pure ASGI middleware: ``app.add_middleware(TesseraMiddleware, tessera=..., config=...)``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        tessera: Tessera | None = None,
        config: FrameworkConfig | None = None,
    ) -> None:
        self.app = app
        self.layer = SessionLayer(tessera, config or FrameworkConfig())
        self._answer = _through_inner_cors(app)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = self.layer.exchange(_request_view(scope))
        scope[_KEY] = exchange
        started = False

        async def send_with_tokens(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = _apply(exchange, list(message.get("headers", ())))
            await send(message)

        api = self.layer.api_flow(exchange)
        if api is not None:
            try:
                reply = await run_async(api, exchange)
            except TesseraError as error:
                reply = exchange.fail(error)
            await self._answer({**scope, _REPLY: reply}, receive, send_with_tokens)
            return
        try:
            await self.app(scope, receive, send_with_tokens)
        except TesseraError as error:
            if started:
                raise
            await self._answer({**scope, _REPLY: exchange.fail(error)}, receive, send_with_tokens)


def verify_session(
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    claim_validators: Sequence[ClaimValidator] = (),
) -> Callable[[HTTPConnection], Awaitable[Session | None]]:
    """A callable that verifies the request's session: ``await verify_session()(request)``,
    or in FastAPI ``Depends(verify_session())``. Errors become 401/403 answers."""
    options = VerifyOptions(
        session_required=session_required,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        claim_validators=tuple(claim_validators),
    )

    async def verify(request: HTTPConnection) -> Session | None:
        session: Session | None = await run_async(
            verify_flow(_exchange(request), options), _exchange(request)
        )
        return session

    return verify


async def get_session(
    request: HTTPConnection,
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    claim_validators: Sequence[ClaimValidator] = (),
) -> Session | None:
    """The request's session, for code that is not a route. Raises the session errors;
    never refreshes or clears tokens itself."""
    return await verify_session(
        session_required=session_required,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        claim_validators=claim_validators,
    )(request)


async def create_new_session(
    request: HTTPConnection,
    user_id: str,
    access_token_payload: Mapping[str, Any] | None = None,
    session_data_in_database: Mapping[str, Any] | None = None,
    tenant_id: str = "public",
    *,
    amr: Sequence[str] | None = None,
) -> Session:
    """Start a session; its tokens go onto this request's response (cookies or headers,
    as the client asked with ``st-auth-mode``)."""
    exchange = _exchange(request)
    flow = create_flow(
        exchange, user_id, access_token_payload, session_data_in_database, tenant_id, amr
    )
    session: Session = await run_async(flow, exchange)
    return session


def _exchange(request: HTTPConnection) -> Exchange:
    exchange = request.scope.get(_KEY)
    if not isinstance(exchange, Exchange):
        raise RuntimeError("tessera: add TesseraMiddleware to the app (app.add_middleware(...))")
    return exchange


def _request_view(scope: Scope) -> RequestView:
    headers: dict[str, str] = {}
    cookie = ""
    for raw_name, raw_value in scope["headers"]:
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        if name == "cookie":
            cookie = f"{cookie}; {value}" if cookie else value
        elif name in headers:
            headers[name] = f"{headers[name]}, {value}"
        else:
            headers[name] = value
    client = scope.get("client")
    return RequestView(
        scope["method"], scope["path"], headers, cookie, client[0] if client else None
    )


def _apply(exchange: Exchange, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    plan = exchange.finish()
    if not plan:
        return headers
    replaced = {name.lower().encode("latin-1") for name in plan.headers}
    replaced.add(b"access-control-expose-headers")
    existing = [
        v.decode("latin-1") for n, v in headers if n.lower() == b"access-control-expose-headers"
    ]
    out = [(n, v) for n, v in headers if n.lower() not in replaced]
    out += [(n.encode("latin-1"), v.encode("latin-1")) for n, v in plan.headers.items()]
    out += [(b"set-cookie", c.header_value().encode("latin-1")) for c in plan.cookies]
    expose = plan.merged_expose_header(", ".join(existing) or None)
    if expose:
        out.append((b"access-control-expose-headers", expose.encode("latin-1")))
    return out


def _through_inner_cors(app: ASGIApp) -> ASGIApp:
    """An ASGI app that sends the middleware's own answer (``scope[_REPLY]``) through a
    copy of each ``CORSMiddleware`` inside ``app``, outermost first.

    Added before this middleware, ``CORSMiddleware`` sits inside it and never sees the
    answers made here (refresh, sign-out, 401s), so browsers would drop them.
    """
    found: list[CORSMiddleware] = []
    node: Any = app
    for _ in range(_MAX_DEPTH):
        if isinstance(node, CORSMiddleware):
            found.append(node)
        node = getattr(node, "app", None)  # the Starlette middleware convention
        if node is None:
            break
    answer: ASGIApp = _send_reply
    for cors in reversed(found):
        twin = copy.copy(cors)
        twin.app = answer
        answer = twin
    return answer


async def _send_reply(scope: Scope, receive: Receive, send: Send) -> None:
    reply: Reply = scope[_REPLY]
    body = reply.body_bytes()
    headers = [
        (b"content-type", reply.content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    headers += [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers.items()
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
