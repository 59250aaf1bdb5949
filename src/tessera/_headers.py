"""The names on the wire that the SuperTokens frontend SDKs read and send (shared by
the web adapters and the package root's ``get_all_cors_headers``)."""

from __future__ import annotations

__all__ = ["get_all_cors_headers"]

ACCESS_TOKEN_COOKIE = "sAccessToken"
REFRESH_TOKEN_COOKIE = "sRefreshToken"
#: Set by old SDK versions; a request carrying it must refresh, and refresh removes it.
LEGACY_ID_REFRESH_COOKIE = "sIdRefreshToken"

FRONT_TOKEN = "front-token"
ANTI_CSRF = "anti-csrf"
RID = "rid"
AUTH_MODE = "st-auth-mode"
AUTHORIZATION = "authorization"
ACCESS_TOKEN_HEADER = "st-access-token"
REFRESH_TOKEN_HEADER = "st-refresh-token"
FDI_VERSION = "fdi-version"
EXPOSE_HEADERS = "Access-Control-Expose-Headers"

REFRESH_PATH = "/session/refresh"
SIGN_OUT_PATH = "/signout"

_CORS_HEADERS = (RID, FDI_VERSION, ANTI_CSRF, AUTHORIZATION, AUTH_MODE)


def get_all_cors_headers() -> list[str]:
    """Request headers a CORS preflight must allow for the frontend SDKs (add
    ``content-type`` yourself)."""
    return list(_CORS_HEADERS)
