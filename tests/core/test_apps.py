"""Apps and tenants of the core: their settings, their own API keys, what removing them
ends, and how fast a change reaches every core process over one database."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from tessera.core.apps import RECHECK_MS
from tessera.storage import open_store

from .._support import cdi
from .._support.cores import StartCore, new_app

CORE_KEY = "core-key-0123456789abcdef"
KEY_A = "app-a-key-0123456789abcdef"
KEY_B = "app-b-key-0123456789abcdef"
#: How long a change may take to reach another process, with room for a slow machine.
BOUND_S = RECHECK_MS / 1000 + 1.5


def _validity(created: Any) -> int:
    claims = jwt.decode(created["accessToken"]["token"], options={"verify_signature": False})
    return int(claims["exp"] - claims["iat"])


def _within_bound(check: Callable[[], bool]) -> float:
    """Seconds until ``check()`` holds; fails after ``BOUND_S``."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < BOUND_S, "the change did not arrive in time"
        time.sleep(0.1)
    return time.monotonic() - started


# -- settings through tenant/v2 and app/v2 ------------------------------------------------


def test_the_sdks_create_or_update_tenant_public_leaves_the_app_working(core: str) -> None:
    app_uri = new_app(core)
    for _ in range(2):
        answer = cdi.put_tenant(app_uri, {"tenantId": "public", "coreConfig": {}})
        assert answer.json() == {"status": "OK", "createdNew": False}
    assert cdi.create(app_uri)["status"] == "OK"
    answer = cdi.put_tenant(core, {"tenantId": "public", "coreConfig": {}})
    assert answer.json() == {"status": "OK", "createdNew": False}
    assert cdi.create(core)["status"] == "OK"
    time.sleep(RECHECK_MS / 1000 + 0.3)  # past any process's cached view of the app
    assert cdi.create(app_uri)["status"] == "OK"
    assert cdi.create(core)["status"] == "OK"


def test_the_public_tenants_core_config_is_the_apps(core: str) -> None:
    app_uri = new_app(core)
    body: dict[str, Any] = {"tenantId": "public", "coreConfig": {"access_token_validity": 5}}
    assert cdi.put_tenant(app_uri, body).status_code == 200
    assert _validity(cdi.create(app_uri)) == 5
    body["coreConfig"] = {"access_token_validity": None}  # null: back to the default
    assert cdi.put_tenant(app_uri, body).status_code == 200
    assert _validity(cdi.create(app_uri)) == 3600


@pytest.mark.parametrize(
    "core_config",
    [
        {"refresh_token_validity": "inf"},
        {"refresh_token_validity": "nan"},
        {"refresh_token_validity": 1e300},
        {"access_token_validity": "1e300"},
        {"access_token_validity": 1e300},
        {"access_token_dynamic_signing_key_update_interval": "inf"},
        {"access_token_dynamic_signing_key_update_interval": 1e300},
        {"refresh_token_grace_period": "nan"},
        {"access_token_validity": {"nested": 1}},
        {"coreConfig": {}},
        {"api_keys": "short"},
        {"api_keys": ""},
    ],
)
def test_impossible_settings_are_refused_wherever_they_enter(
    core: str, core_config: dict[str, Any]
) -> None:
    app_uri = new_app(core)
    app_id = app_uri.rsplit("appid-", 1)[1]
    refused = [
        cdi.put_app(core, app_id, **core_config),
        cdi.put_tenant(app_uri, {"tenantId": "public", "coreConfig": core_config}),
    ]
    for answer in refused:
        assert answer.status_code == 400
        assert answer.text.startswith("Invalid core config")
    assert cdi.create(app_uri)["status"] == "OK"  # nothing was stored


@pytest.mark.parametrize(
    "body",
    [
        {"tenantId": "blue", "coreConfig": {"access_token_validity": "60"}},
        {"tenantId": "blue", "coreConfig": {"no_such_setting": "1"}},
        {"tenantId": "blue", "coreConfig": []},
        {"tenantId": "blue", "firstFactors": "emailpassword"},
        {"tenantId": "blue", "requiredSecondaryFactors": [1]},
        {"tenantId": "blue", "surprise": True},
    ],
)
def test_a_tenant_takes_no_app_settings(core: str, body: dict[str, Any]) -> None:
    app_uri = new_app(core)
    answer = cdi.put_tenant(app_uri, body)
    assert answer.status_code == 400
    unknown = httpx.post(f"{app_uri}/blue/recipe/session", json=cdi.CREATE)
    assert unknown.status_code == 400  # nothing was stored: no tenant "blue"
    assert unknown.text.startswith("AppId or tenantId not found")


def test_a_tenant_with_the_sdks_fields_is_created(core: str) -> None:
    app_uri = new_app(core)
    body = {"tenantId": "blue", "firstFactors": ["emailpassword"], "coreConfig": {}}
    assert cdi.put_tenant(app_uri, body).json() == {"status": "OK", "createdNew": True}
    assert cdi.create(app_uri, "blue")["session"]["tenantId"] == "blue"


def test_settings_stored_wrong_answer_a_clear_error_and_can_be_replaced(
    start_core: StartCore, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path}/shared.db"
    core = start_core(database_url=url)
    store = open_store(url, table_name_prefix="tessera_")
    try:
        # What an older tessera stored for tenant/v2 {"tenantId": "public", ...}.
        store.put_tenant("bricked", "public", {"coreConfig": {}}, 1)
        store.put_tenant("infinite", "public", {"refresh_token_validity": "inf"}, 1)
    finally:
        store.close()
    for app_id in ("bricked", "infinite"):
        app_uri = f"{core}/appid-{app_id}"
        answer = httpx.post(f"{app_uri}/public/recipe/session", json=cdi.CREATE)
        assert answer.status_code == 500
        assert f"The settings stored for app '{app_id}' are invalid" in answer.text
        repaired = cdi.put_app(core, app_id, refresh_token_validity=None)
        assert repaired.json() == {"status": "OK", "createdNew": False}
        assert cdi.create(app_uri)["status"] == "OK"


# -- API keys per app ------------------------------------------------------------------------


def test_an_apps_key_opens_only_that_app(start_core: StartCore) -> None:
    core = start_core(api_keys=CORE_KEY)
    a, b, plain = (f"k{uuid.uuid4().hex[:10]}" for _ in range(3))
    assert cdi.put_app(core, a, CORE_KEY, api_keys=KEY_A).status_code == 200
    assert cdi.put_app(core, b, CORE_KEY, api_keys=KEY_B).status_code == 200
    assert cdi.put_app(core, plain, CORE_KEY).status_code == 200
    app_a, app_b = f"{core}/appid-{a}", f"{core}/appid-{b}"
    session_b = cdi.create(app_b, key=KEY_B)
    handle_b = session_b["session"]["handle"]
    assert cdi.create(app_a, key=KEY_A)["status"] == "OK"

    # App A's key can neither read nor revoke app B's sessions...
    read = httpx.get(
        f"{app_b}/recipe/session", params={"sessionHandle": handle_b}, headers={"api-key": KEY_A}
    )
    assert read.status_code == 401
    revoke = httpx.post(
        f"{app_b}/recipe/session/remove",
        json={"sessionHandles": [handle_b]},
        headers={"api-key": KEY_A},
    )
    assert revoke.status_code == 401
    assert httpx.get(f"{app_b}/recipe/session/user", params={"userId": "u1"}).status_code == 401
    # ... nor list, create, change or remove apps, through either path.
    for base, status in ((core, 401), (app_a, 400)):
        listed = httpx.get(f"{base}/recipe/multitenancy/app/list/v2", headers={"api-key": KEY_A})
        assert listed.status_code == status
        removed = httpx.post(
            f"{base}/recipe/multitenancy/app/remove", json={"appId": b}, headers={"api-key": KEY_A}
        )
        assert removed.status_code == status
        assert cdi.put_app(base, b, KEY_A, api_keys=KEY_A).status_code == status
    info = httpx.get(
        f"{app_b}/recipe/session", params={"sessionHandle": handle_b}, headers={"api-key": KEY_B}
    )
    assert info.json()["status"] == "OK"  # still there

    # The core's keys manage apps, and open apps without keys of their own; an app with
    # its own keys is opened by those only (as the SuperTokens core's api_keys).
    listed = httpx.get(f"{core}/recipe/multitenancy/app/list/v2", headers={"api-key": CORE_KEY})
    assert {a, b, plain} <= {x["appId"] for x in listed.json()["apps"]}
    assert cdi.create(f"{core}/appid-{plain}", key=CORE_KEY)["status"] == "OK"
    refused = httpx.post(
        f"{app_b}/public/recipe/session", json=cdi.CREATE, headers={"api-key": CORE_KEY}
    )
    assert refused.status_code == 401
    # Unknown apps: without a key nothing is revealed; with the core's key, "not found".
    ghost = f"{core}/appid-ghost{uuid.uuid4().hex[:6]}/public/recipe/session"
    assert httpx.post(ghost, json=cdi.CREATE, headers={"api-key": KEY_A}).status_code == 401
    assert httpx.post(ghost, json=cdi.CREATE, headers={"api-key": CORE_KEY}).status_code == 400
    # The JWKS stays public.
    assert httpx.get(f"{app_b}/.well-known/jwks.json").status_code == 200

    # Setting the keys to null gives the app back to the core's keys.
    assert cdi.put_app(core, b, CORE_KEY, api_keys=None).status_code == 200
    assert cdi.create(app_b, key=CORE_KEY)["status"] == "OK"
    gone = httpx.post(f"{app_b}/public/recipe/session", json=cdi.CREATE, headers={"api-key": KEY_B})
    assert gone.status_code == 401


def test_the_public_apps_keys_come_from_the_config_file(start_core: StartCore) -> None:
    core = start_core(api_keys=CORE_KEY)
    answer = cdi.put_app(core, "public", CORE_KEY, api_keys=KEY_A)
    assert answer.status_code == 400
    assert "config.yaml" in answer.text


# -- removing tenants and apps ---------------------------------------------------------------


def test_removing_a_tenant_ends_its_sessions_and_a_new_one_starts_empty(core: str) -> None:
    app_uri = new_app(core)
    assert cdi.put_tenant(app_uri, {"tenantId": "blue"}).status_code == 200
    blue = cdi.create(app_uri, "blue")
    kept = cdi.create(app_uri)
    access, refresh = cdi.tokens(blue)
    assert cdi.verify(app_uri, access, check_database=True)["status"] == "OK"
    removed = httpx.post(f"{app_uri}/recipe/multitenancy/tenant/remove", json={"tenantId": "blue"})
    assert removed.json() == {"status": "OK", "didExist": True}
    assert cdi.verify(app_uri, access, check_database=True)["status"] == "UNAUTHORISED"
    assert cdi.refresh(app_uri, refresh)["status"] == "UNAUTHORISED"
    assert httpx.post(f"{app_uri}/blue/recipe/session", json=cdi.CREATE).status_code == 400
    # Made again, the tenant has none of the old sessions.
    assert cdi.put_tenant(app_uri, {"tenantId": "blue"}).json()["createdNew"] is True
    assert cdi.refresh(app_uri, refresh)["status"] == "UNAUTHORISED"
    handles = httpx.get(
        f"{app_uri}/blue/recipe/session/user",
        params={"userId": "u1", "fetchAcrossAllTenants": "false"},
    )
    assert handles.json()["sessionHandles"] == []
    # The public tenant's session is untouched.
    assert cdi.refresh(app_uri, cdi.tokens(kept)[1])["status"] == "OK"


def test_removing_an_app_ends_everything_and_a_new_one_starts_empty(core: str) -> None:
    app_uri = new_app(core)
    app_id = app_uri.rsplit("appid-", 1)[1]
    old = cdi.create(app_uri)
    access, refresh = cdi.tokens(old)
    old_kids = {k["kid"] for k in httpx.get(f"{app_uri}/.well-known/jwks.json").json()["keys"]}
    removed = httpx.post(f"{core}/recipe/multitenancy/app/remove", json={"appId": app_id})
    assert removed.json() == {"status": "OK", "didExist": True}
    assert httpx.post(f"{app_uri}/public/recipe/session", json=cdi.CREATE).status_code == 400
    assert cdi.put_app(core, app_id).json() == {"status": "OK", "createdNew": True}
    assert cdi.refresh(app_uri, refresh)["status"] == "UNAUTHORISED"
    assert cdi.verify(app_uri, access)["status"] == "TRY_REFRESH_TOKEN"  # its keys are gone
    assert cdi.verify(app_uri, access, check_database=True)["status"] == "TRY_REFRESH_TOKEN"
    info = httpx.get(
        f"{app_uri}/recipe/session", params={"sessionHandle": old["session"]["handle"]}
    )
    assert info.json()["status"] == "UNAUTHORISED"
    new_kids = {k["kid"] for k in httpx.get(f"{app_uri}/.well-known/jwks.json").json()["keys"]}
    assert not old_kids & new_kids
    assert cdi.refresh(app_uri, cdi.tokens(cdi.create(app_uri))[1])["status"] == "OK"


# -- two core processes over one PostgreSQL -------------------------------------------------


def test_changes_reach_every_process_within_the_bound(postgres_cores: tuple[str, str]) -> None:
    one, two = postgres_cores
    app_id = f"p{uuid.uuid4().hex[:10]}"
    assert cdi.put_app(one, app_id).status_code == 200
    app_one, app_two = f"{one}/appid-{app_id}", f"{two}/appid-{app_id}"
    assert cdi.put_tenant(app_one, {"tenantId": "blue"}).status_code == 200
    # Process two reads the app and the tenant (and caches them).
    assert _validity(cdi.create(app_two)) == 3600
    assert cdi.create(app_two, "blue")["status"] == "OK"

    # App settings changed through one.
    assert cdi.put_app(one, app_id, access_token_validity="7").status_code == 200
    _within_bound(lambda: _validity(cdi.create(app_two)) == 7)

    # A tenant removed through one: its sessions end at once everywhere, and two stops
    # creating sessions in it within the bound.
    blue = cdi.create(app_two, "blue")
    httpx.post(f"{app_one}/recipe/multitenancy/tenant/remove", json={"tenantId": "blue"})
    assert cdi.refresh(app_two, cdi.tokens(blue)[1])["status"] == "UNAUTHORISED"
    _within_bound(
        lambda: httpx.post(f"{app_two}/blue/recipe/session", json=cdi.CREATE).status_code == 400
    )

    # An app removed and made again through one: two forgets the old app's keys and
    # secret, so old tokens fail there too and new tokens work across both.
    access, refresh = cdi.tokens(cdi.create(app_two))
    httpx.post(f"{one}/recipe/multitenancy/app/remove", json={"appId": app_id})
    # (with the same settings: only the app's creation tells the two apart)
    assert cdi.put_app(one, app_id, access_token_validity="7").json()["createdNew"] is True
    assert cdi.refresh(app_two, refresh)["status"] == "UNAUTHORISED"
    _within_bound(lambda: cdi.verify(app_two, access)["status"] == "TRY_REFRESH_TOKEN")
    made_by_two = cdi.create(app_two)
    assert cdi.verify(app_one, cdi.tokens(made_by_two)[0])["status"] == "OK"
    assert cdi.refresh(app_one, cdi.tokens(made_by_two)[1])["status"] == "OK"


def test_api_key_changes_reach_every_process(start_core: StartCore, postgres_url: str) -> None:
    prefix = f"c{uuid.uuid4().hex[:8]}_"
    settings = {"database_url": postgres_url, "table_name_prefix": prefix, "api_keys": CORE_KEY}
    one, two = start_core(**settings), start_core(**settings)
    try:
        app_id = f"k{uuid.uuid4().hex[:10]}"
        assert cdi.put_app(one, app_id, CORE_KEY, api_keys=KEY_A).status_code == 200
        app_two = f"{two}/appid-{app_id}"
        assert cdi.create(app_two, key=KEY_A)["status"] == "OK"
        assert cdi.put_app(one, app_id, CORE_KEY, api_keys=KEY_B).status_code == 200

        def old_key_refused() -> bool:
            answer = httpx.post(
                f"{app_two}/public/recipe/session", json=cdi.CREATE, headers={"api-key": KEY_A}
            )
            return answer.status_code == 401

        _within_bound(old_key_refused)
        assert cdi.create(app_two, key=KEY_B)["status"] == "OK"
    finally:
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as connection:
            for table in ("sessions", "signing_keys", "secrets", "schema", "tenants"):
                connection.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
