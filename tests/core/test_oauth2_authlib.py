"""Interoperability: Authlib's own RFC 7662 and RFC 7009 client code against a core run
with ``tessera start``, authenticating with client_secret_basic and client_secret_post,
over requests and over httpx."""

from __future__ import annotations

import warnings
from typing import Any

import httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session

with warnings.catch_warnings():
    # Newer Authlib prefers the httpx2 package and warns when it runs on httpx itself,
    # which is what this project (and most httpx users) have.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuth2Client

from .._support.cores import StartCore

API_KEY = "authlib-interop-key-0123456789"
INTROSPECT = "/tessera/oauth2/introspect"
REVOKE = "/tessera/oauth2/revoke"


@pytest.fixture(scope="module")
def core(start_core: StartCore) -> str:
    return start_core(api_keys=API_KEY)


def _session(core: str) -> tuple[str, str, str]:
    body = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": False}
    made = httpx.post(f"{core}/recipe/session", json=body, headers={"api-key": API_KEY}).json()
    return made["accessToken"]["token"], made["refreshToken"]["token"], made["session"]["handle"]


def _client(kind: str, method: str, secret: str = API_KEY) -> Any:
    options = {
        "client_id": "resource-server",
        "client_secret": secret,
        "token_endpoint_auth_method": method,
        "revocation_endpoint_auth_method": method,
    }
    return OAuth2Session(**options) if kind == "requests" else OAuth2Client(**options)


@pytest.mark.parametrize("kind", ["requests", "httpx"])
@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_introspects_and_revokes(core: str, kind: str, method: str) -> None:
    access, refresh, handle = _session(core)
    with _client(kind, method) as client:
        answer = client.introspect_token(f"{core}{INTROSPECT}", token=access)
        assert answer.status_code == 200
        found = answer.json()
        assert (found["active"], found["sub"], found["sid"]) == (True, "u1", handle)
        found = client.introspect_token(
            f"{core}{INTROSPECT}", token=refresh, token_type_hint="refresh_token"
        ).json()
        assert (found["active"], found["token_use"]) == (True, "refresh_token")

        answer = client.revoke_token(
            f"{core}{REVOKE}", token=refresh, token_type_hint="refresh_token"
        )
        assert answer.status_code == 200
        for token in (access, refresh):
            assert client.introspect_token(f"{core}{INTROSPECT}", token=token).json() == {
                "active": False
            }
        # RFC 7009: an unknown or already revoked token is still a 200.
        assert client.revoke_token(f"{core}{REVOKE}", token=refresh).status_code == 200
        assert client.revoke_token(f"{core}{REVOKE}", token="not-a-token").status_code == 200


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_with_a_wrong_secret_is_refused(core: str, method: str) -> None:
    access, _, _ = _session(core)
    with _client("requests", method, secret="wrong-key-0123456789abcdef") as client:
        answer = client.introspect_token(f"{core}{INTROSPECT}", token=access)
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid_client"}
        assert client.revoke_token(f"{core}{REVOKE}", token=access).status_code == 401
    with _client("requests", method) as client:
        assert client.introspect_token(f"{core}{INTROSPECT}", token=access).json()["active"]


async def test_authlib_async_client(core: str) -> None:
    access, refresh, _ = _session(core)
    async with AsyncOAuth2Client(
        client_id="resource-server",
        client_secret=API_KEY,
        token_endpoint_auth_method="client_secret_basic",
        revocation_endpoint_auth_method="client_secret_post",
    ) as client:
        answer = await client.introspect_token(f"{core}{INTROSPECT}", token=access)
        assert answer.json()["active"] is True
        assert (await client.revoke_token(f"{core}{REVOKE}", token=access)).status_code == 200
        answer = await client.introspect_token(f"{core}{INTROSPECT}", token=refresh)
        assert answer.json() == {"active": False}


def test_client_revocations_are_counted_by_the_core(core: str) -> None:
    def counted() -> float:
        text = httpx.get(f"{core}/metrics", headers={"api-key": API_KEY}).text
        for line in text.splitlines():
            if line.startswith('tessera_sessions_revoked_total{reason="client"}'):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before = counted()
    _, refresh, _ = _session(core)
    with _client("requests", "client_secret_basic") as client:
        client.revoke_token(f"{core}{REVOKE}", token=refresh)
        client.revoke_token(f"{core}{REVOKE}", token=refresh)  # already revoked: not again
    assert counted() == before + 1
