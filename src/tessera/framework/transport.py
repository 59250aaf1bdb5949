"""How tokens travel: reading them from a ``RequestView``, and a plan of changes to the
response.

Adapters build a ``RequestView`` from their framework's request and apply a
``ResponsePlan`` to their framework's response; everything in between is decided here,
without any web framework.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Literal
from urllib.parse import quote, urlsplit

from .. import _headers as h
from .config import FrameworkConfig
from .messages import Reply, RequestView, parse_cookies  # Reply, parse_cookies: re-exported

__all__ = ["CookieChange", "Reply", "RequestView", "ResponsePlan", "TokenSource", "parse_cookies"]

TokenSource = Literal["cookie", "header"]
_ONE_YEAR_MS = 365 * 24 * 3600 * 1000


@dataclass(frozen=True)
class CookieChange:
    """One ``Set-Cookie``. ``expires`` is in milliseconds since the epoch; 0 deletes."""

    name: str
    value: str
    expires: int
    path: str
    domain: str | None
    secure: bool
    same_site: str
    http_only: bool = True

    def header_value(self) -> str:
        parts = [f"{self.name}={quote(self.value, safe='')}", f"Path={self.path}"]
        parts.append("Expires=" + formatdate(self.expires // 1000, usegmt=True))
        if self.expires == 0:
            parts.append("Max-Age=0")
        if self.domain:
            parts.append(f"Domain={self.domain}")
        if self.http_only:
            parts.append("HttpOnly")
        if self.secure:
            parts.append("Secure")
        parts.append("SameSite=" + self.same_site.capitalize())
        return "; ".join(parts)


@dataclass
class ResponsePlan:
    """Changes to make to one response: cookies, headers, and names to expose to JS."""

    cookies: list[CookieChange] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    expose: list[str] = field(default_factory=list)

    def set_header(self, name: str, value: str, *, expose: bool = True) -> None:
        self.headers[name] = value
        if expose and name not in self.expose:
            self.expose.append(name)

    def merged_expose_header(self, existing: str | None) -> str | None:
        """The ``Access-Control-Expose-Headers`` value: ours appended to the app's."""
        if not self.expose:
            return existing
        have = [v.strip() for v in (existing or "").split(",") if v.strip()]
        lowered = {v.lower() for v in have}
        if "*" in lowered:  # '*' means nothing for credentialed requests: name ours
            have = [v for v in have if v != "*"]
        return ", ".join(have + [n for n in self.expose if n.lower() not in lowered])

    def __bool__(self) -> bool:
        return bool(self.cookies or self.headers)


# -- reading tokens ----------------------------------------------------------------


def allowed_sources(config: FrameworkConfig) -> tuple[TokenSource, ...]:
    method = config.token_transfer_method
    return ("header", "cookie") if method == "any" else (method,)


def read_access_token(
    request: RequestView, config: FrameworkConfig
) -> tuple[str | None, TokenSource]:
    """The access token and where it came from; a bearer token beats a cookie."""
    sources = allowed_sources(config)
    if "header" in sources:
        token = request.bearer_token()
        if token is not None and token.count(".") == 2:
            return token, "header"
    if "cookie" in sources:
        token = request.cookies.get(h.ACCESS_TOKEN_COOKIE) or None
        if token is not None:
            return token, "cookie"
    return None, sources[-1]


def read_refresh_token(
    request: RequestView, config: FrameworkConfig
) -> tuple[str | None, TokenSource]:
    sources = allowed_sources(config)
    if "header" in sources:
        token = request.bearer_token()
        if token is not None and _is_refresh_token_shape(token):
            return token, "header"
    if "cookie" in sources:
        token = request.cookies.get(h.REFRESH_TOKEN_COOKIE) or None
        if token is not None:
            return token, "cookie"
    return None, sources[-1]


def _is_refresh_token_shape(token: str) -> bool:
    parts = token.rsplit(".", 2)
    return len(parts) == 3 and parts[1] in ("a", "n")


def creation_method(request: RequestView, config: FrameworkConfig) -> TokenSource:
    """Where a new session's tokens go: the config's choice, else what the client asked
    for in ``st-auth-mode``, else headers (the SuperTokens rule)."""
    if config.token_transfer_method != "any":
        return config.token_transfer_method
    return "cookie" if (request.header(h.AUTH_MODE) or "").lower() == "cookie" else "header"


def tokens_present(request: RequestView) -> set[TokenSource]:
    found: set[TokenSource] = set()
    if request.bearer_token():
        found.add("header")
    cookies = request.cookies
    if h.ACCESS_TOKEN_COOKIE in cookies or h.REFRESH_TOKEN_COOKIE in cookies:
        found.add("cookie")
    return found


# -- writing tokens ----------------------------------------------------------------


def attach_tokens(
    plan: ResponsePlan,
    config: FrameworkConfig,
    method: TokenSource,
    *,
    now: int,
    access_token: str,
    front_token: str,
    refresh_token: str | None,
    refresh_expiry: int | None,
    anti_csrf_token: str | None,
) -> None:
    """Send a session's new tokens in ``method`` (front token always). ``refresh_expiry``
    is the refresh token's own expiry, as the engine reports it."""
    plan.set_header(h.FRONT_TOKEN, front_token)
    if method == "cookie":
        plan.cookies.append(
            _cookie(config, h.ACCESS_TOKEN_COOKIE, access_token, now + _ONE_YEAR_MS, "/")
        )
        if refresh_token is not None and refresh_expiry is not None:
            plan.cookies.append(
                _cookie(
                    config,
                    h.REFRESH_TOKEN_COOKIE,
                    refresh_token,
                    refresh_expiry,
                    config.refresh_cookie_path,
                )
            )
        if anti_csrf_token is not None:
            plan.set_header(h.ANTI_CSRF, anti_csrf_token)
    else:
        plan.set_header(h.ACCESS_TOKEN_HEADER, access_token)
        if refresh_token is not None:
            plan.set_header(h.REFRESH_TOKEN_HEADER, refresh_token)


def clear_tokens(
    plan: ResponsePlan, config: FrameworkConfig, methods: tuple[TokenSource, ...] | None = None
) -> None:
    """Tell the client its session is gone, in every transfer method the app allows."""
    for method in methods or allowed_sources(config):
        if method == "cookie":
            plan.cookies.append(_cookie(config, h.ACCESS_TOKEN_COOKIE, "", 0, "/"))
            plan.cookies.append(
                _cookie(config, h.REFRESH_TOKEN_COOKIE, "", 0, config.refresh_cookie_path)
            )
        else:
            plan.set_header(h.ACCESS_TOKEN_HEADER, "")
            plan.set_header(h.REFRESH_TOKEN_HEADER, "")
    plan.headers.pop(h.ANTI_CSRF, None)
    if h.ANTI_CSRF in plan.expose:
        plan.expose.remove(h.ANTI_CSRF)
    plan.set_header(h.FRONT_TOKEN, "remove")


def clear_legacy_cookie(plan: ResponsePlan, config: FrameworkConfig) -> None:
    plan.cookies.append(
        _cookie(config, h.LEGACY_ID_REFRESH_COOKIE, "", 0, config.refresh_cookie_path)
    )


def clear_duplicate_cookies(
    plan: ResponsePlan, config: FrameworkConfig, request: RequestView, name: str
) -> None:
    """Expire every copy of cookie ``name`` that this request may carry besides ours.

    Two same-named cookies come from a changed ``cookie_domain`` or from a sibling
    sub-domain planting one under the parent domain ("cookie tossing"). The ``Cookie``
    header does not say which is which, but ours has a known domain and path: the
    copies under every other domain whose cookies reach this host (host-only, the host
    and its parents, ``older_cookie_domain``) and every path covering this request are
    expired.
    """
    own_path = "/" if name == h.ACCESS_TOKEN_COOKIE else config.refresh_cookie_path
    own_domain = _domain_attribute(config.cookie_domain)
    host = _hostname(request.header("host"))
    # Extra names only add deletions for domains that are not ours, so trusting a
    # proxy's X-Forwarded-Host here is safe.
    forwarded = _hostname((request.header("x-forwarded-host") or "").split(",")[0])
    names = [host, forwarded, config.cookie_domain, config.older_cookie_domain]
    if config.api_domain:
        names.append(urlsplit(config.api_domain).hostname)
    domains: list[str | None] = [None]
    for parent in (d for n in names for d in _parent_domains(n)):
        if parent not in domains:
            domains.append(parent)
    for domain in domains:
        for path in _covering_paths(config.api_gateway_path + request.path):
            if not (path == own_path and domain == own_domain):
                plan.cookies.append(
                    CookieChange(name, "", 0, path, domain, config.secure, config.same_site)
                )


#: Paths deeper than this are not searched for planted copies (the answer stays small).
_MAX_PATH_SEGMENTS = 8


def _covering_paths(path: str) -> list[str]:
    """Cookie paths a browser sends with a request for ``path``: "/", "/a", "/a/", ..."""
    found = ["/"]
    parts = [part for part in path.split("/") if part][:_MAX_PATH_SEGMENTS]
    prefix = ""
    for index, part in enumerate(parts):
        prefix += "/" + part
        found.append(prefix)
        if index < len(parts) - 1:
            found.append(prefix + "/")
    return found


def _parent_domains(name: str | None) -> list[str]:
    """``name`` and its parents, as ``Domain`` values of cookies (top-level domain left out)."""
    domain = _domain_attribute(name)
    if domain is None:
        return []
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def _domain_attribute(name: str | None) -> str | None:
    """A ``Domain`` value as browsers store it, or ``None`` where they make the cookie
    host-only anyway (an IP address or a one-label name such as ``localhost``)."""
    domain = (name or "").strip().lower().lstrip(".")
    if "." not in domain:
        return None
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return domain
    return None


def _hostname(host_header: str | None) -> str:
    host = (host_header or "").strip().lower()
    if host.startswith("["):  # an IPv6 literal
        return ""
    return host.partition(":")[0]


def _cookie(
    config: FrameworkConfig, name: str, value: str, expires: int, path: str
) -> CookieChange:
    return CookieChange(
        name, value, expires, path, config.cookie_domain, config.secure, config.same_site
    )
