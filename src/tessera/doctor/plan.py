"""What the doctor asks the API, in which order, and which rules read each answer.

``diagnose`` takes a ``Sender`` (``probe.HttpSender`` for real HTTP) and returns the
findings. It sends the requests a browser running the frontend SDK would send: the
refresh call without a session, the CORS preflights, an optional test login, a refresh
with the new refresh token, a forged cross-site refresh when the cookies are
cross-site, and a sign-out that ends the test session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .clock_rules import check_server_clock, check_token_clock, server_clock_offset
from .cookie_context import ACCESS_COOKIE, REFRESH_COOKIE, SITE_EXPLAINED, CookieContext
from .cookie_keeping import check_stored_size
from .cookie_rules import check_cookie
from .cors_rules import (
    SDK_REQUEST_HEADERS,
    check_answer_cors,
    check_any_origin,
    check_exposed,
    check_mixed_content,
    check_preflight,
)
from .findings import Finding, Status
from .held import (
    SESSION_COOKIES,
    TOKEN_HEADERS,
    HeldSession,
    refresh_token_in,
    sdk_headers,
    set_cookies,
)
from .observed import Answer, ProbeError, Request, Sender
from .refresh_rules import check_refresh_rotation, check_refresh_without_token, check_sign_out
from .session_rules import (
    check_anti_csrf,
    check_front_token,
    check_jwks,
    check_login,
    check_transfer_mode,
)
from .settings import DoctorSettings
from .sites import Origin, same_site
from .tokens import jwt_parts

__all__ = ["STRANGER_ORIGIN", "diagnose"]

#: An origin nobody allows: a CORS set-up that lets it in lets in every website.
STRANGER_ORIGIN = "https://doctor-probe.invalid"


def diagnose(settings: DoctorSettings, send: Sender) -> list[Finding]:
    """Check the API described by ``settings`` through ``send``; the findings in the
    order made."""
    run = _Run(settings, send)
    run.run()
    return run.findings


@dataclass
class _Run:
    settings: DoctorSettings
    send: Sender
    findings: list[Finding] = field(default_factory=list)
    server_offset: float | None = None
    key_id: str | None = None

    def __post_init__(self) -> None:
        self.api = Origin.of(self.settings.url)
        self.website = Origin.of(self.settings.website) if self.settings.website else None
        self.cross_origin = self.website is not None and self.website != self.api
        self.refresh_path = self.settings.path(self.settings.api_base_path + "/session/refresh")
        self.sign_out_path = self.settings.path(self.settings.api_base_path + "/signout")

    # -- the sequence --------------------------------------------------------------

    def run(self) -> None:
        try:
            first = self._refresh(None)
        except ProbeError as exc:
            self.findings.append(
                Finding(
                    "reach",
                    Status.FAIL,
                    f"no answer from {self.settings.url}: {exc}",
                    explanation="Nothing else could be checked.",
                    fix="Check the URL, that the app is running, and (https) its certificate; "
                    "--insecure skips certificate checks.",
                )
            )
            return
        self.findings.append(Finding("reach", Status.OK, f"{self.settings.url} answers"))
        site_at = len(self.findings)
        self.server_offset = server_clock_offset(first)
        self.findings.append(check_server_clock(first))
        self.findings.append(
            check_refresh_without_token(first, self.refresh_path, self.settings.api_base_path)
        )
        session = None
        try:
            self._cors(first)
            session = self._session()
            self._jwks()
        except ProbeError as exc:
            self.findings.append(
                Finding(
                    "reach",
                    Status.FAIL,
                    f"{self.settings.url} stopped answering: {exc}",
                    explanation="The checks after this point were not made.",
                )
            )
        self.findings.insert(site_at, self._site(session))

    def _cors(self, first: Answer) -> None:
        if self.website is None:
            self.findings.append(
                Finding(
                    "cors",
                    Status.SKIP,
                    "no --website-domain given: CORS and SameSite-against-site not checked",
                    fix="Give the origin the frontend runs on: --website-domain "
                    "https://app.example.com",
                )
            )
            return
        if not self.cross_origin:
            self.findings.append(
                Finding("cors", Status.OK, "the website and the API are one origin: no CORS")
            )
            return
        mixed = check_mixed_content(self.website, self.api)
        if mixed is not None:
            self.findings.append(mixed)
        preflight = self._preflight(str(self.website), self.refresh_path)
        self.findings.extend(check_preflight(preflight, self.website, self.refresh_path))
        if self.settings.login_path:
            login = self.settings.path(self.settings.login_path)
            preflight = self._preflight(str(self.website), login)
            self.findings.extend(check_preflight(preflight, self.website, login, "cors.login"))
        if first.status == 401:
            self.findings.append(check_answer_cors(first, self.website, "refresh-401"))
        stranger = self._preflight(STRANGER_ORIGIN, self.refresh_path)
        self.findings.append(check_any_origin(stranger, STRANGER_ORIGIN))

    def _session(self) -> HeldSession | None:
        settings = self.settings
        if settings.login_path:
            return self._login(settings.login_path)
        if settings.refresh_token:
            session = HeldSession(settings.auth_mode, settings.access_token, settings.refresh_token)
            answer = self._rotate(session, "refresh", check_cors=False)
            if answer is not None and answer.status == 200:
                self._inspect(answer, "refresh", self.refresh_path, session)
                self._anti_csrf(session)
            return session
        if settings.access_token:
            self._read_access_token(settings.access_token, None, None)
            self.findings.append(
                Finding(
                    "session",
                    Status.SKIP,
                    "only an access token given: cookie, rotation and anti-CSRF checks skipped",
                    fix="Give --login-path/--login-body, or --refresh-token.",
                )
            )
            return None
        self.findings.append(
            Finding(
                "session",
                Status.SKIP,
                "no test login given: cookie, expose, rotation, anti-CSRF and token-clock "
                "checks skipped",
                explanation="These need a session: the doctor logs a test user in through a "
                "route of your app that creates one, or uses tokens you give.",
                fix='--login-path /login --login-body \'{"userId": "doctor"}\' (your login '
                "route and what it expects), or --refresh-token TOKEN.",
            )
        )
        return None

    def _login(self, login_path: str) -> HeldSession | None:
        settings = self.settings
        path = settings.path(login_path)
        headers = sdk_headers(self.settings.auth_mode, self.website, rid="anti-csrf")
        body = None
        if settings.login_body is not None:
            headers["content-type"] = "application/json"
            body = settings.login_body.encode()
        headers.update({k.lower(): v for k, v in settings.login_headers})
        answer = self._send("POST", path, headers, body)
        failed = check_login(answer, path)
        if failed:
            self.findings.append(failed)
            return None
        session = HeldSession(settings.auth_mode)
        if not self._inspect(answer, "login", path, session):
            return session
        self._anti_csrf(session)
        self._rotate(session, "refresh")
        self._sign_out(session)
        return session

    def _inspect(self, answer: Answer, what: str, set_by_path: str, session: HeldSession) -> bool:
        """Read a session-creating answer: tokens, cookies, front token. False if it
        carried no session."""
        received = datetime.fromtimestamp(answer.received_at, UTC)
        cookies = [c for c in set_cookies(answer) if c.name in SESSION_COOKIES and c.value]
        headers = [name for name in TOKEN_HEADERS if answer.header(name)]
        mode = check_transfer_mode(session.mode, [c.name for c in cookies], headers)
        self.findings.append(mode)
        if mode.status is Status.FAIL:
            return False
        if self.cross_origin and self.website is not None:
            self.findings.append(check_answer_cors(answer, self.website, what))
            self.findings.append(check_exposed(answer, what))
        front, decoded = check_front_token(answer, what)
        self.findings.extend(front)
        ctx = CookieContext(
            api=self.api,
            api_root=self.settings.api_root or "/",
            refresh_path=self.refresh_path,
            set_by_path=set_by_path,
            website=self.website,
            received=received,
        )
        by_name = {c.name: c for c in cookies}
        for cookie in cookies:
            self.findings.extend(check_cookie(cookie, ctx))
        if ACCESS_COOKIE in by_name and REFRESH_COOKIE not in by_name:
            self.findings.append(
                Finding(
                    f"cookie.{REFRESH_COOKIE}",
                    Status.FAIL,
                    f"the {what} answer set {ACCESS_COOKIE} but no {REFRESH_COOKIE}",
                    explanation="Without a refresh token the session ends when the access "
                    "token expires.",
                )
            )
        for name in headers:
            self.findings.append(
                check_stored_size(
                    f"header.{name}.size",
                    name,
                    answer.header(name) or "",
                    stored_as=f"{name} (kept by the SDK in a cookie of that name)",
                )
            )
        session.absorb(answer)
        session.mode = "cookie" if cookies else "header"
        if REFRESH_COOKIE in by_name:
            session.refresh_same_site = by_name[REFRESH_COOKIE].same_site
        up = decoded.get("up")
        fallback = up if isinstance(up, dict) else {}
        self._read_access_token(session.access, answer, fallback)
        return True

    def _read_access_token(
        self, token: str | None, answer: Answer | None, front_payload: dict[str, Any] | None
    ) -> None:
        parts = jwt_parts(token) if token else None
        header, claims = parts if parts else ({}, front_payload or {})
        if isinstance(header.get("kid"), str):
            self.key_id = header["kid"]
        if token and answer is None:
            self.findings.append(
                check_stored_size(f"cookie.{ACCESS_COOKIE}.size", ACCESS_COOKIE, token)
            )
        if answer is not None:
            iat, exp = claims.get("iat"), claims.get("exp")
            self.findings.append(
                check_token_clock(
                    float(iat) if isinstance(iat, int | float) else None,
                    float(exp) if isinstance(exp, int | float) else None,
                    answer,
                    self.server_offset,
                )
            )

    def _anti_csrf(self, session: HeldSession) -> None:
        if session.mode != "cookie" or not session.refresh:
            return
        probe = None
        if session.refresh_same_site not in ("lax", "strict"):
            # A forged cross-site request: the cookies only, none of the SDK's headers.
            headers = {"cookie": f"{REFRESH_COOKIE}={session.refresh}"}
            if self.website is not None:
                headers["origin"] = str(self.website)
            probe = self._send("POST", self.refresh_path, headers)
            if probe.status == 200:
                session.absorb(probe)
        self.findings.append(
            check_anti_csrf(session.refresh_same_site, session.anti_csrf is not None, probe)
        )

    def _rotate(self, session: HeldSession, what: str, *, check_cors: bool = True) -> Answer | None:
        old = session.refresh
        if not old:
            return None
        answer = self._refresh(session)
        new = refresh_token_in(answer)
        self.findings.append(check_refresh_rotation(answer, old, new))
        if answer.status == 200:
            if check_cors and self.cross_origin and self.website is not None:
                self.findings.append(check_answer_cors(answer, self.website, what))
                self.findings.append(check_exposed(answer, what))
            session.absorb(answer)
        return answer

    def _sign_out(self, session: HeldSession) -> None:
        if not session.access:
            return
        headers = sdk_headers(self.settings.auth_mode, self.website, rid="session")
        session.add_tokens(headers, refresh=False)
        answer = self._send("POST", self.sign_out_path, headers)
        self.findings.append(check_sign_out(answer, self.sign_out_path))

    def _jwks(self) -> None:
        candidates = [
            self.settings.path(self.settings.api_base_path + "/jwt/jwks.json"),
            self.settings.path("/.well-known/jwks.json"),
        ]
        for path in candidates:
            answer = self._send("GET", path, {})
            if answer.status == 200:
                self.findings.append(check_jwks(answer, self.key_id))
                return
        self.findings.append(
            Finding(
                "jwks",
                Status.SKIP,
                f"no key set at {' or '.join(candidates)}",
                explanation="Only needed when other services verify access tokens themselves "
                "(tessera apps keep their keys in the app, or in the core at "
                "/.well-known/jwks.json).",
            )
        )

    def _site(self, session: HeldSession | None) -> Finding:
        if self.website is None:
            return Finding("site", Status.SKIP, "no --website-domain given: site not compared")
        pair = f"the website ({self.website}) and the API ({self.api})"
        if same_site(self.website, self.api):
            origins = "different origins, " if self.cross_origin else ""
            return Finding("site", Status.OK, f"{pair} are {origins}one site ({self.api.site})")
        summary = f"{pair} are different sites ({self.website.site} and {self.api.site})"
        if session is not None and session.mode == "header":
            return Finding(
                "site", Status.OK, summary + ": fine in header mode", explanation=SITE_EXPLAINED
            )
        return Finding(
            "site",
            Status.WARN,
            summary,
            explanation=(
                "Session cookies must then be SameSite=None; Secure (https), and even so "
                "browsers that block third-party cookies never send them: Safari, Firefox in "
                "strict mode, Chrome when the user turns third-party cookies off. " + SITE_EXPLAINED
            ),
            fix="Serve the API from the website's site (api.example.com beside "
            "www.example.com), or use header mode (tokenTransferMethod: 'header').",
        )

    # -- requests ------------------------------------------------------------------

    def _refresh(self, session: HeldSession | None) -> Answer:
        headers = sdk_headers(self.settings.auth_mode, self.website, rid="session")
        if session is not None and session.refresh:
            session.add_tokens(headers, refresh=True)
        return self._send("POST", self.refresh_path, headers)

    def _preflight(self, origin: str, path: str) -> Answer:
        return self._send(
            "OPTIONS",
            path,
            {
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": ",".join(SDK_REQUEST_HEADERS),
            },
        )

    def _send(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> Answer:
        request = Request(method, self.settings.address(path), tuple(headers.items()), body)
        return self.send(request)
