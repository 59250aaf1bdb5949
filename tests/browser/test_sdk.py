"""The official frontend SDK (supertokens-web-js) in headless Chromium against tessera.

Each scenario of the conformance plan runs against FastAPI and Flask backends, in
cookie and header mode where the scenario applies to both. The page is served from
``http://localhost:<page port>`` and the API from ``http://localhost:<api port>``: the
same site, different origins, so CORS is exercised too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .._support.browser import Backend, open_page, wait_past_expiry

MakeBackend = Callable[..., Backend]
MODES = ["cookie", "header"]


def js(page: Any, script: str, arg: Any = None) -> Any:
    return page.evaluate(script, arg)


def cookie_names(context: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in context.cookies()}


@pytest.mark.parametrize("mode", MODES)
def test_session_lifecycle(backend: MakeBackend, context: Any, page_origin: str, mode: str) -> None:
    """Scenarios 1-6 and 10: existence, login, refresh, concurrency, sign-out, header mode."""
    served = backend()
    page = open_page(context, page_origin, served.api, mode)

    # 1. no session: exactly one refresh probe, answered 401 with front-token: remove
    assert js(page, "() => supertokensSession.doesSessionExist()") is False
    probes = served.refreshes()
    assert len(probes) == 1
    assert probes[0]["headers"]["rid"] == "session"
    assert probes[0]["headers"]["st-auth-mode"] == mode
    assert "fdi-version" in probes[0]["headers"]
    assert js(page, "() => supertokensSession.doesSessionExist()") is False
    page.reload()
    page.wait_for_function("() => window.supertokensSession !== undefined")
    js(page, "([api, mode]) => window.setup(api, mode)", [served.api, mode])
    assert js(page, "() => supertokensSession.doesSessionExist()") is False
    assert len(served.refreshes()) == 1

    # 2. login through the intercepted fetch
    assert js(page, "(api) => window.login(api, 'user-7')", served.api) == 200
    assert js(page, "() => supertokensSession.doesSessionExist()") is True
    assert js(page, "() => supertokensSession.getUserId()") == "user-7"
    cookies = cookie_names(context)
    if mode == "cookie":
        assert cookies["sAccessToken"]["path"] == "/"
        assert cookies["sAccessToken"]["httpOnly"] is True
        assert cookies["sRefreshToken"]["path"] == "/auth/session/refresh"
        assert cookies["sRefreshToken"]["httpOnly"] is True
        assert js(page, "() => supertokensSession.getAccessToken()") is None
    else:
        assert "sAccessToken" not in cookies
        assert "sRefreshToken" not in cookies
        assert cookies["st-access-token"]["httpOnly"] is False
        assert "st-refresh-token" in cookies
        # 10. header mode exposes the access token to JS
        assert js(page, "() => supertokensSession.getAccessToken()")
    assert "sFrontToken" in cookies

    # 3. a protected call
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 200
    protected = served.requests("GET", "/protected")[-1]["headers"]
    if mode == "header":
        assert protected["authorization"].startswith("Bearer ")

    # 4. the access token expires: one refresh, then the retried call succeeds
    wait_past_expiry()
    before = len(served.refreshes())
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 200
    assert len(served.refreshes()) == before + 1
    if mode == "header":
        assert served.refreshes()[-1]["headers"]["authorization"].startswith("Bearer ")

    # 5. eight parallel calls after expiry share one refresh
    wait_past_expiry()
    before = len(served.refreshes())
    statuses = js(
        page,
        "(api) => Promise.all([...Array(8)].map(() => "
        "fetch(api + '/protected').then(r => r.status)))",
        served.api,
    )
    assert statuses == [200] * 8
    assert len(served.refreshes()) == before + 1

    # 6. sign-out
    js(page, "() => supertokensSession.signOut()")
    assert served.requests("POST", "/auth/signout")
    assert js(page, "() => supertokensSession.doesSessionExist()") is False
    cookies = cookie_names(context)
    assert "sAccessToken" not in cookies
    assert "st-access-token" not in cookies
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 401
    actions = [e["action"] for e in js(page, "() => window.events")]
    assert actions[0] == "SESSION_CREATED"
    assert "REFRESH_SESSION" in actions
    assert actions.index("SIGN_OUT") < len(actions) - 1
    assert actions[-1] == "UNAUTHORISED"
    assert js(page, "() => window.events")[-1]["sessionExpiredOrRevoked"] is False


def test_anti_csrf_via_token(backend: MakeBackend, context: Any, page_origin: str) -> None:
    """Scenario 7, VIA_TOKEN: the anti-csrf header is sent, rotates, and is required."""
    served = backend(engine_settings={"anti_csrf": "VIA_TOKEN"})
    page = open_page(context, page_origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'u')", served.api)
    assert (
        js(
            page,
            "(api) => fetch(api + '/protected', {method: 'POST'}).then(r => r.status)",
            served.api,
        )
        == 200
    )
    first = served.requests("POST", "/protected")[-1]["headers"]["anti-csrf"]
    wait_past_expiry()
    assert (
        js(
            page,
            "(api) => fetch(api + '/protected', {method: 'POST'}).then(r => r.status)",
            served.api,
        )
        == 200
    )
    assert served.refreshes()[-1]["headers"]["anti-csrf"] == first
    assert served.requests("POST", "/protected")[-1]["headers"]["anti-csrf"] != first
    raw = """(api) => fetch(api + '/protected#superTokensDoNotDoInterception',
                         {method: 'POST', credentials: 'include'}).then(r => r.status)"""
    assert js(page, raw, served.api) == 401


def test_anti_csrf_via_custom_header(backend: MakeBackend, context: Any, page_origin: str) -> None:
    """Scenario 7, VIA_CUSTOM_HEADER: the SDK's rid header passes; a raw POST does not."""
    served = backend(anti_csrf="VIA_CUSTOM_HEADER")
    page = open_page(context, page_origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'u')", served.api)
    assert (
        js(
            page,
            "(api) => fetch(api + '/protected', {method: 'POST'}).then(r => r.status)",
            served.api,
        )
        == 200
    )
    raw = """(api) => fetch(api + '/protected#superTokensDoNotDoInterception',
                         {method: 'POST', credentials: 'include'}).then(r => r.status)"""
    assert js(page, raw, served.api) == 401


@pytest.mark.parametrize("mode", MODES)
def test_server_side_revocation(
    backend: MakeBackend, context: Any, page_origin: str, mode: str
) -> None:
    """Scenario 8: after revocation the caller gets the refresh API's 401."""
    served = backend()
    page = open_page(context, page_origin, served.api, mode)
    js(page, "(api) => window.login(api, 'gone')", served.api)
    assert served.post("/revoke-all", {"userId": "gone"})["revoked"]
    wait_past_expiry()
    result = js(page, "(api) => fetch(api + '/protected').then(r => [r.status, r.url])", served.api)
    assert result == [401, served.api + "/auth/session/refresh"]
    unauthorised = [e for e in js(page, "() => window.events") if e["action"] == "UNAUTHORISED"]
    assert unauthorised[-1]["sessionExpiredOrRevoked"] is True
    assert js(page, "() => supertokensSession.doesSessionExist()") is False


def test_missing_expose_headers_hide_the_session(
    backend: MakeBackend, context: Any, page_origin: str
) -> None:
    """Scenario 9 (negative control): without Access-Control-Expose-Headers the SDK
    cannot see the front token, so the harness would notice a broken expose list."""
    served = backend(strip_expose=True)
    page = open_page(context, page_origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'u')", served.api)
    error = js(page, "() => supertokensSession.getUserId().then(() => 'found', e => String(e))")
    assert "No session exists" in error


@pytest.mark.parametrize("mode", MODES)
def test_invalid_claim_is_not_a_refresh(
    backend: MakeBackend, context: Any, page_origin: str, mode: str
) -> None:
    """Scenario 11: a 403 claim failure fires API_INVALID_CLAIM and no refresh."""
    served = backend()
    page = open_page(context, page_origin, served.api, mode)
    js(page, "(api) => window.login(api, 'u')", served.api)
    before = len(served.refreshes())
    assert js(page, "(api) => fetch(api + '/claim').then(r => r.status)", served.api) == 403
    assert len(served.refreshes()) == before
    claims = [e for e in js(page, "() => window.events") if e["action"] == "API_INVALID_CLAIM"]
    assert claims[-1]["claimValidationErrors"][0]["id"] == "st-role"


def test_endless_401_stops_after_ten_refreshes(
    backend: MakeBackend, context: Any, page_origin: str
) -> None:
    """Scenario 12: a route that always answers 401 makes the SDK give up."""
    served = backend()
    page = open_page(context, page_origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'u')", served.api)
    before = len(served.refreshes())
    outcome = js(
        page,
        "(api) => fetch(api + '/always-401').then(r => 'status ' + r.status, e => 'threw')",
        served.api,
    )
    assert outcome == "threw"
    assert len(served.refreshes()) - before == 10


def test_clock_skew_is_measured(backend: MakeBackend, context: Any, page_origin: str) -> None:
    """Scenario 13: a backend 60 s ahead is noticed through the front token's iat."""
    served = backend(
        engine_settings={"clock": lambda: __import__("time").time_ns() // 1_000_000 + 60_000}
    )
    page = open_page(context, page_origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'u')", served.api)
    assert js(page, "() => supertokensSession.doesSessionExist()") is True
    skew = js(page, "() => Number(localStorage.getItem('__st_clockSkewInMillis'))")
    assert 55_000 < skew < 65_000


def test_refresh_token_reuse_is_theft(backend: MakeBackend, context: Any, page_origin: str) -> None:
    """Scenario 14: an old refresh cookie replayed after the grace period revokes the session."""
    served = backend(engine_settings={"refresh_token_grace_period": 0})
    page = open_page(context, page_origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'victim')", served.api)
    old = cookie_names(context)["sRefreshToken"]
    wait_past_expiry()
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 200
    context.add_cookies(
        [
            {
                k: old[k]
                for k in ("name", "value", "domain", "path", "httpOnly", "sameSite", "expires")
            }
        ]
    )
    wait_past_expiry()
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 401
    assert served.tessera.syncio.get_all_session_handles_for_user("victim") == []
    assert "sRefreshToken" not in cookie_names(context)
    assert js(page, "() => supertokensSession.doesSessionExist()") is False


@pytest.mark.parametrize("older", [True, False])
def test_duplicate_cookies_after_a_cookie_domain_change(
    backend: MakeBackend, context: Any, page_origin: str, older: bool
) -> None:
    """Scenario 15: the app moves its cookies from ``.localhost.org`` to host-only.

    With or without ``older_cookie_domain``, the copies under the old domain are
    removed and the session goes on; one call fails while that happens, as the SDK
    refuses a 200 refresh without a front token."""
    served = backend(host="localhost.org", cookie_domain=".localhost.org")
    origin = page_origin.replace("localhost", "localhost.org")
    page = open_page(context, origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'moved')", served.api)
    assert cookie_names(context)["sAccessToken"]["domain"] == ".localhost.org"
    served.reconfigure(cookie_domain=None, older_cookie_domain=".localhost.org" if older else None)
    wait_past_expiry()
    # The refresh sets host-only cookies beside the old ones; the retried call then
    # carries two access-token cookies and the next refresh meets two refresh cookies.
    call = "(api) => fetch(api + '/protected').then(r => r.status, e => 'threw')"
    assert js(page, call, served.api) == "threw"
    assert js(page, call, served.api) == 200
    session_cookies = ("sAccessToken", "sRefreshToken")
    domains = [c["domain"] for c in context.cookies() if c["name"] in session_cookies]
    assert domains == ["localhost.org", "localhost.org"]


def _plant(context: Any, name: str, path: str) -> None:
    """What a page on a sibling sub-domain can do: set a cookie for the parent domain."""
    context.add_cookies(
        [{"name": name, "value": "planted", "domain": ".localhost.org", "path": path}]
    )


def test_planted_refresh_cookie_does_not_block_the_session(
    backend: MakeBackend, context: Any, page_origin: str
) -> None:
    """Cookie tossing: a hostile sibling sub-domain plants sRefreshToken for the parent
    domain. The refresh API removes it (one call fails meanwhile); nobody is logged out."""
    served = backend(host="localhost.org")
    origin = page_origin.replace("localhost", "localhost.org")
    page = open_page(context, origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'victim')", served.api)
    _plant(context, "sRefreshToken", "/auth/session/refresh")
    wait_past_expiry()
    call = "(api) => fetch(api + '/protected').then(r => r.status, e => 'threw')"
    assert js(page, call, served.api) == "threw"
    assert js(page, call, served.api) == 200
    assert [c["domain"] for c in context.cookies() if c["name"] == "sRefreshToken"] == [
        "localhost.org"
    ]
    assert js(page, "() => supertokensSession.getUserId()") == "victim"


def test_planted_access_cookie_does_not_block_the_session(
    backend: MakeBackend, context: Any, page_origin: str
) -> None:
    """A planted sAccessToken is removed by the 401 that asks for a refresh, so one
    refresh is enough (before: ten refreshes, then the SDK gave up)."""
    served = backend(host="localhost.org")
    origin = page_origin.replace("localhost", "localhost.org")
    page = open_page(context, origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'victim')", served.api)
    _plant(context, "sAccessToken", "/")
    before = len(served.refreshes())
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 200
    assert len(served.refreshes()) == before + 1
    assert [c["domain"] for c in context.cookies() if c["name"] == "sAccessToken"] == [
        "localhost.org"
    ]


def test_cross_site_refresh_post_logs_nobody_out(
    backend: MakeBackend, context: Any, page_origin: str
) -> None:
    """Any site can POST a form to the refresh API (SameSite keeps the cookies home);
    the session must survive it."""
    served = backend()
    page = open_page(context, page_origin, served.api, "cookie")
    js(page, "(api) => window.login(api, 'victim')", served.api)
    hostile = context.new_page()
    hostile.goto(page_origin.replace("localhost", "127.0.0.1") + "/index.html")
    hostile.set_content(f'<form method="post" action="{served.api}/auth/session/refresh"></form>')
    with hostile.expect_navigation():
        hostile.evaluate("() => document.forms[0].submit()")
    assert {"sAccessToken", "sRefreshToken"} <= set(cookie_names(context))
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 200
    wait_past_expiry()
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 200


def test_cors_set_up_before_tessera(backend: MakeBackend, context: Any, page_origin: str) -> None:
    """CORS set up first, so that tessera's middleware wraps it (``add_middleware`` order
    in FastAPI, ``CORS(app)`` before ``FlaskTessera(app)``): tessera's own answers
    (refresh, sign-out, 401s) still reach the page."""
    served = backend(cors_inside=True)
    page = open_page(context, page_origin, served.api, "cookie")
    assert js(page, "() => supertokensSession.doesSessionExist()") is False
    assert js(page, "(api) => window.login(api, 'cors')", served.api) == 200
    wait_past_expiry()
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 200
    assert len(served.refreshes()) == 2
    js(page, "() => supertokensSession.signOut()")
    assert js(page, "() => supertokensSession.doesSessionExist()") is False
    assert js(page, "(api) => fetch(api + '/protected').then(r => r.status)", served.api) == 401
