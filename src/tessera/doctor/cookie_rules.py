"""Rules on where a browser sends the session cookies an API sets: would it send them
back to the API from the website (Secure, SameSite against the site, Domain, Path)?

Each rule is a plain function of one parsed ``Set-Cookie`` and a ``CookieContext`` and
returns one finding (checked names: ``cookie.<name>.<aspect>``); ``check_cookie``
applies these and the ones of ``cookie_keeping``.
"""

from __future__ import annotations

from .cookie_context import ACCESS_COOKIE, LEGACY_COOKIE, REFRESH_COOKIE, CookieContext
from .cookie_context import cookie_finding as _finding
from .cookie_keeping import check_expiry, check_http_only, check_size
from .findings import Finding, Status
from .setcookie import SetCookie
from .sites import default_cookie_path, domain_matches, is_loopback, is_public_suffix, path_matches

__all__ = [
    "check_cookie",
    "check_domain",
    "check_path",
    "check_same_site",
    "check_secure",
]


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
    if cookie.same_site == "none":
        return _finding(
            cookie,
            "secure",
            Status.FAIL,
            f"{name} lacks Secure, which SameSite=None requires",
            explanation="Chromium browsers refuse a SameSite=None cookie without Secure (see "
            "the SameSite finding), and Secure cookies need https.",
            fix="Serve the API over https and set cookie_secure=True.",
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
