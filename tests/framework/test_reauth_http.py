"""Fresh re-authentication and "log out my other devices", over real HTTP in each
framework: ``require_fresh`` answers a machine-readable 403, ``mark_reauthenticated``
sends the new access token with its own response, ``revoke_other_sessions`` spares the
caller's session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .._support.framework_apps import FRESH_MAX_AGE, Served
from .._support.wire import Browserish, front_token, set_cookies

Serve = Callable[..., Served]


def login(client: httpx.Client, user_id: str = "user-1", **body: Any) -> Browserish:
    browser = Browserish(client)
    browser.absorb(
        client.post("/login", json={"userId": user_id, **body}, headers={"st-auth-mode": "cookie"})
    )
    return browser


def test_require_fresh_refuses_an_old_login_until_mark_reauthenticated(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = login(client, amr=["pwd"])
        login_time = served.clock() // 1000
        fresh = browser.call("GET", "/fresh")
        assert fresh.status_code == 200
        assert fresh.json() == {"authTime": login_time}

        served.clock.advance(FRESH_MAX_AGE + 1)
        stale = browser.call("GET", "/fresh")
        assert stale.status_code == 403
        assert stale.json() == {
            "message": "invalid claim",
            "claimValidationErrors": [
                {
                    "id": "tessera-fresh-auth",
                    "reason": {
                        "message": "re-authentication required",
                        "maxAgeInSeconds": FRESH_MAX_AGE,
                        "actualAgeInSeconds": FRESH_MAX_AGE + 1,
                    },
                }
            ],
        }
        assert not set_cookies(stale)  # the session stays: only this action needs more

        # A refresh does not make the login any fresher.
        assert browser.do_refresh(rid="session").status_code == 200
        assert browser.call("GET", "/fresh").status_code == 403

        reauth = browser.call("POST", "/reauth", rid="session")
        assert reauth.status_code == 200
        now = served.clock() // 1000
        assert reauth.json() == {"authTime": now}
        assert "sAccessToken" in set_cookies(reauth)  # written with the same response
        claims = front_token(reauth)["up"]
        assert (claims["auth_time"], claims["amr"]) == (now, ["pwd", "otp"])
        assert browser.call("GET", "/fresh").status_code == 200


def test_logout_other_devices_spares_this_one(serve: Serve) -> None:
    served = serve()
    # One client (and cookie jar) per device: a login on a client that holds a session
    # ends that session.
    with (
        served.client() as client,
        served.client() as phones,
        served.client() as tablets,
        served.client() as others,
    ):
        laptop = login(client)
        phone = login(phones)
        elsewhere = login(tablets, tenantId="t2")
        someone_else = login(others, "user-2")
        handle = laptop.call("GET", "/protected").json()["handle"]
        phone_handle = phone.call("GET", "/protected").json()["handle"]

        answer = laptop.call("POST", "/logout-others", rid="session")
        assert answer.status_code == 200
        assert answer.json() == {"revoked": [phone_handle]}
        assert not set_cookies(answer)  # the caller keeps its tokens
        assert laptop.call("GET", "/check-db").status_code == 200
        assert phone.call("GET", "/check-db").status_code == 401
        assert phone.do_refresh(rid="session").status_code == 401
        assert elsewhere.call("GET", "/check-db").status_code == 200
        assert someone_else.call("GET", "/check-db").status_code == 200

        across = client.post(
            "/logout-others", json={"allTenants": True}, headers=laptop.headers(rid="session")
        )
        assert across.status_code == 200
        assert len(across.json()["revoked"]) == 1
        assert handle not in across.json()["revoked"]
        assert elsewhere.call("GET", "/check-db").status_code == 401
        assert laptop.call("GET", "/check-db").status_code == 200
        assert someone_else.call("GET", "/check-db").status_code == 200


@pytest.mark.parametrize("framework", ["django"])
def test_django_async_views_fresh_and_reauth(serve: Serve, framework: str) -> None:
    served = serve()
    with served.client() as client:
        browser = login(client)
        assert browser.call("GET", "/async/fresh").status_code == 200
        served.clock.advance(FRESH_MAX_AGE + 1)
        assert browser.call("GET", "/async/fresh").status_code == 403
        reauth = browser.call("POST", "/async/reauth", rid="session")
        assert reauth.status_code == 200
        assert front_token(reauth)["up"]["amr"] == ["pwd"]
        assert browser.call("GET", "/async/fresh").status_code == 200
