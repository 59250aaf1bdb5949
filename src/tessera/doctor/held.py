"""What the doctor holds of a test session, as the browser and the SDK would hold it, and
how those tokens ride on its requests (the SDK's headers, cookies or a bearer token)."""

from __future__ import annotations

from dataclasses import dataclass

from .cookie_context import ACCESS_COOKIE, LEGACY_COOKIE, REFRESH_COOKIE
from .observed import Answer
from .session_rules import AuthMode
from .setcookie import SetCookie, parse_set_cookie
from .sites import Origin

__all__ = [
    "FDI_VERSIONS",
    "SESSION_COOKIES",
    "TOKEN_HEADERS",
    "HeldSession",
    "refresh_token_in",
    "sdk_headers",
    "set_cookies",
]

#: The fdi-version list supertokens-website 20.x sends.
FDI_VERSIONS = "1.16,1.17,1.18,1.19,2.0,3.0,3.1,4.0"
SESSION_COOKIES = (ACCESS_COOKIE, REFRESH_COOKIE, LEGACY_COOKIE)
TOKEN_HEADERS = ("st-access-token", "st-refresh-token")


@dataclass
class HeldSession:
    """The tokens the doctor holds, as a browser or the SDK would."""

    mode: AuthMode
    access: str | None = None
    refresh: str | None = None
    anti_csrf: str | None = None
    refresh_same_site: str | None = None

    def absorb(self, answer: Answer) -> None:
        """Keep the tokens an answer hands out, as the browser and the SDK would."""
        for cookie in set_cookies(answer):
            if cookie.name == ACCESS_COOKIE and cookie.value:
                self.access = cookie.value
            elif cookie.name == REFRESH_COOKIE and cookie.value:
                self.refresh = cookie.value
        self.access = answer.header("st-access-token") or self.access
        self.refresh = answer.header("st-refresh-token") or self.refresh
        self.anti_csrf = answer.header("anti-csrf") or self.anti_csrf

    def add_tokens(self, headers: dict[str, str], *, refresh: bool) -> None:
        """Put the access (or refresh) token on a request, with the anti-CSRF token."""
        token = self.refresh if refresh else self.access
        if self.anti_csrf:
            headers["anti-csrf"] = self.anti_csrf
        if not token:
            return
        if self.mode == "header":
            headers["authorization"] = f"Bearer {token}"
        else:
            headers["cookie"] = f"{REFRESH_COOKIE if refresh else ACCESS_COOKIE}={token}"


def sdk_headers(auth_mode: AuthMode, website: Origin | None, *, rid: str) -> dict[str, str]:
    """The headers the frontend SDK adds to a call (and the browser's Origin)."""
    headers = {"rid": rid, "fdi-version": FDI_VERSIONS, "st-auth-mode": auth_mode}
    if website is not None:
        headers["origin"] = str(website)
    return headers


def set_cookies(answer: Answer) -> list[SetCookie]:
    parsed = (parse_set_cookie(value) for value in answer.header_values("set-cookie"))
    return [cookie for cookie in parsed if cookie is not None]


def refresh_token_in(answer: Answer) -> str | None:
    for cookie in set_cookies(answer):
        if cookie.name == REFRESH_COOKIE and cookie.value:
            return cookie.value
    return answer.header("st-refresh-token") or None
