"""Framework settings: secure defaults and start-up validation."""

from __future__ import annotations

import pytest

import tessera
from tessera import SessionConfig
from tessera.framework import FrameworkConfig, Reply, get_all_cors_headers
from tessera.framework.error_table import reply_for_error
from tessera.framework.transport import RequestView, ResponsePlan


def test_same_site_none_without_secure_fails_with_advice() -> None:
    with pytest.raises(ValueError, match=r"cookie_same_site.*cookie_secure=True"):
        FrameworkConfig(cookie_same_site="none")


def test_cross_site_default_needs_https() -> None:
    with pytest.raises(ValueError, match="cookie_secure"):
        FrameworkConfig(api_domain="http://api.example.com", website_domain="http://example.org")
    config = FrameworkConfig(
        api_domain="https://api.example.com", website_domain="https://example.org"
    )
    assert config.same_site == "none"
    assert config.secure


def test_same_site_defaults() -> None:
    assert FrameworkConfig().same_site == "lax"
    same = FrameworkConfig(
        api_domain="https://api.example.com", website_domain="https://www.example.com"
    )
    assert same.same_site == "lax"
    local = FrameworkConfig(
        api_domain="http://localhost:3001", website_domain="http://127.0.0.1:3000"
    )
    assert local.same_site == "lax"
    # localhost pages may use SameSite=None without Secure (browsers treat it as secure)
    FrameworkConfig(
        cookie_same_site="none",
        api_domain="http://localhost:1",
        website_domain="http://localhost:2",
    )


def test_anti_csrf_default_rule() -> None:
    engine = SessionConfig()
    assert FrameworkConfig().anti_csrf_mode(engine) == "NONE"
    assert (
        FrameworkConfig(cookie_same_site="none", cookie_secure=True).anti_csrf_mode(engine)
        == "VIA_CUSTOM_HEADER"
    )
    assert FrameworkConfig().anti_csrf_mode(SessionConfig(anti_csrf="VIA_TOKEN")) == "VIA_TOKEN"
    with pytest.raises(ValueError, match="anti_csrf='VIA_TOKEN'"):
        FrameworkConfig(anti_csrf="VIA_TOKEN").anti_csrf_mode(engine)
    with pytest.raises(ValueError, match="set it in one place"):
        FrameworkConfig(anti_csrf="NONE").anti_csrf_mode(SessionConfig(anti_csrf="VIA_TOKEN"))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("api_base_path", "auth"),
        ("api_base_path", "/auth/"),
        ("token_transfer_method", "both"),
        ("cookie_same_site", "Lax"),
        ("anti_csrf", "VIA_MAGIC"),
        ("api_domain", "api.example.com"),
        ("cookie_domain", "https://example.com"),
    ],
)
def test_bad_settings_name_themselves(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        FrameworkConfig(**{name: value})  # type: ignore[arg-type]


def test_cors_headers() -> None:
    assert tessera.get_all_cors_headers() == get_all_cors_headers()
    assert set(get_all_cors_headers()) == {
        "rid",
        "fdi-version",
        "anti-csrf",
        "authorization",
        "st-auth-mode",
    }


def test_custom_error_handler_keeps_clearing() -> None:
    config = FrameworkConfig(on_unauthorised=lambda error, request: Reply(401, {"to": "/signin"}))
    plan = ResponsePlan()
    reply = reply_for_error(tessera.UnauthorisedError(), RequestView("GET", "/", {}), config, plan)
    assert reply.body == {"to": "/signin"}
    assert plan.headers["front-token"] == "remove"


def test_expose_header_merge() -> None:
    plan = ResponsePlan()
    plan.set_header("front-token", "x")
    assert plan.merged_expose_header("X-Mine") == "X-Mine, front-token"
    assert plan.merged_expose_header("front-token") == "front-token"
    assert plan.merged_expose_header("*") == "front-token"


@pytest.mark.parametrize(
    "module",
    [
        "tessera.framework",
        "tessera.framework.fastapi",
        "tessera.framework.starlette",
        "tessera.framework.flask",
        "tessera.framework.django",
        "tessera.framework.django.asyncio",
    ],
)
def test_public_names_are_importable(module: str) -> None:
    import importlib

    loaded = importlib.import_module(module)
    assert loaded.__all__, module
    for name in loaded.__all__:
        assert hasattr(loaded, name), f"{module}.{name}"
