"""The same small app in every framework, for the HTTP and browser tests.

Routes: ``POST /login`` (JSON ``{"userId", "payload"?}``), ``GET|POST /protected``,
``GET /optional`` (session not required), ``GET /claim`` (a claim validator that fails),
``GET /check-db`` (database check), ``POST /logout`` (revoke through the session),
``POST /update-payload``, ``POST /revoke-all`` (JSON ``{"userId"}``),
``GET /fresh`` (``require_fresh(FRESH_MAX_AGE)``), ``POST /reauth``
(``mark_reauthenticated`` with ``amr=["pwd", "otp"]``), ``POST /logout-others``
(``revoke_other_sessions``; JSON ``{"allTenants"?}``), and ``GET /test/log`` (the
requests seen so far, for the browser suite). ``/login`` takes ``"amr"`` and
``"tenantId"`` too. ``Served`` is one of these apps behind a loopback server.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

import httpx

from tessera import Tessera
from tessera.framework import (
    ClaimValidationError,
    FrameworkConfig,
    get_all_cors_headers,
    require_fresh,
)

from .clock import FakeClock

RequestLog = list[dict[str, Any]]
FRESH_MAX_AGE = 300
fresh = require_fresh(FRESH_MAX_AGE)


def failing_claim(payload: Mapping[str, Any]) -> ClaimValidationError | None:
    if payload.get("role") != "admin":
        return ClaimValidationError(
            "st-role", {"message": "wrong value", "expectedToInclude": "admin"}
        )
    return None


def logged(method: str, path: str, headers: Mapping[str, str]) -> dict[str, Any]:
    keep = ("rid", "st-auth-mode", "fdi-version", "anti-csrf", "authorization", "origin")
    return {
        "method": method,
        "path": path,
        "headers": {k: headers[k] for k in keep if k in headers},
    }


# -- FastAPI -------------------------------------------------------------------------


def fastapi_app(
    tessera: Tessera,
    log: RequestLog,
    *,
    cors_origin: str | None = None,
    cors_inside: bool = False,
    strip_expose: bool = False,
    **settings: Any,
) -> Any:
    """``cors_inside``: add ``CORSMiddleware`` first, so that tessera's wraps it."""
    from fastapi import Depends, FastAPI, Request
    from fastapi.responses import JSONResponse

    from tessera.framework.fastapi import Session, create_new_session, verify_session

    app = FastAPI()

    @app.post("/login")
    async def login(request: Request) -> dict[str, Any]:
        body = await request.json()
        await create_new_session(
            request,
            body["userId"],
            body.get("payload"),
            tenant_id=body.get("tenantId", "public"),
            amr=body.get("amr"),
        )
        return {"userId": body["userId"]}

    @app.get("/fresh")
    async def fresh_route(
        session: Annotated[Session, Depends(verify_session(claim_validators=[fresh]))],
    ) -> dict[str, Any]:
        return {"authTime": session.get_auth_time()}

    @app.post("/reauth")
    async def reauth(session: Annotated[Session, Depends(verify_session())]) -> dict[str, Any]:
        await session.mark_reauthenticated(["pwd", "otp"])
        return {"authTime": session.get_auth_time()}

    @app.post("/logout-others")
    async def logout_others(
        request: Request, session: Annotated[Session, Depends(verify_session())]
    ) -> dict[str, Any]:
        body = json.loads(await request.body() or b"{}")
        return {"revoked": await session.revoke_other_sessions(bool(body.get("allTenants")))}

    @app.api_route("/protected", methods=["GET", "POST"])
    async def protected(session: Annotated[Session, Depends(verify_session())]) -> dict[str, Any]:
        return {"userId": session.get_user_id(), "handle": session.get_handle()}

    @app.get("/optional")
    async def optional(
        session: Annotated[Session | None, Depends(verify_session(session_required=False))],
    ) -> dict[str, Any]:
        return {"userId": session.get_user_id() if session else None}

    @app.get("/claim")
    async def claim(
        _: Annotated[Session, Depends(verify_session(claim_validators=[failing_claim]))],
    ) -> dict[str, Any]:
        return {}

    @app.get("/check-db")
    async def check_db(
        session: Annotated[Session, Depends(verify_session(check_database=True))],
    ) -> dict[str, Any]:
        return {"userId": session.get_user_id()}

    @app.post("/logout")
    async def logout(session: Annotated[Session, Depends(verify_session())]) -> dict[str, Any]:
        await session.revoke_session()
        return {"status": "OK"}

    @app.post("/update-payload")
    async def update_payload(
        session: Annotated[Session, Depends(verify_session())],
    ) -> dict[str, Any]:
        await session.merge_into_access_token_payload({"role": "admin"})
        return {}

    @app.post("/revoke-all")
    async def revoke_all(request: Request) -> dict[str, Any]:
        body = await request.json()
        return {"revoked": await tessera.asyncio.revoke_all_sessions_for_user(body["userId"])}

    @app.get("/test/log")
    async def test_log() -> JSONResponse:
        return JSONResponse(log)

    @app.get("/always-401")
    async def always_401() -> JSONResponse:
        return JSONResponse({"message": "try refresh token"}, status_code=401)

    add_tessera_and_cors(app, tessera, cors_origin, cors_inside, settings)
    inner: Any = app
    if strip_expose:
        inner = _strip_expose_asgi(app)

    async def logging_app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] != "/test/log":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            log.append(logged(scope["method"], scope["path"], headers))
        await inner(scope, receive, send)

    return logging_app


def add_tessera_and_cors(
    app: Any, tessera: Tessera, cors_origin: str | None, cors_inside: bool, settings: Any
) -> None:
    """Starlette's ``add_middleware``: the middleware added last is the outermost."""
    from starlette.middleware.cors import CORSMiddleware

    from tessera.framework.starlette import TesseraMiddleware

    def add_cors() -> None:
        if cors_origin:
            app.add_middleware(
                CORSMiddleware,
                allow_origins=[cors_origin],
                allow_credentials=True,
                allow_methods=["*"],
                allow_headers=["content-type", *get_all_cors_headers()],
            )

    if cors_inside:
        add_cors()
    app.add_middleware(TesseraMiddleware, tessera=tessera, config=FrameworkConfig(**settings))
    if not cors_inside:
        add_cors()


def starlette_app(
    tessera: Tessera,
    log: RequestLog,
    *,
    cors_origin: str | None = None,
    cors_inside: bool = False,
    **settings: Any,
) -> Any:
    """A plain Starlette app with ``/login`` and ``/protected`` only."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tessera.framework.starlette import create_new_session, verify_session

    async def login(request: Request) -> JSONResponse:
        body = await request.json()
        await create_new_session(request, body["userId"], body.get("payload"))
        return JSONResponse({"userId": body["userId"]})

    async def protected(request: Request) -> JSONResponse:
        session = await verify_session()(request)
        assert session is not None
        return JSONResponse({"userId": session.get_user_id(), "handle": session.get_handle()})

    app = Starlette(
        routes=[
            Route("/login", login, methods=["POST"]),
            Route("/protected", protected, methods=["GET", "POST"]),
        ]
    )
    add_tessera_and_cors(app, tessera, cors_origin, cors_inside, settings)
    return app


def _strip_expose_asgi(app: Any) -> Any:
    async def stripped(scope: Any, receive: Any, send: Any) -> None:
        async def send_stripped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    (k, v)
                    for k, v in message["headers"]
                    if k.lower() != b"access-control-expose-headers"
                ]
            await send(message)

        await app(scope, receive, send_stripped)

    return stripped


# -- Flask ---------------------------------------------------------------------------


def flask_app(
    tessera: Tessera,
    log: RequestLog,
    *,
    cors_origin: str | None = None,
    cors_inside: bool = False,
    strip_expose: bool = False,
    **settings: Any,
) -> Any:
    """CORS by flask-cors; ``cors_inside``: set up before ``FlaskTessera``."""
    from flask import Flask, g, jsonify, request

    from tessera.framework.flask import FlaskTessera, create_new_session, verify_session

    app = Flask("tessera_test")

    @app.before_request
    def record() -> None:
        if request.path != "/test/log":
            log.append(
                logged(
                    request.method, request.path, {k.lower(): v for k, v in request.headers.items()}
                )
            )

    if strip_expose:

        @app.after_request
        def strip(response: Any) -> Any:
            response.headers.pop("Access-Control-Expose-Headers", None)
            return response

    def add_cors() -> None:
        if cors_origin:
            from flask_cors import CORS

            CORS(
                app,
                origins=[cors_origin],
                supports_credentials=True,
                allow_headers=["content-type", *get_all_cors_headers()],
            )

    if cors_inside:
        add_cors()
    FlaskTessera(app, tessera=tessera, config=FrameworkConfig(**settings))
    if not cors_inside:
        add_cors()

    @app.post("/login")
    def login() -> Any:
        body = request.get_json(force=True)
        create_new_session(
            request,
            body["userId"],
            body.get("payload"),
            tenant_id=body.get("tenantId", "public"),
            amr=body.get("amr"),
        )
        return {"userId": body["userId"]}

    @app.get("/fresh")
    @verify_session(claim_validators=[fresh])
    def fresh_route() -> Any:
        return {"authTime": g.tessera.get_auth_time()}

    @app.post("/reauth")
    @verify_session()
    def reauth() -> Any:
        g.tessera.mark_reauthenticated(["pwd", "otp"])
        return {"authTime": g.tessera.get_auth_time()}

    @app.post("/logout-others")
    @verify_session()
    def logout_others() -> Any:
        body = request.get_json(force=True, silent=True) or {}
        return {"revoked": g.tessera.revoke_other_sessions(bool(body.get("allTenants")))}

    @app.route("/protected", methods=["GET", "POST"])
    @verify_session()
    def protected() -> Any:
        return {"userId": g.tessera.get_user_id(), "handle": g.tessera.get_handle()}

    @app.get("/optional")
    @verify_session(session_required=False)
    def optional() -> Any:
        return {"userId": g.tessera.get_user_id() if g.tessera else None}

    @app.get("/claim")
    @verify_session(claim_validators=[failing_claim])
    def claim() -> Any:
        return {}

    @app.get("/check-db")
    @verify_session(check_database=True)
    def check_db() -> Any:
        return {"userId": g.tessera.get_user_id()}

    @app.post("/logout")
    @verify_session()
    def logout() -> Any:
        g.tessera.revoke_session()
        return {"status": "OK"}

    @app.post("/update-payload")
    @verify_session()
    def update_payload() -> Any:
        g.tessera.merge_into_access_token_payload({"role": "admin"})
        return {}

    @app.post("/revoke-all")
    def revoke_all() -> Any:
        body = request.get_json(force=True)
        return {"revoked": tessera.syncio.revoke_all_sessions_for_user(body["userId"])}

    @app.get("/test/log")
    def test_log() -> Any:
        return jsonify(log)

    @app.get("/always-401")
    def always_401() -> Any:
        return {"message": "try refresh token"}, 401

    return app


# -- Django --------------------------------------------------------------------------


DJANGO_LOG = "tests._support.django_urls.RequestLogMiddleware"
DJANGO_TESSERA = "tessera.framework.django.TesseraMiddleware"
DJANGO_CORS = "corsheaders.middleware.CorsMiddleware"


def setup_django() -> None:
    import django  # type: ignore[import-untyped]
    from django.conf import settings  # type: ignore[import-untyped]

    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="tests-only",
            ALLOWED_HOSTS=["*"],
            ROOT_URLCONF="tests._support.django_urls",
            MIDDLEWARE=[DJANGO_LOG, DJANGO_TESSERA],
            INSTALLED_APPS=["corsheaders"],
            USE_TZ=True,
        )
        django.setup()


def django_app(
    tessera: Tessera,
    log: RequestLog,
    *,
    cors_origin: str | None = None,
    cors_inside: bool = False,
    **settings: Any,
) -> Any:
    """A WSGI app; Django settings are global, so each call rebinds them. CORS by
    django-cors-headers; ``cors_inside``: ``CorsMiddleware`` listed below tessera's."""
    setup_django()
    from django.conf import settings as django_settings
    from django.core.handlers.wsgi import WSGIHandler  # type: ignore[import-untyped]

    from . import django_urls

    middleware = [DJANGO_LOG, DJANGO_TESSERA]
    if cors_origin:
        middleware.insert(2 if cors_inside else 1, DJANGO_CORS)
        django_settings.CORS_ALLOWED_ORIGINS = [cors_origin]
        django_settings.CORS_ALLOW_CREDENTIALS = True
        django_settings.CORS_ALLOW_HEADERS = ["content-type", *get_all_cors_headers()]
    django_settings.MIDDLEWARE = middleware
    django_settings.TESSERA = settings
    django_settings.TESSERA_OBJECT = tessera
    django_urls.STATE["tessera"] = tessera
    django_urls.STATE["log"] = log
    return WSGIHandler()


def json_body(raw: bytes) -> Any:
    return json.loads(raw or b"{}")


AppFactory = Callable[..., Any]
FACTORIES: dict[str, AppFactory] = {
    "fastapi": fastapi_app,
    "starlette": starlette_app,
    "flask": flask_app,
    "django": django_app,
}


@dataclass
class Served:
    """An app of ``FACTORIES`` served on loopback, with the objects behind it."""

    framework: str
    url: str
    tessera: Tessera
    clock: FakeClock
    log: RequestLog = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)
