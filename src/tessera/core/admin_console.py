"""The admin console (``tessera.admin``) as the core serves it: at
``[/base_path][/appid-<app>]/admin``, one console per app, opened by the keys that open
the app's CDI routes.

The core reads the request (bounded by ``max_body_size``), finds the client's address
and whether the browser spoke HTTPS (trusting ``X-Forwarded-*`` only from
``trusted_proxies``), and hands the rest to ``tessera.admin.Console`` on a worker
thread. Failed logins are limited per client address in each worker process.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from ..admin._http import ConsoleRequest, parse_form, parse_query
from ..admin.auth import LoginLimiter
from ..admin.console import CONSOLE_PATHS, Access, Console
from ..errors import UnknownAppError
from .admin_routes import admin_for
from .config import CoreConfig
from .context import Context
from .guards import RequestGuard
from .http import Response
from .routing import console_path

__all__ = ["CoreConsole"]


class CoreConsole:
    def __init__(self, config: CoreConfig, context: Context, guard: RequestGuard) -> None:
        self._config = config
        self._context = context
        self._guard = guard
        #: One per process: a worker's memory of failed logins.
        self._limiter = LoginLimiter()

    @property
    def local(self) -> bool:
        """Whether the console was opened without a key, for local use."""
        return self._config.admin_console_without_api_key

    def find(self, path: str) -> tuple[str, str, str] | None:
        """(app id, the console's path, the page) when ``path`` is the console's."""
        if not self._config.admin_console:
            return None
        return console_path(path, self._config.base_path, CONSOLE_PATHS)

    def respond(
        self,
        scope: MutableMapping[str, Any],
        headers: Mapping[str, str],
        body: bytes,
        found: tuple[str, str, str],
    ) -> Response:
        """The console's answer (blocking: on a worker thread)."""
        app_id, mount, page = found
        raw_headers: list[tuple[bytes, bytes]] = scope["headers"]
        request = ConsoleRequest(
            method=scope["method"].upper(),
            path=page,
            mount=mount,
            query=parse_query(scope.get("query_string", b"")),
            form=parse_form(body, headers.get("content-type")) if body else {},
            headers=headers,
            client_ip=self._guard.client_ip(scope.get("client"), raw_headers) or None,
            https=self._guard.is_https(scope.get("client"), raw_headers, scope.get("scheme", "")),
        )
        registry = self._context.registry
        try:
            keys = registry.api_keys(app_id)
        except UnknownAppError:
            # Answered as a console the core's keys open: only they learn it is missing.
            console = Console(
                admin_for(self._context, "public"),
                Access(registry.core_api_keys, local=self.local, allowed_hosts=None),
                self._limiter,
                exists=False,
            )
        else:
            console = Console(
                admin_for(self._context, app_id),
                # The guard checks the Host header of a core without keys.
                Access(keys, local=self.local, allowed_hosts=None),
                self._limiter,
            )
        answer = console.handle(request)
        return Response(answer.status, answer.body, answer.content_type, answer.headers)
