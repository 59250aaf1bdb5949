from __future__ import annotations

import pytest

from tessera import SessionConfig, Tessera
from tessera.storage import Timeouts


def test_defaults_match_the_supertokens_core() -> None:
    config = SessionConfig()
    assert config.access_token_validity == 3600
    assert config.refresh_token_validity == 144000
    assert config.access_token_dynamic_signing_key_update_interval == 168
    assert config.access_token_blacklisting is False
    assert config.access_token_signing_algorithm == "RS256"


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e300", float("inf"), float("nan")])
@pytest.mark.parametrize(
    "name",
    [
        "refresh_token_validity",
        "access_token_dynamic_signing_key_update_interval",
        "refresh_token_grace_period",
        "expired_session_purge_interval",
        "activity_write_interval",
    ],
)
def test_impossible_numbers_are_refused(name: str, value: object) -> None:
    # Each one used to be accepted and then fail on the first request (an overflow
    # turning infinity or 1e300 minutes into an integer), or never fire at all.
    with pytest.raises(ValueError, match=name):
        SessionConfig.from_settings({name: value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("access_token_dynamic_signing_key_update_interval", 1e-9),
        ("session_max_lifetime", 10**30),
        ("access_token_validity", "1e300"),
    ],
)
def test_numbers_out_of_range_are_refused(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=name):
        SessionConfig.from_settings({name: value})


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"access_token_validity": 0}, "access_token_validity"),
        ({"refresh_token_validity": 1, "access_token_validity": 3600}, "refresh_token_validity"),
        ({"access_token_signing_algorithm": "HS256"}, "access_token_signing_algorithm"),
        ({"anti_csrf": "SOMETIMES"}, "anti_csrf"),
        ({"refresh_token_grace_period": 301}, "refresh_token_grace_period"),
        ({"session_max_lifetime": -1}, "session_max_lifetime"),
        ({"table_name_prefix": "Robert'); DROP TABLE"}, "table_name_prefix"),
        ({"database_pool_size": 0}, "database_pool_size"),
        ({"activity_write_interval": -1}, "activity_write_interval"),
        ({"activity_write_interval": 86_401}, "activity_write_interval"),
        ({"database_connect_timeout": 0}, "database_connect_timeout"),
        ({"database_statement_timeout": "nan"}, "database_statement_timeout"),
        (
            {"database_statement_timeout": 6, "database_socket_timeout": 6},
            "database_socket_timeout",
        ),
        (
            {"access_token_dynamic_signing_key_update_interval": 0},
            "access_token_dynamic_signing_key_update_interval",
        ),
    ],
)
def test_bad_values_name_the_setting(settings: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        SessionConfig.from_settings(settings)


def test_wrong_types_are_type_errors() -> None:
    with pytest.raises(TypeError, match="access_token_blacklisting"):
        SessionConfig(access_token_blacklisting="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="access_token_validity"):
        SessionConfig(access_token_validity=1.5)  # type: ignore[arg-type]


def test_strings_are_coerced_for_environment_and_per_app_config() -> None:
    config = SessionConfig.from_settings(
        {
            "access_token_validity": "60",
            "access_token_blacklisting": "true",
            "refresh_token_validity": "1.5",
            "session_max_lifetime": "null",
        }
    )
    assert config.access_token_validity == 60
    assert config.access_token_blacklisting is True
    assert config.refresh_token_validity == 1.5
    assert config.session_max_lifetime is None
    with pytest.raises(ValueError, match="access_token_blacklisting"):
        SessionConfig.from_settings({"access_token_blacklisting": "maybe"})


def test_unknown_settings_are_named(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="acess_token_validity"):
        Tessera(f"sqlite:///{tmp_path}/x.db", acess_token_validity=5)


def test_database_timeouts_default_well_under_the_sdks_30_s() -> None:
    config = SessionConfig()
    defaults = Timeouts(
        connect=config.database_connect_timeout,
        statement=config.database_statement_timeout,
        socket=config.database_socket_timeout,
    )
    assert defaults == Timeouts()  # a store opened without settings behaves the same
    # The longest a store call can take: wait for a free connection, open one, and wait
    # for its answer.
    assert defaults.socket + defaults.connect + defaults.socket <= 15


def test_limits_and_idle_timeout_are_off_by_default() -> None:
    config = SessionConfig()
    assert config.max_sessions_per_user is None
    assert config.session_limit_policy == "evict_oldest"
    assert config.session_idle_timeout is None
    assert config.for_tenant("public") == config.for_tenant("acme")


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"max_sessions_per_user": 0}, "max_sessions_per_user"),
        ({"max_sessions_per_user": 1.5}, "max_sessions_per_user"),
        ({"max_sessions_per_user": True}, "max_sessions_per_user"),
        ({"session_limit_policy": "refuse"}, "session_limit_policy"),
        # No access token may outlive the idle end: the idle timeout is the longer.
        ({"session_idle_timeout": 3600}, "session_idle_timeout"),
        ({"session_idle_timeout": 600, "access_token_validity": 900}, "session_idle_timeout"),
        ({"session_idle_timeout": 10**30}, "session_idle_timeout"),
        ({"tenant_settings": {"Acme": {}}}, "tenant_settings"),
        ({"tenant_settings": {"acme": 3}}, r"tenant_settings\['acme'\]"),
        ({"tenant_settings": "{not json"}, "tenant_settings"),
        (
            {"tenant_settings": {"acme": {"access_token_validity": 60}}},
            r"tenant_settings\['acme'\]: access_token_validity: only",
        ),
        (
            {"tenant_settings": {"acme": {"max_sessions_per_user": -1}}},
            r"tenant_settings\['acme'\]\.max_sessions_per_user",
        ),
        (
            {"tenant_settings": {"acme": {"session_idle_timeout": "60"}}},
            r"tenant_settings\['acme'\]\.session_idle_timeout",
        ),
    ],
)
def test_bad_limits_name_the_setting(settings: dict[str, object], named: str) -> None:
    with pytest.raises((ValueError, TypeError), match=named):
        SessionConfig.from_settings(settings)


def test_a_tenant_overrides_only_what_it_names() -> None:
    config = SessionConfig.from_settings(
        {
            "access_token_validity": "600",
            "max_sessions_per_user": "3",
            "session_limit_policy": "deny",
            "session_idle_timeout": "1800",
            # From the environment, the mapping is JSON; its values may be strings too.
            "tenant_settings": '{"acme": {"max_sessions_per_user": "1"},'
            ' "open": {"max_sessions_per_user": null, "session_idle_timeout": 7200}}',
        }
    )
    acme, open_, public = (config.for_tenant(t) for t in ("acme", "open", "public"))
    assert (acme.max_sessions_per_user, acme.session_limit_policy) == (1, "deny")
    assert acme.session_idle_timeout == 1800
    # None in a tenant's settings: no limit there, whatever the app's.
    assert (open_.max_sessions_per_user, open_.session_idle_timeout_ms) == (None, 7_200_000)
    assert (public.max_sessions_per_user, public.session_idle_timeout) == (3, 1800)
    # What the core checks a tenant's stored settings with.
    assert config.tenant_with({"session_limit_policy": "evict_oldest"}).evicts_oldest
    with pytest.raises(ValueError, match="session_idle_timeout"):
        config.tenant_with({"session_idle_timeout": "600"}, "acme")
