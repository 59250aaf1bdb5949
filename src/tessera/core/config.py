"""Settings of the core service: one frozen object, loaded from ``config.yaml`` and the
environment.

Key names follow the SuperTokens core's ``config.yaml`` (same words, same units), so a
file written for it mostly works here. Every key can also be set by its upper-case
environment variable (``ACCESS_TOKEN_VALIDITY=900``), which wins over the file. A bad
value stops the service before it starts, with a message that names the key.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ..config import SessionConfig

__all__ = ["SESSION_KEYS", "CoreConfig", "load_config", "parse_api_keys", "state_dir"]

#: Keys of ``config.yaml`` (and of an app's ``coreConfig``) that are session settings.
SESSION_KEYS = frozenset(
    {
        "access_token_validity",
        "refresh_token_validity",
        "access_token_blacklisting",
        "access_token_dynamic_signing_key_update_interval",
        "access_token_signing_algorithm",
        "refresh_token_grace_period",
        "session_max_lifetime",
        "session_idle_timeout",
        "max_sessions_per_user",
        "session_limit_policy",
        "activity_write_interval",
    }
)
#: Settings of each process's revocation feed (not per app).
FEED_KEYS = frozenset(
    {
        "revocation_channel",
        "revocation_max_staleness",
        "revocation_poll_interval",
        "revocation_gap_timeout",
    }
)
#: Time limits toward the database (validated together by ``SessionConfig``).
DATABASE_TIMEOUT_KEYS = frozenset(
    {"database_connect_timeout", "database_statement_timeout", "database_socket_timeout"}
)
#: Older or other names accepted for the same settings.
ALIASES = {
    "access_token_signing_key_update_interval": "access_token_dynamic_signing_key_update_interval",
    "refresh_token_rotation_grace_period": "refresh_token_grace_period",
}
#: Keys the SuperTokens core knows that mean nothing here; accepted and ignored.
IGNORED_KEYS = frozenset(
    {
        "core_config_version",
        "disable_telemetry",
        "max_server_pool_size",
        "access_token_signing_key_dynamic",
    }
)
#: Environment names of the keys whose upper-case form would be too generic.
ENV_NAMES = {
    "host": "SUPERTOKENS_HOST",
    "port": "SUPERTOKENS_PORT",
    "key_encryption_keys": "TESSERA_KEY_ENCRYPTION_KEYS",
}

_API_KEY = re.compile(r"^[A-Za-z0-9=-]{20,}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARN", "ERROR", "NONE")
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$")


def parse_api_keys(text: str) -> tuple[str, ...]:
    """Comma-separated API keys, each checked; ``ValueError`` when one is malformed."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    if not keys:
        raise ValueError("api_keys needs at least one key")
    for key in keys:
        if not _API_KEY.match(key):
            raise ValueError(
                "api_keys: each key needs at least 20 characters from A-Z, a-z, 0-9, '=' and '-'"
            )
    return keys


def state_dir() -> Path:
    """Where tessera keeps its local state: the default database, logs, pid files."""
    explicit = os.environ.get("TESSERA_HOME")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tessera"


@dataclass(frozen=True, kw_only=True)
class CoreConfig:
    """Validated settings of one ``tessera start``."""

    host: str = "127.0.0.1"
    port: int = 3567
    #: Accepted API keys; empty means none is required.
    api_keys: tuple[str, ...] = ()
    #: Serve on a non-loopback address even without an API key.
    allow_remote_without_api_key: bool = False
    log_level: str = "INFO"
    #: Files for the request and error logs; ``None`` means stdout and stderr.
    info_log_path: str | None = None
    error_log_path: str | None = None
    base_path: str = ""
    #: Any tessera database URL; ``None`` means a SQLite file in the state directory.
    database_url: str | None = None
    #: Session settings for every app, as strings (apps may override them).
    session_settings: Mapping[str, str] = field(default_factory=dict)
    #: The revocation feed's settings (``FEED_KEYS``), as strings.
    revocation_settings: Mapping[str, str] = field(default_factory=dict)
    table_name_prefix: str = "tessera_"
    #: Keys that encrypt the signing keys and secrets in the database, newest first
    #: (``SessionConfig.key_encryption_keys``); never shown in ``repr``.
    key_encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    database_pool_size: int = 10
    #: Seconds: to open a database connection; a statement may run (the database cancels
    #: it); without any answer before a connection is given up (see ``SessionConfig``).
    database_connect_timeout: float = 3
    database_statement_timeout: float = 4
    database_socket_timeout: float = 5
    #: Server processes; ``0`` means one per CPU core.
    workers: int = 0
    #: Largest request body accepted, in bytes.
    max_body_size: int = 1_048_576
    ip_allow_regex: str | None = None
    ip_deny_regex: str | None = None
    #: Reverse proxies (addresses or networks) whose ``X-Forwarded-For`` names the client.
    trusted_proxies: tuple[str, ...] = ()
    #: Without API keys: host names the ``Host`` header may carry besides ``localhost``,
    #: ``host`` and IP addresses (any other name may be DNS rebinding).
    allowed_hosts: tuple[str, ...] = ()
    #: Seconds a client has to send a request's headers, then its body; seconds an idle
    #: keep-alive connection stays open.
    request_header_timeout: int = 5
    request_body_timeout: int = 10
    keep_alive_timeout: int = 5
    #: Open connections per worker process; more are answered 503 and closed.
    max_connections: int = 1000
    expired_session_purge_interval: float = 3600
    #: Serve the admin console at ``/admin`` (the admin API is always served).
    admin_console: bool = True
    #: Serve the console without an API key, for local use (loopback only).
    admin_console_without_api_key: bool = False

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{state_dir() / 'tessera.db'}"

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def worker_count(self) -> int:
        return self.workers or max(1, os.cpu_count() or 1)


def _bad(key: str, why: str) -> ValueError:
    return ValueError(f"invalid config {key}: {why}")


def _flatten(raw: Mapping[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise _bad(str(key), "keys must be strings")
        name = ALIASES.get(key.lower(), key.lower())
        if value is None:
            continue
        if isinstance(value, list):  # a YAML list: key_encryption_keys, api_keys
            value = ",".join(str(item) for item in value)
        values[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return values


def _known_keys() -> set[str]:
    own = {f.name for f in fields(CoreConfig)} - {
        "session_settings",
        "revocation_settings",
        "database_url",
    }
    return (
        own
        | SESSION_KEYS
        | FEED_KEYS
        | set(ALIASES)
        | IGNORED_KEYS
        | {
            "database_url",
            "postgresql_connection_uri",
            "mysql_connection_uri",
            "supertokens_max_cdi_version",
        }
    )


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> CoreConfig:
    """Read ``path`` (YAML, optional), then the environment, then ``overrides`` (the
    command line), and validate the result."""
    environ = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    if path is not None:
        import yaml

        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ValueError(f"cannot read config file {path}: {exc.strerror}") from None
        try:
            document = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(document, dict):
            raise ValueError(f"config file {path} must hold key: value pairs")
        raw.update(_flatten(document))
    for key in sorted(_known_keys()):
        env = environ.get(ENV_NAMES.get(key, key.upper()))
        if env is not None:
            raw[ALIASES.get(key, key)] = env
    raw.update(_flatten(overrides or {}))
    unknown = sorted(set(raw) - _known_keys())
    if unknown:
        raise _bad(unknown[0], "unknown key (check the spelling; see docs/core.md)")
    return _build(raw)


def _int(raw: dict[str, str], key: str, default: int, low: int, high: int) -> int:
    if key not in raw:
        return default
    try:
        value = int(raw[key])
    except ValueError:
        raise _bad(key, f"{raw[key]!r} is not a whole number") from None
    if not low <= value <= high:
        raise _bad(key, f"must be between {low} and {high}")
    return value


def _bool(raw: dict[str, str], key: str) -> bool:
    value = raw.get(key, "false").strip().lower()
    if value not in ("true", "false"):
        raise _bad(key, f"{raw[key]!r} is not true or false")
    return value == "true"


def _optional(raw: dict[str, str], key: str) -> str | None:
    value = raw.get(key)
    return None if value is None or value.strip().lower() in ("", "null", "none") else value


def _networks(raw: dict[str, str], key: str) -> tuple[str, ...]:
    networks = []
    for item in raw.get(key, "").split(","):
        if item.strip():
            try:
                networks.append(str(ipaddress.ip_network(item.strip(), strict=False)))
            except ValueError:
                raise _bad(key, f"{item.strip()!r} is not an IP address or network") from None
    return tuple(networks)


def _build(raw: dict[str, str]) -> CoreConfig:
    keys: tuple[str, ...] = ()
    if _optional(raw, "api_keys") is not None:
        try:
            keys = parse_api_keys(raw["api_keys"])
        except ValueError as exc:
            raise ValueError(f"invalid config {exc}") from None
    log_level = raw.get("log_level", "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise _bad("log_level", f"must be one of {', '.join(_LOG_LEVELS)}")
    base_path = raw.get("base_path", "").strip().rstrip("/")
    if base_path and not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", base_path):
        raise _bad("base_path", "must look like /path or be empty")
    urls = [
        raw[k]
        for k in ("database_url", "postgresql_connection_uri", "mysql_connection_uri")
        if k in raw
    ]
    if len(urls) > 1:
        raise _bad(
            "database_url",
            "set only one of database_url, postgresql_connection_uri, mysql_connection_uri",
        )
    if "mysql_connection_uri" in raw and not raw["mysql_connection_uri"].startswith(
        ("mysql:", "mariadb:")
    ):
        raise _bad("mysql_connection_uri", "must start with mysql://")
    if "postgresql_connection_uri" in raw and not raw["postgresql_connection_uri"].startswith(
        "postgres"
    ):
        raise _bad("postgresql_connection_uri", "must start with postgresql://")
    max_cdi = raw.get("supertokens_max_cdi_version")
    if max_cdi is not None and max_cdi.strip() not in ("5.4", "null", ""):
        raise _bad("supertokens_max_cdi_version", "this core speaks CDI 5.4 only")
    for key in ("ip_allow_regex", "ip_deny_regex"):
        pattern = _optional(raw, key)
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise _bad(key, f"not a regular expression: {exc}") from None
    proxies = _networks(raw, "trusted_proxies")
    hosts = tuple(h.strip().lower() for h in raw.get("allowed_hosts", "").split(",") if h.strip())
    for host in hosts:
        if not _HOST_NAME.match(host):
            raise _bad("allowed_hosts", f"{host!r} is not a host name (no port, no scheme)")
    session = {k: v for k, v in raw.items() if k in SESSION_KEYS}
    feed = {k: v for k, v in raw.items() if k in FEED_KEYS}
    timeouts = {k: v for k, v in raw.items() if k in DATABASE_TIMEOUT_KEYS}
    try:
        keks = {"key_encryption_keys": raw.get("key_encryption_keys", "")}
        checked = SessionConfig.from_settings(
            {**session, **feed, **timeouts, **keks, "anti_csrf": "VIA_TOKEN"}
        )
    except (ValueError, TypeError) as exc:
        # SessionConfig names the setting: "invalid setting access_token_validity: ..."
        raise ValueError(str(exc).replace("invalid setting", "invalid config", 1)) from None
    try:
        purge = float(raw.get("expired_session_purge_interval", "3600"))
    except ValueError:
        raise _bad("expired_session_purge_interval", "is not a number") from None
    if not 0 <= purge <= 31_536_000:  # also refuses inf and nan
        raise _bad("expired_session_purge_interval", "must be between 0 and 31536000 seconds")
    console_without_key = _bool(raw, "admin_console_without_api_key")
    host = raw.get("host", "127.0.0.1").strip() or "127.0.0.1"
    if console_without_key and not CoreConfig(host=host).is_loopback:
        raise _bad(
            "admin_console_without_api_key",
            "is for local use: the host must be a loopback address (or set api_keys)",
        )
    prefix = raw.get("table_name_prefix", "tessera_")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", prefix):
        raise _bad("table_name_prefix", "must start with a-z and use only a-z, 0-9 and _")
    return CoreConfig(
        host=host,
        port=_int(raw, "port", 3567, 1, 65535),
        api_keys=keys,
        allow_remote_without_api_key=_bool(raw, "allow_remote_without_api_key"),
        log_level=log_level,
        info_log_path=_optional(raw, "info_log_path"),
        error_log_path=_optional(raw, "error_log_path"),
        base_path=base_path,
        database_url=urls[0] if urls else None,
        session_settings=session,
        revocation_settings=feed,
        table_name_prefix=prefix,
        key_encryption_keys=checked.key_encryption_keys,
        database_pool_size=_int(raw, "database_pool_size", 10, 1, 1000),
        database_connect_timeout=checked.database_connect_timeout,
        database_statement_timeout=checked.database_statement_timeout,
        database_socket_timeout=checked.database_socket_timeout,
        workers=_int(raw, "workers", 0, 0, 256),
        max_body_size=_int(raw, "max_body_size", 1_048_576, 1024, 104_857_600),
        ip_allow_regex=_optional(raw, "ip_allow_regex"),
        ip_deny_regex=_optional(raw, "ip_deny_regex"),
        trusted_proxies=proxies,
        allowed_hosts=hosts,
        request_header_timeout=_int(raw, "request_header_timeout", 5, 1, 600),
        request_body_timeout=_int(raw, "request_body_timeout", 10, 1, 600),
        keep_alive_timeout=_int(raw, "keep_alive_timeout", 5, 1, 600),
        max_connections=_int(raw, "max_connections", 1000, 1, 1_000_000),
        expired_session_purge_interval=purge,
        admin_console=_bool(raw, "admin_console") if "admin_console" in raw else True,
        admin_console_without_api_key=console_without_key,
    )
