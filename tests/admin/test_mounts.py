"""The console mounted in an application over its ``Tessera`` object: FastAPI (ASGI,
on uvicorn) and Flask (WSGI, on werkzeug), over real HTTP on loopback."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import tessera.admin
from tessera import Tessera
from tests._support.servers import start_asgi, start_wsgi

KEY = "mounted-console-key-0123456789"


def _fastapi(sessions: Tessera, console: Any) -> Any:
    from fastapi import FastAPI

    app = FastAPI()

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "shop"}

    app.mount("/ops/admin", console)
    return app


def _flask(sessions: Tessera, console: Any) -> Any:
    from flask import Flask
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    app = Flask("shop")

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "shop"}

    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {"/ops/admin": console})  # type: ignore[method-assign]
    return app


SERVERS: dict[str, tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "fastapi": (_fastapi, tessera.admin.asgi_app, start_asgi),
    "flask": (_flask, tessera.admin.wsgi_app, start_wsgi),
}


@pytest.fixture(params=sorted(SERVERS))
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """``shop(**console_settings)``: (base URL, the app's Tessera object)."""
    build, console_app, start = SERVERS[str(request.param)]
    stops: list[Callable[[], None]] = []
    sessions = Tessera(f"sqlite:///{tmp_path}/shop.db", expired_session_purge_interval=0)

    def make(**settings: Any) -> tuple[str, Tessera]:
        port, stop = start(build(sessions, console_app(sessions, **settings)))
        stops.append(stop)
        return f"http://127.0.0.1:{port}", sessions

    yield make
    for stop in stops:
        stop()
    sessions.close()


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found[1]


def test_log_in_search_view_and_revoke(shop: Callable[..., Any]) -> None:
    base, sessions = shop(api_keys=[KEY])
    session = sessions.syncio.create_new_session(
        "ann", {"plan": "pro"}, {"cart": [1]}, ip="198.51.100.3", user_agent="Firefox/128"
    )
    other = sessions.syncio.create_new_session("bob")
    assert httpx.get(f"{base}/hello").json() == {"hello": "shop"}
    with httpx.Client(base_url=base) as browser:
        start = browser.get("/ops/admin/sessions")
        assert (start.status_code, start.headers["location"]) == (303, "/ops/admin/login")
        form = browser.get("/ops/admin/login")
        assert "Path=/ops/admin" in form.headers["set-cookie"]
        wrong = browser.post("/ops/admin/login", data={"key": "x" * 24, "csrf": _csrf(form)})
        assert wrong.status_code == 401
        login = browser.post("/ops/admin/login", data={"key": KEY, "csrf": _csrf(form)})
        assert (login.status_code, login.headers["location"]) == (303, "/ops/admin/sessions")
        found = browser.get("/ops/admin/sessions", params={"user": "ann"})
        assert session.get_handle() in found.text
        assert other.get_handle() not in found.text
        assert "Firefox/128" in found.text
        assert found.headers["x-frame-options"] == "DENY"
        detail = browser.get("/ops/admin/session", params={"handle": session.get_handle()})
        assert "198.51.100.3" in detail.text
        assert "&quot;plan&quot;: &quot;pro&quot;" in detail.text
        revoked = browser.post(
            "/ops/admin/revoke", data={"handle": session.get_handle(), "csrf": _csrf(detail)}
        )
        assert revoked.status_code == 303
        assert sessions.syncio.get_session_information(session.get_handle()) is None
        assert sessions.syncio.get_session_information(other.get_handle()) is not None
        keys = browser.get("/ops/admin/keys")
        assert "signs new tokens" in keys.text
        assert browser.get("/ops/admin/sessions", params={"api-key": KEY}).status_code == 400
    # Scripts send the key in the header.
    listed = httpx.get(f"{base}/ops/admin/sessions", headers={"api-key": KEY})
    assert other.get_handle() in listed.text


def test_a_console_without_a_key_must_be_asked_for_and_stays_local(
    shop: Callable[..., Any],
) -> None:
    with pytest.raises(ValueError, match="allow_without_api_key"):
        shop()
    with pytest.raises(ValueError, match="20 characters"):
        shop(api_keys=["short"])
    base, _ = shop(allow_without_api_key=True)
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/ops/admin/login")
        assert "open without an API key" in form.text
        login = browser.post("/ops/admin/login", data={"csrf": _csrf(form)})
        assert login.status_code == 303
        assert browser.get("/ops/admin/sessions").status_code == 200
        # A page whose own name was pointed at this machine (DNS rebinding).
        rebound = browser.get("/ops/admin/sessions", headers={"host": "evil.example"})
        assert rebound.status_code == 403
