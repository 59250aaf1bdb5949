"""Session settings: one frozen object, validated when it is built.

The setting names follow the SuperTokens core's configuration keys, so a user who
arrives from its docs finds the same words with the same units (seconds for the access
token, minutes for the refresh token, hours for key rotation).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

from ._setting_values import check_types, coerce
from .engine.key_wrapping import parse_key_encryption_keys

__all__ = [
    "TENANT_ID",
    "TENANT_SETTINGS",
    "AntiCsrf",
    "SessionConfig",
    "SessionLimitPolicy",
    "SigningAlgorithm",
    "TenantSettings",
]

SigningAlgorithm = Literal["RS256", "ES256", "EdDSA"]
AntiCsrf = Literal["VIA_TOKEN", "VIA_CUSTOM_HEADER", "NONE"]
SessionLimitPolicy = Literal["deny", "evict_oldest"]

_ALGORITHMS = ("RS256", "ES256", "EdDSA")
_ANTI_CSRF = ("VIA_TOKEN", "VIA_CUSTOM_HEADER", "NONE")
_LIMIT_POLICIES = ("deny", "evict_oldest")
#: The settings one tenant may set differently from its app (``tenant_settings``, and
#: a tenant's ``coreConfig`` in the core).
TENANT_SETTINGS = ("max_sessions_per_user", "session_limit_policy", "session_idle_timeout")
#: What a tenant id looks like: 1-64 characters from a-z, 0-9 and '-'.
TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_MAX_SESSIONS_PER_USER = 1_000_000
_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
#: Upper bounds that keep every derived millisecond instant a 64-bit integer, and that
#: no real deployment reaches: 100 years, one year for the purge job.
_MAX_REFRESH_MINUTES = 52_560_000
_MAX_KEY_INTERVAL_HOURS = 876_000
_MIN_KEY_INTERVAL_HOURS = 1 / 3600  # one second: each new key costs a key generation
_MAX_LIFETIME_SECONDS = 3_153_600_000
_MAX_PURGE_SECONDS = 31_536_000
_MAX_ACTIVITY_SECONDS = 86_400


@dataclass(frozen=True, kw_only=True)
class SessionConfig:
    """Everything that decides how sessions behave.

    Build it with keyword arguments; a value out of range raises ``ValueError`` naming
    the setting. ``SessionConfig.from_settings`` also accepts strings, as they come from
    environment variables or per-app configuration.
    """

    #: Lifetime of an access token, in seconds.
    access_token_validity: int = 3600
    #: Lifetime of a refresh token (and so of an idle session), in minutes.
    refresh_token_validity: float = 144000
    #: Refuse revoked sessions' access tokens on every verification (within
    #: ``revocation_max_staleness``, through the revocation feed; see the README).
    access_token_blacklisting: bool = False
    #: How often the dynamic signing key is replaced, in hours.
    access_token_dynamic_signing_key_update_interval: float = 168
    #: Sign with rotating keys (``True``) or with one static key per app (``False``).
    use_dynamic_access_token_signing_key: bool = True
    #: ``RS256`` works with every SuperTokens SDK; ``ES256`` and ``EdDSA`` sign ~10x faster.
    access_token_signing_algorithm: SigningAlgorithm = "RS256"
    #: Anti-CSRF protection. ``None`` lets the web framework layer choose from its
    #: SameSite setting; the engine then mints no anti-CSRF token.
    anti_csrf: AntiCsrf | None = None
    #: Seconds during which a refresh token that was just replaced may be presented again
    #: (parallel tabs, a retry after a lost response) and gets the same successor
    #: instead of being judged theft. ``0`` turns the grace off.
    refresh_token_grace_period: float = 30
    #: Absolute limit on a session's life in seconds, from its creation; refreshing
    #: cannot extend it. ``None`` means no limit.
    session_max_lifetime: int | None = None
    #: Seconds without a refresh or recorded activity after which a session ends: it can
    #: no longer be refreshed. Longer than ``access_token_validity``, so that no access
    #: token outlives the idle end. ``None`` means no idle limit.
    session_idle_timeout: int | None = None
    #: The most live sessions one user may hold in one tenant; ``None`` means no limit.
    max_sessions_per_user: int | None = None
    #: What a login beyond ``max_sessions_per_user`` does: ``"evict_oldest"`` creates the
    #: session and ends the user's least recently active ones to make room; ``"deny"``
    #: refuses it with ``SessionLimitReachedError``.
    session_limit_policy: SessionLimitPolicy = "evict_oldest"
    #: Tenants whose limits differ from the app's: tenant id to a mapping of some of
    #: ``TENANT_SETTINGS``, e.g. ``{"acme": {"max_sessions_per_user": 1}}``. A value of
    #: ``None`` there means "no limit" for that tenant; a setting left out is the app's.
    tenant_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: What a refresh does on theft (a replaced refresh token presented after its grace
    #: period): ``True`` revokes the session at once, then raises ``TokenTheftError``;
    #: ``False`` only raises it, leaving the session for the caller to end (the core
    #: service works this way, as the SuperTokens core does: the SDK decides).
    revoke_session_on_token_theft: bool = True
    #: Prefix for every table tessera creates, to share a database with other software.
    table_name_prefix: str = "tessera_"
    #: Keys that encrypt the signing keys and secrets stored in the database (AES-256-GCM),
    #: newest first: the first encrypts, any of them decrypts. Each is 32 random bytes in
    #: url-safe base64 (``tessera keys generate``); one key, a list, or a comma-separated
    #: string. Empty: stored in plain text. Never shown in ``repr``.
    key_encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    #: Connections kept open to the database.
    database_pool_size: int = 10
    #: Seconds to wait for a new database connection (PostgreSQL: whole seconds, >= 2).
    database_connect_timeout: float = 3
    #: Seconds a statement may run, lock waits included, before the database cancels it.
    database_statement_timeout: float = 4
    #: Seconds without an answer after which tessera gives up on a database connection
    #: (a silent network or server) and reports ``StorageError``; also the longest wait
    #: for a free connection. Longer than ``database_statement_timeout``.
    database_socket_timeout: float = 5
    #: Seconds between runs of the background job that deletes expired sessions;
    #: ``0`` turns it off (call ``purge_expired()`` yourself).
    expired_session_purge_interval: float = 3600
    #: Seconds between two records of a session's last activity (time, address, user
    #: agent) made by verifications; refreshes always record it. At most one write per
    #: session per interval, from a background thread, never on the request. ``0``:
    #: only creation and refreshes record activity.
    activity_write_interval: float = 60
    #: Where revocations are announced to other processes: ``redis://host:6379/0``.
    #: ``None``: PostgreSQL's LISTEN/NOTIFY on PostgreSQL, polling on other databases.
    revocation_channel: str | None = None
    #: Seconds after a revocation commits within which every process refuses the
    #: session's access tokens when blacklisting; past it, a process whose revocation
    #: feed is behind reads the database instead.
    revocation_max_staleness: float = 1.0
    #: Seconds between reads of the revocation log, signal or not; ``None`` is half
    #: of ``revocation_max_staleness``. Must be shorter than the bound.
    revocation_poll_interval: float | None = None
    #: Seconds a hole in the revocation log's numbering is awaited (a transaction that
    #: took a number and has not committed yet) before it is taken as rolled back.
    revocation_gap_timeout: float = 5.0

    def __post_init__(self) -> None:
        check_types(self)
        if not 1 <= self.access_token_validity <= 86_400_000:
            _bad("access_token_validity", "must be between 1 and 86400000 seconds")
        # "not a <= x <= b" also refuses NaN, which every comparison answers False.
        if not 0 < self.refresh_token_validity <= _MAX_REFRESH_MINUTES:
            _bad("refresh_token_validity", f"must be between 0 and {_MAX_REFRESH_MINUTES} minutes")
        if self.refresh_token_validity * 60 <= self.access_token_validity:
            _bad(
                "refresh_token_validity",
                "(minutes) must be longer than access_token_validity (seconds)",
            )
        interval = self.access_token_dynamic_signing_key_update_interval
        if not _MIN_KEY_INTERVAL_HOURS <= interval <= _MAX_KEY_INTERVAL_HOURS:
            _bad(
                "access_token_dynamic_signing_key_update_interval",
                f"must be between {_MIN_KEY_INTERVAL_HOURS:.6f} (one second) and "
                f"{_MAX_KEY_INTERVAL_HOURS} hours",
            )
        if self.access_token_signing_algorithm not in _ALGORITHMS:
            _bad("access_token_signing_algorithm", f"must be one of {', '.join(_ALGORITHMS)}")
        if self.anti_csrf is not None and self.anti_csrf not in _ANTI_CSRF:
            _bad("anti_csrf", f"must be one of {', '.join(_ANTI_CSRF)} or None")
        if not 0 <= self.refresh_token_grace_period <= 300:
            _bad("refresh_token_grace_period", "must be between 0 and 300 seconds")
        lifetime = self.session_max_lifetime
        if lifetime is not None and not 0 < lifetime <= _MAX_LIFETIME_SECONDS:
            _bad("session_max_lifetime", "must be a positive number of seconds (100 years at most)")
        _check_tenant_values(self, self.access_token_validity, "")
        if not _PREFIX.match(self.table_name_prefix):
            _bad(
                "table_name_prefix",
                "must start with a lower-case letter and use only a-z, 0-9 and _ (max 31)",
            )
        keks = parse_key_encryption_keys(self.key_encryption_keys)
        object.__setattr__(self, "key_encryption_keys", keks)
        if not 1 <= self.database_pool_size <= 1000:
            _bad("database_pool_size", "must be between 1 and 1000")
        if not 0 < self.database_connect_timeout <= 600:
            _bad("database_connect_timeout", "must be more than 0 and at most 600 seconds")
        if not 0 < self.database_statement_timeout <= 3600:
            _bad("database_statement_timeout", "must be more than 0 and at most 3600 seconds")
        if not self.database_statement_timeout < self.database_socket_timeout <= 3600:
            _bad(
                "database_socket_timeout",
                "must be longer than database_statement_timeout and at most 3600 seconds",
            )
        if not 0 <= self.expired_session_purge_interval <= _MAX_PURGE_SECONDS:
            _bad(
                "expired_session_purge_interval",
                f"must be between 0 and {_MAX_PURGE_SECONDS} seconds",
            )
        if not 0 <= self.activity_write_interval <= _MAX_ACTIVITY_SECONDS:
            _bad(
                "activity_write_interval",
                f"must be between 0 and {_MAX_ACTIVITY_SECONDS} seconds (0 turns it off)",
            )
        channel = self.revocation_channel
        if channel is not None and (
            not isinstance(channel, str)
            or not channel.startswith(("redis://", "rediss://", "unix://"))
        ):
            _bad("revocation_channel", "must be a redis://, rediss:// or unix:// URL, or None")
        if not 0.05 <= self.revocation_max_staleness <= 3600:
            _bad("revocation_max_staleness", "must be between 0.05 and 3600 seconds")
        poll = self.revocation_poll_interval
        if poll is not None and not 0.01 <= poll < self.revocation_max_staleness:
            _bad(
                "revocation_poll_interval",
                "must be at least 0.01 s and shorter than revocation_max_staleness",
            )
        if not 0.1 <= self.revocation_gap_timeout <= 600:
            _bad("revocation_gap_timeout", "must be between 0.1 and 600 seconds")
        # A copy no caller can change; each tenant's settings are checked now, not at
        # that tenant's first login.
        tenants = MappingProxyType(_tenant_mapping(self.tenant_settings))
        object.__setattr__(self, "tenant_settings", tenants)
        for tenant, values in tenants.items():
            self._tenants[tenant] = self.tenant_with(values, tenant)

    # Derived values, in the engine's unit (milliseconds).
    @property
    def access_token_validity_ms(self) -> int:
        return self.access_token_validity * 1000

    @property
    def refresh_token_validity_ms(self) -> int:
        return int(self.refresh_token_validity * 60_000)

    @property
    def key_update_interval_ms(self) -> int:
        return int(self.access_token_dynamic_signing_key_update_interval * 3_600_000)

    @property
    def refresh_token_grace_period_ms(self) -> int:
        return int(self.refresh_token_grace_period * 1000)

    @property
    def session_max_lifetime_ms(self) -> int | None:
        return None if self.session_max_lifetime is None else self.session_max_lifetime * 1000

    @cached_property
    def _own_settings(self) -> TenantSettings:
        return TenantSettings(
            max_sessions_per_user=self.max_sessions_per_user,
            session_limit_policy=self.session_limit_policy,
            session_idle_timeout=self.session_idle_timeout,
        )

    @cached_property
    def _tenants(self) -> dict[str, TenantSettings]:
        return {}

    def for_tenant(self, tenant_id: str) -> TenantSettings:
        """The limits and idle timeout of ``tenant_id``: its ``tenant_settings`` over the
        app's own."""
        return self._tenants.get(tenant_id) or self._own_settings

    def tenant_with(self, overrides: Mapping[str, Any], tenant_id: str = "") -> TenantSettings:
        """The settings of a tenant that sets ``overrides`` (some of ``TENANT_SETTINGS``,
        strings allowed) over this app's; ``ValueError`` naming the setting when one is
        unknown or invalid."""
        where = f"tenant_settings[{tenant_id!r}]" if tenant_id else "tenant settings"
        if not isinstance(overrides, Mapping):
            _bad(where, "must map setting names to values")
        unknown = sorted(set(overrides) - set(TENANT_SETTINGS))
        if unknown:
            names = ", ".join(map(str, unknown))
            _bad(where, f"{names}: only {', '.join(TENANT_SETTINGS)} may differ by tenant")
        values: dict[str, Any] = {
            "max_sessions_per_user": self.max_sessions_per_user,
            "session_limit_policy": self.session_limit_policy,
            "session_idle_timeout": self.session_idle_timeout,
        }
        types = {f.name: f.type for f in fields(self)}
        try:
            for name, value in overrides.items():
                values[name] = coerce(name, types[name], value)
            settings = TenantSettings(**values)
            _check_tenant_values(settings, self.access_token_validity, "")
        except (ValueError, TypeError) as exc:
            raise type(exc)(str(exc).replace("setting ", f"setting {where}.", 1)) from None
        return settings

    @property
    def activity_write_interval_ms(self) -> int:
        return int(self.activity_write_interval * 1000)

    @property
    def revocation_poll_seconds(self) -> float:
        poll = self.revocation_poll_interval
        return self.revocation_max_staleness / 2 if poll is None else poll

    @property
    def mints_anti_csrf_tokens(self) -> bool:
        return self.anti_csrf == "VIA_TOKEN"

    @property
    def session_idle_timeout_ms(self) -> int | None:
        idle = self.session_idle_timeout
        return None if idle is None else idle * 1000

    @classmethod
    def setting_names(cls) -> frozenset[str]:
        return frozenset(f.name for f in fields(cls))

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> SessionConfig:
        """Build a config from a mapping whose values may be strings ("true", "3600").

        Unknown names raise ``ValueError`` listing them, so a typo never goes unnoticed.
        """
        unknown = sorted(set(settings) - cls.setting_names())
        if unknown:
            raise ValueError(f"unknown session setting(s): {', '.join(unknown)}")
        types = {f.name: f.type for f in fields(cls)}
        return cls(**{name: coerce(name, types[name], value) for name, value in settings.items()})


@dataclass(frozen=True, kw_only=True)
class TenantSettings:
    """The settings that may differ between the tenants of one app (``TENANT_SETTINGS``):
    how many sessions a user may hold, and how long a session may stay idle."""

    max_sessions_per_user: int | None = None
    session_limit_policy: SessionLimitPolicy = "evict_oldest"
    session_idle_timeout: int | None = None

    @property
    def session_idle_timeout_ms(self) -> int | None:
        idle = self.session_idle_timeout
        return None if idle is None else idle * 1000

    @property
    def evicts_oldest(self) -> bool:
        return self.session_limit_policy == "evict_oldest"


def _check_tenant_values(
    values: SessionConfig | TenantSettings, access_token_validity: int, where: str
) -> None:
    """The checks of ``TENANT_SETTINGS``, for an app's own values and each tenant's."""
    limit = values.max_sessions_per_user
    if limit is not None and (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= _MAX_SESSIONS_PER_USER
    ):
        _bad(
            f"{where}max_sessions_per_user",
            f"must be a whole number from 1 to {_MAX_SESSIONS_PER_USER}, or None for no limit",
        )
    if values.session_limit_policy not in _LIMIT_POLICIES:
        _bad(f"{where}session_limit_policy", 'must be "deny" or "evict_oldest"')
    idle = values.session_idle_timeout
    if idle is None:
        return
    if isinstance(idle, bool) or not isinstance(idle, int):
        raise TypeError(f"setting {where}session_idle_timeout must be a whole number, not {idle!r}")
    if not access_token_validity < idle <= _MAX_LIFETIME_SECONDS:
        _bad(
            f"{where}session_idle_timeout",
            f"must be longer than access_token_validity ({access_token_validity} s), so that "
            "no access token outlives the idle end, and at most 100 years; lower "
            "access_token_validity for a shorter idle timeout",
        )


def _tenant_mapping(given: object) -> dict[str, Mapping[str, Any]]:
    if isinstance(given, str):  # from the environment: JSON
        try:
            given = json.loads(given)
        except ValueError:
            _bad("tenant_settings", "is not a JSON object")
    if not isinstance(given, Mapping):
        raise ValueError(
            'invalid setting tenant_settings: must map tenant ids to settings: {"acme": {...}}'
        )
    tenants: dict[str, Mapping[str, Any]] = {}
    for tenant, values in given.items():
        if not isinstance(tenant, str) or not TENANT_ID.fullmatch(tenant):
            _bad("tenant_settings", f"{tenant!r} is not a tenant id (a-z, 0-9 and '-')")
        if not isinstance(values, Mapping):
            _bad(f"tenant_settings[{tenant!r}]", "must map setting names to values")
        tenants[tenant] = MappingProxyType(dict(values))
    return tenants


def _bad(name: str, what: str) -> None:
    raise ValueError(f"invalid setting {name}: {what}")
