"""Access-token versions 3 and 4, for SDKs of CDI 2.21 to 3.x: what they get from
create and refresh, and what verify and regenerate give back, as the SuperTokens core
does it."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import jwt
import pytest
from jwt.algorithms import RSAAlgorithm

from .._support.cores import new_app

V3_OWNED = {"sub", "exp", "iat", "sessionHandle", "refreshTokenHash1"}
V3_OWNED |= {"parentRefreshTokenHash1", "antiCsrfToken"}
V4_OWNED = V3_OWNED | {"tId"}
#: The claims each SDK generation strips before sending a payload back (its own list).
SDK_PROTECTED = {"2.21": V3_OWNED, "3.0": V4_OWNED}


@pytest.fixture(scope="module")
def app_uri(core: str) -> str:
    uri = new_app(core)
    httpx.put(f"{uri}/recipe/multitenancy/tenant/v2", json={"tenantId": "blue"})
    return uri


def _post(app_uri: str, path: str, cdi: str, body: dict[str, Any]) -> Any:
    answer = httpx.post(f"{app_uri}{path}", json=body, headers={"cdi-version": cdi})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _create(app_uri: str, cdi: str, tenant: str = "public") -> Any:
    body = {
        "userId": "old-sdk",
        "userDataInJWT": {"plan": "pro"},
        "userDataInDatabase": {},
        "enableAntiCsrf": True,
        "useDynamicSigningKey": True,
    }
    return _post(app_uri, f"/{tenant}/recipe/session", cdi, body)


def _verify(app_uri: str, token: str, cdi: str, check_database: bool = False) -> Any:
    body = {
        "accessToken": token,
        "doAntiCsrfCheck": False,
        "enableAntiCsrf": True,
        "checkDatabase": check_database,
    }
    return _post(app_uri, "/recipe/session/verify", cdi, body)


def _checked_claims(app_uri: str, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims, after checking the signature against the published JWKS."""
    header = jwt.get_unverified_header(token)
    jwks = httpx.get(f"{app_uri}/.well-known/jwks.json").json()["keys"]
    jwk = next(k for k in jwks if k["kid"] == header["kid"])
    key = RSAAlgorithm.from_jwk(jwk)
    claims = jwt.decode(token, key, algorithms=["RS256"])  # type: ignore[arg-type]
    return header, claims


@pytest.mark.parametrize(
    ("cdi", "version", "tenant"), [("2.21", "3", "public"), ("3.0", "4", "blue")]
)
def test_older_cdi_versions_get_their_token_version(
    app_uri: str, cdi: str, version: str, tenant: str
) -> None:
    created = _create(app_uri, cdi, tenant if cdi >= "3" else "public")
    header, claims = _checked_claims(app_uri, created["accessToken"]["token"])
    assert header["version"] == version
    owned = V4_OWNED if version == "4" else V3_OWNED
    assert set(claims) == owned | {"plan"}
    assert claims.get("tId", tenant) == tenant
    assert created["accessToken"]["expiry"] == claims["exp"] * 1000
    # Sessions name their tenant from CDI 3.0 and their recipe user from 4.0.
    expected = {"handle", "userId", "userDataInJWT"} | ({"tenantId"} if version == "4" else set())
    assert set(created["session"]) == expected
    info = httpx.get(
        f"{app_uri}/recipe/session",
        params={"sessionHandle": created["session"]["handle"]},
        headers={"cdi-version": cdi},
    ).json()
    assert "recipeUserId" not in info
    assert ("tenantId" in info) == (version == "4")


def test_cdi_4_gets_version_5(app_uri: str) -> None:
    created = _create(app_uri, "4.0")
    header, claims = _checked_claims(app_uri, created["accessToken"]["token"])
    assert header["version"] == "5"
    assert claims["rsub"] == "old-sdk"
    assert created["session"]["recipeUserId"] == "old-sdk"


@pytest.mark.parametrize("cdi", ["2.21", "3.0"])
def test_an_older_sdk_merging_its_payload_is_not_refused(app_uri: str, cdi: str) -> None:
    """What SessionContainer.mergeIntoAccessTokenPayload of an SDK of that generation
    does: strip its own list of protected claims from the token's payload, merge, and
    regenerate. A version-5 token carried rsub (and tId), which such an SDK does not
    know to strip, so the core refused the whole payload with a 400."""
    created = _create(app_uri, cdi)
    token = created["accessToken"]["token"]
    payload = jwt.decode(token, options={"verify_signature": False})
    kept = {k: v for k, v in payload.items() if k not in SDK_PROTECTED[cdi]}
    body = {"accessToken": token, "userDataInJWT": {**kept, "seen": 1}}
    regenerated = _post(app_uri, "/recipe/session/regenerate", cdi, body)
    assert regenerated["status"] == "OK"
    header, claims = _checked_claims(app_uri, regenerated["accessToken"]["token"])
    assert header["version"] == jwt.get_unverified_header(token)["version"]
    assert (claims["plan"], claims["seen"]) == ("pro", 1)
    assert claims["exp"] == payload["exp"]  # regenerating keeps the expiry
    assert _verify(app_uri, regenerated["accessToken"]["token"], cdi, True)["status"] == "OK"


@pytest.mark.parametrize("cdi", ["2.21", "3.0"])
def test_refresh_then_verify_promotes_in_the_same_version(app_uri: str, cdi: str) -> None:
    created = _create(app_uri, cdi)
    version = jwt.get_unverified_header(created["accessToken"]["token"])["version"]
    body = {
        "refreshToken": created["refreshToken"]["token"],
        "antiCsrfToken": created["antiCsrfToken"],
        "enableAntiCsrf": True,
        "useDynamicSigningKey": True,
    }
    refreshed = _post(app_uri, "/recipe/session/refresh", cdi, body)
    child = refreshed["accessToken"]["token"]
    header, claims = _checked_claims(app_uri, child)
    assert header["version"] == version
    assert claims["parentRefreshTokenHash1"] is not None
    for caller in (cdi, "5.4"):  # a newer backend verifies it too
        promoted = _verify(app_uri, child, caller)
        assert promoted["status"] == "OK"
        if "accessToken" in promoted:
            replacement = promoted["accessToken"]["token"]
    header, claims = _checked_claims(app_uri, replacement)
    assert header["version"] == version
    assert claims["parentRefreshTokenHash1"] is None
    assert _verify(app_uri, replacement, "5.4", check_database=True)["status"] == "OK"


def test_older_tokens_that_do_not_verify_ask_for_a_refresh(app_uri: str) -> None:
    token = _create(app_uri, "3.0")["accessToken"]["token"]
    head, body, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})

    def encode(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    header = jwt.get_unverified_header(token)
    untenanted = {k: v for k, v in claims.items() if k != "tId"}
    forged = {
        "other user": f"{head}.{encode({**claims, 'sub': 'mallory'})}.{signature}",
        "no tenant": f"{head}.{encode(untenanted)}.{signature}",
        "unknown key": f"{encode({**header, 'kid': 'd-1'})}.{body}.{signature}",
        "version 6": f"{encode({**header, 'version': '6'})}.{body}.{signature}",
        "list version": f"{encode({**header, 'version': ['4']})}.{body}.{signature}",
        "cut signature": f"{head}.{body}.{signature[:-6]}",
    }
    for name, bad in forged.items():
        for cdi in ("3.0", "5.4"):
            answer = _verify(app_uri, bad, cdi, check_database=True)
            assert answer["status"] == "TRY_REFRESH_TOKEN", name
    removed = _create(app_uri, "3.0")
    httpx.post(
        f"{app_uri}/recipe/session/remove",
        json={"sessionHandles": [removed["session"]["handle"]]},
    )
    gone = _verify(app_uri, removed["accessToken"]["token"], "3.0", check_database=True)
    assert gone["status"] == "UNAUTHORISED"
