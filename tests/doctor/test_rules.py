"""The doctor's rules as plain functions, without a network: sites and cookie matching,
Set-Cookie parsing, and each rule's verdicts on recorded answers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from email.utils import formatdate

import pytest

from tessera.doctor import Finding, Status, exit_code
from tessera.doctor.clock_rules import check_server_clock, server_clock_offset
from tessera.doctor.cookie_context import CookieContext
from tessera.doctor.cookie_keeping import check_size
from tessera.doctor.cookie_rules import (
    check_cookie,
    check_domain,
    check_path,
    check_same_site,
    check_secure,
)
from tessera.doctor.cors_rules import (
    check_allow_origin,
    check_any_origin,
    check_exposed,
    check_mixed_content,
    check_preflight,
)
from tessera.doctor.observed import Answer
from tessera.doctor.refresh_rules import check_refresh_rotation, check_refresh_without_token
from tessera.doctor.report import render_json, render_text
from tessera.doctor.session_rules import check_anti_csrf, check_transfer_mode
from tessera.doctor.setcookie import SetCookie, parse_set_cookie
from tessera.doctor.sites import (
    Origin,
    default_cookie_path,
    domain_matches,
    is_public_suffix,
    path_matches,
    registrable_domain,
    same_site,
)
from tessera.doctor.tokens import FrontTokenError, decode_front_token

NOW = datetime(2030, 1, 1, tzinfo=UTC)
WEBSITE = Origin.of("https://app.example.com")


def context(api: str = "https://api.example.com", website: str | None = None) -> CookieContext:
    return CookieContext(
        api=Origin.of(api),
        api_root="/",
        refresh_path="/auth/session/refresh",
        set_by_path="/login",
        website=Origin.of(website) if website else None,
        received=NOW,
    )


def answer(status: int = 200, body: str = "", **headers: str) -> Answer:
    pairs = tuple((k.replace("_", "-").lower(), v) for k, v in headers.items())
    return Answer("POST", "https://api.example.com/x", status, pairs, body)


# -- sites ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("app.example.com", "example.com"),
        ("www.example.co.uk", "example.co.uk"),
        ("alice.github.io", "alice.github.io"),  # github.io is a (private) public suffix
        ("app.example.test", "example.test"),  # unknown TLD: the last label is the suffix
        ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
    ],
)
def test_registrable_domain(host: str, registrable: str) -> None:
    assert registrable_domain(host) == registrable


def test_sites_ignore_ports_but_not_schemes_or_hosts() -> None:
    def site(a: str, b: str) -> bool:
        return same_site(Origin.of(a), Origin.of(b))

    assert site("http://localhost:3000", "http://localhost:8000")
    assert site("https://app.example.com", "https://api.example.com")
    assert not site("http://localhost:3000", "http://127.0.0.1:3000")
    assert not site("http://app.example.com", "https://api.example.com")
    assert not site("https://alice.github.io", "https://bob.github.io")
    assert not site("https://example.com", "https://example.net")


def test_origins() -> None:
    assert str(Origin.of("https://API.example.com:443/some/path")) == "https://api.example.com"
    assert str(Origin.of("http://[::1]:8000")) == "http://[::1]:8000"
    with pytest.raises(ValueError, match="not an http"):
        Origin.of("localhost:3000")


def test_cookie_path_and_domain_matching() -> None:
    assert path_matches("/auth/session/refresh", "/auth/session/refresh")
    assert path_matches("/auth/session/refresh", "/auth")
    assert path_matches("/auth/session/refresh", "/")
    assert not path_matches("/auth/session/refresh", "/auth/session/ref")
    assert not path_matches("/auth/session/refresh", "/api/auth/session/refresh")
    assert default_cookie_path("/login") == "/"
    assert default_cookie_path("/api/v1/login") == "/api/v1"
    assert domain_matches("api.example.com", "example.com")
    assert domain_matches("example.com", ".example.com")
    assert not domain_matches("badexample.com", "example.com")
    assert not domain_matches("example.com", "api.example.com")
    assert is_public_suffix("co.uk")
    assert is_public_suffix("github.io")
    assert not is_public_suffix("example.com")


# -- Set-Cookie ----------------------------------------------------------------------


def test_set_cookie_is_read_as_a_browser_reads_it() -> None:
    cookie = parse_set_cookie(
        "sRefreshToken=abc; Path=/auth/session/refresh; Domain=.Example.com; "
        "Expires=Wed, 10-Mar-2027 18:19:48 GMT; HttpOnly; Secure; SameSite=None"
    )
    assert cookie == SetCookie(
        "sRefreshToken",
        "abc",
        path="/auth/session/refresh",
        domain="example.com",
        secure=True,
        http_only=True,
        same_site="none",
        expires=datetime(2027, 3, 10, 18, 19, 48, tzinfo=UTC),
    )
    assert parse_set_cookie("no equals sign") is None
    assert parse_set_cookie("a=b; Path=relative") == SetCookie("a", "b")
    # Max-Age wins over Expires.
    both = parse_set_cookie("a=b; Max-Age=0; Expires=Wed, 10 Mar 2100 00:00:00 GMT")
    assert both is not None
    assert both.removes(NOW)


# -- cookie rules --------------------------------------------------------------------


def test_secure_cookie_over_plain_http() -> None:
    cookie = SetCookie("sAccessToken", "t", secure=True)
    assert check_secure(cookie, context("http://api.example.com")).status is Status.FAIL
    assert check_secure(cookie, context("http://localhost:8000")).status is Status.WARN
    assert check_secure(cookie, context()).status is Status.OK
    plain = SetCookie("sAccessToken", "t")
    assert check_secure(plain, context()).status is Status.WARN  # https without Secure


@pytest.mark.parametrize(
    ("same_site_value", "secure", "website", "status"),
    [
        ("none", False, None, Status.FAIL),
        ("none", True, "https://app.example.com", Status.WARN),  # one site: Lax would do
        ("none", True, "https://app.other.com", Status.OK),
        ("lax", False, "https://app.example.com", Status.OK),
        ("lax", True, "https://app.other.com", Status.FAIL),
        ("strict", True, "https://app.other.com", Status.FAIL),
        (None, True, "https://app.other.com", Status.FAIL),  # Chrome: Lax by default
        (None, True, "https://app.example.com", Status.WARN),
        ("nonee", True, "https://app.example.com", Status.WARN),
    ],
)
def test_same_site_against_the_website(
    same_site_value: str | None, secure: bool, website: str | None, status: Status
) -> None:
    cookie = SetCookie("sAccessToken", "t", secure=secure, same_site=same_site_value)
    assert check_same_site(cookie, context(website=website)).status is status


def test_domain_rules() -> None:
    def verdict(domain: str, api: str = "https://api.example.com") -> Finding:
        return check_domain(SetCookie("sAccessToken", "t", domain=domain), context(api))

    assert verdict("example.com").status is Status.OK
    other = verdict("example.net")
    assert other.status is Status.FAIL
    assert "does not cover the API host api.example.com" in other.summary
    suffix = verdict("github.io", "https://api.alice.github.io")
    assert suffix.status is Status.FAIL
    assert "public suffix" in suffix.summary
    assert verdict("localhost", "http://localhost:8000").status is Status.WARN


def test_refresh_cookie_path_rules() -> None:
    ctx = context()
    exact = SetCookie("sRefreshToken", "t", path="/auth/session/refresh")
    assert check_path(exact, ctx).status is Status.OK
    broad = SetCookie("sRefreshToken", "t", path="/")
    assert check_path(broad, ctx).status is Status.WARN
    elsewhere = SetCookie("sRefreshToken", "t", path="/api/auth/session/refresh")
    assert check_path(elsewhere, ctx).status is Status.FAIL
    # No Path: the folder of the login URL, /api here, which the refresh path is not under.
    unset = SetCookie("sRefreshToken", "t")
    deep = CookieContext(**{**ctx.__dict__, "set_by_path": "/api/login"})
    found = check_path(unset, deep)
    assert found.status is Status.FAIL
    assert "no Path, so the browser uses /api" in found.summary


def test_cookie_sizes() -> None:
    ctx = context()
    assert check_size(SetCookie("sAccessToken", "x" * 3000), ctx).status is Status.OK
    assert check_size(SetCookie("sAccessToken", "x" * 3900), ctx).status is Status.WARN
    over = check_size(SetCookie("sAccessToken", "x" * 4085), ctx)
    assert over.status is Status.FAIL
    assert "4097 bytes" in over.summary


def test_legacy_cookie_warns() -> None:
    checks = {f.check: f for f in check_cookie(SetCookie("sIdRefreshToken", "t"), context())}
    assert checks["cookie.sIdRefreshToken.legacy"].status is Status.WARN


# -- CORS rules ----------------------------------------------------------------------


def test_preflight_refused_names_the_answer() -> None:
    (found,) = check_preflight(answer(400, "Disallowed CORS origin"), WEBSITE, "/auth/x")
    assert found.status is Status.FAIL
    assert "answered 400" in found.summary
    assert "Disallowed CORS origin" in found.explanation


def test_allow_origin_must_be_the_exact_origin() -> None:
    slash = check_allow_origin(answer(access_control_allow_origin=f"{WEBSITE}/"), WEBSITE)
    assert slash.status is Status.FAIL
    assert "trailing slash" in slash.explanation
    exact = check_allow_origin(answer(access_control_allow_origin=str(WEBSITE)), WEBSITE)
    assert exact.status is Status.OK


def test_exposed_headers() -> None:
    star = answer(front_token="x", access_control_expose_headers="*")
    found = check_exposed(star, "login")
    assert found.status is Status.FAIL
    assert "means nothing for credentialed calls" in found.explanation
    ok = answer(
        front_token="x", anti_csrf="y", access_control_expose_headers="Front-Token, anti-csrf"
    )
    assert check_exposed(ok, "login").status is Status.OK
    half = answer(front_token="x", anti_csrf="y", access_control_expose_headers="front-token")
    assert "anti-csrf" in check_exposed(half, "login").summary
    assert check_exposed(answer(), "login").status is Status.SKIP


def test_mixed_content() -> None:
    blocked = check_mixed_content(WEBSITE, Origin.of("http://api.example.com"))
    assert blocked is not None
    assert blocked.status is Status.FAIL
    assert "mixed content" in blocked.explanation
    local = check_mixed_content(WEBSITE, Origin.of("http://localhost:8000"))
    assert local is not None
    assert local.status is Status.WARN
    assert check_mixed_content(WEBSITE, Origin.of("https://api.example.com")) is None
    assert check_mixed_content(Origin.of("http://a.test"), Origin.of("http://b.test")) is None


def test_any_origin() -> None:
    echoed = answer(
        access_control_allow_origin="https://x.invalid", access_control_allow_credentials="true"
    )
    assert check_any_origin(echoed, "https://x.invalid").status is Status.WARN
    assert check_any_origin(answer(), "https://x.invalid").status is Status.OK


# -- refresh, session and clock rules ------------------------------------------------


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (404, "no refresh API there"),
        (405, "Method Not Allowed"),
        (403, "before any session check"),
        (302, "redirects"),
        (200, "without a refresh token"),
        (500, "answers 500"),
    ],
)
def test_refresh_endpoint_without_a_token(status: int, words: str) -> None:
    found = check_refresh_without_token(answer(status), "/auth/session/refresh", "/auth")
    assert found.status is Status.FAIL
    assert words in found.summary
    assert check_refresh_without_token(answer(401), "/p", "/auth").status is Status.OK


def test_refresh_rotation() -> None:
    assert check_refresh_rotation(answer(front_token="f"), "a", "b").status is Status.OK
    assert check_refresh_rotation(answer(front_token="f"), "a", "a").status is Status.WARN
    assert check_refresh_rotation(answer(), "a", "b").status is Status.FAIL
    theft = check_refresh_rotation(answer(401, '{"message": "token theft detected"}'), "a", None)
    assert "already been used" in theft.explanation


def test_transfer_mode_and_anti_csrf() -> None:
    assert check_transfer_mode("cookie", [], []).status is Status.FAIL
    assert check_transfer_mode("cookie", ["sAccessToken"], []).status is Status.OK
    forced = check_transfer_mode("cookie", [], ["st-access-token"])
    assert forced.status is Status.WARN
    assert "token_transfer_method='header'" in forced.explanation
    assert check_anti_csrf("lax", False, None).status is Status.OK
    assert check_anti_csrf("none", False, answer(200)).status is Status.FAIL
    assert "VIA_TOKEN" in check_anti_csrf("none", True, answer(401)).summary


def test_front_token_is_read_as_the_sdk_reads_it() -> None:
    def encode(value: object, urlsafe: bool = False) -> str:
        raw = json.dumps(value).encode()
        return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(raw).decode()

    good = {"uid": "ü" * 40, "ate": 1_900_000_000_000, "up": {"iat": 1}}
    assert decode_front_token(encode(good)) == good
    # Three "~" in a row encode to "fn5+" in standard base64, "fn5-" in URL-safe.
    encoded = encode({**good, "up": {"k": "~" * 9}}, urlsafe=True)
    assert "-" in encoded
    with pytest.raises(FrontTokenError, match="URL-safe"):
        decode_front_token(encoded)
    with pytest.raises(FrontTokenError, match="milliseconds"):
        decode_front_token(encode({**good, "ate": 1_900_000_000}))
    with pytest.raises(FrontTokenError, match="uid, ate and up"):
        decode_front_token(encode({"uid": "u"}))


def test_server_clock_offset_allows_for_the_date_header_resolution() -> None:
    def dated(stamp: float, sent: float, received: float) -> Answer:
        return Answer(
            "GET", "u", 200, (("date", formatdate(stamp, usegmt=True)),), "", sent, received
        )

    # Date is truncated to the second: 100.0 may mean 100.9.
    assert server_clock_offset(dated(100, 100.5, 100.9)) == 0
    assert server_clock_offset(dated(110, 100.0, 100.5)) == pytest.approx(9.5)
    assert server_clock_offset(dated(90, 100.0, 100.5)) == pytest.approx(-9.0)
    assert check_server_clock(dated(104, 100.0, 100.5)).status is Status.OK
    assert check_server_clock(dated(110, 100.0, 100.5)).status is Status.WARN
    assert check_server_clock(answer()).status is Status.SKIP


# -- findings and report -------------------------------------------------------------


def test_exit_codes_and_report() -> None:
    ok = Finding("reach", Status.OK, "answers")
    warn = Finding("cors.any-origin", Status.WARN, "any origin", "because", "do this")
    fail = Finding("cookie.sAccessToken.same-site", Status.FAIL, "dropped", "why it is", "fix it")
    assert exit_code([ok, warn]) == 0
    assert exit_code([ok, warn], strict=True) == 1
    assert exit_code([ok, fail]) == 1
    text = render_text([ok, warn, fail], heading="doctor")
    assert (
        text.index("FAIL  dropped") < text.index("WARN  any origin") < text.index("ok    answers")
    )
    assert "Why: why it is" in text
    assert "Fix: fix it" in text
    assert "Postman" in text
    assert "Postman" not in render_text([ok, warn], heading="doctor")
    data = json.loads(render_json([ok, fail], target={"url": "u"}, strict=False))
    assert data["exit_code"] == 1
    assert data["counts"] == {"ok": 1, "warn": 0, "fail": 1, "skip": 0}
    assert data["findings"][1]["check"] == "cookie.sAccessToken.same-site"
