"""Rules for CORS with credentials: may the website call the API with cookies and read
the answers, including the headers the frontend SDK reads?

Checked names: ``cors.preflight``, ``cors.allow-origin``, ``cors.allow-credentials``,
``cors.allow-headers`` (for the refresh API; ``cors.login.*`` for the login route),
``cors.any-origin``, ``cors.mixed-content``, ``cors.answer.<what>`` and
``cors.expose.<what>``.
"""

from __future__ import annotations

from .findings import Finding, Status
from .observed import Answer
from .sites import Origin, is_loopback

__all__ = [
    "SDK_READ_HEADERS",
    "SDK_REQUEST_HEADERS",
    "check_allow_credentials",
    "check_allow_headers",
    "check_allow_origin",
    "check_answer_cors",
    "check_any_origin",
    "check_exposed",
    "check_mixed_content",
    "check_preflight",
]

#: Request headers the frontend SDK adds to its calls (content-type for JSON bodies).
SDK_REQUEST_HEADERS = ("rid", "fdi-version", "anti-csrf", "st-auth-mode", "authorization",
                       "content-type")  # fmt: skip
#: Response headers the SDK reads, which a cross-origin answer must expose.
SDK_READ_HEADERS = ("front-token", "st-access-token", "st-refresh-token", "anti-csrf")

_CORS_FIX = (
    "In the CORS middleware, allow the website's exact origin with credentials and the "
    "SDK's headers: allow_origins=['{website}'], allow_credentials=True, "
    "allow_headers=['content-type', *tessera.get_all_cors_headers()] (see docs/frameworks.md, "
    "'CORS: website and API on different origins')."
)


def _origin_problem(answer: Answer, website: Origin) -> tuple[str, str] | None:
    """What is wrong with the answer's Access-Control-Allow-Origin: (summary, why)."""
    value = answer.header("access-control-allow-origin")
    if value is None:
        return (
            "no Access-Control-Allow-Origin",
            "The browser lets the website's page read an answer (or, for a preflight, send "
            "the request at all) only when the API names the website's origin in "
            "Access-Control-Allow-Origin.",
        )
    if value.strip() == "*":
        return (
            "Access-Control-Allow-Origin is *",
            "The SDK sends its calls with credentials (cookies), and browsers refuse '*' for "
            f"credentialed requests: the API must answer with the exact origin, {website}. "
            "Postman and curl ignore CORS, which is why it works there.",
        )
    if value.strip() != str(website):
        return (
            f"Access-Control-Allow-Origin is {value}, not the website's origin {website}",
            "Origins are compared exactly, as scheme, host and port: http and https, another "
            "port, a trailing slash, or localhost against 127.0.0.1 all differ.",
        )
    return None


def check_allow_origin(
    answer: Answer, website: Origin, scope: str = "cors", where: str = "the preflight"
) -> Finding:
    """The preflight's Access-Control-Allow-Origin."""
    problem = _origin_problem(answer, website)
    if problem is None:
        return Finding(f"{scope}.allow-origin", Status.OK, f"{where} allows {website}")
    summary, why = problem
    return Finding(
        f"{scope}.allow-origin",
        Status.FAIL,
        f"{where}: {summary}",
        explanation=why,
        fix=_CORS_FIX.format(website=website),
    )


def check_allow_credentials(
    answer: Answer, website: Origin, scope: str = "cors", where: str = "the preflight"
) -> Finding:
    value = answer.header("access-control-allow-credentials")
    if value is not None and value.strip() == "true":
        return Finding(f"{scope}.allow-credentials", Status.OK, f"{where} allows credentials")
    shown = "missing" if value is None else f"{value!r}"
    return Finding(
        f"{scope}.allow-credentials",
        Status.FAIL,
        f"{where}: Access-Control-Allow-Credentials is {shown}, not 'true'",
        explanation=(
            "Without 'Access-Control-Allow-Credentials: true' the browser will not send the "
            "SDK's calls with cookies, ignores the cookies the API sets, and hides the answers "
            "from the page."
        ),
        fix=_CORS_FIX.format(website=website),
    )


def check_allow_headers(
    answer: Answer, website: Origin, scope: str = "cors", where: str = "the preflight"
) -> Finding:
    allowed = set(answer.listed("access-control-allow-headers"))
    missing = [name for name in SDK_REQUEST_HEADERS if name not in allowed]
    if not missing:
        return Finding(f"{scope}.allow-headers", Status.OK, f"{where} allows the SDK's headers")
    star = (
        " '*' does not count: it is no wildcard for requests with credentials, and never "
        "covers Authorization."
        if "*" in allowed
        else ""
    )
    return Finding(
        f"{scope}.allow-headers",
        Status.FAIL,
        f"{where}: the header(s) {', '.join(missing)} are not allowed",
        explanation=(
            "The SDK adds rid, fdi-version and st-auth-mode to every call, anti-csrf and "
            "authorization when it has them, and content-type for JSON bodies. The browser "
            "blocks a call that carries a header the preflight did not allow." + star
        ),
        fix=_CORS_FIX.format(website=website),
    )


def check_preflight(
    answer: Answer, website: Origin, path: str, scope: str = "cors"
) -> list[Finding]:
    """The preflight a browser sends before the SDK's POST to ``path``; checks named
    ``{scope}.preflight``, ``{scope}.allow-origin`` and so on."""
    where = f"the preflight to {path}"
    if not 200 <= answer.status < 300:
        cause = {
            401: "Something asks for a session on OPTIONS, but a preflight never carries "
            "cookies or tokens: CORS must answer it before any session check.",
            403: "A CORS layer or firewall refused it: is the website's origin allowed?",
            404: "Nothing answers OPTIONS here: no CORS middleware sees this path.",
            405: "Nothing answers OPTIONS here: no CORS middleware sees this path.",
            400: "The CORS middleware refused the origin, the method or a header.",
        }.get(answer.status, "")
        body = f" The answer said: {answer.body[:200]!r}." if answer.body.strip() else ""
        return [
            Finding(
                f"{scope}.preflight",
                Status.FAIL,
                f"the CORS preflight (OPTIONS {path} from {website}) answered {answer.status}",
                explanation=(
                    "Before each of the SDK's calls to another origin, the browser asks with an "
                    "OPTIONS request whether the website may send it with credentials and the "
                    "SDK's headers. Any answer but 2xx blocks the call: the browser reports a "
                    f"CORS error and the API never sees it. {cause}{body}"
                ),
                fix=_CORS_FIX.format(website=website),
            )
        ]
    return [
        Finding(
            f"{scope}.preflight",
            Status.OK,
            f"OPTIONS {path} from {website} answers {answer.status}",
        ),
        check_allow_origin(answer, website, scope, where),
        check_allow_credentials(answer, website, scope, where),
        check_allow_headers(answer, website, scope, where),
    ]


def check_mixed_content(website: Origin, api: Origin) -> Finding | None:
    """An https page calling a plain-http API (``None`` when that is not the case)."""
    if website.scheme != "https" or api.scheme != "http":
        return None
    if is_loopback(api.host):
        return Finding(
            "cors.mixed-content",
            Status.WARN,
            f"the https website calls the API over plain http ({api})",
            explanation="Browsers block an https page's requests to plain http (mixed "
            "content); Chromium and Firefox make an exception for localhost and loopback "
            "addresses, not every browser does.",
            fix="Serve the API over https too.",
        )
    return Finding(
        "cors.mixed-content",
        Status.FAIL,
        f"the https website calls the API over plain http ({api}): browsers block it",
        explanation=(
            "An https page may not fetch from plain http (mixed content): the browser blocks "
            "every call to the API before it leaves, so no login or refresh ever reaches it. "
            "Postman and curl have no such rule."
        ),
        fix="Serve the API over https and use that URL as the SDK's apiDomain.",
    )


def check_any_origin(answer: Answer, stranger: str) -> Finding:
    """A preflight sent from an origin nobody configured (``stranger``)."""
    echoed = (answer.header("access-control-allow-origin") or "").strip()
    credentials = (answer.header("access-control-allow-credentials") or "").strip() == "true"
    if echoed == stranger and credentials:
        return Finding(
            "cors.any-origin",
            Status.WARN,
            "the API allows any website to call it with the user's cookies",
            explanation=(
                f"Asked from {stranger}, an origin nobody configured, the API answered "
                "Access-Control-Allow-Origin with that origin and credentials. Any website a "
                "user visits can then call the API with the user's session and read the "
                "answers. CORS set to '*' with credentials does this in Starlette and "
                "flask-cors, which echo whatever origin asks."
            ),
            fix="List the website's exact origin(s) in the CORS settings instead of '*'.",
        )
    return Finding("cors.any-origin", Status.OK, "other origins are not allowed")


def check_answer_cors(answer: Answer, website: Origin, what: str) -> Finding:
    """An actual (non-preflight) answer the SDK must read, e.g. the refresh API's 401."""
    check = f"cors.answer.{what}"
    problems: list[str] = []
    why: list[str] = []
    origin = _origin_problem(answer, website)
    if origin:
        problems.append(origin[0])
        why.append(origin[1])
    if (answer.header("access-control-allow-credentials") or "").strip() != "true":
        problems.append("no 'Access-Control-Allow-Credentials: true'")
        why.append("Without it the browser hides a credentialed answer and ignores its cookies.")
    if not problems:
        return Finding(
            check, Status.OK, f"the {what} answer ({answer.status}) carries CORS headers"
        )
    if answer.status == 401:
        why.append(
            "The SDK then sees a network error instead of the 401, so it cannot tell that "
            "the session is gone or needs a refresh."
        )
    return Finding(
        check,
        Status.FAIL,
        f"the {what} answer ({answer.status}): {'; '.join(problems)}",
        explanation=" ".join(why),
        fix=_CORS_FIX.format(website=website)
        + " The CORS layer must also wrap the session middleware's own answers.",
    )


def check_exposed(answer: Answer, what: str) -> Finding:
    """The SDK's headers present on ``answer`` must be in Access-Control-Expose-Headers."""
    check = f"cors.expose.{what}"
    present = [name for name in SDK_READ_HEADERS if answer.header(name) is not None]
    exposed = set(answer.listed("access-control-expose-headers"))
    missing = [name for name in present if name not in exposed]
    if not present:
        return Finding(check, Status.SKIP, f"the {what} answer carries none of the SDK's headers")
    if not missing:
        return Finding(check, Status.OK, f"the {what} answer exposes {', '.join(present)}")
    star = (
        " The list holds '*', which means nothing for credentialed calls." if "*" in exposed else ""
    )
    return Finding(
        check,
        Status.FAIL,
        f"the {what} answer sends {', '.join(missing)} but does not expose "
        f"{'it' if len(missing) == 1 else 'them'} to the website",
        explanation=(
            "Across origins, page scripts (the SDK included) can read only the response "
            "headers listed in Access-Control-Expose-Headers. Without front-token the SDK "
            "never learns that a session exists: doesSessionExist() is false right after a "
            "successful login, and a refresh without it throws (supertokens-website 20.1.5 "
            "and later)." + star
        ),
        fix="Leave the CORS middleware's expose list empty (tessera appends its headers) or "
        "list front-token, anti-csrf, st-access-token and st-refresh-token in it: Starlette's "
        "CORSMiddleware(expose_headers=...) and django-cors-headers' CORS_EXPOSE_HEADERS "
        "replace the list tessera writes, and a proxy may strip it.",
    )
