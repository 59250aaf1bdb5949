"""RFC 7662 introspection and RFC 7009 revocation of tessera's tokens, over real HTTP to
a core on SQLite, PostgreSQL and MariaDB: what is active, that introspection changes
nothing, and that revocation ends the session everywhere a revocation must reach."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from .._support.oauth2_core import ServedCore, revoked_by_clients, serve_core

INACTIVE = {"active": False}


@pytest.fixture
def core(backend: str, tmp_path: Path, table_prefix: str) -> Iterator[ServedCore]:
    with serve_core(backend, tmp_path, table_prefix) as served:
        yield served


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = "=" * (-len(payload) % 4)
    return (
        json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))),
        json.loads(base64.urlsafe_b64decode(payload + pad)),
        signature,
    )


def _jwt(header: dict[str, Any], payload: dict[str, Any], sign: Any = None) -> str:
    text = _b64(json.dumps(header).encode()) + "." + _b64(json.dumps(payload).encode())
    return text + "." + (sign(text.encode()) if sign else "")


# -- active tokens ----------------------------------------------------------------------


def test_an_active_access_token_and_refresh_token(core: ServedCore) -> None:
    issuer = "https://api.example.com/auth"
    access, refresh, handle = core.create(iss=issuer, scope="orders:read orders:write", x=1)
    now = core.clock.now // 1000
    assert core.introspect(access) == {
        "active": True,
        "token_type": "Bearer",
        "token_use": "access_token",
        "sub": "u1",
        "exp": now + 3600,
        "iat": now,
        "sid": handle,
        "tenant_id": "public",
        "iss": issuer,
        "scope": "orders:read orders:write",
    }
    assert core.introspect(refresh) == {
        "active": True,
        "token_use": "refresh_token",
        "sub": "u1",
        "exp": now + 144000 * 60,
        "iat": now,
        "sid": handle,
        "tenant_id": "public",
    }
    # A hint only orders the checks: a wrong or unknown one changes no answer.
    assert core.introspect(access, token_type_hint="refresh_token")["active"] is True
    assert core.introspect(refresh, token_type_hint="access_token")["active"] is True
    assert core.introspect(refresh, token_type_hint="id_token")["active"] is True


def test_tokens_of_a_tenant_and_of_another_app(core: ServedCore) -> None:
    core.cdi("PUT", "/recipe/multitenancy/tenant/v2", {"tenantId": "blue"})
    access, _, _ = core.create("/blue", user_id="u2")
    assert core.introspect(access)["tenant_id"] == "blue"

    core.cdi("PUT", "/recipe/multitenancy/app/v2", {"appId": "shop"})
    shop_access, shop_refresh, _ = core.create("/appid-shop")
    # Each app answers for its own tokens only.
    assert core.introspect(shop_access, prefix="/appid-shop")["active"] is True
    assert core.introspect(shop_refresh, prefix="/appid-shop")["active"] is True
    assert core.introspect(shop_access) == INACTIVE
    assert core.introspect(shop_refresh) == INACTIVE
    assert core.introspect(access, prefix="/appid-shop") == INACTIVE


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize(("cdi_version", "version"), [("2.8", "2"), ("3.0", "4")])
def test_access_tokens_of_older_versions(core: ServedCore, cdi_version: str, version: str) -> None:
    body = {"userId": "u1", "userDataInJWT": {}, "userDataInDatabase": {}, "enableAntiCsrf": False}
    made = core.cdi("POST", "/recipe/session", body, **{"cdi-version": cdi_version})
    token = made["accessToken"]["token"]
    assert _segments(token)[0]["version"] == version
    found = core.introspect(token)
    assert (found["active"], found["sid"], found["sub"]) == (True, made["session"]["handle"], "u1")


# -- inactive tokens --------------------------------------------------------------------


def test_expired_and_revoked_tokens_are_inactive(core: ServedCore) -> None:
    access, refresh, handle = core.create()
    core.clock.advance(3601)
    assert core.introspect(access) == INACTIVE
    assert core.introspect(refresh)["active"] is True
    core.cdi("POST", "/recipe/session/remove", {"sessionHandles": [handle]})
    assert core.introspect(refresh) == INACTIVE

    access, refresh, _ = core.create()
    core.clock.advance(144000 * 60 + 1)  # the refresh token's lifetime
    assert core.introspect(refresh) == INACTIVE

    # The session is gone from the database while its access token is unexpired.
    access, refresh, handle = core.create()
    core.cdi("POST", "/recipe/session/remove", {"sessionHandles": [handle]})
    assert core.introspect(access) == INACTIVE
    assert core.introspect(refresh) == INACTIVE


def test_forged_foreign_and_malformed_tokens_are_inactive(core: ServedCore) -> None:
    access, refresh, handle = core.create()
    header, payload, signature = _segments(access)
    head, body, _ = access.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[10:]
    jwks = httpx.get(f"{core.url}/.well-known/jwks.json").json()["keys"]
    public = RSAAlgorithm.from_jwk(json.dumps(next(k for k in jwks if k["kid"] == header["kid"])))
    pem = public.public_bytes(  # type: ignore[union-attr]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    # A JWT signed with the app's own key through /recipe/jwt, shaped as a session token
    # of the same session for another user: the key holder cannot pass for a user.
    signed_by_the_app = core.cdi(
        "POST",
        "/recipe/jwt",
        {
            "payload": {**payload, "sub": "admin", "rsub": "admin"},
            "algorithm": "RS256",
            "jwksDomain": "https://x",
            "validity": 3600,
        },
    )["jwt"]
    mac_part = refresh.rsplit(".", 1)[1]
    other_access, other_refresh, other_handle = core.create(user_id="u2")
    forged = [
        flipped,  # a bad signature
        f"{head}.{_b64(json.dumps({**payload, 'sub': 'admin'}).encode())}.{signature}",
        _jwt({**header, "alg": "none"}, payload),  # alg none, no signature
        _jwt(
            {**header, "alg": "HS256"},  # the public key as an HMAC secret
            payload,
            lambda text: _b64(hmac.new(pem, text, hashlib.sha256).digest()),
        ),
        _jwt({**header, "kid": "d-unknown"}, payload, lambda text: signature),
        signed_by_the_app,
        f"{head}.{body}",  # two segments
        # A refresh token of another session with this one's secret, and a bad MAC.
        f"{other_handle}.n.{mac_part}",
        refresh[:-4] + ("AAAA" if not refresh.endswith("AAAA") else "BBBB"),
        f"{handle}.a.{mac_part}",  # the anti-CSRF mark changed
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.e30.",
        "é" * 300,
        "\x00" * 10,
        "x" * 200_000,  # huge, yet below the body limit
        access + "." + access,
        " " + access,
    ]
    for token in forged:
        for hint in ({}, {"token_type_hint": "access_token"}, {"token_type_hint": "refresh_token"}):
            assert core.introspect(token, **hint) == INACTIVE, token[:80]
    # None of it did anything to the sessions it named.
    assert core.introspect(access)["active"] is True
    assert core.introspect(other_refresh)["active"] is True
    assert core.introspect(other_access)["active"] is True


# -- introspection changes nothing --------------------------------------------------------


def test_introspecting_refresh_tokens_never_rotates_promotes_or_reports_theft(
    core: ServedCore,
) -> None:
    store = core.app.store.for_app("public")
    _, first, handle = core.create()
    refreshed = core.refresh(first)
    second = refreshed["refreshToken"]["token"]
    new_access = refreshed["accessToken"]["token"]
    before = store.load_session(handle)

    # The replaced token is not active, the new ones are; asking twice changes nothing:
    # not the row, not the pending rotation (no promotion by the new access token).
    for _ in range(2):
        assert core.introspect(first) == INACTIVE
        assert core.introspect(second)["active"] is True
        assert core.introspect(new_access)["active"] is True
    assert store.load_session(handle) == before
    # So a retry of that refresh is still answered with the same new tokens, not theft.
    again = core.refresh(first)
    assert again["status"] == "OK"
    assert again["refreshToken"]["token"] == second

    # Once the new access token is used, the old refresh token is theft for /refresh;
    # introspection still only says "not active", and reports nothing.
    assert core.verify(new_access)["status"] == "OK"
    assert core.introspect(first) == INACTIVE
    assert core.introspect(second)["active"] is True
    assert not [r for r in core.audit if r["event"] == "theft_detected"]
    assert core.refresh(first)["status"] == "TOKEN_THEFT_DETECTED"  # the real check
    assert [r["event"] for r in core.audit if r["event"] == "theft_detected"] == ["theft_detected"]


# -- revocation ---------------------------------------------------------------------------


def _revocations(core: ServedCore) -> list[dict[str, Any]]:
    return [r for r in core.audit if r["event"] == "session_revoked"]


def test_revoking_an_access_token_ends_its_session(core: ServedCore) -> None:
    access, refresh, handle = core.create(user_id="alice")
    _, _, other = core.create(user_id="bob")
    counted = revoked_by_clients()
    core.revoke(access, token_type_hint="access_token")
    assert core.introspect(access) == INACTIVE
    assert core.introspect(refresh) == INACTIVE
    assert core.verify(access)["status"] == "UNAUTHORISED"
    assert core.refresh(refresh)["status"] == "UNAUTHORISED"
    # Audited, counted, and in the revocation log every core process follows.
    assert [
        {k: r[k] for k in ("session_handle", "reason", "user_id", "tenant_id", "app_id")}
        for r in _revocations(core)
    ] == [
        {
            "session_handle": handle,
            "reason": "client",
            "user_id": "alice",
            "tenant_id": "public",
            "app_id": "public",
        }
    ]
    assert revoked_by_clients() == counted + 1
    assert handle in core.revocations_logged()
    assert other not in core.revocations_logged()
    # Revoking it again, or anything else, is 200 and does nothing more.
    core.revoke(access)
    core.revoke(refresh)
    core.revoke("garbage")
    assert len(_revocations(core)) == 1
    assert revoked_by_clients() == counted + 1


def test_any_token_issued_for_a_session_revokes_it(core: ServedCore) -> None:
    # The current refresh token, with the wrong hint.
    _, refresh, handle = core.create()
    core.revoke(refresh, token_type_hint="access_token")
    assert core.introspect(refresh) == INACTIVE
    # A refresh token a refresh replaced: a client whose refresh answer was lost still
    # holds only that one, and must be able to log out with it.
    _, first, handle = core.create()
    second = core.refresh(first)["refreshToken"]["token"]
    core.revoke(first)
    assert core.introspect(second) == INACTIVE
    # An expired access token of a live session.
    access, refresh, handle = core.create()
    core.clock.advance(3601)
    core.revoke(access)
    assert core.introspect(refresh) == INACTIVE
    assert [r["session_handle"] for r in _revocations(core)][-1] == handle
    assert len(_revocations(core)) == 3


def test_forged_and_foreign_tokens_revoke_nothing(core: ServedCore) -> None:
    access, refresh, _ = core.create()
    header, payload, _ = _segments(access)
    core.cdi("PUT", "/recipe/multitenancy/app/v2", {"appId": "shop"})
    shop_access, shop_refresh, _ = core.create("/appid-shop")
    jwt = {
        "payload": {**payload, "sub": "someone-else", "rsub": "someone-else"},
        "algorithm": "RS256",
        "jwksDomain": "https://x",
        "validity": 3600,
    }
    for token in (
        core.cdi("POST", "/recipe/jwt", jwt)["jwt"],  # signed by the app, for another user
        access[:-6] + ("AAAAAA" if not access.endswith("AAAAAA") else "BBBBBB"),
        _jwt({**header, "alg": "none"}, payload),
        refresh[:-4] + ("AAAA" if not refresh.endswith("AAAA") else "BBBB"),
        shop_access,  # tokens of another app, at this app's endpoint
        shop_refresh,
        "x" * 100_000,
    ):
        core.revoke(token)
    assert core.introspect(access)["active"] is True
    assert core.introspect(shop_access, prefix="/appid-shop")["active"] is True
    assert _revocations(core) == []
    # At its own app's endpoint, a token of that app does revoke.
    core.revoke(shop_refresh, prefix="/appid-shop")
    assert core.introspect(shop_access, prefix="/appid-shop") == INACTIVE
    assert [r["app_id"] for r in _revocations(core)] == ["shop"]
