"""Where a request goes: ``[/base][/appid-<app>][/<tenant>]<api path>``.

The SuperTokens core's path grammar: the app and tenant segments are optional (and
mean ``public``), ids are matched lower-cased, a trailing slash is allowed, and a few
words can never be tenant ids because they start API paths. tessera's own routes
(``/tessera/oauth2/...``, ``/tessera/admin/...``) follow the same grammar; the admin
console (``/admin/...``) is found before it (``console_path``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["CDI_VERSIONS", "Route", "console_path", "split_path"]

#: The ``cdi-version`` values accepted, as the SuperTokens core accepts them: every
#: version it has spoken since 2.7. Below 2.21 access tokens are minted in version 2;
#: below 3.0 a path may not name a tenant.
CDI_VERSIONS = frozenset(
    [*((2, minor) for minor in range(7, 22)), (3, 0), (3, 1), (4, 0)]
    + [(5, minor) for minor in range(5)]
)

_ID = re.compile(r"^[a-z0-9-]{1,64}$")


def is_valid_id(name: str) -> bool:
    """An app or tenant id as the routes accept it: 1-64 of a-z, 0-9 and '-'."""
    return bool(_ID.match(name))


_NOT_TENANTS = frozenset(
    {"recipe", "config", "users", "hello", "apiversion", "user", ".well-known"}
)
#: tessera's own routes, beside the CDI's: ``/tessera/<area>/...``. There ``tessera`` is
#: not a tenant; a tenant of that name keeps every CDI route, none of which starts with
#: one of these areas.
_TESSERA_AREAS = frozenset({"oauth2", "admin"})


def _names_a_tenant(segments: list[str]) -> bool:
    if len(segments) < 2 or segments[0] in _NOT_TENANTS:
        return False
    return not (segments[0] == "tessera" and segments[1] in _TESSERA_AREAS)


@dataclass(frozen=True)
class Route:
    app_id: str
    tenant_id: str
    #: The API path, lower-cased, without app, tenant or trailing slash: "/recipe/session".
    api_path: str
    #: Whether the path named a tenant (some APIs accept only the public one).
    tenant_given: bool


def split_path(path: str, base_path: str = "") -> Route | None:
    """``None`` when the path is not under ``base_path`` or is not well formed."""
    lowered = path.lower()
    if base_path:
        base = base_path.lower()
        if lowered != base and not lowered.startswith(base + "/"):
            return None
        lowered = lowered[len(base) :]
    segments = lowered.strip("/").split("/")
    if segments == [""]:
        return Route("public", "public", "/", False)
    app_id = "public"
    if segments[0].startswith("appid-"):
        app_id = segments.pop(0)[len("appid-") :] or "public"
        if not _ID.match(app_id):
            return None
    tenant_id, tenant_given = "public", False
    if _names_a_tenant(segments):
        tenant_id, tenant_given = segments.pop(0), True
        if not _ID.match(tenant_id):
            return None
    if any(not s for s in segments):
        return None
    return Route(
        app_id, tenant_id, "/" + "/".join(segments), tenant_given and tenant_id != "public"
    )


def console_path(path: str, base_path: str, pages: frozenset[str]) -> tuple[str, str, str] | None:
    """``(app id, the console's own path as sent, the path below it)`` when ``path`` is
    the admin console's: ``[/base][/appid-<app>]/admin[/<page>...]``, where ``<page>`` is
    one of ``pages``. A tenant named ``admin`` keeps every CDI route: none starts with a
    console page's name."""
    if base_path:
        if path.lower() != base_path.lower() and not path.lower().startswith(
            base_path.lower() + "/"
        ):
            return None
        path = path[len(base_path) :]
    segments = path.split("/")[1:] if path.startswith("/") else []
    prefix = base_path
    app_id = "public"
    if segments and segments[0].lower().startswith("appid-"):
        app_id = segments[0][len("appid-") :].lower() or "public"
        if not _ID.match(app_id):
            return None
        prefix += "/" + segments.pop(0)
    if not segments or segments[0].lower() != "admin":
        return None
    prefix += "/" + segments.pop(0)
    rest = [s for s in segments if s]
    if rest and rest[0].lower() not in pages:
        return None
    return app_id, prefix, "/" + "/".join(segments) if segments else ""
