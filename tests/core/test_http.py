"""The core's HTTP surface without an SDK: bad requests get the documented 4xx (never a
500), API keys, the JWKS, the OpenAPI document and the request log."""

from __future__ import annotations

import httpx
import pytest

from tessera.core.routes import ROUTES

from .._support.cores import StartCore, new_app

API_KEY = "key-for-tests-0123456789"
CREATE = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": False}


@pytest.fixture(scope="module")
def app_uri(core: str) -> str:
    return new_app(core)


def test_hello_and_handshake(core: str, app_uri: str) -> None:
    assert httpx.get(f"{core}/hello").text == "Hello"
    assert httpx.get(f"{app_uri}/apiversion").json() == {"versions": ["5.4"]}
    user = httpx.get(f"{app_uri}/user/id", params={"userId": "x"})
    assert user.json() == {"status": "UNKNOWN_USER_ID_ERROR"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Invalid Json Input"),
        (b"[1, 2]", "Invalid Json Input"),
        (b'{"userId": ' + b"[" * 200_000 + b"]" * 200_000 + b"}", "Invalid Json Input"),
        (b"\xff\xfe{}", "Invalid Json Input"),
        (
            b'{"userId": 5, "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": true}',
            "Field name 'userId' is invalid in JSON input",
        ),
        (
            b'{"userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": true}',
            "Field name 'userId' is invalid in JSON input",
        ),
        (
            b'{"userId": "u", "userDataInJWT": {}, "userDataInDatabase": {},'
            b' "enableAntiCsrf": true, "surprise": 1}',
            "Field name 'surprise' is not known to this API",
        ),
        (
            b'{"userId": "u", "userDataInJWT": {"sub": "x"}, "userDataInDatabase": {},'
            b' "enableAntiCsrf": true}',
            "The user payload contains protected field",
        ),
    ],
)
def test_malformed_bodies_are_400(app_uri: str, body: bytes, message: str) -> None:
    answer = httpx.post(f"{app_uri}/public/recipe/session", content=body)
    assert answer.status_code == 400
    assert answer.text == message


def test_unknown_app_tenant_path_and_method(core: str, app_uri: str) -> None:
    answer = httpx.post(f"{core}/appid-nope/public/recipe/session", json=CREATE)
    assert answer.status_code == 400
    assert answer.text.startswith("AppId or tenantId not found")
    answer = httpx.post(f"{app_uri}/nope/recipe/session", json=CREATE)
    assert answer.status_code == 400
    assert "(, " in answer.text
    assert httpx.get(f"{core}/recipe/nothing").status_code == 404
    assert httpx.get(f"{core}/appid-BAD_ID!/apiversion").status_code == 404
    assert httpx.delete(f"{app_uri}/recipe/session").status_code == 405
    public_only = httpx.post(f"{app_uri}/nope/recipe/session/verify", json={})
    assert public_only.status_code == 403


def test_query_and_version_errors(app_uri: str) -> None:
    assert httpx.get(f"{app_uri}/recipe/session").status_code == 400
    flag = httpx.get(
        f"{app_uri}/recipe/session/user", params={"userId": "u", "fetchAcrossAllTenants": "maybe"}
    )
    assert flag.status_code == 400
    newer = httpx.get(
        f"{app_uri}/recipe/session/user", params={"userId": "u"}, headers={"cdi-version": "9.0"}
    )
    assert newer.status_code == 400
    assert newer.text == "cdi-version 9.0 not supported"


def test_huge_bodies_are_refused(app_uri: str) -> None:
    big = b'{"userId": "' + b"x" * 2_000_000 + b'"}'
    answer = httpx.post(f"{app_uri}/public/recipe/session", content=big)
    assert answer.status_code == 413


def test_bad_core_config_for_an_app(core: str) -> None:
    for config in ({"access_token_validity": "soon"}, {"no_such_setting": "1"}):
        answer = httpx.put(
            f"{core}/recipe/multitenancy/app/v2", json={"appId": "bad-config", "coreConfig": config}
        )
        assert answer.status_code == 400
        assert answer.text.startswith("Invalid core config")


def test_mistyped_fields_are_400_even_when_another_field_makes_them_moot(
    core: str, app_uri: str
) -> None:
    verify = httpx.post(
        f"{app_uri}/recipe/session/verify",
        json={"accessToken": "x", "doAntiCsrfCheck": False, "enableAntiCsrf": {}},
    )
    assert verify.status_code == 400
    assert "enableAntiCsrf" in verify.text
    for app_id in ("", "a" * 65, "with space", "UPPER_"):
        answer = httpx.put(
            f"{core}/recipe/multitenancy/app/v2", json={"appId": app_id, "coreConfig": {}}
        )
        assert answer.status_code == 400, app_id
        assert answer.text.startswith("appId must use")
    apps = httpx.get(f"{core}/recipe/multitenancy/app/list/v2").json()["apps"]
    assert "" not in [app["appId"] for app in apps]


def test_session_outcomes_are_200_with_a_status(app_uri: str) -> None:
    verify = httpx.post(
        f"{app_uri}/recipe/session/verify",
        json={
            "accessToken": "garbage",
            "doAntiCsrfCheck": False,
            "enableAntiCsrf": False,
            "checkDatabase": True,
        },
    )
    assert verify.status_code == 200
    assert verify.json()["status"] == "TRY_REFRESH_TOKEN"
    assert verify.json()["message"]
    refresh = httpx.post(
        f"{app_uri}/recipe/session/refresh",
        json={"refreshToken": "garbage", "enableAntiCsrf": False, "useDynamicSigningKey": True},
    )
    assert refresh.json()["status"] == "UNAUTHORISED"
    info = httpx.get(f"{app_uri}/recipe/session", params={"sessionHandle": "invalidHandle"})
    assert info.json() == {"status": "UNAUTHORISED", "message": "Session does not exist."}


def test_create_answers_the_cdi_shape(app_uri: str) -> None:
    answer = httpx.post(f"{app_uri}/public/recipe/session", json={**CREATE, "enableAntiCsrf": True})
    body = answer.json()
    assert body["status"] == "OK"
    assert set(body) == {"status", "session", "accessToken", "refreshToken", "antiCsrfToken"}
    assert body["session"]["userId"] == body["session"]["recipeUserId"] == "u1"
    assert body["accessToken"]["expiry"] % 1000 == 0
    assert body["refreshToken"]["expiry"] > body["accessToken"]["expiry"]


def test_refresh_token_expiry_is_capped_by_session_max_lifetime(core: str) -> None:
    """create and refresh answer the refresh token's real expiry: never past the
    session's end, and not moved by a refresh once that end is nearer."""
    app_uri = new_app(core, session_max_lifetime="60")
    created = httpx.post(f"{app_uri}/public/recipe/session", json=CREATE).json()
    handle = created["session"]["handle"]
    info = httpx.get(f"{app_uri}/recipe/session", params={"sessionHandle": handle}).json()
    end = info["timeCreated"] + 60_000
    assert created["refreshToken"]["expiry"] == end == info["expiry"]
    refreshed = httpx.post(
        f"{app_uri}/recipe/session/refresh",
        json={"refreshToken": created["refreshToken"]["token"], "enableAntiCsrf": False},
    ).json()
    assert refreshed["status"] == "OK"
    assert refreshed["refreshToken"]["expiry"] == end
    assert refreshed["accessToken"]["expiry"] <= end


def test_jwks_is_public_cached_and_never_empty(start_core: StartCore) -> None:
    url = start_core(api_keys=API_KEY)
    answer = httpx.get(f"{url}/.well-known/jwks.json")
    assert answer.status_code == 200
    keys = answer.json()["keys"]
    assert {k["kid"][:2] for k in keys} == {"d-", "s-"}
    assert all(set(k) == {"kty", "kid", "n", "e", "alg", "use"} for k in keys)
    assert answer.headers["cache-control"].startswith("max-age=")
    assert answer.headers["cache-control"].endswith(", must-revalidate")


def test_api_keys(start_core: StartCore) -> None:
    url = start_core(api_keys=f"{API_KEY},second-key-0123456789abc")
    assert httpx.get(f"{url}/hello").status_code == 200
    assert httpx.get(f"{url}/apiversion").status_code == 401
    assert httpx.get(f"{url}/apiversion", headers={"api-key": "wrong"}).status_code == 401
    assert httpx.get(f"{url}/apiversion", headers={"api-key": API_KEY}).status_code == 200
    bearer = {"authorization": "Bearer second-key-0123456789abc"}
    assert httpx.get(f"{url}/apiversion", headers=bearer).status_code == 200
    app = httpx.put(f"{url}/recipe/multitenancy/app/v2", json={"appId": "x1"})
    assert app.status_code == 401


def test_openapi_lists_every_route(core: str) -> None:
    document = httpx.get(f"{core}/openapi.json").json()
    for method, path in ROUTES:
        assert method.lower() in document["paths"][path], path


def _verify(app_uri: str, token: str, check_database: bool = False) -> dict[str, object]:
    answer = httpx.post(
        f"{app_uri}/recipe/session/verify",
        json={
            "accessToken": token,
            "doAntiCsrfCheck": False,
            "enableAntiCsrf": False,
            "checkDatabase": check_database,
        },
    )
    result: dict[str, object] = answer.json()
    return result


def _refresh(app_uri: str, token: str) -> dict[str, object]:
    answer = httpx.post(
        f"{app_uri}/recipe/session/refresh",
        json={"refreshToken": token, "enableAntiCsrf": False, "useDynamicSigningKey": True},
    )
    result: dict[str, object] = answer.json()
    return result


def test_promotion_and_theft_rules(app_uri: str) -> None:
    import jwt

    created = httpx.post(f"{app_uri}/public/recipe/session", json=CREATE).json()
    parent = created["refreshToken"]["token"]
    child = _refresh(app_uri, parent)
    assert child["status"] == "OK"
    child_access = child["accessToken"]["token"]  # type: ignore[index]
    claims = jwt.decode(child_access, options={"verify_signature": False})
    assert claims["parentRefreshTokenHash1"] is not None
    # Before the child is used, the parent may be replayed (same child again).
    replay = _refresh(app_uri, parent)
    assert replay["refreshToken"]["token"] == child["refreshToken"]["token"]  # type: ignore[index]
    # Verifying the child's access token promotes it and answers a token without parent.
    verified = _verify(app_uri, child_access)
    assert verified["status"] == "OK"
    new_access = verified["accessToken"]["token"]  # type: ignore[index]
    assert (
        jwt.decode(new_access, options={"verify_signature": False})["parentRefreshTokenHash1"]
        is None
    )
    assert "accessToken" not in _verify(app_uri, new_access)
    # Now the parent is theft, with the session named. As with the SuperTokens core the
    # session is not revoked (the SDK's theft handler decides), and the same stale token
    # is theft each time it comes back.
    theft = {
        "status": "TOKEN_THEFT_DETECTED",
        "session": {
            "handle": created["session"]["handle"],
            "userId": "u1",
            "recipeUserId": "u1",
        },
    }
    assert _refresh(app_uri, parent) == theft
    assert _verify(app_uri, new_access, check_database=True)["status"] == "OK"
    assert _refresh(app_uri, parent) == theft
    assert _refresh(app_uri, child["refreshToken"]["token"])["status"] == "OK"  # type: ignore[index]
    assert _refresh(app_uri, parent) == theft
    removed = httpx.post(
        f"{app_uri}/recipe/session/remove", json={"sessionHandles": [created["session"]["handle"]]}
    )
    assert removed.json()["sessionHandlesRevoked"] == [created["session"]["handle"]]
    assert _verify(app_uri, new_access, check_database=True)["status"] == "UNAUTHORISED"
    assert _refresh(app_uri, parent)["status"] == "UNAUTHORISED"


def test_a_replaced_token_is_reissued_until_its_successor_is_first_used(core: str) -> None:
    # As the SuperTokens core: no grace period decides, the first use of the new tokens
    # does. With the grace period off, a replay of the parent before the child's access
    # token was verified still gets the same child (a lost answer is no theft); after it,
    # the parent is theft.
    app_uri = new_app(core, refresh_token_rotation_grace_period="0")
    created = httpx.post(f"{app_uri}/public/recipe/session", json=CREATE).json()
    parent = created["refreshToken"]["token"]
    child = _refresh(app_uri, parent)
    assert child["status"] == "OK"
    for _ in range(2):
        again = _refresh(app_uri, parent)
        assert again["refreshToken"]["token"] == child["refreshToken"]["token"]  # type: ignore[index]
    assert _verify(app_uri, child["accessToken"]["token"])["status"] == "OK"  # type: ignore[index]
    assert _refresh(app_uri, parent)["status"] == "TOKEN_THEFT_DETECTED"


def test_payload_change_reaches_a_database_checked_verify(app_uri: str) -> None:
    created = httpx.post(f"{app_uri}/public/recipe/session", json=CREATE).json()
    handle = created["session"]["handle"]
    put = httpx.put(
        f"{app_uri}/recipe/jwt/data", json={"sessionHandle": handle, "userDataInJWT": {"r": 1}}
    )
    assert put.json() == {"status": "OK"}
    token = created["accessToken"]["token"]
    assert "accessToken" not in _verify(app_uri, token)  # local view: nothing changed
    checked = _verify(app_uri, token, check_database=True)
    assert checked["session"]["userDataInJWT"] == {"r": 1}  # type: ignore[index]
    assert "accessToken" in checked
