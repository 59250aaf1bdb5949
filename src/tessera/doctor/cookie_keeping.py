"""Rules on whether a browser keeps a session cookie, for how long, and who can read it:
the 4096-byte limit, expiry, HttpOnly. Checked names: ``cookie.<name>.size``,
``.expires``, ``.http-only``."""

from __future__ import annotations

from .cookie_context import COOKIE_SIZE_LIMIT, REFRESH_COOKIE, CookieContext
from .cookie_context import cookie_finding as _finding
from .findings import Finding, Status
from .setcookie import SetCookie

__all__ = ["check_expiry", "check_http_only", "check_size", "check_stored_size"]

_NEAR_LIMIT = COOKIE_SIZE_LIMIT * 9 // 10


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
