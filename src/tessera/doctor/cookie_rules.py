"""Rules for the session cookies an API sets: would a browser keep them, and send them
back to the API from the website?

Each rule is a plain function of one parsed ``Set-Cookie`` and a ``CookieContext`` and
returns one finding (checked names: ``cookie.<name>.<aspect>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .findings import Finding, Status
from .setcookie import SetCookie
from .sites import (
    Origin,
    default_cookie_path,
    domain_matches,
    is_loopback,
    is_public_suffix,
    path_matches,
    same_site,
)

__all__ = [
    "ACCESS_COOKIE",
    "COOKIE_SIZE_LIMIT",
    "LEGACY_COOKIE",
    "REFRESH_COOKIE",
    "SITE_EXPLAINED",
    "CookieContext",
    "check_cookie",
    "check_domain",
    "check_expiry",
    "check_http_only",
    "check_path",
    "check_same_site",
    "check_secure",
    "check_size",
    "check_stored_size",
]

ACCESS_COOKIE = "sAccessToken"
REFRESH_COOKIE = "sRefreshToken"
LEGACY_COOKIE = "sIdRefreshToken"
#: Browsers keep a cookie whose name and value together are at most this many bytes.
COOKIE_SIZE_LIMIT = 4096
_NEAR_LIMIT = COOKIE_SIZE_LIMIT * 9 // 10

SITE_EXPLAINED = (
    "Browsers compare sites, not origins. An origin is scheme, host and port "
    "(http://localhost:3000); a site is the scheme and the registrable domain, that is "
    "the public suffix plus one label (https://example.com for https://app.example.com). "
    "Ports do not count, the scheme does: app.example.com and api.example.com are one "
    "site, while localhost and 127.0.0.1 are two, and so are a.github.io and b.github.io "
    "(github.io is on the Public Suffix List)."
)


@dataclass(frozen=True)
class CookieContext:
    """Where a cookie was set and where the browser must send it back."""

    #: The API's origin (where the cookie was set).
    api: Origin
    #: Path of the API's root (``/`` or the URL's path, e.g. ``/api``).
    api_root: str
    #: Path the SDK posts refresh calls to.
    refresh_path: str
    #: Path of the request whose answer set the cookie (for the default Path).
    set_by_path: str
    #: The website's origin, when known.
    website: Origin | None
    #: When the answer arrived, by this machine's clock.
    received: datetime

    @property
    def cross_site(self) -> bool | None:
        """Whether the website's calls to the API are cross-site (``None``: unknown)."""
        return None if self.website is None else not same_site(self.website, self.api)


def _finding(cookie: SetCookie, aspect: str, status: Status, summary: str, **text: str) -> Finding:
    return Finding(f"cookie.{cookie.name}.{aspect}", status, summary, **text)


def check_secure(cookie: SetCookie, ctx: CookieContext) -> Finding:
    https = ctx.api.scheme == "https"
    name = cookie.name
    if cookie.secure and https:
        return _finding(cookie, "secure", Status.OK, f"{name} is Secure (https only)")
    if cookie.secure and is_loopback(ctx.api.host):
        return _finding(
            cookie,
            "secure",
            Status.WARN,
            f"{name} is Secure but the API at {ctx.api} is plain http",
            explanation=(
                "Chromium browsers (Chrome, Edge) keep Secure cookies from http://localhost "
                "and loopback addresses, which they count as secure; other browsers may drop "
                "them. No browser keeps them from any other http host."
            ),
            fix="Use https locally too, or turn Secure off in development "
            "(FrameworkConfig(cookie_secure=False)).",
        )
    if cookie.secure:
        return _finding(
            cookie,
            "secure",
            Status.FAIL,
            f"{name} is Secure but arrives over plain http: the browser refuses it",
            explanation=(
                f"A browser never stores a cookie marked Secure that a plain-http answer "
                f"sets. The API at {ctx.api} is http, so {name} is thrown away and every "
                "later request goes without it. Postman and curl keep it, which is why the "
                "login seems to work there."
            ),
            fix="Serve the API over https, or set cookie_secure=False while it is http.",
        )
    if https:
        return _finding(
            cookie,
            "secure",
            Status.WARN,
            f"{name} is not Secure although the API is https",
            explanation=(
                "Without Secure the browser also sends the cookie over plain http to this "
                "host, where anyone on the network path can read the token."
            ),
            fix="Set cookie_secure=True (the default when api_domain is https).",
        )
    if is_loopback(ctx.api.host):
        return _finding(
            cookie,
            "secure",
            Status.OK,
            f"{name} is not Secure (fine for plain http on {ctx.api.host})",
        )
    return _finding(
        cookie,
        "secure",
        Status.WARN,
        f"{name} travels over plain http to {ctx.api.host}",
        explanation="Tokens sent over http can be read by anyone on the network path.",
        fix="Serve the API over https and set cookie_secure=True.",
    )


def check_same_site(cookie: SetCookie, ctx: CookieContext) -> Finding:
    name, value, cross = cookie.name, cookie.same_site, ctx.cross_site
    sites = (
        f"the website ({ctx.website}, site {ctx.website.site}) and the API ({ctx.api}, "
        f"site {ctx.api.site})"
        if ctx.website
        else ""
    )
    if value == "none" and not cookie.secure:
        return _finding(
            cookie,
            "same-site",
            Status.FAIL,
            f"{name} has SameSite=None without Secure: Chrome and Edge drop it",
            explanation=(
                "Chrome, Edge and the other Chromium browsers refuse a cookie with "
                "SameSite=None unless it is also Secure, and other browsers are moving the "
                f"same way. The login answer looks fine in Postman or curl, which keep any "
                f"cookie, but the browser throws {name} away, so the next request has no "
                "session."
            ),
            fix="Serve the API over https with cookie_secure=True; or, when the website and "
            "the API are one site, use cookie_same_site='lax'.",
        )
    if value == "none":
        if cross:
            return _finding(
                cookie,
                "same-site",
                Status.OK,
                f"{name} has SameSite=None; Secure: sent on the website's cross-site calls "
                "(where third-party cookies are allowed: see the site check)",
            )
        if cross is False:
            return _finding(
                cookie,
                "same-site",
                Status.WARN,
                f"{name} has SameSite=None although {sites} are one site",
                explanation=(
                    "SameSite=None is needed only across sites. It makes the browser attach "
                    "the cookie to requests other websites make to the API too; SameSite=Lax "
                    "would keep it off those (a defence against cross-site request forgery)."
                ),
                fix="cookie_same_site='lax' (tessera's default when api_domain and "
                "website_domain are one site).",
            )
        return _finding(cookie, "same-site", Status.OK, f"{name} has SameSite=None; Secure")
    if value in ("lax", "strict"):
        shown = value.capitalize()
        if cross:
            return _finding(
                cookie,
                "same-site",
                Status.FAIL,
                f"{name} has SameSite={shown} but {sites} are different sites",
                explanation=(
                    f"A browser sends a SameSite={shown} cookie only with requests made from "
                    "its own site (Lax adds top-level navigations, never fetch or XHR calls). "
                    f"The website's calls to the API are cross-site, so {name} is stored but "
                    "never sent back: every call arrives without a session, and refresh "
                    "fails. Browsers compare sites, not origins: the site check explains the "
                    "difference."
                ),
                fix="Serve the API from the website's site (api.example.com beside "
                "www.example.com); or use cookie_same_site='none' with https and "
                "cookie_secure=True (tessera picks both when api_domain and website_domain "
                "are set); or use header mode.",
            )
        where = (
            f"the website and the API are one site ({ctx.api.site})"
            if cross is False
            else "sent when the website is on the API's site; give --website-domain to check"
        )
        return _finding(cookie, "same-site", Status.OK, f"{name} has SameSite={shown}: {where}")
    unknown = "" if value is None else f"SameSite={value} is not a value browsers know, so "
    summary = (
        f"{name} has no SameSite attribute"
        if value is None
        else f"{name} has an unknown SameSite={value}"
    )
    return _finding(
        cookie,
        "same-site",
        Status.FAIL if cross else Status.WARN,
        summary,
        explanation=(
            f"{unknown}browsers apply their own default: Chrome and Edge treat the cookie as "
            "SameSite=Lax (not sent on the website's calls when it is another site), Firefox "
            "and Safari as SameSite=None."
        ),
        fix="Set SameSite explicitly: 'lax' when the website and API are one site, 'none' "
        "with Secure otherwise.",
    )


def check_domain(cookie: SetCookie, ctx: CookieContext) -> Finding:
    name, domain, host = cookie.name, cookie.domain, ctx.api.host
    if domain is None:
        return _finding(cookie, "domain", Status.OK, f"{name} is host-only (sent to {host})")
    if not domain_matches(host, domain):
        return _finding(
            cookie,
            "domain",
            Status.FAIL,
            f"{name} has Domain={domain}, which does not cover the API host {host}",
            explanation=(
                "A browser refuses a cookie whose Domain is neither the host that sets it nor "
                f"a parent of it, so {name} is thrown away."
            ),
            fix=f"Set cookie_domain to {host} or a parent such as '.example.com' (one that "
            f"{host} is under), or leave it unset for a host-only cookie.",
        )
    if domain != host and is_public_suffix(domain):
        return _finding(
            cookie,
            "domain",
            Status.FAIL,
            f"{name} has Domain={domain}, a public suffix: browsers refuse it",
            explanation=(
                "Browsers do not let a host set cookies for a public suffix (com, co.uk, "
                "github.io and the other names on the Public Suffix List), since every site "
                "under it would receive them."
            ),
            fix="Use your own registrable domain (e.g. '.example.com') or leave cookie_domain "
            "unset.",
        )
    if domain == "localhost":
        return _finding(
            cookie,
            "domain",
            Status.WARN,
            f"{name} has Domain=localhost",
            explanation="Some browsers ignore or refuse Domain=localhost.",
            fix="Leave cookie_domain unset in local development (host-only cookies).",
        )
    return _finding(
        cookie,
        "domain",
        Status.OK,
        f"{name} has Domain={domain}: sent to {domain} and every host under it",
    )


def check_path(cookie: SetCookie, ctx: CookieContext) -> Finding:
    name = cookie.name
    path = cookie.path or default_cookie_path(ctx.set_by_path)
    how = (
        f"Path={path}"
        if cookie.path
        else f"no Path, so the browser uses {path} (the folder of {ctx.set_by_path})"
    )
    if name == REFRESH_COOKIE:
        if not path_matches(ctx.refresh_path, path):
            return _finding(
                cookie,
                "path",
                Status.FAIL,
                f"the browser will not send {name} to {ctx.refresh_path}: it has {how}",
                explanation=(
                    "A browser sends a cookie only to URLs whose path is the cookie's Path or "
                    f"under it. The SDK refreshes by posting to {ctx.refresh_path}, outside "
                    f"{path}, so the refresh call carries no refresh token. Logging in works; "
                    "when the access token expires (an hour by default) the refresh answers "
                    "401 and the user is logged out."
                ),
                fix="The refresh cookie's Path is api_gateway_path + api_base_path + "
                f"'/session/refresh': make it {ctx.refresh_path}. Set api_gateway_path only "
                "when a proxy really adds that prefix, and keep api_base_path equal to the "
                "frontend's apiBasePath (the doctor used --api-base-path; pass the right one "
                "if yours differs).",
            )
        if path != ctx.refresh_path:
            return _finding(
                cookie,
                "path",
                Status.WARN,
                f"{name} goes to every path under {path}",
                explanation=(
                    "The refresh token lives for weeks; scoped to the refresh API it stays off "
                    "every other request (and out of other routes' logs)."
                ),
                fix=f"Path={ctx.refresh_path}, as tessera sets it.",
            )
        return _finding(cookie, "path", Status.OK, f"{name} has {how}: sent to the refresh API")
    if name == ACCESS_COOKIE and not path_matches(ctx.api_root, path):
        return _finding(
            cookie,
            "path",
            Status.WARN,
            f"{name} only goes to paths under {path}",
            explanation=(
                f"It has {how}; the app's routes outside {path} receive no access token and "
                "answer as if nobody were logged in."
            ),
            fix="Path=/ (tessera's setting) or the API's root path.",
        )
    return _finding(cookie, "path", Status.OK, f"{name} has {how}")


def check_stored_size(check: str, name: str, value: str, stored_as: str = "") -> Finding:
    """A value the browser keeps in one cookie (``name=value``) against the 4096-byte
    limit."""
    size = len(name.encode()) + len(value.encode())
    where = stored_as or f"the {name} cookie"
    if size > COOKIE_SIZE_LIMIT:
        return Finding(
            check,
            Status.FAIL,
            f"{where} is {size} bytes, over the browsers' {COOKIE_SIZE_LIMIT}-byte limit",
            explanation=(
                f"Browsers silently refuse a cookie whose name and value exceed "
                f"{COOKIE_SIZE_LIMIT} bytes, so it is never stored: the session vanishes "
                "right after login."
            ),
            fix="Make the access-token payload smaller: keep large or many claims in the "
            "session data (update_session_data_in_database) instead.",
        )
    if size > _NEAR_LIMIT:
        return Finding(
            check,
            Status.WARN,
            f"{where} is {size} bytes, close to the {COOKIE_SIZE_LIMIT}-byte limit",
            explanation="A few more claims in the access-token payload and browsers drop it.",
            fix="Keep large claims in the session data instead of the access-token payload.",
        )
    return Finding(check, Status.OK, f"{where} is {size} bytes")


def check_size(cookie: SetCookie, ctx: CookieContext) -> Finding:
    return check_stored_size(f"cookie.{cookie.name}.size", cookie.name, cookie.value)


def check_http_only(cookie: SetCookie, ctx: CookieContext) -> Finding:
    if cookie.http_only:
        return _finding(cookie, "http-only", Status.OK, f"{cookie.name} is HttpOnly")
    return _finding(
        cookie,
        "http-only",
        Status.WARN,
        f"{cookie.name} is not HttpOnly",
        explanation="Page scripts can read it, and so can a cross-site scripting attack.",
        fix="Session cookies should be HttpOnly (tessera always sets it).",
    )


def check_expiry(cookie: SetCookie, ctx: CookieContext) -> Finding:
    name = cookie.name
    expiry = cookie.expiry(ctx.received)
    if expiry is not None and expiry <= ctx.received:
        return _finding(
            cookie,
            "expires",
            Status.FAIL,
            f"{name} expires at {expiry:%Y-%m-%d %H:%M:%S} UTC, already past: the browser "
            "deletes it on arrival",
            explanation=(
                "A cookie whose expiry is in the past (by the browser's clock) is removed as "
                "soon as it arrives. When the server's clock runs behind, the Expires dates "
                "it writes can already be past for the browser."
            ),
            fix="Check the server's clock (see the clock checks) and the token lifetimes.",
        )
    if expiry is None and name == REFRESH_COOKIE:
        return _finding(
            cookie,
            "expires",
            Status.WARN,
            f"{name} has no expiry: it goes when the browser closes",
            explanation="Users are logged out whenever they close the browser. Ignore this "
            "if that is what you want.",
            fix="tessera sets Expires to the refresh token's expiry.",
        )
    if expiry is None:
        return _finding(cookie, "expires", Status.OK, f"{name} lasts the browsing session")
    return _finding(
        cookie, "expires", Status.OK, f"{name} is kept until {expiry:%Y-%m-%d %H:%M} UTC"
    )


def check_cookie(cookie: SetCookie, ctx: CookieContext) -> list[Finding]:
    """Every rule for one session cookie; a legacy ``sIdRefreshToken`` also warns."""
    rules = (
        check_secure,
        check_same_site,
        check_domain,
        check_path,
        check_size,
        check_http_only,
        check_expiry,
    )
    found = [rule(cookie, ctx) for rule in rules]
    if cookie.name == LEGACY_COOKIE:
        found.append(
            _finding(
                cookie,
                "legacy",
                Status.WARN,
                f"the API sets the legacy {LEGACY_COOKIE} cookie",
                explanation=(
                    "Old SDK versions used it. tessera (like SuperTokens) answers a request "
                    "that carries it with 'try refresh token' and removes it on refresh."
                ),
                fix="Update the backend SDK; nothing should set it any more.",
            )
        )
    return found
