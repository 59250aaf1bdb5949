"""Version-2 access tokens over HTTP: minted for callers of CDI below 2.21, verified for
every caller, and refused as an ordinary session answer whenever anything is off."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tessera.engine.keys import generate_key
from tessera.engine.token_versions import V2_HEADER, sign_v2_token
from tessera.storage import KeyRecord, open_store

from .._support.cores import StartCore, new_app

LEGACY = {"cdi-version": "2.8"}
CREATE = {"userId": "u-legacy", "userDataInJWT": {"role": "admin"}, "userDataInDatabase": {}}


@pytest.fixture(scope="module")
def app_uri(core: str) -> str:
    return new_app(core)


def _create(app_uri: str, *, anti_csrf: bool = False) -> dict[str, Any]:
    answer = httpx.post(
        f"{app_uri}/recipe/session", json={**CREATE, "enableAntiCsrf": anti_csrf}, headers=LEGACY
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _verify(app_uri: str, token: str, *, check_database: bool, **extra: Any) -> dict[str, Any]:
    request = {
        "accessToken": token,
        "doAntiCsrfCheck": False,
        "enableAntiCsrf": False,
        "checkDatabase": check_database,
        **extra,
    }
    answer = httpx.post(
        f"{app_uri}/recipe/session/verify", json=request, headers={"cdi-version": "5.4"}
    )
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _claims(token: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(base64.b64decode(token.split(".")[1], validate=True))
    return value


def test_cdi_2_8_create_mints_a_version_2_token(core: str, app_uri: str) -> None:
    before = int(time.time() * 1000)
    created = _create(app_uri)
    token = created["accessToken"]["token"]
    header, payload, signature = token.split(".")
    assert header == V2_HEADER
    assert json.loads(base64.b64decode(header)) == {"alg": "RS256", "typ": "JWT", "version": "2"}
    claims = _claims(token)
    assert set(claims) == {
        "sessionHandle",
        "userId",
        "refreshTokenHash1",
        "userData",
        "expiryTime",
        "timeCreated",
    }
    assert claims["sessionHandle"] == created["session"]["handle"]
    assert claims["userId"] == "u-legacy"
    assert claims["userData"] == {"role": "admin"}
    refresh = created["refreshToken"]["token"]
    assert claims["refreshTokenHash1"] == hashlib.sha256(refresh.encode()).hexdigest()
    assert before - 1000 <= claims["timeCreated"] < claims["expiryTime"]
    assert created["accessToken"]["expiry"] == claims["expiryTime"]
    # CDI 2.x sessions know no tenants or recipe users.
    assert created["session"] == {
        "handle": claims["sessionHandle"],
        "userId": "u-legacy",
        "userDataInJWT": {"role": "admin"},
    }
    # The signature is RS256 by one of the published dynamic keys.
    jwks = httpx.get(f"{app_uri}/.well-known/jwks.json").json()["keys"]
    signed = (header + "." + payload).encode()
    raw = base64.b64decode(signature, validate=True)

    def verifies(jwk: dict[str, str]) -> bool:
        def number(text: str) -> int:
            return int.from_bytes(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)), "big")

        public = rsa.RSAPublicNumbers(number(jwk["e"]), number(jwk["n"])).public_key()
        try:
            public.verify(raw, signed, padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return False
        return True

    assert [k["kid"][:2] for k in jwks if verifies(k)] == ["d-"]


def test_cdi_5_4_verifies_a_version_2_token(app_uri: str) -> None:
    created = _create(app_uri)
    token = created["accessToken"]["token"]
    expected = {
        "handle": created["session"]["handle"],
        "userId": "u-legacy",
        "recipeUserId": "u-legacy",
        "userDataInJWT": {"role": "admin"},
        "tenantId": "public",
    }
    for check_database in (False, True):
        answer = _verify(app_uri, token, check_database=check_database)
        assert answer == {"status": "OK", "session": expected}


def test_a_revoked_session_is_refused_only_with_a_database_check(app_uri: str) -> None:
    created = _create(app_uri)
    token = created["accessToken"]["token"]
    removed = httpx.post(
        f"{app_uri}/recipe/session/remove", json={"sessionHandles": [created["session"]["handle"]]}
    )
    assert removed.json()["sessionHandlesRevoked"] == [created["session"]["handle"]]
    refused = _verify(app_uri, token, check_database=True)
    assert refused["status"] == "UNAUTHORISED"
    assert refused["message"]
    # Without the database a signed, unexpired token is all there is to check.
    assert _verify(app_uri, token, check_database=False)["status"] == "OK"


def _reencode(claims: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(claims).encode()).decode()


def _tampered(token: str) -> dict[str, str]:
    header, payload, signature = token.split(".")
    claims = _claims(token)
    return {
        "other user": f"{header}.{_reencode({**claims, 'userId': 'mallory'})}.{signature}",
        "longer expiry": f"{header}.{_reencode({**claims, 'expiryTime': 2**53})}.{signature}",
        "truncated signature": f"{header}.{payload}.{signature[:-8]}",
        "no signature": f"{header}.{payload}.",
        "two segments": f"{header}.{payload}",
        "unpadded payload": f"{header}.{payload.rstrip('=')}.{signature}",
        "url-safe signature": f"{header}.{payload}.{signature.replace('+', '-').replace('/', '_')}",
        "wrong header": f"{header.rstrip('=')}.{payload}.{signature}",
        "version 1 header": f"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{payload}.{signature}",
        "extra segment": f"{token}.{signature}",
        "not json": f"{header}.{base64.b64encode(b'{nope').decode()}.{signature}",
        "header only": f"{header}.",
        "non-ascii": f"{header}.{payload}é.{signature}",
        "huge": f"{header}.{'A' * 40_000}.{signature}",
    }


def test_tampered_version_2_tokens_are_session_errors(app_uri: str) -> None:
    created = _create(app_uri)
    token = created["accessToken"]["token"]
    for name, forged in _tampered(token).items():
        if forged == token:
            continue  # e.g. no '+' or '/' to respell: nothing was changed
        for check_database in (False, True):
            answer = _verify(app_uri, forged, check_database=check_database)
            assert answer["status"] == "TRY_REFRESH_TOKEN", name
            assert answer["message"], name
    assert _verify(app_uri, token, check_database=True)["status"] == "OK"


def test_a_token_signed_by_another_key_is_refused(app_uri: str) -> None:
    created = _create(app_uri)
    header, payload, _ = created["accessToken"]["token"].split(".")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = stranger.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
    forged = f"{header}.{payload}.{base64.b64encode(signature).decode()}"
    assert _verify(app_uri, forged, check_database=False)["status"] == "TRY_REFRESH_TOKEN"


def test_anti_csrf_of_a_version_2_token(app_uri: str) -> None:
    created = _create(app_uri, anti_csrf=True)
    token, anti_csrf = created["accessToken"]["token"], created["antiCsrfToken"]
    assert _claims(token)["antiCsrfToken"] == anti_csrf
    checked = {"doAntiCsrfCheck": True, "enableAntiCsrf": True}
    wrong = _verify(app_uri, token, check_database=False, **checked, antiCsrfToken="nope")
    assert wrong["status"] == "TRY_REFRESH_TOKEN"
    missing = _verify(app_uri, token, check_database=False, **checked)
    assert missing["status"] == "TRY_REFRESH_TOKEN"
    right = _verify(app_uri, token, check_database=False, **checked, antiCsrfToken=anti_csrf)
    assert right["status"] == "OK"


def test_cdi_2_8_refresh_mints_a_child_token_that_verify_promotes(app_uri: str) -> None:
    created = _create(app_uri)
    refreshed = httpx.post(
        f"{app_uri}/recipe/session/refresh",
        json={"refreshToken": created["refreshToken"]["token"], "enableAntiCsrf": False},
        headers=LEGACY,
    ).json()
    assert refreshed["status"] == "OK"
    assert "tenantId" not in refreshed["session"]
    child = refreshed["accessToken"]["token"]
    claims = _claims(child)
    first_refresh = created["refreshToken"]["token"]
    assert claims["parentRefreshTokenHash1"] == hashlib.sha256(first_refresh.encode()).hexdigest()
    # A CDI 5.4 verify confirms the refresh and, as the SuperTokens core does, hands
    # out a token of the version it was given.
    answer = _verify(app_uri, child, check_database=False)
    assert answer["status"] == "OK"
    replacement = answer["accessToken"]["token"]
    assert replacement.startswith(V2_HEADER + ".")
    assert "parentRefreshTokenHash1" not in _claims(replacement)
    assert _verify(app_uri, replacement, check_database=True) == {
        "status": "OK",
        "session": {**answer["session"]},
    }


def test_an_expired_version_2_token_needs_a_refresh(core: str) -> None:
    short = new_app(core, access_token_validity="2")
    token = _create(short)["accessToken"]["token"]
    assert _verify(short, token, check_database=False)["status"] == "OK"
    time.sleep(max(0.0, _claims(token)["expiryTime"] / 1000 - time.time()) + 0.2)
    assert _verify(short, token, check_database=False)["status"] == "TRY_REFRESH_TOKEN"


@pytest.mark.parametrize("version", ["2.7", "2.8", "2.21", "3.0", "4.0", "5.0", "5.4"])
def test_every_cdi_version_the_supertokens_core_speaks(app_uri: str, version: str) -> None:
    answer = httpx.get(
        f"{app_uri}/recipe/session/user", params={"userId": "u"}, headers={"cdi-version": version}
    )
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("version", ["1.0", "2.6", "2.22", "3.2", "5.5", "5", "x.y", "2.08x"])
def test_other_cdi_versions_are_refused(app_uri: str, version: str) -> None:
    answer = httpx.get(
        f"{app_uri}/recipe/session/user", params={"userId": "u"}, headers={"cdi-version": version}
    )
    assert answer.status_code == 400
    assert answer.text == f"cdi-version {version} not supported"


def test_tenants_do_not_exist_before_cdi_3(app_uri: str) -> None:
    answer = httpx.post(
        f"{app_uri}/t1/recipe/session", json={**CREATE, "enableAntiCsrf": False}, headers=LEGACY
    )
    assert answer.status_code == 404


def test_cdi_2_8_verify_and_regenerate_answer_in_version_2(app_uri: str) -> None:
    created = _create(app_uri)
    refreshed = httpx.post(
        f"{app_uri}/recipe/session/refresh",
        json={"refreshToken": created["refreshToken"]["token"], "enableAntiCsrf": False},
        headers=LEGACY,
    ).json()
    verify = {"doAntiCsrfCheck": False, "enableAntiCsrf": False, "checkDatabase": False}
    promoted = httpx.post(
        f"{app_uri}/recipe/session/verify",
        json={"accessToken": refreshed["accessToken"]["token"], **verify},
        headers=LEGACY,
    ).json()
    assert promoted["status"] == "OK"
    assert set(promoted["session"]) == {"handle", "userId", "userDataInJWT"}
    replacement = promoted["accessToken"]["token"]
    assert replacement.startswith(V2_HEADER + ".")
    assert "parentRefreshTokenHash1" not in _claims(replacement)
    # Regenerating answers in the version of the token given, whatever the caller speaks.
    legacy = httpx.post(
        f"{app_uri}/recipe/session/regenerate",
        json={"accessToken": replacement, "userDataInJWT": {"role": "owner"}},
    ).json()
    assert legacy["status"] == "OK"
    assert legacy["session"]["userDataInJWT"] == {"role": "owner"}
    regenerated_v2 = legacy["accessToken"]["token"]
    assert regenerated_v2.startswith(V2_HEADER + ".")
    assert _claims(regenerated_v2)["userData"] == {"role": "owner"}
    assert _claims(regenerated_v2)["expiryTime"] == legacy["accessToken"]["expiry"]
    assert _verify(app_uri, regenerated_v2, check_database=True)["status"] == "OK"
    modern = httpx.post(
        f"{app_uri}/recipe/session",
        json={**CREATE, "enableAntiCsrf": False, "useDynamicSigningKey": True},
    ).json()
    regenerated = httpx.post(
        f"{app_uri}/recipe/session/regenerate",
        json={"accessToken": modern["accessToken"]["token"], "userDataInJWT": {"role": "owner"}},
        headers=LEGACY,
    ).json()
    assert regenerated["status"] == "OK"
    assert set(regenerated["session"]) == {"handle", "userId", "userDataInJWT"}
    header = jwt.get_unverified_header(regenerated["accessToken"]["token"])
    assert header["version"] == "5"


def test_a_version_2_token_signed_by_a_key_loaded_later_verifies(
    start_core: StartCore, tmp_path: Path
) -> None:
    """A version-2 token names no key: when no loaded key verifies it, the core reads
    the keys again (another process may have made the one that signed it)."""
    url = f"sqlite:///{tmp_path}/keys.db"
    core = start_core(database_url=url)
    app_uri = new_app(core)
    app_id = app_uri.rsplit("appid-", 1)[1]
    created = _create(app_uri)
    assert _verify(app_uri, created["accessToken"]["token"], check_database=False)["status"] == "OK"
    # Another process (here: the test) adds a key and signs with it.
    now = int(time.time() * 1000)
    key = generate_key("RS256", dynamic=True, now=now)
    store = open_store(url, table_name_prefix="tessera_")
    try:
        public, private = key.to_record()
        store.for_app(app_id).add_signing_key(KeyRecord(key.kid, "RS256", now, public, private))
    finally:
        store.close()
    claims = _claims(created["accessToken"]["token"])
    token = sign_v2_token(
        key,
        session_handle=claims["sessionHandle"],
        user_id=claims["userId"],
        refresh_token_hash1=claims["refreshTokenHash1"],
        parent_refresh_token_hash1=None,
        user_data=claims["userData"],
        anti_csrf_token=None,
        expiry=claims["expiryTime"],
        created_at=claims["timeCreated"],
    )
    time.sleep(1.1)  # keys are read again at most once a second
    assert _verify(app_uri, token, check_database=True)["status"] == "OK"
