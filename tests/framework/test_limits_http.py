"""Session limits on the login route, over real HTTP in each framework: a refused login
is a 409 the frontend can act on and logs nobody out; an evicting login logs the least
recently active device out."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from .._support.framework_apps import Served
from .._support.wire import Browserish, set_cookies

Serve = Callable[..., Served]


def login(client: httpx.Client, user_id: str = "user-1") -> tuple[Browserish, httpx.Response]:
    browser = Browserish(client)
    answer = browser.absorb(
        client.post("/login", json={"userId": user_id}, headers={"st-auth-mode": "cookie"})
    )
    return browser, answer


def test_a_login_beyond_the_limit_is_refused_with_409(serve: Serve) -> None:
    served = serve(engine_settings={"max_sessions_per_user": 1, "session_limit_policy": "deny"})
    with served.client() as client:
        laptop, first = login(client)
        assert first.status_code == 200
        # The same browser logs in again: refused, and its tokens are left alone.
        again = client.post(
            "/login",
            json={"userId": "user-1"},
            headers=laptop.headers(),
        )
        assert again.status_code == 409
        assert again.json() == {
            "message": "session limit reached",
            "status": "SESSION_LIMIT_REACHED",
            "maxSessions": 1,
        }
        assert not set_cookies(again)
        assert "front-token" not in again.headers
        assert laptop.call("GET", "/protected").status_code == 200
        # Another user is not held back.
        assert login(client, "user-2")[1].status_code == 200


def test_a_login_beyond_the_limit_logs_the_oldest_device_out(serve: Serve) -> None:
    served = serve(engine_settings={"max_sessions_per_user": 1})
    with served.client() as client:
        laptop, _ = login(client)
        served.clock.advance(1)
        phone, answer = login(client)
        assert answer.status_code == 200
        assert laptop.call("GET", "/check-db").status_code == 401
        assert laptop.do_refresh(rid="session").status_code == 401
        assert phone.call("GET", "/check-db").status_code == 200
