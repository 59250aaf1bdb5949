"""What the doctor is asked to check: the API, the website, and how to get a session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from .session_rules import AuthMode
from .sites import Origin

__all__ = ["DoctorSettings"]


@dataclass(frozen=True, kw_only=True)
class DoctorSettings:
    """What to check. ``url`` is the API's base URL (``https://api.example.com``, with
    any path prefix a proxy adds); ``website`` the origin the frontend runs on."""

    url: str
    website: str | None = None
    api_base_path: str = "/auth"
    #: A route of the app that logs a test user in (POST), and its JSON body.
    login_path: str | None = None
    login_body: str | None = None
    login_headers: tuple[tuple[str, str], ...] = ()
    #: Tokens of an existing session, instead of a login. The refresh token is used up.
    access_token: str | None = None
    refresh_token: str | None = None
    #: The ``st-auth-mode`` the doctor asks for, as the frontend SDK's
    #: ``tokenTransferMethod``.
    auth_mode: AuthMode = "cookie"

    def __post_init__(self) -> None:
        Origin.of(self.url)
        if self.website is not None:
            Origin.of(self.website)
        base = self.api_base_path
        if not base.startswith("/") or (base.endswith("/") and base != "/"):
            raise ValueError("--api-base-path must start with '/' and not end with one")
        if self.login_path is not None and not self.login_path.startswith("/"):
            raise ValueError("--login-path must start with '/'")
        if self.login_body is not None:
            try:
                json.loads(self.login_body)
            except ValueError as exc:
                raise ValueError(f"--login-body must be JSON ({exc})") from None
        if self.auth_mode not in ("cookie", "header"):
            raise ValueError("--auth-mode must be 'cookie' or 'header'")

    @property
    def api_root(self) -> str:
        """The URL's path without a trailing slash ('' at the root)."""
        return urlsplit(self.url).path.rstrip("/")

    def path(self, suffix: str) -> str:
        return self.api_root + suffix

    def address(self, path: str) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}{path}"
