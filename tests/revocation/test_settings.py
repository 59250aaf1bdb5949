"""The revocation feed's settings: validated when built, with messages naming them."""

from __future__ import annotations

import pytest

from tessera.config import SessionConfig
from tessera.core.config import load_config


def test_defaults_give_a_one_second_bound_polled_twice_as_often() -> None:
    config = SessionConfig()
    assert config.revocation_max_staleness == 1.0
    assert config.revocation_poll_seconds == 0.5
    assert config.revocation_channel is None


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"revocation_channel": "http://redis:6379"}, "revocation_channel"),
        ({"revocation_max_staleness": 0}, "revocation_max_staleness"),
        ({"revocation_poll_interval": 1.0}, "revocation_poll_interval"),
        (
            {"revocation_max_staleness": 2.0, "revocation_poll_interval": 3.0},
            "revocation_poll_interval",
        ),
        ({"revocation_gap_timeout": 0}, "revocation_gap_timeout"),
    ],
)
def test_bad_values_name_the_setting(settings: dict[str, object], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        SessionConfig(**settings)  # type: ignore[arg-type]


def test_strings_from_the_environment_are_accepted() -> None:
    config = SessionConfig.from_settings(
        {
            "revocation_channel": "redis://127.0.0.1:6379/2",
            "revocation_max_staleness": "2.5",
            "revocation_poll_interval": "none",
            "revocation_gap_timeout": "10",
        }
    )
    assert config.revocation_poll_seconds == 1.25
    assert config.revocation_gap_timeout == 10.0


def test_the_core_takes_them_from_its_config() -> None:
    config = load_config(
        None,
        environ={"REVOCATION_MAX_STALENESS": "3"},
        overrides={"revocation_channel": "redis://127.0.0.1:6379/0"},
    )
    assert config.revocation_settings == {
        "revocation_max_staleness": "3",
        "revocation_channel": "redis://127.0.0.1:6379/0",
    }
    with pytest.raises(ValueError, match="invalid config revocation_gap_timeout"):
        load_config(None, environ={}, overrides={"revocation_gap_timeout": "0"})
