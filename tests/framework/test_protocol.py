"""The frontend protocol over real HTTP, the same for FastAPI, Flask and Django.

Each test runs against the framework's app behind a real server on 127.0.0.1
(uvicorn for FastAPI, werkzeug's threaded server for Flask and Django).
"""

from __future__ import annotations

from collections.abc import Callable
from email.utils import formatdate

import httpx
import pytest

from tessera import SessionError, TokenTheftError
from tessera.framework import Reply, RequestView

from .._support.framework_apps import Served
from .._support.wire import Browserish, exposed, front_token, is_cleared, set_cookies

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


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/x-www-form-urlencoded"},  # a cross-site form POST
        {"rid": "session"},
        {"rid": "session", "cookie": "sAccessToken=a.b.c"},
    ],
    ids=["form-post", "sdk", "access-token-only"],
)
def test_refresh_without_a_refresh_token_clears_nothing(
    serve: Serve, headers: dict[str, str]
) -> None:
    """Any site can send this request: answering it must not log the user out."""
    served = serve()
    with served.client() as client:
        browser = Browserish(client)
        browser.login()
        with served.client() as elsewhere:  # the browser's cookies are not sent
            response = elsewhere.post("/auth/session/refresh", headers=headers, content=b"a=1")
        assert response.status_code == 401
        assert response.json() == {"message": "unauthorised"}
        assert not is_cleared(response)
        assert not set_cookies(response)
        assert "st-access-token" not in response.headers
        assert browser.call("GET", "/protected").status_code == 200
        assert browser.do_refresh(rid="session").status_code == 200


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
        refused = browser.do_refresh()  # a cross-site form POST carries no rid
        assert refused.status_code == 401
        assert not is_cleared(refused)
        assert not set_cookies(refused)
        assert browser.do_refresh(rid="session").status_code == 200


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
        for wrong in ({}, {"anti-csrf": "forged"}):
            refused = browser.do_refresh(**wrong)
            assert refused.status_code == 401
            assert not is_cleared(refused)
            assert not set_cookies(refused)
        assert browser.do_refresh(**{"anti-csrf": first}).status_code == 200
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


def _expired(response: httpx.Response, name: str) -> set[tuple[str | None, str]]:
    """The (Domain, Path) of every ``name`` cookie the response expires."""
    found = set()
    for header in response.headers.get_list("set-cookie"):
        first, *attributes = [part.strip() for part in header.split(";")]
        if first not in (f"{name}=", f'{name}=""'):
            continue
        fields = {k.lower(): v for k, _, v in (a.partition("=") for a in attributes)}
        assert "1970" in fields["expires"]
        found.add((fields.get("domain"), fields["path"]))
    return found


API_HOST = {"host": "api.example.test"}


@pytest.mark.parametrize(
    ("older", "planted"),
    [(None, "token"), (".old.example.test", "token"), (None, "empty")],
)
def test_planted_refresh_cookie_is_cleared_never_500(
    serve: Serve, older: str | None, planted: str
) -> None:
    """Cookie tossing: a sibling sub-domain sets sRefreshToken for the parent domain
    (here the attacker's own valid token, or an empty value sent ahead of ours).

    The answer is the one SuperTokens gives with ``olderCookieDomain``: 200 without a
    front token, every copy but ours expired; the next refresh carries ours only."""
    served = serve(older_cookie_domain=older)
    with served.client() as client, served.client() as attackers_client:
        browser = Browserish(client)
        browser.login(**API_HOST)
        attacker = Browserish(attackers_client)
        attacker.login("attacker", **API_HOST)
        both = f"sRefreshToken={browser.refresh}; sRefreshToken={attacker.refresh}"
        if planted == "empty":
            both = f"sRefreshToken=; sRefreshToken={browser.refresh}"
        response = client.post(
            "/auth/session/refresh", headers={**API_HOST, "rid": "session", "cookie": both}
        )
        assert response.status_code == 200, response.text
        assert "multiple session cookies" in response.json()["message"]
        assert "front-token" not in response.headers
        expired = _expired(response, "sRefreshToken")
        assert ("example.test", "/auth/session/refresh") in expired
        assert ("api.example.test", "/") in expired
        assert (None, "/auth") in expired
        assert (None, "/auth/session/refresh") not in expired  # ours
        if older:
            assert ("old.example.test", "/auth/session/refresh") in expired
        assert not _expired(response, "sAccessToken")
        # the browser dropped the planted copy: the session goes on, nobody logged out
        refreshed = browser.do_refresh(**API_HOST, rid="session")
        assert refreshed.status_code == 200
        assert front_token(refreshed)["uid"] == "user-1"
        assert browser.call("GET", "/protected", **API_HOST).json()["userId"] == "user-1"


def test_planted_cookie_domains_behind_a_proxy(serve: Serve) -> None:
    """The public host comes from X-Forwarded-Host or api_domain when the proxy sends
    its own Host."""
    for settings, headers in [
        ({}, {"x-forwarded-host": "api.example.test"}),
        ({"api_domain": "https://api.example.test"}, {}),
    ]:
        served = serve(**settings)
        with served.client() as client:
            response = client.post(
                "/auth/session/refresh",
                headers={**headers, "cookie": "sRefreshToken=a.n.b; sRefreshToken=c.n.d"},
            )
        assert response.status_code == 200
        assert ("example.test", "/auth/session/refresh") in _expired(response, "sRefreshToken")


def test_planted_access_cookie_is_cleared_and_refresh_goes_on(serve: Serve) -> None:
    served = serve(cookie_domain=".example.test")
    with served.client() as client:
        browser = Browserish(client)
        browser.login(**API_HOST)
        both = f"sAccessToken=planted.a.b; sAccessToken={browser.access}"
        verify = client.get("/protected", headers={**API_HOST, "cookie": both})
        assert verify.status_code == 401
        assert verify.json() == {"message": "try refresh token"}
        assert not is_cleared(verify)
        expired = _expired(verify, "sAccessToken")
        assert (None, "/") in expired
        assert ("api.example.test", "/protected") in expired
        assert ("example.test", "/") not in expired  # ours
        refresh = client.post(
            "/auth/session/refresh",
            headers={**API_HOST, "cookie": f"sRefreshToken={browser.refresh}; {both}"},
        )
        assert refresh.status_code == 200
        assert front_token(refresh)["uid"] == "user-1"
        assert (None, "/") in _expired(refresh, "sAccessToken")
        ours = set_cookies(refresh)
        assert ours["sAccessToken"]["domain"] == ".example.test"
        assert ours["sAccessToken"]["value"]


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
    assert (info.ip, info.last_ip) == ("127.0.0.1", "127.0.0.1")
    # The creation's agent stays; the refresh's is the last activity's.
    assert (info.user_agent, info.last_user_agent) == ("TestBrowser/1.0", "TestBrowser/2.0")
    assert info.last_refreshed == info.last_active == info.time_created + 5000


@pytest.mark.parametrize("max_lifetime", [None, 3600])
def test_refresh_cookie_expires_with_the_refresh_token(
    serve: Serve, max_lifetime: int | None
) -> None:
    """The cookie lives as long as its token: ``refresh_token_validity`` after the last
    refresh, never past ``session_max_lifetime``."""
    served = serve(
        engine_settings={"refresh_token_validity": 120, "session_max_lifetime": max_lifetime}
    )
    start = served.clock.now
    validity = 120 * 60_000
    with served.client() as client:
        browser = Browserish(client)
        login = browser.login()
        served.clock.advance(1800)
        refreshed = browser.do_refresh()
        assert refreshed.status_code == 200
    for response, now in [(login, start), (refreshed, start + 1_800_000)]:
        expiry = now + validity
        if max_lifetime is not None:
            expiry = min(expiry, start + max_lifetime * 1000)
        cookie = set_cookies(response)["sRefreshToken"]
        assert cookie["expires"] == formatdate(expiry // 1000, usegmt=True)
        if "max-age" in cookie:
            assert int(cookie["max-age"]) == (expiry - now) // 1000
