"""Web-framework settings: where the auth APIs live, how tokens travel, cookie options.

One frozen object, validated when built, shared by every adapter. A bad combination
fails at start-up with a message naming the setting and what to change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from ..config import AntiCsrf, SessionConfig
from ..errors import SessionError

if TYPE_CHECKING:
    from .messages import Reply, RequestView

__all__ = ["ErrorHandler", "FrameworkConfig", "SameSite", "TokenTransferMethod"]

TokenTransferMethod = Literal["any", "cookie", "header"]
SameSite = Literal["lax", "strict", "none"]
#: A custom answer for one kind of session error: gets the error and the request,
#: returns the ``Reply`` to send. Token clearing is done for you either way.
ErrorHandler = Callable[[SessionError, "RequestView"], "Reply"]

_ANTI_CSRF = ("VIA_TOKEN", "VIA_CUSTOM_HEADER", "NONE")


@dataclass(frozen=True, kw_only=True)
class FrameworkConfig:
    """How a web app speaks the session protocol to browsers and other clients."""

    #: Where the refresh and sign-out APIs are served: ``{api_base_path}/session/refresh``
    #: and ``{api_base_path}/signout``. The refresh-token cookie is scoped to that path.
    api_base_path: str = "/auth"
    #: Prefix added by a reverse proxy in front of the app (only used in cookie paths).
    api_gateway_path: str = ""
    #: Serve ``POST {api_base_path}/session/refresh`` (turn off to write your own).
    serve_refresh_api: bool = True
    #: Serve ``POST {api_base_path}/signout``.
    serve_sign_out_api: bool = True
    #: ``"any"`` follows the client's ``st-auth-mode`` header (cookies for browsers that
    #: ask for them, headers otherwise); ``"cookie"`` or ``"header"`` forces one.
    token_transfer_method: TokenTransferMethod = "any"
    #: The API's and the website's origins, e.g. ``"https://api.example.com"``. Only used
    #: to choose the secure defaults below, as SuperTokens does.
    api_domain: str | None = None
    website_domain: str | None = None
    #: ``Secure`` on session cookies. Default: true when ``api_domain`` is https.
    cookie_secure: bool | None = None
    #: ``SameSite`` on session cookies. Default: ``"none"`` when the API and website are
    #: different sites (by registrable domain or scheme), else ``"lax"``.
    cookie_same_site: SameSite | None = None
    #: ``Domain`` of session cookies, e.g. ``".example.com"`` to share a session across
    #: sub-domains. ``None`` gives host-only cookies.
    cookie_domain: str | None = None
    #: The ``cookie_domain`` you used before changing it: on refresh, duplicate cookies
    #: left under that domain are removed instead of failing.
    older_cookie_domain: str | None = None
    #: ``VIA_TOKEN``, ``VIA_CUSTOM_HEADER`` or ``NONE``. ``None`` takes the ``Tessera``
    #: object's ``anti_csrf`` setting, or else ``VIA_CUSTOM_HEADER`` when SameSite is
    #: ``none`` and ``NONE`` otherwise.
    anti_csrf: AntiCsrf | None = None
    #: When a session is created on a request that still carries an access token of
    #: another session (a new login on the same browser), end that session: its tokens
    #: are replaced on this client, and left alive they could still be replayed.
    end_replaced_session: bool = True
    #: Custom answers per error kind (the defaults are the protocol's bodies).
    on_unauthorised: ErrorHandler | None = None
    on_try_refresh_token: ErrorHandler | None = None
    on_token_theft_detected: ErrorHandler | None = None
    on_invalid_claim: ErrorHandler | None = None

    def __post_init__(self) -> None:
        for name in ("api_base_path", "api_gateway_path"):
            value = getattr(self, name)
            if not isinstance(value, str) or (value and not value.startswith("/")):
                _bad(name, "must be a path starting with '/' (or '' for the gateway path)")
            if value.endswith("/") and value != "/":
                _bad(name, "must not end with '/'")
        if self.token_transfer_method not in ("any", "cookie", "header"):
            _bad("token_transfer_method", "must be 'any', 'cookie' or 'header'")
        if self.cookie_same_site is not None and self.cookie_same_site not in (
            "lax",
            "strict",
            "none",
        ):
            _bad("cookie_same_site", "must be 'lax', 'strict' or 'none'")
        if self.anti_csrf is not None and self.anti_csrf not in _ANTI_CSRF:
            _bad("anti_csrf", "must be 'VIA_TOKEN', 'VIA_CUSTOM_HEADER', 'NONE' or None")
        for name in ("api_domain", "website_domain"):
            value = getattr(self, name)
            if value is not None and urlsplit(value).scheme not in ("http", "https"):
                _bad(name, "must be an origin such as 'https://api.example.com'")
        for name in ("cookie_domain", "older_cookie_domain"):
            value = getattr(self, name)
            if value is not None and (not value or "/" in value or ":" in value):
                _bad(name, "must be a bare domain such as '.example.com'")
        if self.same_site == "none" and not self.secure and not self._both_local():
            _bad(
                "cookie_same_site",
                "is 'none' but cookie_secure is off: browsers drop SameSite=None cookies "
                "without Secure. Serve the API over https and set cookie_secure=True, or use "
                "cookie_same_site='lax' with the website and API on the same site",
            )

    # -- derived values -------------------------------------------------------------

    @property
    def refresh_path(self) -> str:
        return self.api_base_path + "/session/refresh"

    @property
    def sign_out_path(self) -> str:
        return self.api_base_path + "/signout"

    @property
    def refresh_cookie_path(self) -> str:
        return self.api_gateway_path + self.refresh_path

    @property
    def secure(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return bool(self.api_domain and self.api_domain.startswith("https:"))

    @property
    def same_site(self) -> SameSite:
        if self.cookie_same_site is not None:
            return self.cookie_same_site
        if self.api_domain and self.website_domain:
            api, web = urlsplit(self.api_domain), urlsplit(self.website_domain)
            if api.scheme != web.scheme or _site(api.hostname) != _site(web.hostname):
                return "none"
        return "lax"

    def anti_csrf_mode(self, session_config: SessionConfig) -> AntiCsrf:
        """The anti-CSRF mode in force, checked against what the engine mints."""
        engine_mode = session_config.anti_csrf
        if self.anti_csrf and engine_mode and self.anti_csrf != engine_mode:
            _bad(
                "anti_csrf",
                f"is {self.anti_csrf!r} here but {engine_mode!r} on the Tessera object: "
                "set it in one place",
            )
        mode = self.anti_csrf or engine_mode
        if mode is None:
            mode = "VIA_CUSTOM_HEADER" if self.same_site == "none" else "NONE"
        if mode == "VIA_TOKEN" and not session_config.mints_anti_csrf_tokens:
            _bad("anti_csrf", "VIA_TOKEN needs the Tessera object built with anti_csrf='VIA_TOKEN'")
        return mode

    def _both_local(self) -> bool:
        if not (self.api_domain and self.website_domain):
            return False
        hosts = (urlsplit(self.api_domain).hostname, urlsplit(self.website_domain).hostname)
        return all(_site(host) == "localhost" for host in hosts)


def _site(host: str | None) -> str:
    """A close approximation of the registrable domain, used only for the SameSite default.

    localhost and IP addresses count as one site ("localhost"), as in SuperTokens. Set
    ``cookie_same_site`` yourself for multi-part public suffixes such as ``co.uk``.
    """
    host = (host or "").lower()
    if host.startswith("localhost"):
        return "localhost"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return ".".join(host.split(".")[-2:])
    return "localhost"


def _bad(name: str, what: str) -> None:
    raise ValueError(f"invalid setting {name}: {what}")
