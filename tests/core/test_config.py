"""Loading the core's settings: config.yaml, environment variables, refusals that name
the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera import SessionConfig
from tessera.core.asgi import CoreApp
from tessera.core.config import load_config
from tessera.core.routing import split_path
from tessera.storage import SqlStore, Timeouts


def test_defaults_are_loopback_sqlite_and_no_key() -> None:
    config = load_config(environ={})
    assert (config.host, config.port, config.api_keys) == ("127.0.0.1", 3567, ())
    assert config.is_loopback
    assert config.database.startswith("sqlite:///")


def test_connection_defaults_are_bounded_and_trust_no_proxy() -> None:
    config = load_config(environ={})
    assert config.trusted_proxies == ()
    assert config.allowed_hosts == ()
    assert 0 < config.request_header_timeout <= 10
    assert 0 < config.request_body_timeout <= 15
    assert 0 < config.keep_alive_timeout <= 10
    assert 0 < config.max_connections <= 10_000
    config = load_config(
        environ={"TRUSTED_PROXIES": "10.0.0.1, 192.168.1.0/24", "ALLOWED_HOSTS": "Core.Internal"}
    )
    assert config.trusted_proxies == ("10.0.0.1/32", "192.168.1.0/24")
    assert config.allowed_hosts == ("core.internal",)


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "port: 4000\naccess_token_validity: 900\n"
        "access_token_signing_key_update_interval: 24\n"
        "postgresql_connection_uri: postgresql://u:p@127.0.0.1/db\n"
        "core_config_version: 0\n"
    )
    config = load_config(path, environ={"ACCESS_TOKEN_VALIDITY": "600", "SUPERTOKENS_PORT": "4001"})
    assert config.port == 4001
    assert config.session_settings["access_token_validity"] == "600"
    assert config.session_settings["access_token_dynamic_signing_key_update_interval"] == "24"
    assert config.database_url == "postgresql://u:p@127.0.0.1/db"


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"ACCESS_TOKEN_VALIDITY": "soon"}, "access_token_validity"),
        ({"REFRESH_TOKEN_VALIDITY": "1"}, "refresh_token_validity"),
        ({"API_KEYS": "short"}, "api_keys"),
        ({"LOG_LEVEL": "LOUD"}, "log_level"),
        ({"SUPERTOKENS_PORT": "99999"}, "port"),
        ({"ACCESS_TOKEN_BLACKLISTING": "yes"}, "access_token_blacklisting"),
        ({"MYSQL_CONNECTION_URI": "postgresql://x"}, "mysql_connection_uri"),
        ({"IP_ALLOW_REGEX": "("}, "ip_allow_regex"),
        ({"TRUSTED_PROXIES": "10.0.0.1, proxy.local"}, "trusted_proxies"),
        ({"ALLOWED_HOSTS": "http://core.internal"}, "allowed_hosts"),
        ({"REQUEST_HEADER_TIMEOUT": "0"}, "request_header_timeout"),
        ({"REQUEST_BODY_TIMEOUT": "soon"}, "request_body_timeout"),
        ({"KEEP_ALIVE_TIMEOUT": "-1"}, "keep_alive_timeout"),
        ({"MAX_CONNECTIONS": "0"}, "max_connections"),
        ({"DATABASE_CONNECT_TIMEOUT": "soon"}, "database_connect_timeout"),
        ({"DATABASE_STATEMENT_TIMEOUT": "0"}, "database_statement_timeout"),
        (
            {"DATABASE_STATEMENT_TIMEOUT": "6", "DATABASE_SOCKET_TIMEOUT": "6"},
            "database_socket_timeout",
        ),
        ({"ADMIN_CONSOLE": "maybe"}, "admin_console"),
        # A console without a key is for this machine only.
        (
            {"ADMIN_CONSOLE_WITHOUT_API_KEY": "true", "SUPERTOKENS_HOST": "192.0.2.7"},
            "admin_console_without_api_key",
        ),
    ],
)
def test_bad_values_name_the_key(environ: dict[str, str], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        load_config(environ=environ)


def test_the_admin_console_settings() -> None:
    assert load_config(environ={}).admin_console is True
    assert load_config(environ={"ADMIN_CONSOLE": "false"}).admin_console is False
    local = load_config(environ={"ADMIN_CONSOLE_WITHOUT_API_KEY": "true"})
    assert local.admin_console_without_api_key is True


def test_database_timeouts_from_file_and_environment_reach_the_store(tmp_path: Path) -> None:
    defaults = load_config(environ={})
    library = SessionConfig()
    assert (
        defaults.database_connect_timeout,
        defaults.database_statement_timeout,
        defaults.database_socket_timeout,
    ) == (
        library.database_connect_timeout,
        library.database_statement_timeout,
        library.database_socket_timeout,
    )
    path = tmp_path / "config.yaml"
    path.write_text(
        f"database_url: sqlite:///{tmp_path}/core.db\n"
        "database_connect_timeout: 2\ndatabase_statement_timeout: 1.5\n"
    )
    config = load_config(path, environ={"DATABASE_SOCKET_TIMEOUT": "2.5"})
    app = CoreApp(config)
    try:
        assert isinstance(app.store, SqlStore)
        assert app.store.dialect.timeouts == Timeouts(connect=2, statement=1.5, socket=2.5)
    finally:
        app.close()


@pytest.mark.parametrize("value", ["inf", "nan", "1e300", "-inf"])
@pytest.mark.parametrize(
    "key",
    [
        "refresh_token_validity",
        "access_token_dynamic_signing_key_update_interval",
        "refresh_token_grace_period",
        "expired_session_purge_interval",
        "access_token_validity",
        "database_connect_timeout",
        "database_socket_timeout",
    ],
)
def test_impossible_numbers_stop_the_start(tmp_path: Path, key: str, value: str) -> None:
    with pytest.raises(ValueError, match=key):
        load_config(environ={key.upper(): value})
    path = tmp_path / "config.yaml"
    path.write_text(f"{key}: {value}\n")  # YAML reads inf/nan unquoted as .inf/.nan too
    with pytest.raises(ValueError, match=key):
        load_config(path, environ={})
    path.write_text(f"{key}: .inf\n")
    with pytest.raises(ValueError, match=key):
        load_config(path, environ={})


def test_unknown_keys_in_the_file_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("acess_token_validity: 5\n")
    with pytest.raises(ValueError, match="acess_token_validity"):
        load_config(path, environ={})


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/recipe/session", ("public", "public", "/recipe/session")),
        ("/public/recipe/session/", ("public", "public", "/recipe/session")),
        ("/appid-App1/T1/recipe/session", ("app1", "t1", "/recipe/session")),
        ("/appid-public/apiversion", ("public", "public", "/apiversion")),
        ("/appid-a/.well-known/jwks.json", ("a", "public", "/.well-known/jwks.json")),
    ],
)
def test_paths(path: str, expected: tuple[str, str, str]) -> None:
    route = split_path(path)
    assert route is not None
    assert (route.app_id, route.tenant_id, route.api_path) == expected
    assert split_path("/other/x", "/base") is None
    assert split_path("/base/appid-a/hello", "/base") is not None
