"""The frontend protocol over real HTTP, the same for FastAPI, Flask and Django.

Each test runs against the framework's app behind a real server on 127.0.0.1
(uvicorn for FastAPI, werkzeug's threaded server for Flask and Django).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tessera import SessionError, TokenTheftError
from tessera.framework import Reply, RequestView

from .conftest import Served
from .wire import Browserish, exposed, front_token, is_cleared, set_cookies

Serve = Callable[..., Served]


def test_cookie_login_sets_the_documented_cookies(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        response = Browserish(client, "cookie").login()
    assert response.status_code == 200
    cookies = set_cookies(response)
    assert cookies["sAccessToken"]["path"] == "/"
    assert "httponly" in cookies["sAccessToken"]
    assert cookies["sAccessToken"]["samesite"].lower() == "lax"
    assert cookies["sRefreshToken"]["path"] == "/auth/session/refresh"
    assert "httponly" in cookies["sRefreshToken"]
    assert "st-access-token" not in response.headers
    token = front_token(response)
    assert token["uid"] == "user-1"
    assert token["ate"] == token["up"]["exp"] * 1000
    assert "front-token" in exposed(response)


@pytest.mark.parametrize("auth_mode", ["header", None])
def test_header_login_without_cookie_mode_gets_header_tokens(
    serve: Serve, auth_mode: str | None
) -> None:
    served = serve()
    with served.client() as client:
        headers = {"st-auth-mode": auth_mode} if auth_mode else {}
        response = client.post("/login", json={"userId": "u"}, headers=headers)
        assert response.status_code == 200
        assert not set_cookies(response)
        assert {"front-token", "st-access-token", "st-refresh-token"} <= exposed(response)
        access = response.headers["st-access-token"]
        ok = client.get("/protected", headers={"authorization": f"Bearer {access}"})
    assert ok.status_code == 200
    assert ok.json()["userId"] == "u"


@pytest.mark.parametrize("mode", ["cookie", "header"])
def test_expiry_refresh_and_retry(serve: Serve, mode: str) -> None:
    served = serve(engine_settings={"access_token_validity": 60})
    with served.client() as client:
        browser = Browserish(client, mode)
        browser.login()
        assert browser.call("GET", "/protected").status_code == 200
        served.clock.advance(61)
        expired = browser.call("GET", "/protected")
        assert expired.status_code == 401
        assert expired.json() == {"message": "try refresh token"}
        assert not set_cookies(expired)
        assert not is_cleared(expired)
        old_refresh = browser.refresh
        refreshed = browser.do_refresh(rid="session")
        assert refreshed.status_code == 200
        assert refreshed.json() == {}
        assert front_token(refreshed)["uid"] == "user-1"
        assert browser.refresh != old_refresh
        assert browser.call("GET", "/protected").status_code == 200


def test_missing_token_is_401_unauthorised_without_clearing(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        response = client.get("/protected")
    assert response.status_code == 401
    assert response.json() == {"message": "unauthorised"}
    assert not is_cleared(response)
    assert not set_cookies(response)


@pytest.mark.parametrize(
    "token",
    ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "x" * 10000, "é.ü.ß"],
)
def test_forged_access_tokens_are_401_never_500(serve: Serve, token: str) -> None:
    served = serve()
    with served.client() as client:
        for headers in ({"cookie": f"sAccessToken={token}"}, {"authorization": f"Bearer {token}"}):
            raw = {k.encode(): v.encode("utf-8") for k, v in headers.items()}
            response = client.get("/protected", headers=raw)
            assert response.status_code == 401, response.text
            assert response.json()["message"] in ("try refresh token", "unauthorised")


def test_tampered_token_is_401(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        assert browser.access is not None
        head, body, signature = browser.access.split(".")
        browser.access = f"{head}.{body}.{signature[::-1]}"
        response = browser.call("GET", "/protected")
    assert response.status_code == 401
    assert response.json()["message"] in ("try refresh token", "unauthorised")


def test_refresh_without_token_is_401_and_clears(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        response = client.post("/auth/session/refresh", headers={"rid": "session"})
    assert response.status_code == 401
    assert response.json() == {"message": "unauthorised"}
    assert is_cleared(response)
    cookies = set_cookies(response)
    assert cookies["sAccessToken"]["value"] == ""
    assert cookies["sAccessToken"]["path"] == "/"
    assert cookies["sRefreshToken"]["path"] == "/auth/session/refresh"
    assert "1970" in cookies["sRefreshToken"]["expires"]
    assert response.headers["st-access-token"] == ""
    assert "front-token" in exposed(response)


@pytest.mark.parametrize("token", ["garbage", "h.a.AAAA", "x.n." + "A" * 64])
def test_refresh_with_forged_token_is_401_and_clears(serve: Serve, token: str) -> None:
    served = serve()
    with served.client() as client:
        response = client.post(
            "/auth/session/refresh", headers={"cookie": f"sRefreshToken={token}"}
        )
    assert response.status_code == 401
    assert response.json() == {"message": "unauthorised"}
    assert is_cleared(response)


def test_reused_refresh_token_is_theft(serve: Serve) -> None:
    served = serve(engine_settings={"refresh_token_grace_period": 1})
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        stolen = browser.refresh
        assert browser.do_refresh().status_code == 200
        served.clock.advance(5)
        browser.refresh = stolen
        response = browser.do_refresh()
        assert response.status_code == 401
        assert response.json() == {"message": "token theft detected"}
        assert is_cleared(response)
        assert set_cookies(response)["sRefreshToken"]["value"] == ""
        assert served.tessera.syncio.get_all_session_handles_for_user("user-1") == []


def test_theft_reported_only_lets_the_handler_decide(serve: Serve) -> None:
    seen: list[TokenTheftError] = []

    def keep_session(error: SessionError, request: RequestView) -> Reply:
        assert isinstance(error, TokenTheftError)
        seen.append(error)
        return Reply(401, {"message": "token theft detected", "kept": True})

    served = serve(
        engine_settings={"refresh_token_grace_period": 1, "revoke_session_on_token_theft": False},
        on_token_theft_detected=keep_session,
    )
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        stolen = browser.refresh
        assert browser.do_refresh().status_code == 200
        current = browser.refresh
        assert current is not None
        served.clock.advance(5)
        browser.refresh = stolen
        response = browser.do_refresh()
        assert response.status_code == 401
        assert response.json() == {"message": "token theft detected", "kept": True}
        assert is_cleared(response)
    assert [e.revoked for e in seen] == [False]
    handles = served.tessera.syncio.get_all_session_handles_for_user("user-1")
    assert handles == [seen[0].session_handle]
    assert served.tessera.syncio.refresh_session_without_request_response(current)


def test_sign_out_api_revokes_and_clears(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        token = browser.access
        response = browser.call("POST", "/auth/signout", rid="session")
        assert response.status_code == 200
        assert response.json() == {"status": "OK"}
        assert is_cleared(response)
        assert set_cookies(response)["sAccessToken"]["value"] == ""
        assert {"front-token", "st-access-token", "st-refresh-token"} <= exposed(response)
        browser.access = token
        assert browser.call("GET", "/check-db").status_code == 401
        assert client.post("/auth/signout").status_code == 401


def test_revoke_session_in_a_route_clears_the_cookies(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        response = browser.call("POST", "/logout")
    assert response.status_code == 200
    assert is_cleared(response)
    assert set_cookies(response)["sAccessToken"]["value"] == ""
    assert served.tessera.syncio.get_all_session_handles_for_user("user-1") == []


def test_invalid_claim_is_403_with_errors_and_keeps_tokens(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        response = browser.call("GET", "/claim")
        assert response.status_code == 403
        body = response.json()
        assert body["message"] == "invalid claim"
        assert body["claimValidationErrors"][0]["id"] == "st-role"
        assert not set_cookies(response)
        assert not is_cleared(response)
        update = browser.call("POST", "/update-payload")
        assert front_token(update)["up"]["role"] == "admin"
        assert "sAccessToken" in set_cookies(update)
        assert browser.call("GET", "/claim").status_code == 200


def test_optional_session(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        assert client.get("/optional").json() == {"userId": None}
        browser = Browserish(client)
        browser.login("u9")
        assert browser.call("GET", "/optional").json() == {"userId": "u9"}


def test_custom_header_anti_csrf(serve: Serve) -> None:
    served = serve(cookie_same_site="none", cookie_secure=True)
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        assert browser.call("GET", "/protected").status_code == 200
        blocked = browser.call("POST", "/protected")
        assert blocked.status_code == 401
        assert blocked.json() == {"message": "try refresh token"}
        assert browser.call("POST", "/protected", rid="anti-csrf").status_code == 200
        refused = browser.do_refresh()
        assert refused.status_code == 401
        assert is_cleared(refused)


def test_token_anti_csrf(serve: Serve) -> None:
    served = serve(engine_settings={"anti_csrf": "VIA_TOKEN"})
    with served.client() as client:
        browser = Browserish(client)
        login = browser.login()
        assert "anti-csrf" in exposed(login)
        first = browser.anti_csrf
        assert first
        browser.anti_csrf = None
        assert browser.call("POST", "/protected").status_code == 401
        assert browser.call("POST", "/protected", **{"anti-csrf": first}).status_code == 200
        assert browser.do_refresh().status_code == 401
        browser = Browserish(client)
        browser.login()
        assert browser.anti_csrf is not None
        refreshed = browser.do_refresh(**{"anti-csrf": browser.anti_csrf})
        assert refreshed.status_code == 200
        assert refreshed.headers["anti-csrf"] != first


def test_header_mode_is_never_csrf_checked(serve: Serve) -> None:
    served = serve(engine_settings={"anti_csrf": "VIA_TOKEN"})
    with served.client() as client:
        browser = Browserish(client, "header")
        login = browser.login()
        assert "anti-csrf" not in login.headers
        assert browser.call("POST", "/protected").status_code == 200
        assert browser.do_refresh().status_code == 200


def test_storage_failure_is_5xx_and_keeps_tokens(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        served.tessera.store.drop_tables()  # type: ignore[attr-defined]
        for response in (browser.do_refresh(), browser.call("GET", "/check-db")):
            assert response.status_code == 503, response.text
            assert response.json() == {"message": "session storage unavailable"}
            assert not set_cookies(response)
            assert not is_cleared(response)


def test_duplicate_refresh_cookies(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        response = client.post(
            "/auth/session/refresh", headers={"cookie": "sRefreshToken=a.n.b; sRefreshToken=c.n.d"}
        )
    assert response.status_code == 500
    assert "older_cookie_domain" in response.json()["message"]
    served = serve(cookie_domain="127.0.0.1", older_cookie_domain="old.example")
    with served.client() as client:
        response = client.post(
            "/auth/session/refresh", headers={"cookie": "sRefreshToken=a.n.b; sRefreshToken=c.n.d"}
        )
    assert response.status_code == 200
    assert "front-token" not in response.headers
    assert all("old.example" in h for h in response.headers.get_list("set-cookie"))


def test_app_expose_headers_are_kept(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        response = Browserish(client).login()
    assert exposed(response) == {"front-token"}


def test_legacy_id_refresh_cookie_asks_for_refresh_and_is_removed(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        legacy = {"cookie": f"sAccessToken={browser.access}; sIdRefreshToken=old"}
        response = client.get("/protected", headers=legacy)
        assert response.status_code == 401
        assert response.json() == {"message": "try refresh token"}
        refresh_headers = {"cookie": f"sRefreshToken={browser.refresh}; sIdRefreshToken=old"}
        refreshed = client.post("/auth/session/refresh", headers=refresh_headers)
    assert refreshed.status_code == 200
    assert set_cookies(refreshed)["sIdRefreshToken"]["value"] == ""


def test_forced_transfer_method(serve: Serve) -> None:
    served = serve(token_transfer_method="cookie")
    with served.client() as client:
        login = client.post("/login", json={"userId": "c"}, headers={"st-auth-mode": "header"})
        assert "sAccessToken" in set_cookies(login)
        assert "st-access-token" not in login.headers
        # a bearer token is not accepted when only cookies are allowed
        access = set_cookies(login)["sAccessToken"]["value"]
    with served.client() as fresh:
        bearer = {"authorization": f"Bearer {access}"}
        assert fresh.get("/protected", headers=bearer).status_code == 401


def test_header_mode_refresh_with_forged_bearer_clears(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        response = client.post(
            "/auth/session/refresh",
            headers={"authorization": "Bearer x.n.AAAA", "st-auth-mode": "header"},
        )
    assert response.status_code == 401
    assert response.headers["st-refresh-token"] == ""
    assert is_cleared(response)


def test_client_address_and_user_agent_are_recorded(serve: Serve) -> None:
    served = serve()
    with served.client() as client:
        browser = Browserish(client, "header")
        browser.login(**{"user-agent": "TestBrowser/1.0"})
        served.clock.advance(5)
        assert browser.do_refresh(**{"user-agent": "TestBrowser/2.0"}).status_code == 200
    (handle,) = served.tessera.syncio.get_all_session_handles_for_user("user-1")
    info = served.tessera.syncio.get_session_information(handle)
    assert info is not None
    assert info.ip == "127.0.0.1"
    assert info.user_agent == "TestBrowser/2.0"
    assert info.last_refreshed == info.time_created + 5000
