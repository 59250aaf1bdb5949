"""The apps a core serves: each one's settings and session engines, shared by every
process through the database.

An app's row (tenant ``public`` in the tenants table) holds the settings it overrides
(the ``coreConfig`` of ``PUT /recipe/multitenancy/app/v2``, as strings). Each process
keeps the engines it built and re-reads the row at most every ``RECHECK_MS``, so a
change made through one process reaches the others within that time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..config import SessionConfig
from ..engine.sessions import SessionEngine
from ..revocation import REVOCATION_MARGIN_S, RevocationFeed
from ..storage import SqlStore
from .config import ALIASES, SESSION_KEYS

__all__ = ["AppEngines", "AppRegistry", "UnknownApp", "UnknownTenant", "app_settings"]

RECHECK_MS = 2000


class UnknownApp(Exception):
    pass


class UnknownTenant(Exception):
    pass


@dataclass(frozen=True)
class AppEngines:
    """One app: its settings and an engine per signing-key mode (they share the keys)."""

    app_id: str
    config: SessionConfig
    overrides: Mapping[str, str]
    dynamic: SessionEngine
    static: SessionEngine

    def engine(self, use_dynamic_key: bool) -> SessionEngine:
        return self.dynamic if use_dynamic_key else self.static


def app_settings(core_config: Mapping[str, Any]) -> dict[str, str]:
    """An app's ``coreConfig`` as session settings; ``ValueError`` names a bad key."""
    settings: dict[str, str] = {}
    for key, value in core_config.items():
        name = ALIASES.get(key, key)
        if name not in SESSION_KEYS:
            raise ValueError(f"'{key}' is not a core config setting an app can change")
        if value is None:
            continue
        if isinstance(value, dict | list):
            raise ValueError(f"'{key}' must be a string or a number")
        settings[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return settings


class AppRegistry:
    def __init__(
        self,
        store: SqlStore,
        defaults: Mapping[str, str],
        *,
        clock: Callable[[], int],
        base: Mapping[str, Any] | None = None,
        revocations: RevocationFeed | None = None,
    ) -> None:
        self._store = store
        self._revocations = revocations
        self._defaults = dict(defaults)
        self._base = dict(base or {})
        self._clock = clock
        self._lock = threading.Lock()
        self._apps: dict[str, tuple[AppEngines, int]] = {}
        self._tenants: set[tuple[str, str]] = set()

    def session_config(self, overrides: Mapping[str, str]) -> SessionConfig:
        """The settings of an app with these overrides; ``ValueError`` when invalid."""
        settings: dict[str, Any] = {**self._defaults, **overrides, **self._base}
        settings["anti_csrf"] = "VIA_TOKEN"  # each request says whether it wants one
        return SessionConfig.from_settings(settings)

    def get(self, app_id: str) -> AppEngines:
        now = self._clock()
        cached = self._apps.get(app_id)
        if cached is not None and now - cached[1] < RECHECK_MS:
            return cached[0]
        row = self._store.get_tenant(app_id, "public")
        if row is None and app_id != "public":
            self._apps.pop(app_id, None)
            raise UnknownApp(app_id)
        overrides = {} if row is None else dict(row.config)
        with self._lock:
            cached = self._apps.get(app_id)
            if cached is not None and cached[0].overrides == overrides:
                engines = cached[0]
            else:
                engines = self._build(app_id, overrides)
            self._apps[app_id] = (engines, now)
        return engines

    def _build(self, app_id: str, overrides: Mapping[str, str]) -> AppEngines:
        config = self.session_config(overrides)
        store = self._store.for_app(app_id)
        # The verify handler applies blacklisting itself, so it can tell a bad token
        # (TRY_REFRESH_TOKEN) from a revoked session (UNAUTHORISED).
        stateless = replace(config, access_token_blacklisting=False)
        dynamic = SessionEngine(
            replace(stateless, use_dynamic_access_token_signing_key=True), store
        )
        static = SessionEngine(
            replace(stateless, use_dynamic_access_token_signing_key=False), store
        )
        static.keys = dynamic.keys
        if self._revocations is not None:
            # Revocations must be remembered as long as this app's tokens can live.
            self._revocations.set_window(config.access_token_validity + REVOCATION_MARGIN_S)
            dynamic.revocations = static.revocations = self._revocations.view(app_id)
        return AppEngines(app_id, config, dict(overrides), dynamic, static)

    def put_app(self, app_id: str, core_config: Mapping[str, Any]) -> bool:
        overrides = app_settings(core_config)
        self.session_config(overrides)  # refuse what would not start
        created = self._store.put_tenant(app_id, "public", overrides, self._clock())
        self._apps.pop(app_id, None)
        return created

    def delete_app(self, app_id: str) -> bool:
        self._apps.pop(app_id, None)
        self._tenants = {t for t in self._tenants if t[0] != app_id}
        return self._store.delete_tenant(app_id, None)

    def put_tenant(self, app_id: str, tenant_id: str, core_config: Mapping[str, Any]) -> bool:
        self.get(app_id)
        created = self._store.put_tenant(app_id, tenant_id, dict(core_config), self._clock())
        self._tenants.add((app_id, tenant_id))
        return created

    def delete_tenant(self, app_id: str, tenant_id: str) -> bool:
        self.get(app_id)
        self._tenants.discard((app_id, tenant_id))
        return self._store.delete_tenant(app_id, tenant_id)

    def check_tenant(self, app_id: str, tenant_id: str) -> None:
        self.get(app_id)
        if tenant_id == "public" or (app_id, tenant_id) in self._tenants:
            return
        if self._store.get_tenant(app_id, tenant_id) is None:
            raise UnknownTenant(f"{app_id}/{tenant_id}")
        self._tenants.add((app_id, tenant_id))

    def list_apps(self) -> list[str]:
        apps = {r.app_id for r in self._store.list_tenants(None) if r.tenant_id == "public"}
        return sorted(apps | {"public"})
