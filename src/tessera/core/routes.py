"""The one table of what the core serves: (method, API path) to handler."""

from __future__ import annotations

from . import admin_api as admin
from . import oauth2
from . import sessions_api as sessions
from . import tokens_api as tokens
from .admin_routes import ADMIN_ROUTES
from .context import Handler

__all__ = ["ROUTES"]

ROUTES: dict[tuple[str, str], tuple[Handler, bool]] = {
    ("GET", "/apiversion"): (admin.api_version, True),
    ("GET", "/user/id"): (admin.user_by_id, True),
    ("POST", "/recipe/session"): (tokens.create_session, True),
    ("GET", "/recipe/session"): (sessions.session_information, True),
    ("POST", "/recipe/session/verify"): (tokens.verify_session, True),
    ("POST", "/recipe/session/refresh"): (tokens.refresh_session, True),
    ("POST", "/recipe/session/regenerate"): (tokens.regenerate, True),
    ("PUT", "/recipe/session/data"): (sessions.update_session_data, True),
    ("PUT", "/recipe/jwt/data"): (sessions.update_access_token_payload, True),
    ("POST", "/recipe/session/remove"): (sessions.remove_sessions, True),
    ("GET", "/recipe/session/user"): (sessions.sessions_of_user, True),
    ("GET", "/.well-known/jwks.json"): (admin.jwks, False),
    ("GET", "/recipe/jwt/jwks"): (admin.jwks, True),
    ("POST", "/recipe/jwt"): (admin.create_jwt, True),
    ("PUT", "/recipe/multitenancy/app"): (admin.put_app, True),
    ("PUT", "/recipe/multitenancy/app/v2"): (admin.put_app, True),
    ("POST", "/recipe/multitenancy/app/remove"): (admin.remove_app, True),
    ("GET", "/recipe/multitenancy/app/list/v2"): (admin.list_apps, True),
    ("PUT", "/recipe/multitenancy/tenant/v2"): (admin.put_tenant, True),
    ("POST", "/recipe/multitenancy/tenant/remove"): (admin.remove_tenant, True),
    # The OAuth endpoints authenticate their clients themselves (RFC 6749 answers).
    ("POST", oauth2.INTROSPECT_PATH): (oauth2.introspect, False),
    ("POST", oauth2.REVOKE_PATH): (oauth2.revoke, False),
    # The operator's admin API (tessera's own, under /tessera/admin).
    **{route: (handler, True) for route, handler in ADMIN_ROUTES.items()},
}
