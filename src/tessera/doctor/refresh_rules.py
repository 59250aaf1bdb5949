"""Rules for the refresh API (``POST {api_base_path}/session/refresh``) and the sign-out
API, which the frontend SDK calls on its own.

Checked names: ``refresh.endpoint``, ``refresh.rotation``, ``signout``.
"""

from __future__ import annotations

import json

from .findings import Finding, Status
from .observed import Answer

__all__ = ["check_refresh_rotation", "check_refresh_without_token", "check_sign_out"]


def _message(answer: Answer) -> str:
    try:
        body = json.loads(answer.body)
    except ValueError:
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def check_refresh_without_token(answer: Answer, path: str, base_path: str) -> Finding:
    """``POST path`` with no token: the SDK's first call on a page load without a session."""
    status = answer.status
    if status == 401:
        return Finding(
            "refresh.endpoint",
            Status.OK,
            f"POST {path} without a token answers 401, as the SDK expects",
        )
    role = (
        f"The SDK posts to {path} on a page load without a session and whenever a call answers "
        "401, and needs a 401 there when no refresh token comes along."
    )
    where = (
        f"Install the session middleware (TesseraMiddleware, FlaskTessera or the Django "
        f"middleware) with serve_refresh_api on, and keep api_base_path equal to the "
        f"frontend's apiBasePath (the doctor used --api-base-path {base_path}; pass yours if "
        "it differs)."
    )
    if status == 404:
        summary = f"POST {path} answers 404: there is no refresh API there"
        why = (
            "With 404 the SDK can never renew the access token, so users are logged out when "
            "it expires, and it probes again on every page load. The refresh API is not "
            "mounted (middleware missing, serve_refresh_api=False), or it lives under another "
            "base path."
        )
        fix = where
    elif status == 405:
        summary = f"POST {path} answers 405 Method Not Allowed"
        why = (
            "Something serves this path but not POST: a route of the app or a static file "
            "server answers before the session middleware."
        )
        fix = where
    elif status == 403:
        summary = f"POST {path} answers 403 before any session check"
        why = (
            "A CSRF middleware (Django's CsrfViewMiddleware, Flask-WTF's CSRFProtect) or a "
            "firewall refuses the SDK's POST before the session layer sees it."
        )
        fix = (
            "Exempt the refresh and sign-out APIs from that CSRF check; the session layer "
            "has its own anti-CSRF protection for them."
        )
    elif 300 <= status < 400:
        summary = f"POST {path} redirects ({status}) to {answer.header('location') or '?'}"
        why = (
            "A redirect breaks the SDK's call: 301 and 302 turn the POST into a GET, and a "
            "redirect to another origin drops the cookies. Typical causes are http to https, "
            "or a slash added at the end."
        )
        fix = "Point the SDK's apiDomain (and the doctor) at the final URL."
    elif 200 <= status < 300:
        summary = f"POST {path} answers {status} without a refresh token"
        why = (
            "A refresh without a token must be refused with 401; the SDK takes a 2xx as a "
            "refreshed session (and throws when front-token is missing). Something else "
            "answers this path, such as a catch-all route serving the single-page app."
        )
        fix = where
    else:
        summary = f"POST {path} answers {status}"
        why = (
            "The SDK treats this as an error, not as 'no session', and tries again on every "
            "page load." + (" Look at the server's log for the error." if status >= 500 else "")
        )
        fix = where
    return Finding("refresh.endpoint", Status.FAIL, summary, explanation=f"{role} {why}", fix=fix)


def check_refresh_rotation(
    answer: Answer, old_refresh_token: str, new_refresh_token: str | None
) -> Finding:
    """A refresh with a real refresh token."""
    if answer.status == 200:
        if answer.header("front-token") is None:
            return Finding(
                "refresh.rotation",
                Status.FAIL,
                "the refresh answered 200 without a front-token header",
                explanation=(
                    "The SDK (supertokens-website 20.1.5 and later) treats a refresh without "
                    "front-token as failed and throws."
                ),
                fix="Let the session middleware answer the refresh API; a hand-written one must "
                "send front-token with the new tokens.",
            )
        if not new_refresh_token:
            return Finding(
                "refresh.rotation",
                Status.WARN,
                "the refresh answered 200 but sent no new refresh token",
                explanation="Rotating the refresh token on every refresh is what lets a stolen, "
                "reused token be detected.",
            )
        if new_refresh_token == old_refresh_token:
            return Finding(
                "refresh.rotation",
                Status.WARN,
                "the refresh token did not change on refresh",
                explanation="Rotating the refresh token on every refresh is what lets a stolen, "
                "reused token be detected.",
            )
        return Finding("refresh.rotation", Status.OK, "a refresh rotates the refresh token")
    message = _message(answer)
    causes = {
        "token theft detected": "The refresh token had already been used (and its grace "
        "period was over), so the session was ended as stolen. Give a fresh token.",
        "unauthorised": "The token is unknown, revoked or expired, the anti-CSRF check "
        "failed, or the cookie did not reach the API.",
    }
    return Finding(
        "refresh.rotation",
        Status.FAIL,
        f"the refresh with a real refresh token answered {answer.status}"
        + (f" ({message})" if message else ""),
        explanation=causes.get(message, "The SDK would log the user out here.")
        + (f" The answer said: {answer.body[:200]!r}." if not message and answer.body else ""),
        fix="Check the server's log; with --refresh-token, give one that has not been used.",
    )


def check_sign_out(answer: Answer, path: str) -> Finding:
    if answer.status == 200:
        return Finding("signout", Status.OK, f"POST {path} signs out (the doctor's session ended)")
    return Finding(
        "signout",
        Status.WARN,
        f"POST {path} answered {answer.status}; the doctor's test session may still exist",
        explanation=(
            "The SDK's signOut() posts there and expects 200 with JSON; otherwise signing out "
            "fails in the browser."
        ),
        fix="Keep serve_sign_out_api on (or serve your own sign-out at that path).",
    )
