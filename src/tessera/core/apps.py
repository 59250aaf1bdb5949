"""The apps a core serves: each one's settings, API keys and session engines, shared by
every process through the database.

An app's row (tenant ``public`` in the tenants table) holds the settings it overrides
(the ``coreConfig`` of ``PUT /recipe/multitenancy/app/v2``, as strings), and the time
it was created, which tells an app apart from an earlier one with the same id. Another
tenant's row holds the few settings a tenant may change (``TENANT_SETTINGS``: its
session limits and idle timeout). Each process keeps what it built and read, and reads
again at most ``RECHECK_MS`` later: a change made through one process (new settings,
new keys, a removed app or tenant, an app made again) reaches the others within that
time.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from .._activity import ActivityWriter
from ..config import TENANT_SETTINGS, SessionConfig, TenantSettings
from ..engine.activity import ActivityMemo
from ..engine.keyring import KeyRing
from ..engine.keys import SigningKey
from ..engine.sessions import SessionEngine
from ..errors import AppSettingsError, UnknownAppError, UnknownTenantError
from ..revocation import REVOCATION_MARGIN_S, RevocationFeed
from ..storage.base import AppStore, Removal, SessionActivity, SessionStore
from .config import ALIASES, SESSION_KEYS, parse_api_keys

__all__ = ["RECHECK_MS", "AppEngines", "AppRegistry", "CoreStore"]

#: How stale a process's view of an app or tenant may be, in milliseconds.
RECHECK_MS = 2000
#: Every ``coreConfig`` key an app may set: the session settings and its own API keys.
APP_KEYS = SESSION_KEYS | {"api_keys"}

error_log = logging.getLogger("tessera.core.error")


class CoreStore(SessionStore, AppStore, Protocol):
    """What the core service needs from a database: the sessions and keys of its apps,
    and the apps and tenants themselves."""


@dataclass(frozen=True)
class AppEngines:
    """One app: its settings and an engine per signing-key mode (they share the keys)."""

    app_id: str
    config: SessionConfig
    overrides: Mapping[str, str]
    #: When the app's row was made (0 for the public app without one).
    generation: int
    #: The app's own API keys; ``None`` means the core's keys apply.
    api_keys: tuple[str, ...] | None
    dynamic: SessionEngine
    static: SessionEngine
    #: When database-checked verifications record activity (``None``: interval 0), and
    #: how: the app's ``record_activity`` with its interval.
    activity: ActivityMemo | None = None
    record_activity: Callable[[Sequence[SessionActivity]], int] | None = None

    def engine(self, use_dynamic_key: bool) -> SessionEngine:
        return self.dynamic if use_dynamic_key else self.static


def merge_app_settings(
    current: Mapping[str, Any], core_config: Mapping[str, Any], *, public_app: bool
) -> dict[str, str]:
    """``core_config`` applied to an app's stored settings, as the SuperTokens core
    merges them: a key set to ``null`` goes back to the default. ``ValueError`` names a
    key that is not an app setting; the values are checked by ``session_config``."""
    # Anything stored that is not a setting (an older tessera kept whole request bodies)
    # is dropped here, so that one PUT repairs such a row.
    settings = {k: str(v) for k, v in current.items() if k in APP_KEYS}
    for key, value in core_config.items():
        name = ALIASES.get(key, key)
        if name not in APP_KEYS:
            raise ValueError(f"'{key}' is not a core config setting an app can change")
        if name == "api_keys" and public_app:
            raise ValueError("the public app uses the core's api_keys (config.yaml)")
        if value is None:
            settings.pop(name, None)
        elif isinstance(value, dict | list):
            raise ValueError(f"'{key}' must be a string or a number")
        else:
            settings[name] = str(value).lower() if isinstance(value, bool) else str(value)
    if "api_keys" in settings:
        parse_api_keys(settings["api_keys"])
    return settings


class AppRegistry:
    def __init__(
        self,
        store: CoreStore,
        defaults: Mapping[str, str],
        *,
        clock: Callable[[], int],
        api_keys: tuple[str, ...] = (),
        revocations: RevocationFeed | None = None,
        key_encryption_keys: tuple[str, ...] = (),
    ) -> None:
        self._store = store
        #: The core's keys for the key material of every app (no app may set its own).
        self._key_encryption_keys = key_encryption_keys
        self._revocations = revocations
        self._defaults = dict(defaults)
        self._clock = clock
        #: The core's own keys: for the public app, and for apps without keys of their own.
        self.core_api_keys = api_keys
        self._lock = threading.Lock()
        self._apps: dict[str, tuple[AppEngines, int]] = {}
        #: (app, tenant) -> when the tenant was last seen in the database, and the
        #: settings its row holds.
        self._tenants: dict[tuple[str, str], tuple[int, dict[str, str]]] = {}
        #: (app, tenant) -> the settings resolved from them, with the app's config.
        self._resolved: dict[tuple[str, str], tuple[SessionConfig, dict[str, str], TenantSettings]]
        self._resolved = {}
        #: Writes the last activity that verifications record, for every app.
        self.activity_writer = ActivityWriter()
        #: Told of each signing key an app's key ring creates: (app id, key, when).
        self.on_key_created: Callable[[str, SigningKey, int], None] | None = None

    def session_config(self, overrides: Mapping[str, str]) -> SessionConfig:
        """The settings of an app with these overrides; ``ValueError`` when invalid."""
        settings: dict[str, Any] = {**self._defaults, **overrides}
        settings.pop("api_keys", None)
        settings["anti_csrf"] = "VIA_TOKEN"  # each request says whether it wants one
        # As the SuperTokens core: theft is reported, and the SDK decides (its default
        # handler revokes the session; an app may choose otherwise).
        settings["revoke_session_on_token_theft"] = False
        settings["key_encryption_keys"] = self._key_encryption_keys
        return SessionConfig.from_settings(settings)

    # -- reading -------------------------------------------------------------------------

    def peek(self, app_id: str) -> AppEngines | None:
        """The app as this process last read it, if that is recent; never reads the store."""
        cached = self._apps.get(app_id)
        if cached is not None and self._clock() - cached[1] < RECHECK_MS:
            return cached[0]
        return None

    def get(self, app_id: str) -> AppEngines:
        now = self._clock()
        cached = self._apps.get(app_id)
        if cached is not None and now - cached[1] < RECHECK_MS:
            return cached[0]
        row = self._store.get_tenant(app_id, "public")
        if row is None and app_id != "public":
            self._apps.pop(app_id, None)
            raise UnknownAppError(app_id)
        overrides = {} if row is None else dict(row.config)
        generation = 0 if row is None else row.created_at
        with self._lock:
            cached = self._apps.get(app_id)
            if (
                cached is not None
                and cached[0].overrides == overrides
                and cached[0].generation == generation
            ):
                engines = cached[0]
            else:
                # New settings or a new app with the same id: new engines, so nothing
                # cached (keys, the refresh-token secret) outlives what it belonged to.
                engines = self._build(app_id, overrides, generation)
            self._apps[app_id] = (engines, now)
        return engines

    def api_keys(self, app_id: str) -> tuple[str, ...]:
        """The keys that open ``app_id``: its own, else the core's."""
        own = self.get(app_id).api_keys
        return self.core_api_keys if own is None else own

    def _build(self, app_id: str, overrides: Mapping[str, str], generation: int) -> AppEngines:
        try:
            config = self.session_config(overrides)
            keys = parse_api_keys(overrides["api_keys"]) if "api_keys" in overrides else None
        except (ValueError, TypeError) as exc:
            # Only a database written by hand or by an older tessera gets here: every
            # way in validates. Say so plainly instead of a bare internal error.
            error_log.error("the stored settings of app %s are invalid: %s", app_id, exc)
            raise AppSettingsError(
                f"The settings stored for app '{app_id}' are invalid ({exc}); "
                "replace them with PUT /recipe/multitenancy/app/v2",
            ) from None
        store = self._store.for_app(app_id)
        # The verify handler applies blacklisting itself, so it can tell a bad token
        # (TRY_REFRESH_TOKEN) from a revoked session (UNAUTHORISED).
        stateless = replace(config, access_token_blacklisting=False)
        dynamic_config = replace(stateless, use_dynamic_access_token_signing_key=True)
        # One key ring for both engines: they sign and publish the same keys.
        ring = KeyRing(dynamic_config, store)
        if self.on_key_created is not None:
            told = self.on_key_created
            ring.on_key_created = lambda key, now: told(app_id, key, now)
        dynamic = SessionEngine(dynamic_config, store, keys=ring)
        static = SessionEngine(
            replace(stateless, use_dynamic_access_token_signing_key=False), store, keys=ring
        )
        for engine in (dynamic, static):
            # A tenant's limits and idle timeout are read from its row as it is used.
            engine.tenant_settings_of = lambda tenant_id: self.tenant_settings(
                app_id, config, tenant_id
            )
            engine.idle_timeouts_may_apply = True
        if self._revocations is not None:
            # Revocations must be remembered as long as this app's tokens can live.
            self._revocations.set_window(config.access_token_validity + REVOCATION_MARGIN_S)
            dynamic.revocations = static.revocations = self._revocations.view(app_id)
        interval = config.activity_write_interval_ms
        memo = ActivityMemo(interval) if interval > 0 else None
        write = functools.partial(store.record_activity, min_interval=interval)
        return AppEngines(
            app_id, config, dict(overrides), generation, keys, dynamic, static, memo, write
        )

    def check_tenant(self, app_id: str, tenant_id: str) -> None:
        self.get(app_id)
        if tenant_id != "public":
            self._tenant_row(app_id, tenant_id, missing_is_error=True)

    def _tenant_row(self, app_id: str, tenant_id: str, *, missing_is_error: bool) -> dict[str, str]:
        """The settings in a (non-public) tenant's row, read at most every ``RECHECK_MS``;
        ``UnknownTenantError`` when it is gone, or ``{}`` if that is not an error."""
        now = self._clock()
        seen = self._tenants.get((app_id, tenant_id))
        if seen is not None and now - seen[0] < RECHECK_MS:
            return seen[1]
        row = self._store.get_tenant(app_id, tenant_id)
        if row is None:
            self._tenants.pop((app_id, tenant_id), None)
            if missing_is_error:
                raise UnknownTenantError(app_id, tenant_id)
            return {}
        settings = {k: str(v) for k, v in row.config.items() if k in TENANT_SETTINGS}
        self._tenants[(app_id, tenant_id)] = (now, settings)
        return settings

    def tenant_settings(self, app_id: str, config: SessionConfig, tenant_id: str) -> TenantSettings:
        """The limits and idle timeout of a tenant of the app whose settings are
        ``config``: its own settings over the app's. A tenant that is gone has the
        app's (its sessions went with it)."""
        if tenant_id == "public":
            return config.for_tenant(tenant_id)
        overrides = self._tenant_row(app_id, tenant_id, missing_is_error=False)
        if not overrides:
            return config.for_tenant(tenant_id)
        resolved = self._resolved.get((app_id, tenant_id))
        if resolved is not None and resolved[0] is config and resolved[1] == overrides:
            return resolved[2]
        try:
            settings = config.tenant_with(overrides, tenant_id)
        except (ValueError, TypeError) as exc:
            # The app's settings changed under the tenant's (config.yaml at a restart).
            error_log.error(
                "the settings of tenant %s of app %s are invalid: %s", tenant_id, app_id, exc
            )
            raise AppSettingsError(
                f"The settings stored for tenant '{tenant_id}' of app '{app_id}' are invalid "
                f"({exc}); replace them with PUT /recipe/multitenancy/tenant/v2",
            ) from None
        self._resolved[(app_id, tenant_id)] = (config, overrides, settings)
        return settings

    def list_apps(self) -> list[str]:
        apps = {r.app_id for r in self._store.list_tenants(None) if r.tenant_id == "public"}
        return sorted(apps | {"public"})

    # -- changing --------------------------------------------------------------------------

    def put_app(self, app_id: str, core_config: Mapping[str, Any]) -> bool:
        """Create the app or merge ``core_config`` into its settings; True when created.
        ``ValueError`` (nothing stored) when a setting is unknown or its value invalid."""
        row = self._store.get_tenant(app_id, "public")
        current = {} if row is None else row.config
        overrides = merge_app_settings(current, core_config, public_app=app_id == "public")
        config = self.session_config(overrides)  # refuse what would not start
        for tenant in self._store.list_tenants(app_id):
            # Nor what the app's tenants' own settings would no longer fit.
            own = {k: v for k, v in tenant.config.items() if k in TENANT_SETTINGS}
            if tenant.tenant_id != "public" and own:
                config.tenant_with(own, tenant.tenant_id)
        created = self._store.put_tenant(app_id, "public", overrides, self._clock())
        self._apps.pop(app_id, None)
        return created and app_id != "public"  # the public app always exists

    def delete_app(self, app_id: str) -> Removal:
        """Remove the app with its tenants, sessions, keys and secrets."""
        removal = self._store.delete_tenant(app_id, None)
        self._apps.pop(app_id, None)
        for key in list(self._tenants):
            if key[0] == app_id:
                self._tenants.pop(key, None)
        return removal

    def put_tenant(self, app_id: str, tenant_id: str, core_config: Mapping[str, Any]) -> bool:
        """Create a tenant or change its settings; for ``public`` this updates the app's
        own settings. Another tenant may set only ``TENANT_SETTINGS`` (a key set to
        ``null`` goes back to the app's); the others are app-wide (``ValueError``)."""
        app = self.get(app_id)
        if tenant_id == "public":
            self.put_app(app_id, core_config)
            return False
        for key, value in core_config.items():
            name = ALIASES.get(key, key)
            if name not in APP_KEYS:
                raise ValueError(f"'{key}' is not a core config setting")
            if value is not None and name not in TENANT_SETTINGS:
                raise ValueError(
                    f"'{key}' is an app setting: set it for the app (tenant 'public' "
                    f"or PUT /recipe/multitenancy/app/v2); a tenant may set "
                    f"{', '.join(TENANT_SETTINGS)}"
                )
            if isinstance(value, dict | list):
                raise ValueError(f"'{key}' must be a string or a number")
        row = self._store.get_tenant(app_id, tenant_id)
        settings = {} if row is None else {k: str(v) for k, v in row.config.items()}
        for key, value in core_config.items():
            if value is None:
                settings.pop(key, None)
            elif key in TENANT_SETTINGS:
                settings[key] = str(value).lower() if isinstance(value, bool) else str(value)
        app.config.tenant_with(settings, tenant_id)  # refuse what the app cannot use
        now = self._clock()
        created = self._store.put_tenant(app_id, tenant_id, settings, now)
        self._tenants[(app_id, tenant_id)] = (now, settings)
        return created

    def delete_tenant(self, app_id: str, tenant_id: str) -> Removal:
        """Remove the tenant with its sessions."""
        self.get(app_id)
        self._tenants.pop((app_id, tenant_id), None)
        return self._store.delete_tenant(app_id, tenant_id)
