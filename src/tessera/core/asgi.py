"""The core service as a pure ASGI application.

It reads the request (bounded), routes it, checks the API key, runs the handler on a
thread (the engine and the store are synchronous) and writes the answer; then it logs
one line: method, path, status, duration. Nothing from bodies or headers is logged.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast
from urllib.parse import parse_qsl

from .._asgi_body import read_body
from .._observer import Observer
from .._tessera import wall_clock_ms
from .._threads import WorkerThreads
from ..audit import AuditHook
from ..config import SessionConfig
from ..engine.key_material import check_key_material
from ..engine.key_wrapping import KeyWrapper
from ..errors import (
    ApiKeyError,
    BadRequestError,
    BodyTooLargeError,
    KeyMaterialError,
    MethodNotAllowedError,
    NotFoundError,
    RequestError,
    SessionLimitReachedError,
    StorageError,
    UnknownAppError,
)
from ..housekeeping import ExpiredSessionPurger
from ..metrics import exposition, observe_process, unregister
from ..revocation import RevocationFeed, RevokingStore
from ..storage import Timeouts, open_store
from .admin_console import CoreConsole
from .apps import AppRegistry, CoreStore
from .config import CoreConfig
from .context import Context
from .guards import RequestGuard
from .http import Request, Response, error_response, json_response, text_response
from .jwks import jwks_response
from .openapi import openapi_document
from .routes import ROUTES
from .routing import CDI_VERSIONS, split_path

__all__ = ["CoreApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

access_log = logging.getLogger("tessera.core.access")
error_log = logging.getLogger("tessera.core.error")

_VERSION = re.compile(r"^(\d{1,3})\.(\d{1,3})$")
#: API path -> the methods it answers, for the ``Allow`` header of a 405.
_METHODS: dict[str, list[str]] = {
    "/hello": ["GET", "HEAD"],
    "/openapi.json": ["GET"],
    "/metrics": ["GET"],
}
for _method, _path in sorted(ROUTES):
    _METHODS.setdefault(_path, []).append(_method)


class _TooLarge(Exception):
    pass


def _loggable(scope: Scope) -> str:
    """The request path for a log line: a decoded path may hold line breaks and other
    control characters, which would let a client write log lines of its own."""
    path: str = scope["path"]
    return path if path.isprintable() else path.encode("unicode_escape").decode("ascii")


class CoreApp:
    """``CoreApp(config)`` is an ASGI application serving the Core Driver Interface."""

    def __init__(
        self,
        config: CoreConfig,
        *,
        store: CoreStore | None = None,
        clock: Callable[[], int] = wall_clock_ms,
        metrics: bool = True,
        audit_hook: AuditHook | None = None,
    ) -> None:
        self.config = config
        self.store: CoreStore = store or open_store(
            config.database,
            table_name_prefix=config.table_name_prefix,
            pool_size=config.database_pool_size,
            timeouts=Timeouts(
                connect=config.database_connect_timeout,
                statement=config.database_statement_timeout,
                socket=config.database_socket_timeout,
            ),
        )
        # One revocation feed per process (each uvicorn worker builds its own CoreApp).
        feed = SessionConfig.from_settings(
            {**config.session_settings, **config.revocation_settings}
        )
        self.revocations = RevocationFeed.for_config(self.store, feed)
        revoking = cast(CoreStore, RevokingStore(self.store, self.revocations))
        self.registry = AppRegistry(
            revoking,
            config.session_settings,
            clock=clock,
            api_keys=config.api_keys,
            revocations=self.revocations,
            key_encryption_keys=config.key_encryption_keys,
        )
        #: Metrics (with prometheus_client installed) and audit events (``audit_hook``).
        self.observer = Observer(metrics=metrics, audit_hook=audit_hook)
        self.registry.on_key_created = lambda app_id, key, now: self.observer.for_app(
            app_id
        ).key_created(key.kid, key.algorithm, key.is_dynamic, now)
        self.context = Context(self.registry, clock, observer=self.observer)
        if self.observer.metrics is not None:
            observe_process(self, clock)
        self._clock = clock
        self._guard = RequestGuard(config)
        self._console = CoreConsole(config, self.context, self._guard)
        # Handlers block on the store: they run on this share of the process's threads.
        self._threads = WorkerThreads(config.database_pool_size)
        self._purger = ExpiredSessionPurger(
            lambda: self.observer.purged(
                self.registry.get("public").dynamic.purge_expired(now=self._clock())
            ),
            config.expired_session_purge_interval,
        )

    # -- ASGI --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        response = await self._respond(scope, receive)
        headers = [
            (b"content-type", response.content_type.encode()),
            (b"content-length", str(len(response.body)).encode()),
            *((k.encode(), v.encode()) for k, v in response.headers),
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})
        took = (time.perf_counter() - started) * 1000
        access_log.info("%s %s %d %.1fms", scope["method"], _loggable(scope), response.status, took)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self._threads.run(self.check_key_material)
                except KeyMaterialError as exc:
                    error_log.error("%s", exc)
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                self.start_housekeeping()
                await self._threads.run(self.load_key_set)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _respond(self, scope: Scope, receive: Receive) -> Response:
        try:
            return await self._dispatch(scope, receive)
        except Exception as exc:
            if isinstance(exc, StorageError):
                error_log.error(
                    "database failure on %s %s: %s", scope["method"], _loggable(scope), exc
                )
            elif isinstance(exc, KeyMaterialError):
                error_log.error("%s %s: %s", scope["method"], _loggable(scope), exc)
            elif not isinstance(exc, RequestError | SessionLimitReachedError):
                error_log.exception(
                    "unexpected failure on %s %s", scope["method"], _loggable(scope)
                )
            return error_response(exc)

    async def _dispatch(self, scope: Scope, receive: Receive) -> Response:
        console = self._console.find(scope["path"])
        self._guard.check(scope, local_console=console is not None and self._console.local)
        if console is not None:
            return await self._console_answer(scope, receive, console)
        route = split_path(scope["path"], self.config.base_path)
        if route is None:
            raise NotFoundError
        method = scope["method"].upper()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        allowed = _METHODS.get(route.api_path)
        if allowed is None:
            raise NotFoundError
        if method not in allowed:
            raise MethodNotAllowedError(allowed)
        if route.api_path == "/hello":
            return text_response(200, "Hello")
        if route.api_path == "/openapi.json":
            self._check_api_key(headers, self.registry.core_api_keys)
            return json_response(
                openapi_document(bool(self.registry.core_api_keys), self.config.base_path)
            )
        if route.api_path == "/metrics":
            self._check_api_key(headers, self.registry.core_api_keys)
            # Off the event loop: the live-sessions count may ask the database.
            status, body, content_type = await self._threads.run(exposition)
            return Response(status, body, content_type)
        handler, needs_key = ROUTES[(method, route.api_path)]
        if needs_key:
            app = self.registry.peek(route.app_id)
            if app is not None:
                keys = self.registry.core_api_keys if app.api_keys is None else app.api_keys
            else:  # reading the app's keys may need the database: not on the event loop
                keys = await self._threads.run(self._keys_of, route.app_id)
            self._check_api_key(headers, keys)
        cdi_version = self._cdi_version(headers)
        if route.tenant_given and cdi_version < (3, 0):
            raise NotFoundError  # tenants came with CDI 3.0
        body = await self._read_body(receive, headers)
        query = dict(
            parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        )
        client_ip = self._guard.client_ip(scope.get("client"), scope["headers"]) or None
        request = Request(method, route, query, headers, body, cdi_version, client_ip)
        return await self._threads.run(handler, self.context, request)

    async def _console_answer(
        self, scope: Scope, receive: Receive, found: tuple[str, str, str]
    ) -> Response:
        """The admin console's page (``admin_console.py``), read and run like a route."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        body = b""
        if scope["method"].upper() not in ("GET", "HEAD"):
            body = await self._read_body(receive, headers)
        return await self._threads.run(self._console.respond, scope, headers, body, found)

    # -- checks ---------------------------------------------------------------------------

    def _keys_of(self, app_id: str) -> tuple[str, ...]:
        try:
            return self.registry.api_keys(app_id)
        except UnknownAppError:
            # The core's keys guard unknown apps too, so a caller without them cannot
            # even learn which apps exist; with them the handler answers "not found".
            return self.registry.core_api_keys

    def _check_api_key(self, headers: dict[str, str], keys: tuple[str, ...]) -> None:
        """An app's own keys open only that app; the core's keys open the public app
        (which manages apps) and every app without keys of its own."""
        if not keys:
            return
        given = headers.get("api-key")
        if given is None:
            given = headers.get("authorization", "")
            if given[:7].lower() == "bearer ":
                given = given[7:]
        presented = given.strip().encode()
        # Compare with every key, without stopping early: timing reveals nothing.
        matched = False
        for key in keys:
            matched |= hmac.compare_digest(presented, key.encode())
        if not matched:
            raise ApiKeyError

    def _cdi_version(self, headers: dict[str, str]) -> tuple[int, int]:
        version = headers.get("cdi-version")
        if version is None:
            return (5, 4)
        found = _VERSION.match(version.strip())
        parsed = (int(found[1]), int(found[2])) if found else None
        if parsed is None or parsed not in CDI_VERSIONS:
            raise BadRequestError(f"cdi-version {version[:20]} not supported")
        return parsed

    async def _read_body(self, receive: Receive, headers: dict[str, str]) -> bytes:
        limit = self.config.max_body_size
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            raise BodyTooLargeError if declared.isdigit() else BadRequestError("Bad content-length")
        return await read_body(receive, limit)

    # -- housekeeping -----------------------------------------------------------------------

    def start_housekeeping(self) -> None:
        try:
            for app_id in self.registry.list_apps():
                self.registry.get(app_id)  # each app's token lifetime sizes the feed's window
        except StorageError as exc:
            error_log.warning("could not list apps at start-up: %s", exc)
        self.revocations.ensure_running()
        self._purger.ensure_running()

    def check_key_material(self) -> None:
        """``KeyMaterialError`` when the stored keys or secrets of any app cannot be
        decrypted with ``key_encryption_keys``: the core then refuses to start. A
        database that cannot be read now is checked again as each app is used."""
        wrapper = KeyWrapper(self.config.key_encryption_keys)
        try:
            check_key_material(self.store, wrapper, every_app=True)
        except StorageError as exc:
            error_log.warning("could not check the stored signing keys at start: %s", exc)

    def load_key_set(self) -> None:
        """Serve the key set once at start, so it can be answered from memory even if
        the database goes down before anyone asks for it."""
        try:
            jwks_response(self.context, "public")
        except StorageError as exc:
            error_log.warning("could not load the signing keys at start: %s", exc)

    def close(self) -> None:
        unregister(self)
        self._purger.stop()
        self._threads.close()
        self.registry.activity_writer.close()
        self.revocations.close()
        self.store.close()
