"""What the browser suite's tests use besides fixtures: the tessera backend a page talks
to, and opening the test page in a browser context."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tessera import Tessera

from .framework_apps import RequestLog


@dataclass
class Backend:
    """A tessera app behind the browser suite's API server, and the requests it saw."""

    framework: str
    api: str
    tessera: Tessera
    log: RequestLog = field(default_factory=list)
    #: Serve the same tessera object under new framework settings.
    reconfigure: Callable[..., None] = lambda **settings: None

    def requests(self, method: str, path: str) -> list[dict[str, Any]]:
        return [r for r in self.log if r["method"] == method and r["path"] == path]

    def refreshes(self) -> list[dict[str, Any]]:
        return self.requests("POST", "/auth/session/refresh")

    def post(self, path: str, body: Any) -> Any:
        return httpx.post(self.api + path, json=body, timeout=10).json()


def open_page(context: Any, page_origin: str, api: str, mode: str) -> Any:
    """A new page of the test site, its SDK set up for ``api`` in ``mode`` (cookie or
    header)."""
    page = context.new_page()
    page.goto(page_origin + "/index.html")
    page.wait_for_function("() => window.supertokensSession !== undefined")
    page.evaluate("([api, mode]) => window.setup(api, mode)", [api, mode])
    return page


def wait_past_expiry(seconds: float = 2.6) -> None:
    """Let the backends' 2-second access tokens expire."""
    time.sleep(seconds)
