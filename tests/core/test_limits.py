"""Session limits and the idle timeout in the core: set per app (``config.yaml``,
``coreConfig``) and per tenant (a tenant's ``coreConfig``), over HTTP, with a core
whose clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tessera.core.asgi import CoreApp
from tessera.core.config import load_config
from tests._support.clock import FakeClock
from tests._support.servers import start_asgi

from .._support import cdi


class Core:
    def __init__(self, url: str, clock: FakeClock, audit: list[dict[str, Any]]) -> None:
        self.url, self.clock, self.audit = url, clock, audit

    def app(self, app_id: str, **core_config: Any) -> str:
        answer = cdi.put_app(self.url, app_id, **core_config)
        assert answer.status_code == 200, answer.text
        return f"{self.url}/appid-{app_id}"


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"database_url: sqlite:///{tmp_path}/core.db\nmax_sessions_per_user: 5\n"
        "access_token_validity: 60\n"
    )
    clock, audit = FakeClock(), list[dict[str, Any]]()
    app = CoreApp(load_config(path, environ={}), clock=clock, audit_hook=audit.append)
    port, stop = start_asgi(app)
    try:
        yield Core(f"http://127.0.0.1:{port}", clock, audit)
    finally:
        stop()
        app.close()


def _handles(app_uri: str, user: str = "u1", tenant: str | None = None) -> set[str]:
    path = "" if tenant is None else f"/{tenant}"
    query = {"userId": user, "fetchAcrossAllTenants": str(tenant is None).lower()}
    answer = httpx.get(f"{app_uri}{path}/recipe/session/user", params=query)
    assert answer.status_code == 200, answer.text
    return set(answer.json()["sessionHandles"])


def _handle(created: Any) -> str:
    return str(created["session"]["handle"])


def test_an_apps_limit_ends_the_least_recently_active(core: Core) -> None:
    app = core.app("shop", max_sessions_per_user=2)
    first = cdi.create(app)
    core.clock.advance(10)
    second = cdi.create(app)
    core.clock.advance(10)
    first = cdi.refresh(app, cdi.tokens(first)[1])  # the first is used again
    third = cdi.create(app)
    assert _handles(app) == {_handle(first), _handle(third)}
    assert cdi.refresh(app, cdi.tokens(second)[1])["status"] == "UNAUTHORISED"
    revoked = [r for r in core.audit if r["event"] == "session_revoked"]
    assert [(r["app_id"], r["session_handle"], r["reason"]) for r in revoked] == [
        ("shop", _handle(second), "limit")
    ]
    # config.yaml's limit (5) is every other app's.
    other = core.app("other")
    made = []
    for _ in range(6):
        made.append(_handle(cdi.create(other)))
        core.clock.advance(1)
    assert _handles(other) == set(made[1:])


def test_deny_answers_409_with_plain_text(core: Core) -> None:
    app = core.app("shop", max_sessions_per_user=1, session_limit_policy="deny")
    cdi.create(app)
    refused = httpx.post(f"{app}/public/recipe/session", json=cdi.CREATE)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("text/plain")
    assert refused.text == (
        "session limit reached: user 'u1' holds 1 live sessions in tenant 'public', "
        "and max_sessions_per_user is 1"
    )
    assert core.audit[-1]["event"] == "session_limit_reached"
    assert (core.audit[-1]["app_id"], core.audit[-1]["max_sessions"]) == ("shop", 1)


def test_a_tenant_sets_its_own_limits_and_idle_timeout(core: Core) -> None:
    app = core.app("shop", max_sessions_per_user=1, session_limit_policy="deny")
    body: dict[str, Any] = {
        "tenantId": "kiosk",
        "coreConfig": {"max_sessions_per_user": 2, "session_idle_timeout": 120},
    }
    assert cdi.put_tenant(app, body).json() == {"status": "OK", "createdNew": True}
    kiosk = [cdi.create(app, "kiosk") for _ in range(2)]
    refused = httpx.post(f"{app}/kiosk/recipe/session", json=cdi.CREATE)
    assert refused.status_code == 409
    # The app's own sessions keep the app's limit and have no idle timeout.
    public = cdi.create(app)
    core.clock.advance(121)
    for created in kiosk:
        assert cdi.refresh(app, cdi.tokens(created)[1])["status"] == "UNAUTHORISED"
    assert _handles(app, tenant="kiosk") == set()
    assert _handles(app) == {_handle(public)}
    assert cdi.refresh(app, cdi.tokens(public)[1])["status"] == "OK"
    # Idle sessions no longer count: the kiosk takes new logins.
    cdi.create(app, "kiosk")
    # null gives a setting back to the app: one session per user, denied beyond.
    body["coreConfig"] = {"max_sessions_per_user": None}
    assert cdi.put_tenant(app, body).json() == {"status": "OK", "createdNew": False}
    assert httpx.post(f"{app}/kiosk/recipe/session", json=cdi.CREATE).status_code == 409


@pytest.mark.parametrize(
    "core_config",
    [
        {"access_token_validity": 5},  # app-wide, as before
        {"max_sessions_per_user": 0},
        {"session_limit_policy": "sometimes"},
        {"session_idle_timeout": 60},  # not longer than the app's access tokens
        {"session_idle_timeout": {"seconds": 600}},
    ],
)
def test_a_tenants_settings_are_checked_before_they_are_stored(
    core: Core, core_config: dict[str, Any]
) -> None:
    app = core.app("shop")
    answer = cdi.put_tenant(app, {"tenantId": "kiosk", "coreConfig": core_config})
    assert answer.status_code == 400
    assert answer.text.startswith("Invalid core config:")
    assert httpx.post(f"{app}/kiosk/recipe/session", json=cdi.CREATE).status_code == 400


def test_an_app_cannot_outgrow_its_tenants_idle_timeout(core: Core) -> None:
    app = core.app("shop")
    body = {"tenantId": "kiosk", "coreConfig": {"session_idle_timeout": 120}}
    assert cdi.put_tenant(app, body).status_code == 200
    answer = cdi.put_app(core.url, "shop", access_token_validity=600)
    assert answer.status_code == 400
    assert "tenant_settings['kiosk'].session_idle_timeout" in answer.text


def test_an_apps_idle_timeout_ends_idle_sessions(core: Core) -> None:
    app = core.app("shop", session_idle_timeout=120)
    idle, active = cdi.create(app), cdi.create(app, userId="u2")
    core.clock.advance(100)
    active = cdi.refresh(app, cdi.tokens(active)[1])
    core.clock.advance(21)
    assert cdi.refresh(app, cdi.tokens(idle)[1]) == {
        "status": "UNAUTHORISED",
        "message": "session revoked or expired",
    }
    info = httpx.get(f"{app}/recipe/session", params={"sessionHandle": _handle(idle)}).json()
    assert info == {"status": "UNAUTHORISED", "message": "Session does not exist."}
    assert _handles(app) == set()
    assert cdi.refresh(app, cdi.tokens(active)[1])["status"] == "OK"
