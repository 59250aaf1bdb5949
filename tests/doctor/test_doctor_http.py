"""The doctor against deliberately misconfigured apps built on tessera's own framework
adapters, each on a real loopback HTTP server (uvicorn, or werkzeug for Flask and
Django). Each test names the finding it expects and checks that the explanation names
the cause; one correct app per framework must come out clean.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import pytest

from tessera import Tessera
from tessera.doctor import Finding, Status, exit_code
from tessera.doctor.plan import STRANGER_ORIGIN

from .._support.clock import FakeClock
from .._support.doctor import LOGIN, WEBSITE, Serve, problems, run_doctor, the
from .._support.framework_apps import FACTORIES, fastapi_app, flask_app
from .._support.servers import free_socket

KIND = {"fastapi": "asgi", "starlette": "asgi", "flask": "wsgi", "django": "wsgi"}


@pytest.mark.parametrize("framework", ["fastapi", "starlette", "flask", "django"])
def test_a_correct_app_is_all_ok(serve: Serve, tessera: Tessera, framework: str) -> None:
    port = serve(FACTORIES[framework](tessera, [], cors_origin=WEBSITE), KIND[framework])
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, **LOGIN)
    assert problems(findings) == []
    assert exit_code(findings) == 0
    assert exit_code(findings, strict=True) == 0
    for check in (
        "refresh.endpoint",
        "cors.allow-origin",
        "cors.allow-headers",
        "cors.login.preflight",
        "cors.login.allow-headers",
        "cors.expose.login",
        "cookie.sRefreshToken.path",
        "cookie.sAccessToken.same-site",
        "refresh.rotation",
        "session.anti-csrf",
        "clock.server",
        "clock.token",
        "signout",
    ):
        assert the(findings, check).status is Status.OK, check
    # The one thing a tessera app does not serve: a key set (the core does).
    assert {f.check for f in findings if f.status is Status.SKIP} == {"jwks"}
    # The doctor signed its test session out.
    assert tessera.syncio.get_all_session_handles_for_user("doctor-test") == []


def test_header_mode_session_is_checked_too(serve: Serve, tessera: Tessera) -> None:
    port = serve(fastapi_app(tessera, [], cors_origin=WEBSITE))
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, auth_mode="header", **LOGIN)
    assert problems(findings) == []
    assert the(findings, "session.mode").summary.startswith("header mode")
    assert "st-access-token" in the(findings, "cors.expose.login").summary
    assert the(findings, "header.st-access-token.size").status is Status.OK
    assert not [f for f in findings if f.check.startswith("cookie.")]


def test_without_a_session_it_checks_what_it_can_and_says_what_it_skipped(
    serve: Serve, tessera: Tessera
) -> None:
    port = serve(fastapi_app(tessera, [], cors_origin=WEBSITE))
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE)
    assert the(findings, "refresh.endpoint").status is Status.OK
    assert the(findings, "cors.allow-headers").status is Status.OK
    assert the(findings, "clock.server").status is Status.OK
    skipped = the(findings, "session")
    assert skipped.status is Status.SKIP
    assert "--login-path" in skipped.fix
    assert exit_code(findings) == 0


def test_a_given_refresh_token_is_used_for_the_cookie_checks(
    serve: Serve, tessera: Tessera
) -> None:
    port = serve(fastapi_app(tessera, [], cors_origin=WEBSITE))
    made = tessera.syncio.create_new_session("someone")
    findings = run_doctor(
        f"http://localhost:{port}",
        website=WEBSITE,
        refresh_token=made.get_all_session_tokens_dangerously()["refreshToken"],
    )
    assert problems(findings) == []
    assert the(findings, "refresh.rotation").status is Status.OK
    assert the(findings, "cookie.sRefreshToken.path").status is Status.OK
    assert the(findings, "cors.expose.refresh").status is Status.OK


def test_same_site_none_without_secure(serve: Serve, tessera: Tessera) -> None:
    # tessera lets this through when both hosts are local (as SuperTokens does); browsers
    # do not.
    app = fastapi_app(
        tessera,
        [],
        cors_origin=WEBSITE,
        cookie_same_site="none",
        api_domain="http://127.0.0.1",
        website_domain=WEBSITE,
    )
    port = serve(app)
    findings = run_doctor(f"http://127.0.0.1:{port}", website=WEBSITE, **LOGIN)
    for name in ("sAccessToken", "sRefreshToken"):
        found = the(findings, f"cookie.{name}.same-site")
        assert found.status is Status.FAIL
        assert "SameSite=None without Secure" in found.summary
        assert "refuse a cookie with SameSite=None unless it is also Secure" in found.explanation
        lacking = the(findings, f"cookie.{name}.secure")
        assert lacking.status is Status.FAIL
        assert "lacks Secure, which SameSite=None requires" in lacking.summary
    # Cross-site cookies are guarded: tessera's VIA_CUSTOM_HEADER refuses a forged refresh.
    guarded = the(findings, "session.anti-csrf")
    assert guarded.status is Status.OK
    assert "VIA_CUSTOM_HEADER" in guarded.summary
    assert exit_code(findings) == 1


def test_same_site_lax_across_sites_localhost_against_127(serve: Serve, tessera: Tessera) -> None:
    """The classic: the page on localhost, the API called on 127.0.0.1."""
    port = serve(fastapi_app(tessera, [], cors_origin=WEBSITE))
    findings = run_doctor(f"http://127.0.0.1:{port}", website=WEBSITE, **LOGIN)
    found = the(findings, "cookie.sRefreshToken.same-site")
    assert found.status is Status.FAIL
    assert "SameSite=Lax" in found.summary
    assert "site http://localhost" in found.summary
    assert "site http://127.0.0.1" in found.summary
    assert "never sent back" in found.explanation
    site = the(findings, "site")
    assert site.status is Status.WARN
    assert "localhost and 127.0.0.1 are two" in site.explanation
    # CORS itself is right: only the site is wrong.
    assert the(findings, "cors.allow-origin").status is Status.OK


def _star_cors(app: Any) -> Any:
    """A hand-written CORS layer of the kind copied from blog posts: '*' with credentials."""
    star = [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-credentials", b"true"),
    ]

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "OPTIONS":
            headers = [*star, (b"access-control-allow-headers", b"*")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_star(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], *star]
            await send(message)

        await app(scope, receive, send_star)

    return wrapped


def test_cors_star_with_credentials(serve: Serve, tessera: Tessera) -> None:
    port = serve(_star_cors(fastapi_app(tessera, [])))
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, **LOGIN)
    origin = the(findings, "cors.allow-origin")
    assert origin.status is Status.FAIL
    assert "Access-Control-Allow-Origin is *" in origin.summary
    assert "browsers refuse '*' for credentialed requests" in origin.explanation
    headers = the(findings, "cors.allow-headers")
    assert headers.status is Status.FAIL
    assert "no wildcard for requests with credentials" in headers.explanation
    for what in ("refresh-401", "login", "refresh"):
        assert the(findings, f"cors.answer.{what}").status is Status.FAIL


def test_cors_that_lets_every_origin_in(serve: Serve, tessera: Tessera) -> None:
    # Starlette's CORSMiddleware with allow_origins=["*"] and credentials echoes any origin.
    port = serve(fastapi_app(tessera, [], cors_origin="*"))
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, **LOGIN)
    found = the(findings, "cors.any-origin")
    assert found.status is Status.WARN
    assert STRANGER_ORIGIN in found.explanation
    assert exit_code(findings) == 0
    assert exit_code(findings, strict=True) == 1


@pytest.mark.parametrize("framework", ["fastapi", "flask"])
def test_front_token_not_exposed(serve: Serve, tessera: Tessera, framework: str) -> None:
    app = FACTORIES[framework](tessera, [], cors_origin=WEBSITE, strip_expose=True)
    port = serve(app, KIND[framework])
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, **LOGIN)
    found = the(findings, "cors.expose.login")
    assert found.status is Status.FAIL
    assert "sends front-token but does not expose it" in found.summary
    assert "Access-Control-Expose-Headers" in found.explanation
    assert "never learns that a session exists" in found.explanation


def test_refresh_api_not_mounted(serve: Serve, tessera: Tessera) -> None:
    port = serve(fastapi_app(tessera, [], cors_origin=WEBSITE, serve_refresh_api=False))
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, **LOGIN)
    found = the(findings, "refresh.endpoint")
    assert found.status is Status.FAIL
    assert "answers 404" in found.summary
    assert "not mounted" in found.explanation
    assert the(findings, "refresh.rotation").status is Status.FAIL


def test_refresh_api_under_another_base_path(serve: Serve, tessera: Tessera) -> None:
    port = serve(fastapi_app(tessera, [], cors_origin=WEBSITE))
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, api_base_path="/api/auth")
    found = the(findings, "refresh.endpoint")
    assert found.status is Status.FAIL
    assert "/api/auth/session/refresh answers 404" in found.summary
    assert "--api-base-path /api/auth" in found.fix


def test_refresh_cookie_path_outside_the_refresh_api(serve: Serve, tessera: Tessera) -> None:
    # api_gateway_path set although no proxy adds the prefix.
    port = serve(fastapi_app(tessera, [], cors_origin=WEBSITE, api_gateway_path="/api"))
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, **LOGIN)
    found = the(findings, "cookie.sRefreshToken.path")
    assert found.status is Status.FAIL
    assert "will not send sRefreshToken to /auth/session/refresh" in found.summary
    assert "Path=/api/auth/session/refresh" in found.summary
    assert "the refresh call carries no refresh token" in found.explanation
    assert "api_gateway_path" in found.fix
    assert the(findings, "cookie.sAccessToken.path").status is Status.OK


@contextlib.contextmanager
def _server_with_clock(app: Any, clock: FakeClock) -> Iterator[int]:
    """A werkzeug server whose own clock is ``clock``: its Date header comes from it."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return formatdate(clock() / 1000, usegmt=True)

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def _doctor_on_skewed_server(tmp_path: Any, offset_seconds: float) -> list[Finding]:
    """The doctor against a Flask app on a machine whose clock is off by the offset:
    the server's Date header and the tokens' times both come from that clock."""
    clock = FakeClock(int((time.time() + offset_seconds) * 1000))
    tessera = Tessera(f"sqlite:///{tmp_path}/s.db", clock=clock, expired_session_purge_interval=0)
    try:
        with _server_with_clock(flask_app(tessera, [], cors_origin=WEBSITE), clock) as port:
            return run_doctor(f"http://localhost:{port}", website=WEBSITE, **LOGIN)
    finally:
        tessera.close()


def test_server_clock_ahead(tmp_path: Any) -> None:
    findings = _doctor_on_skewed_server(tmp_path, 600)
    server = the(findings, "clock.server")
    assert server.status is Status.WARN
    assert any(f"{s} s ahead of this machine's" in server.summary for s in (599, 600, 601))
    assert "NTP" in server.fix
    token = the(findings, "clock.token")
    assert token.status is Status.WARN
    assert "ahead of this machine's" in token.summary
    assert "iat" in token.summary
    assert exit_code(findings) == 0


def test_server_clock_years_behind_makes_cookies_expire_on_arrival(tmp_path: Any) -> None:
    findings = _doctor_on_skewed_server(tmp_path, -2 * 366 * 24 * 3600)
    assert "behind this machine's" in the(findings, "clock.server").summary
    for name in ("sAccessToken", "sRefreshToken"):
        expired = the(findings, f"cookie.{name}.expires")
        assert expired.status is Status.FAIL
        assert "deletes it on arrival" in expired.summary
        assert "server's clock runs behind" in expired.explanation
    assert exit_code(findings) == 1


def test_no_anti_csrf_with_cross_site_cookies(serve: Serve, tessera: Tessera) -> None:
    app = fastapi_app(
        tessera,
        [],
        cors_origin=WEBSITE,
        cookie_same_site="none",
        cookie_secure=True,  # browsers keep Secure cookies from loopback hosts
        anti_csrf="NONE",
    )
    port = serve(app)
    findings = run_doctor(f"http://127.0.0.1:{port}", website=WEBSITE, **LOGIN)
    found = the(findings, "session.anti-csrf")
    assert found.status is Status.FAIL
    assert "no anti-CSRF protection" in found.summary
    assert "VIA_CUSTOM_HEADER" in found.fix
    # The forged refresh rotated the token; the doctor carried on with the new one.
    assert the(findings, "refresh.rotation").status is Status.OK


def test_nothing_listening() -> None:
    with free_socket() as unused:
        port = unused.getsockname()[1]
    findings = run_doctor(f"http://127.0.0.1:{port}", website=WEBSITE)
    assert [f.check for f in findings] == ["reach"]
    assert findings[0].status is Status.FAIL
    assert exit_code(findings) == 1


def test_findings_serialise(serve: Serve, tessera: Tessera) -> None:
    port = serve(fastapi_app(tessera, [], cors_origin=WEBSITE))
    findings = run_doctor(f"http://localhost:{port}", website=WEBSITE, **LOGIN)
    data = json.loads(json.dumps([f.to_json() for f in findings]))
    assert {d["status"] for d in data} <= {"ok", "warn", "fail", "skip"}
    assert all(d["summary"] for d in data)
