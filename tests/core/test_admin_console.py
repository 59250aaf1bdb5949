"""The admin console over HTTP against a real core, without a browser: logging in
with a key (never in a URL), the cookie's attributes and scope, CSRF on every form,
the limit on failed logins, the security headers, a console without keys, HTTPS seen
through a trusted proxy, and apps that do not exist."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .._support import cdi
from .._support.admin_core import KEY, AdminCore, admin_core

WRONG = "not-the-key-0123456789abcdef"


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found, page.text
    return found[1]


def _login(client: httpx.Client, base: str, key: str = KEY, name: str = "alice") -> httpx.Response:
    form = client.get(f"{base}/admin/login")
    assert form.status_code == 200
    return client.post(f"{base}/admin/login", data={"key": key, "name": name, "csrf": _csrf(form)})


def _set_cookies(answer: httpx.Response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in answer.headers.get_list("set-cookie")}


@pytest.fixture
def core(tmp_path: Path) -> Iterator[AdminCore]:
    with admin_core(tmp_path / "core") as running:
        yield running


def test_log_in_look_around_and_log_out(core: AdminCore) -> None:
    with httpx.Client() as browser:
        first = browser.get(f"{core.url}/admin")
        assert (first.status_code, first.headers["location"]) == (303, "/admin/sessions")
        assert browser.get(f"{core.url}/admin/sessions").headers["location"] == "/admin/login"
        answer = _login(browser, core.url)
        assert (answer.status_code, answer.headers["location"]) == (303, "/admin/sessions")
        cookie = _set_cookies(answer)["tessera_admin"]
        for attribute in ("Path=/admin", "HttpOnly", "SameSite=Strict", "Max-Age=28800"):
            assert attribute in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback
        page = browser.get(f"{core.url}/admin/sessions")
        assert page.status_code == 200
        assert "Signed in as alice" in page.text
        headers = page.headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "script-src" not in headers["content-security-policy"]  # none at all
        assert headers["x-frame-options"] == "DENY"
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"
        secrets = [KEY, browser.cookies["tessera_admin"], _csrf(page)]
        out = browser.post(f"{core.url}/admin/logout", data={"csrf": _csrf(page)})
        assert (out.status_code, out.headers["location"]) == (303, "/admin/login")
        assert "Max-Age=0" in _set_cookies(out)["tessera_admin"]
        assert browser.get(f"{core.url}/admin/sessions").status_code == 303
    actions = [
        (r["action"], r.get("operator")) for r in core.audit() if r["event"] == "admin_action"
    ]
    assert actions == [("login", "alice"), ("logout", "alice")]
    log = core.log()
    for secret in secrets:  # nor the cookie's signature, nor a CSRF token
        assert secret not in log
        assert secret[-20:] not in log


def test_every_form_needs_its_csrf_token(core: AdminCore) -> None:
    handle = cdi.create(core.url, key=KEY)["session"]["handle"]
    with httpx.Client() as browser:
        _login(browser, core.url)
        token = _csrf(browser.get(f"{core.url}/admin/sessions"))
        revoke = f"{core.url}/admin/revoke"
        assert browser.post(revoke, data={"handle": handle}).status_code == 403
        assert browser.post(revoke, data={"handle": handle, "csrf": token[:-2]}).status_code == 403
        # A valid token from another site's page is still refused.
        other = {"origin": "https://evil.example"}
        answer = browser.post(revoke, data={"handle": handle, "csrf": token}, headers=other)
        assert answer.status_code == 403
        cross = {"sec-fetch-site": "cross-site"}
        answer = browser.post(revoke, data={"handle": handle, "csrf": token}, headers=cross)
        assert answer.status_code == 403
        assert core.store.load_session(handle) is not None
        own = {"origin": core.url, "sec-fetch-site": "same-origin"}
        answer = browser.post(revoke, data={"handle": handle, "csrf": token}, headers=own)
        assert (answer.status_code, answer.headers["location"]) == (303, "/admin/sessions?ended=1")
        assert core.store.load_session(handle) is None
        # The login form has its own token, bound to a cookie of its own.
        fresh = httpx.post(f"{core.url}/admin/login", data={"key": KEY, "csrf": token})
        assert fresh.status_code == 403


def test_failed_logins_are_limited_and_audited_without_the_keys(core: AdminCore) -> None:
    with httpx.Client() as browser:
        for attempt in range(5):
            answer = _login(browser, core.url, key=f"{WRONG}{attempt}", name="mallory")
            assert answer.status_code == 401
            assert "That key does not open this console" in answer.text
        # Refused for a while, even with the right key.
        limited = _login(browser, core.url)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 600
        assert "tessera_admin" not in _set_cookies(limited)
    failed = [r for r in core.audit() if r.get("action") == "login_failed"]
    assert [r["reason"] for r in failed] == ["wrong_key"] * 5 + ["rate_limited"]
    assert failed[0]["operator"] == "mallory"
    assert failed[0]["operator_ip"] == "127.0.0.1"
    log = core.log()
    assert WRONG not in log
    assert KEY not in log


def test_a_key_never_travels_in_a_url(core: AdminCore) -> None:
    for path in ("/admin/login", "/admin/sessions"):
        for name in ("key", "api-key", "api_key", "apiKey"):
            answer = httpx.get(f"{core.url}{path}", params={name: KEY})
            assert answer.status_code == 400
            assert "Never put an API key in a URL" in answer.text


def test_a_cookie_opens_only_the_console_that_made_it(core: AdminCore, tmp_path: Path) -> None:
    with httpx.Client() as browser:
        _login(browser, core.url)
        cookie = browser.cookies["tessera_admin"]
    assert cdi.put_app(core.url, "shop", key=KEY).status_code == 200
    sent = {"cookie": f"tessera_admin={cookie}"}
    assert httpx.get(f"{core.url}/admin/sessions", headers=sent).status_code == 200
    # Another app of the same core, another core (its own secret), a changed cookie.
    shop = httpx.get(f"{core.url}/appid-shop/admin/sessions", headers=sent)
    assert (shop.status_code, shop.headers["location"]) == (303, "/appid-shop/admin/login")
    body, mac = cookie.split(".")
    tampered = {"cookie": f"tessera_admin={body[:-2]}Qx.{mac}"}
    assert httpx.get(f"{core.url}/admin/sessions", headers=tampered).status_code == 303
    with admin_core(tmp_path / "other") as other:
        elsewhere = httpx.get(f"{other.url}/admin/sessions", headers=sent)
        assert (elsewhere.status_code, elsewhere.headers["location"]) == (303, "/admin/login")
        posted = httpx.post(f"{other.url}/admin/revoke", data={"handle": "x"}, headers=sent)
        assert posted.status_code == 401


def test_scripts_use_the_api_key_header(core: AdminCore) -> None:
    handle = cdi.create(core.url, key=KEY, userId="carol")["session"]["handle"]
    page = httpx.get(f"{core.url}/admin/sessions", params={"user": "carol"}, headers=core.headers)
    assert page.status_code == 200
    assert handle in page.text
    wrong = httpx.get(f"{core.url}/admin/sessions", headers={"api-key": WRONG})
    assert wrong.status_code == 401
    # A header no other site can make a browser send: no CSRF token needed.
    answer = httpx.post(f"{core.url}/admin/revoke", data={"handle": handle}, headers=core.headers)
    assert answer.status_code == 303
    assert core.store.load_session(handle) is None


def test_an_app_that_does_not_exist_looks_like_any_other_without_the_key(
    core: AdminCore,
) -> None:
    assert cdi.put_app(core.url, "shop", key=KEY).status_code == 200
    answers: dict[str, tuple[int, ...]] = {}
    for app in ("shop", "nope"):
        with httpx.Client() as browser:
            base = f"{core.url}/appid-{app}"
            start = browser.get(f"{base}/admin/sessions")
            form = browser.get(f"{base}/admin/login")
            wrong = browser.post(f"{base}/admin/login", data={"key": WRONG, "csrf": _csrf(form)})
            answers[app] = (start.status_code, form.status_code, wrong.status_code)
            right = browser.post(f"{base}/admin/login", data={"key": KEY, "csrf": _csrf(form)})
            answers[app + " with the key"] = (right.status_code,)
    assert answers["shop"] == answers["nope"] == (303, 200, 401)
    assert answers["shop with the key"] == (303,)
    assert answers["nope with the key"] == (404,)


@pytest.mark.parametrize("proxy", [True, False])
def test_secure_cookies_behind_a_trusted_https_proxy(tmp_path: Path, proxy: bool) -> None:
    settings = {"trusted_proxies": "127.0.0.1"} if proxy else {}
    with admin_core(tmp_path / "core", **settings) as core:
        forwarded = {"x-forwarded-proto": "https", "x-forwarded-for": "198.51.100.20"}
        form = httpx.get(f"{core.url}/admin/login", headers=forwarded)
        nonce = _set_cookies(form)["tessera_admin_login"]
        assert ("; Secure" in nonce) is proxy
        # Sent back by hand: the test speaks plain HTTP to the core, as the proxy does.
        answer = httpx.post(
            f"{core.url}/admin/login",
            data={"key": KEY, "csrf": _csrf(form)},
            headers={**forwarded, "cookie": nonce.split(";")[0]},
        )
        cookie = _set_cookies(answer)["tessera_admin"]
        assert ("; Secure" in cookie) is proxy
        login = next(r for r in core.audit() if r.get("action") == "login")
        assert login["operator_ip"] == ("198.51.100.20" if proxy else "127.0.0.1")


def test_without_a_key_the_console_is_closed_unless_opened_for_local_use(
    tmp_path: Path,
) -> None:
    with admin_core(tmp_path / "closed", key=None) as closed:
        answer = httpx.get(f"{closed.url}/admin/login")
        assert answer.status_code == 403
        assert "admin_console_without_api_key" in answer.text
    with admin_core(tmp_path / "local", key=None, admin_console_without_api_key="true") as core:
        host = core.url.removeprefix("http://")
        own = {"origin": core.url, "sec-fetch-site": "same-origin"}
        with httpx.Client() as browser:
            form = browser.get(f"{core.url}/admin/login", headers={"sec-fetch-site": "none"})
            assert "open without an API key" in form.text
            answer = browser.post(
                f"{core.url}/admin/login", data={"csrf": _csrf(form)}, headers=own
            )
            assert answer.status_code == 303
            assert browser.get(f"{core.url}/admin/sessions", headers=own).status_code == 200
            # Pages of other sites, and names rebound to this machine, are still refused.
            evil = {"origin": "http://evil.example", "sec-fetch-site": "cross-site"}
            assert browser.get(f"{core.url}/admin/sessions", headers=evil).status_code == 403
            rebound = {"host": f"evil.example:{host.rsplit(':', 1)[1]}"}
            assert browser.get(f"{core.url}/admin/sessions", headers=rebound).status_code == 403
        # The CDI routes keep refusing web pages.
        assert httpx.get(f"{core.url}/recipe/session/user?userId=u", headers=own).status_code == 403


def test_the_console_can_be_switched_off(tmp_path: Path) -> None:
    with admin_core(tmp_path / "core", admin_console="false") as core:
        assert httpx.get(f"{core.url}/admin/login").status_code == 404
        assert (
            httpx.get(f"{core.url}/tessera/admin/sessions", headers=core.headers).status_code == 200
        )
