"""Sessions for Flask::

    from flask import Flask, g, request
    from tessera.framework.flask import FlaskTessera, create_new_session, verify_session

    app = Flask(__name__)
    FlaskTessera(app)              # or FlaskTessera(config=...).init_app(app)

    @app.post("/login")
    def login():
        create_new_session(request, "user-1")
        return {"ok": True}

    @app.post("/logout")
    @verify_session()
    def logout():
        g.tessera.revoke_session()   # ends it in the database and clears the cookies
        return {"ok": True}

``FlaskTessera`` (named so it never shadows ``tessera.Tessera``) serves
``POST /auth/session/refresh`` and ``/auth/signout`` and writes tokens onto responses.
Settings come as ``config=FrameworkConfig(...)``; without ``tessera=``, the default
object set up by ``tessera.init()`` is used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import Flask, Request, Response, g, request

from ..errors import TesseraError
from ..syncio import Session
from .claims import ClaimValidator
from .config import FrameworkConfig
from .flows import Exchange, SessionLayer, VerifyOptions, create_flow, run_sync, verify_flow
from .messages import Reply, RequestView

if TYPE_CHECKING:
    from .._tessera import Tessera

__all__ = ["FlaskTessera", "Session", "create_new_session", "get_session", "verify_session"]

F = TypeVar("F", bound=Callable[..., Any])


class FlaskTessera:
    """The Flask extension: ``FlaskTessera(app, tessera=..., config=...)`` or ``init_app``."""

    def __init__(
        self,
        app: Flask | None = None,
        tessera: Tessera | None = None,
        config: FrameworkConfig | None = None,
    ) -> None:
        self.layer = SessionLayer(tessera, config or FrameworkConfig())
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.extensions["tessera"] = self
        app.before_request(self._before)
        app.after_request(self._after)
        app.register_error_handler(TesseraError, self._on_error)

    def _before(self) -> Response | None:
        exchange = self.layer.exchange(_request_view())
        g._tessera_exchange = exchange
        if request.method == "OPTIONS" and self.layer.serves(request.path):
            # The APIs are no Flask routes, so Flask would answer a CORS preflight with
            # 404 and the browser would never send the refresh; answer as Flask does
            # for its routes, and let flask-cors (or the app) add the CORS headers.
            return Response(status=200, headers={"Allow": "OPTIONS, POST"})
        api = self.layer.api_flow(exchange)
        if api is None:
            return None
        try:
            return _response(run_sync(api, exchange))
        except TesseraError as error:
            return _response(exchange.fail(error))

    def _after(self, response: Response) -> Response:
        exchange = g.pop("_tessera_exchange", None)
        if exchange is not None:
            plan = exchange.finish()
            for name, value in plan.headers.items():
                response.headers[name] = value
            for cookie in plan.cookies:
                response.headers.add("Set-Cookie", cookie.header_value())
            expose = plan.merged_expose_header(
                response.headers.get("Access-Control-Expose-Headers")
            )
            if expose:
                response.headers["Access-Control-Expose-Headers"] = expose
        return response

    def _on_error(self, error: TesseraError) -> Response:
        return _response(_exchange().fail(error))


def verify_session(
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    claim_validators: Sequence[ClaimValidator] = (),
) -> Callable[[F], F]:
    """Decorator for views: the verified session is in ``g.tessera`` (``None`` without a
    session when ``session_required=False``). Errors become 401/403 answers."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.tessera = get_session(
                request,
                session_required=session_required,
                anti_csrf_check=anti_csrf_check,
                check_database=check_database,
                claim_validators=claim_validators,
            )
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def get_session(
    request: Request,
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    claim_validators: Sequence[ClaimValidator] = (),
) -> Session | None:
    """The session of ``request`` (Flask's ``request``). Raises the session errors;
    never refreshes or clears tokens itself."""
    options = VerifyOptions(
        session_required=session_required,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        claim_validators=tuple(claim_validators),
    )
    exchange = _exchange()
    session: Session | None = run_sync(verify_flow(exchange, options), exchange)
    return session


def create_new_session(
    request: Request,
    user_id: str,
    access_token_payload: Mapping[str, Any] | None = None,
    session_data_in_database: Mapping[str, Any] | None = None,
    tenant_id: str = "public",
    *,
    amr: Sequence[str] | None = None,
) -> Session:
    """Start a session for ``request`` (Flask's ``request``); its tokens go onto the response."""
    exchange = _exchange()
    flow = create_flow(
        exchange, user_id, access_token_payload, session_data_in_database, tenant_id, amr
    )
    session: Session = run_sync(flow, exchange)
    return session


def _exchange() -> Exchange:
    exchange = g.get("_tessera_exchange")
    if not isinstance(exchange, Exchange):
        raise RuntimeError("tessera: set up the extension first: FlaskTessera(app)")
    return exchange


def _request_view() -> RequestView:
    headers = {name.lower(): value for name, value in request.headers.items()}
    cookie = headers.pop("cookie", "")
    return RequestView(request.method, request.path, headers, cookie, request.remote_addr)


def _response(reply: Reply) -> Response:
    return Response(
        reply.body_bytes(), reply.status, dict(reply.headers), content_type=reply.content_type
    )
