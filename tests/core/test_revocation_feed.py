"""Several core processes over one PostgreSQL agree on revocations within the staleness
bound, answering database-checked verifications from their revocation feeds."""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from .._support.cores import StartCore, new_app

BOUND = 1.0
SLACK = 1.5
CREATE = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": False}


def _verify(app_uri: str, token: str) -> dict[str, object]:
    answer = httpx.post(
        f"{app_uri}/recipe/session/verify",
        json={
            "accessToken": token,
            "doAntiCsrfCheck": False,
            "enableAntiCsrf": False,
            "checkDatabase": True,
        },
    )
    result: dict[str, object] = answer.json()
    return result


def _until(condition: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            break
        time.sleep(0.01)
    return time.monotonic() - started


@pytest.fixture
def cores(start_core: StartCore, postgres_url: str) -> Iterator[tuple[str, str, str]]:
    prefix = f"c{uuid.uuid4().hex[:8]}_"
    settings = {
        "database_url": postgres_url,
        "table_name_prefix": prefix,
        "revocation_max_staleness": str(BOUND),
    }
    one, two, three = (start_core(**settings) for _ in range(3))
    try:
        yield one, two, three
    finally:
        import psycopg

        with psycopg.connect(postgres_url, autocommit=True) as connection:
            for table in ("sessions", "signing_keys", "secrets", "schema", "tenants"):
                connection.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
            connection.execute(f"DROP TABLE IF EXISTS {prefix}revocations")


def _claims_are(app_uri: str, token: str, claims: dict[str, object]) -> bool:
    session = _verify(app_uri, token).get("session")
    return isinstance(session, dict) and session.get("userDataInJWT") == claims


def _refused(app_uri: str, token: str) -> bool:
    return _verify(app_uri, token)["status"] == "UNAUTHORISED"


def test_revocation_and_payload_changes_reach_every_core(cores: tuple[str, str, str]) -> None:
    one, *others = cores
    app_uri = new_app(one, access_token_blacklisting="true")
    path = app_uri.removeprefix(one)
    created = httpx.post(f"{app_uri}/public/recipe/session", json=CREATE).json()
    token, handle = created["accessToken"]["token"], created["session"]["handle"]
    for core in others:
        assert _verify(core + path, token)["status"] == "OK"

    # A payload change made through one core: the others hand out the new claims.
    put = httpx.put(
        f"{app_uri}/recipe/jwt/data", json={"sessionHandle": handle, "userDataInJWT": {"r": 1}}
    )
    assert put.json() == {"status": "OK"}
    for core in others:
        took = _until(functools.partial(_claims_are, core + path, token, {"r": 1}), BOUND + SLACK)
        assert took <= BOUND + SLACK

    removed = httpx.post(f"{app_uri}/recipe/session/remove", json={"sessionHandles": [handle]})
    assert removed.json()["sessionHandlesRevoked"] == [handle]
    for core in others:
        took = _until(functools.partial(_refused, core + path, token), BOUND + SLACK)
        assert took <= BOUND + SLACK, f"a core accepted a revoked session for {took:.2f}s"
        assert _verify(core + path, token)["status"] == "UNAUTHORISED"


def test_removing_a_tenant_reaches_every_core(cores: tuple[str, str, str]) -> None:
    # Its sessions end with it: the removal is logged like any revocation, so cores
    # whose feeds are current refuse the tokens without reading the database.
    one, *others = cores
    app_uri = new_app(one)
    path = app_uri.removeprefix(one)
    put = httpx.put(f"{app_uri}/recipe/multitenancy/tenant/v2", json={"tenantId": "blue"})
    assert put.status_code == 200, put.text
    created = httpx.post(f"{app_uri}/blue/recipe/session", json=CREATE).json()
    token = created["accessToken"]["token"]
    for core in cores:
        assert _verify(core + path, token)["status"] == "OK"

    removed = httpx.post(f"{app_uri}/recipe/multitenancy/tenant/remove", json={"tenantId": "blue"})
    assert removed.json() == {"status": "OK", "didExist": True}
    assert _refused(app_uri, token), "the core that removed it refuses at once"
    for core in others:
        took = _until(functools.partial(_refused, core + path, token), BOUND + SLACK)
        assert took <= BOUND + SLACK, f"a core accepted a removed tenant's session for {took:.2f}s"
        time.sleep(BOUND)  # and keeps refusing it, the feed being current
        assert _refused(core + path, token)
