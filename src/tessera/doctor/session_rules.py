"""Rules for a session once made: how its tokens travel (cookies or headers), the front
token the SDK reads, anti-CSRF for cross-site cookies, and the published keys.

Checked names: ``session.login``, ``session.mode``, ``session.front-token``,
``session.anti-csrf``, ``jwks``.
"""

from __future__ import annotations

import json
from typing import Literal

from .cookie_keeping import check_stored_size
from .findings import Finding, Status
from .observed import Answer
from .tokens import FrontTokenError, decode_front_token

__all__ = [
    "AuthMode",
    "check_anti_csrf",
    "check_front_token",
    "check_jwks",
    "check_login",
    "check_transfer_mode",
]

AuthMode = Literal["cookie", "header"]

_NO_AUTH_MODE = (
    "The SDK asks for a transfer method with the st-auth-mode header, and only on calls "
    "it intercepts: those to the hostname of its apiDomain. A client that sends no "
    "st-auth-mode (Postman, curl, or a fetch the SDK did not intercept because the page "
    "calls http://127.0.0.1 while apiDomain says localhost) gets header mode."
)


def check_login(answer: Answer, path: str) -> Finding | None:
    """The test login's answer; ``None`` when it succeeded (the session checks follow)."""
    if 200 <= answer.status < 300:
        return None
    return Finding(
        "session.login",
        Status.FAIL,
        f"the test login (POST {path}) answered {answer.status}",
        explanation="Without a session the cookie, expose, rotation and anti-CSRF checks "
        f"were skipped. The answer said: {answer.body[:300]!r}.",
        fix="Give --login-path and --login-body (and --login-header) that log a test user "
        "in, as the website does.",
    )


def check_transfer_mode(
    asked: AuthMode, cookie_names: list[str], header_names: list[str]
) -> Finding:
    """Which way the session's tokens came back, against the way the client asked."""
    if not cookie_names and not header_names:
        return Finding(
            "session.mode",
            Status.FAIL,
            "the login answered 2xx but handed out no session tokens",
            explanation=(
                "Neither sAccessToken/sRefreshToken cookies nor st-access-token/"
                "st-refresh-token headers came back, so the browser has no session. The route "
                "must call create_new_session (with the request), behind the session middleware."
            ),
            fix="Check that the login route creates the session and that the middleware is "
            "installed on the app that serves it.",
        )
    got: AuthMode = "cookie" if cookie_names else "header"
    if got == asked:
        where = (
            "httpOnly cookies"
            if got == "cookie"
            else "the st-access-token/st-refresh-token headers"
        )
        return Finding(
            "session.mode",
            Status.OK,
            f"{got} mode: asked with st-auth-mode: {asked}, the tokens came in {where}",
            explanation=_NO_AUTH_MODE,
        )
    return Finding(
        "session.mode",
        Status.WARN,
        f"asked for {asked} mode (st-auth-mode: {asked}) but the tokens came as {got}s",
        explanation=(
            f"The app forces {got} mode (token_transfer_method='{got}'). That works only if "
            f"the frontend SDK is set up for it (tokenTransferMethod: '{got}'). " + _NO_AUTH_MODE
        ),
        fix=f"Use token_transfer_method='any' (the default), or set the frontend's "
        f"tokenTransferMethod to '{got}'.",
    )


def check_front_token(answer: Answer, what: str) -> tuple[list[Finding], dict[str, object]]:
    """The front token on a session answer, and what it says (empty if unreadable)."""
    value = answer.header("front-token")
    if value is None:
        return [
            Finding(
                "session.front-token",
                Status.FAIL,
                f"the {what} answer has no front-token header",
                explanation=(
                    "The SDK learns that a session exists, and when its access token expires, "
                    "only from front-token. Without it the website believes nobody is logged "
                    "in, whatever cookies arrived."
                ),
                fix="Create sessions through the session middleware (create_new_session with "
                "the request), which adds it.",
            )
        ], {}
    try:
        decoded = decode_front_token(value)
    except FrontTokenError as exc:
        return [
            Finding(
                "session.front-token",
                Status.FAIL,
                f"the {what} answer's front-token cannot be read by the SDK",
                explanation=f"The SDK cannot decode it: {exc}.",
                fix="Build it as the SuperTokens backends do: standard base64 of the JSON "
                '{"uid", "ate" (milliseconds), "up" (the payload)}.',
            )
        ], {}
    size = check_stored_size(
        "session.front-token.size",
        "sFrontToken",
        value,
        stored_as="the front token (kept by the SDK in its sFrontToken cookie)",
    )
    found = Finding(
        "session.front-token", Status.OK, f"the {what} answer's front-token is readable"
    )
    return [found, size], decoded


def check_anti_csrf(
    refresh_same_site: str | None, anti_csrf_header: bool, probe: Answer | None
) -> Finding:
    """Whether cookies that go along with cross-site requests are guarded against CSRF.

    ``probe`` is a refresh call the doctor made with the refresh cookie but without the
    ``rid`` and ``anti-csrf`` headers the SDK adds: a forged cross-site request.
    """
    if refresh_same_site in ("lax", "strict"):
        return Finding(
            "session.anti-csrf",
            Status.OK,
            f"SameSite={refresh_same_site.capitalize()} keeps the cookies off other sites' "
            "requests",
        )
    if probe is None:
        return Finding("session.anti-csrf", Status.SKIP, "no cross-site cookie to test")
    mode = "VIA_TOKEN" if anti_csrf_header else "VIA_CUSTOM_HEADER"
    if probe.status == 401:
        return Finding(
            "session.anti-csrf",
            Status.OK,
            f"a refresh carrying only the cookies is refused (anti-CSRF: {mode})",
        )
    return Finding(
        "session.anti-csrf",
        Status.FAIL,
        f"a refresh carrying only the cookies was accepted ({probe.status}): no anti-CSRF "
        "protection for cross-site cookies",
        explanation=(
            "With SameSite=None the browser attaches the session cookies to requests that "
            "any website makes to the API, such as a hidden form post. Anti-CSRF makes those "
            "fail: VIA_CUSTOM_HEADER requires the rid header, which another site's page can "
            "add only through a CORS preflight the API refuses; VIA_TOKEN requires a token "
            "only the real website holds. The doctor posted to the refresh API with the "
            "refresh cookie and neither header, and it was accepted."
        ),
        fix="Set anti_csrf to 'VIA_CUSTOM_HEADER' (tessera's default with SameSite=None) or "
        "'VIA_TOKEN'; never 'NONE' with cross-site cookies.",
    )


def check_jwks(answer: Answer, key_id: str | None) -> Finding:
    """A JSON Web Key Set the API publishes, and whether it holds the token's key."""
    try:
        keys = json.loads(answer.body)["keys"]
        kids = {str(key["kid"]) for key in keys if isinstance(key, dict) and "kid" in key}
    except (ValueError, KeyError, TypeError):
        return Finding(
            "jwks",
            Status.FAIL,
            f"{answer.url} is not a JSON Web Key Set",
            explanation="Services that verify access tokens themselves fetch the signing keys "
            'there; they expect JSON {"keys": [...]}.',
        )
    if key_id is not None and key_id not in kids:
        return Finding(
            "jwks",
            Status.FAIL,
            f"the access token's key ({key_id}) is not in {answer.url}",
            explanation="Services verifying tokens with this key set refuse every token "
            "signed with that key.",
            fix="Publish the key set of the signer that issued the token.",
        )
    held = f", including the access token's ({key_id})" if key_id else ""
    return Finding("jwks", Status.OK, f"{answer.url} publishes {len(kids)} key(s){held}")
