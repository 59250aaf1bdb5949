"""Sessions for Django (sync views; ``tessera.framework.django.asyncio`` for async views)::

    # settings.py
    MIDDLEWARE = [..., "tessera.framework.django.TesseraMiddleware"]
    TESSERA = {"api_domain": "https://api.example.com"}   # FrameworkConfig fields
    # and somewhere at start-up: tessera.init(database="postgresql://...")

    # views.py
    from tessera.framework.django import create_new_session, verify_session

    def login(request):
        create_new_session(request, "user-1")
        return JsonResponse({"ok": True})

    @verify_session()
    def logout(request):
        request.tessera.revoke_session()   # ends it in the database and clears the cookies
        return JsonResponse({"ok": True})

The middleware serves ``POST /auth/session/refresh`` and ``/auth/signout`` and writes
tokens onto responses; it works in sync and async (ASGI) deployments. With
django-cors-headers, ``CorsMiddleware`` must come before it in ``MIDDLEWARE`` (the app
refuses to start otherwise): the answers tessera makes itself never reach a middleware
listed below it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from email.utils import formatdate
from typing import Any, TypeVar, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse  # type: ignore[import-untyped]

from ...errors import TesseraError
from ...syncio import Session
from ..claims import ClaimValidator
from ..config import FrameworkConfig
from ..flows import (
    Exchange,
    SessionLayer,
    VerifyOptions,
    create_flow,
    run_async,
    run_sync,
    verify_flow,
)
from ..messages import Reply, RequestView

__all__ = ["Session", "TesseraMiddleware", "create_new_session", "get_session", "verify_session"]

F = TypeVar("F", bound=Callable[..., Any])
Handler = Callable[[HttpRequest], Any]


class TesseraMiddleware:
    """Django middleware, sync and async. Settings: ``TESSERA`` (a dict of
    ``FrameworkConfig`` fields) and optionally ``TESSERA_OBJECT`` (a ``Tessera``)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Handler) -> None:
        from django.conf import settings  # type: ignore[import-untyped]

        check_cors_order(getattr(settings, "MIDDLEWARE", ()))
        self.get_response = get_response
        self.layer = SessionLayer(
            getattr(settings, "TESSERA_OBJECT", None),
            FrameworkConfig(**getattr(settings, "TESSERA", {})),
        )
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        exchange = self._begin(request)
        api = self.layer.api_flow(exchange)
        if api is not None:
            try:
                return to_response(run_sync(api, exchange), exchange)
            except TesseraError as error:
                return to_response(exchange.fail(error), exchange)
        return apply_plan(self.get_response(request), exchange)

    async def _acall(self, request: HttpRequest) -> HttpResponse:
        exchange = self._begin(request)
        api = self.layer.api_flow(exchange)
        if api is not None:
            try:
                return to_response(await run_async(api, exchange), exchange)
            except TesseraError as error:
                return to_response(exchange.fail(error), exchange)
        response = await cast(Callable[[HttpRequest], Awaitable[HttpResponse]], self.get_response)(
            request
        )
        return apply_plan(response, exchange)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """Session errors raised outside ``verify_session`` (e.g. by ``create_new_session``)."""
        exchange = getattr(request, "tessera_exchange", None)
        if isinstance(exception, TesseraError) and isinstance(exchange, Exchange):
            return to_response(exchange.fail(exception))
        return None

    def _begin(self, request: HttpRequest) -> Exchange:
        headers = {name.lower(): value for name, value in request.headers.items()}
        cookie = headers.pop("cookie", "")
        exchange = self.layer.exchange(
            RequestView(
                request.method or "GET",
                request.path,
                headers,
                cookie,
                request.META.get("REMOTE_ADDR"),
            )
        )
        request.tessera_exchange = exchange
        return exchange


def check_cors_order(middleware: Sequence[str]) -> None:
    """Refuse to start when a CORS middleware is listed below tessera's: the refresh and
    sign-out answers would then go out without CORS headers and browsers drop them."""
    from django.core.exceptions import ImproperlyConfigured  # type: ignore[import-untyped]
    from django.utils.module_loading import import_string  # type: ignore[import-untyped]

    ours: str | None = None
    for path in middleware:
        cls = import_string(path)
        if ours is None:
            if isinstance(cls, type) and issubclass(cls, TesseraMiddleware):
                ours = path
        elif any(
            base.__module__.startswith("corsheaders.") for base in getattr(cls, "__mro__", ())
        ):
            raise ImproperlyConfigured(
                f"tessera: put {path!r} before {ours!r} in MIDDLEWARE. Listed after it, "
                "it never sees the refresh and sign-out answers tessera makes, and "
                "browsers on another origin drop them."
            )


def verify_session(
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    claim_validators: Sequence[ClaimValidator] = (),
) -> Callable[[F], F]:
    """Decorator for sync views: the session is in ``request.tessera``."""
    options = VerifyOptions(
        session_required=session_required,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        claim_validators=tuple(claim_validators),
    )

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            exchange = exchange_of(request)
            try:
                request.tessera = run_sync(verify_flow(exchange, options), exchange)
                return view(request, *args, **kwargs)
            except TesseraError as error:
                return to_response(exchange.fail(error))

        return cast(F, wrapper)

    return decorate


def get_session(
    request: HttpRequest,
    *,
    session_required: bool = True,
    anti_csrf_check: bool | None = None,
    check_database: bool = False,
    claim_validators: Sequence[ClaimValidator] = (),
) -> Session | None:
    """The request's session. Raises the session errors; never refreshes or clears tokens."""
    options = VerifyOptions(
        session_required=session_required,
        anti_csrf_check=anti_csrf_check,
        check_database=check_database,
        claim_validators=tuple(claim_validators),
    )
    exchange = exchange_of(request)
    session: Session | None = run_sync(verify_flow(exchange, options), exchange)
    return session


def create_new_session(
    request: HttpRequest,
    user_id: str,
    access_token_payload: Mapping[str, Any] | None = None,
    session_data_in_database: Mapping[str, Any] | None = None,
    tenant_id: str = "public",
    *,
    amr: Sequence[str] | None = None,
) -> Session:
    """Start a session; its tokens go onto this request's response."""
    exchange = exchange_of(request)
    flow = create_flow(
        exchange, user_id, access_token_payload, session_data_in_database, tenant_id, amr
    )
    session: Session = run_sync(flow, exchange)
    return session


def exchange_of(request: HttpRequest) -> Exchange:
    exchange = getattr(request, "tessera_exchange", None)
    if not isinstance(exchange, Exchange):
        raise RuntimeError(
            "tessera: add 'tessera.framework.django.TesseraMiddleware' to MIDDLEWARE"
        )
    return exchange


def to_response(reply: Reply, exchange: Exchange | None = None) -> HttpResponse:
    response = HttpResponse(
        reply.body_bytes(), status=reply.status, content_type=reply.content_type
    )
    for name, value in reply.headers.items():
        response[name] = value
    return response if exchange is None else apply_plan(response, exchange)


def apply_plan(response: HttpResponse, exchange: Exchange) -> HttpResponse:
    plan = exchange.finish()
    for name, value in plan.headers.items():
        response[name] = value
    now = exchange.layer.tessera.now()
    named: set[str] = set()
    for index, c in enumerate(plan.cookies):
        # Django keeps one Set-Cookie per key of ``response.cookies``; a second cookie of
        # the same name (another Domain or Path) goes under a key of its own.
        key = c.name if c.name not in named else f"{c.name}~{index}"
        named.add(c.name)
        scratch = HttpResponse()
        scratch.set_cookie(
            c.name,
            c.value,
            expires=formatdate(c.expires // 1000, usegmt=True),
            max_age=max(0, (c.expires - now) // 1000) if c.expires else 0,
            path=c.path,
            domain=c.domain,
            secure=c.secure,
            httponly=c.http_only,
            samesite=c.same_site.capitalize(),
        )
        response.cookies[key] = scratch.cookies[c.name]
    expose = plan.merged_expose_header(response.headers.get("Access-Control-Expose-Headers"))
    if expose:
        response["Access-Control-Expose-Headers"] = expose
    return response
