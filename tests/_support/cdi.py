"""A few CDI calls over plain HTTP, for tests that look at the wire without an SDK."""

from __future__ import annotations

from typing import Any

import httpx

CREATE = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": False}


def create(app_uri: str, tenant: str = "public", key: str | None = None, **body: Any) -> Any:
    answer = httpx.post(
        f"{app_uri}/{tenant}/recipe/session", json={**CREATE, **body}, headers=_key(key)
    )
    return _json(answer)


def verify(app_uri: str, token: str, check_database: bool = False, key: str | None = None) -> Any:
    body = {
        "accessToken": token,
        "doAntiCsrfCheck": False,
        "enableAntiCsrf": False,
        "checkDatabase": check_database,
    }
    return _json(httpx.post(f"{app_uri}/recipe/session/verify", json=body, headers=_key(key)))


def refresh(app_uri: str, token: str, key: str | None = None) -> Any:
    body = {"refreshToken": token, "enableAntiCsrf": False, "useDynamicSigningKey": True}
    return _json(httpx.post(f"{app_uri}/recipe/session/refresh", json=body, headers=_key(key)))


def put_app(core: str, app_id: str, key: str | None = None, **core_config: Any) -> httpx.Response:
    return httpx.put(
        f"{core}/recipe/multitenancy/app/v2",
        json={"appId": app_id, "coreConfig": core_config},
        headers=_key(key),
    )


def put_tenant(app_uri: str, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    return httpx.put(f"{app_uri}/recipe/multitenancy/tenant/v2", json=body, headers=_key(key))


def tokens(created: Any) -> tuple[str, str]:
    """(access token, refresh token) of a create or refresh answer."""
    assert created["status"] == "OK", created
    return created["accessToken"]["token"], created["refreshToken"]["token"]


def _key(key: str | None) -> dict[str, str]:
    return {} if key is None else {"api-key": key}


def _json(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()
