"""The public session API, end to end, on every backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tessera import Tessera, TokenTheftError, TryRefreshTokenError, UnauthorisedError
from tessera.storage import SqlStore
from tessera.storage.base import PAYLOAD_CHANGED
from tessera.syncio import Session

from ._support.clock import FakeClock

MakeTessera = Callable[..., Tessera]


def tokens(session: Session) -> tuple[str, str]:
    all_tokens = session.get_all_session_tokens_dangerously()
    refresh = all_tokens["refreshToken"]
    assert refresh is not None
    return all_tokens["accessToken"], refresh


def test_create_then_verify_locally(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session(
        "user-1", {"role": "admin"}, {"cart": 3}, ip="198.51.100.7", user_agent="UA/1"
    )
    access, _ = tokens(session)
    verified = t.syncio.get_session_without_request_response(access)
    assert verified is not None
    assert verified.get_user_id() == "user-1"
    assert verified.get_handle() == session.get_handle()
    assert verified.get_tenant_id() == "public"
    assert verified.get_access_token_payload()["role"] == "admin"
    assert verified.get_session_data_from_database() == {"cart": 3}
    info = t.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert (info.ip, info.user_agent, info.user_id) == ("198.51.100.7", "UA/1", "user-1")
    assert info.custom_claims_in_access_token_payload == {"role": "admin"}
    assert info.time_created == t.now()
    assert info.expiry == t.now() + 144000 * 60_000


def test_access_token_has_the_supertokens_v5_shape(make_tessera: MakeTessera) -> None:
    t = make_tessera(access_token_validity=900)
    session = t.syncio.create_new_session("user-1", {"plan": "pro"})
    payload = session.get_access_token_payload()
    assert set(payload) == {
        "sub", "rsub", "tId", "exp", "iat", "sessionHandle", "refreshTokenHash1",
        "parentRefreshTokenHash1", "antiCsrfToken", "plan", "auth_time",
    }  # fmt: skip
    assert payload["iat"] == payload["auth_time"] == t.now() // 1000
    assert payload["exp"] == payload["iat"] + 900
    assert payload["parentRefreshTokenHash1"] is None
    assert session.get_access_token_expiry() == payload["exp"] * 1000


def test_no_token_with_session_not_required_gives_none(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    assert t.syncio.get_session_without_request_response(None, session_required=False) is None
    assert t.syncio.get_session_without_request_response("", session_required=False) is None
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(None)


def test_expired_access_token_asks_for_refresh(make_tessera: MakeTessera, clock: FakeClock) -> None:
    t = make_tessera(access_token_validity=60)
    access, refresh = tokens(t.syncio.create_new_session("user-1"))
    clock.advance(61)
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(access)
    renewed = t.syncio.refresh_session_without_request_response(refresh)
    assert t.syncio.get_session_without_request_response(renewed.get_access_token()) is not None


def test_refresh_rotates_and_carries_stored_payload(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user-1", {"v": 1}, ip="10.0.0.1")
    _, first_refresh = tokens(session)
    assert t.syncio.merge_into_access_token_payload(session.get_handle(), {"v": 2, "extra": "x"})
    clock.advance(5)
    renewed = t.syncio.refresh_session_without_request_response(first_refresh, ip="10.0.0.2")
    new_access, new_refresh = tokens(renewed)
    assert new_refresh != first_refresh
    payload = renewed.get_access_token_payload()
    assert (payload["v"], payload["extra"]) == (2, "x")
    assert payload["parentRefreshTokenHash1"] is not None
    assert renewed.get_handle() == session.get_handle()
    info = t.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert (info.ip, info.last_ip) == ("10.0.0.1", "10.0.0.2")
    assert info.last_refreshed == info.last_active == t.now()
    assert (
        t.syncio.get_session_without_request_response(new_access, check_database=True) is not None
    )


def test_reuse_after_grace_period_is_theft_and_revokes(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(refresh_token_grace_period=10)
    session = t.syncio.create_new_session("user-1")
    access, first = tokens(session)
    t.syncio.refresh_session_without_request_response(first)
    clock.advance(11)
    with pytest.raises(TokenTheftError) as caught:
        t.syncio.refresh_session_without_request_response(first)
    assert caught.value.session_handle == session.get_handle()
    assert caught.value.user_id == "user-1"
    assert caught.value.revoked
    assert t.syncio.get_session_information(session.get_handle()) is None
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(access, check_database=True)


def test_theft_can_be_reported_without_revoking(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(refresh_token_grace_period=10, revoke_session_on_token_theft=False)
    session = t.syncio.create_new_session("user-1")
    access, first = tokens(session)
    _, second = tokens(t.syncio.refresh_session_without_request_response(first))
    clock.advance(11)
    for _ in range(2):  # the same stale token is theft each time it comes back
        with pytest.raises(TokenTheftError) as caught:
            t.syncio.refresh_session_without_request_response(first)
        assert caught.value.session_handle == session.get_handle()
        assert not caught.value.revoked
    assert t.syncio.get_session_information(session.get_handle()) is not None
    assert t.syncio.get_session_without_request_response(access, check_database=True)
    # The caller decides: the current token still works until the session is revoked.
    _, third = tokens(t.syncio.refresh_session_without_request_response(second))
    assert t.syncio.revoke_session(session.get_handle())
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(third)


def test_reuse_within_grace_period_returns_the_same_successor(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(refresh_token_grace_period=10)
    _, first = tokens(t.syncio.create_new_session("user-1"))
    a = t.syncio.refresh_session_without_request_response(first)
    clock.advance(9)
    b = t.syncio.refresh_session_without_request_response(first)
    assert tokens(a)[1] == tokens(b)[1]
    # The shared successor keeps working, and the chain goes on.
    c = t.syncio.refresh_session_without_request_response(tokens(b)[1])
    assert tokens(c)[1] not in (first, tokens(a)[1])


def test_zero_grace_period_makes_any_reuse_theft(make_tessera: MakeTessera) -> None:
    t = make_tessera(refresh_token_grace_period=0)
    _, first = tokens(t.syncio.create_new_session("user-1"))
    t.syncio.refresh_session_without_request_response(first)
    with pytest.raises(TokenTheftError):
        t.syncio.refresh_session_without_request_response(first)


def test_grandparent_token_is_theft_even_within_grace(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    _, first = tokens(t.syncio.create_new_session("user-1"))
    second = tokens(t.syncio.refresh_session_without_request_response(first))[1]
    t.syncio.refresh_session_without_request_response(second)
    with pytest.raises(TokenTheftError):
        t.syncio.refresh_session_without_request_response(first)


def test_revoke_current_session(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user-1")
    access, refresh = tokens(session)
    session.revoke_session()
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(refresh)
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(access, check_database=True)
    # Without a database check the signed token stays valid until it expires: that is
    # the documented trade-off of local verification.
    assert t.syncio.get_session_without_request_response(access) is not None


def test_revoke_by_handle_and_handles(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    handles = [t.syncio.create_new_session("user-1").get_handle() for _ in range(3)]
    assert t.syncio.revoke_session(handles[0]) is True
    assert t.syncio.revoke_session(handles[0]) is False
    assert t.syncio.revoke_session("not-a-handle") is False
    assert sorted(t.syncio.revoke_multiple_sessions([*handles, "nope"])) == sorted(handles[1:])
    assert t.syncio.get_all_session_handles_for_user("user-1") == []
    with pytest.raises(TypeError):
        t.syncio.revoke_multiple_sessions("a-single-string")


def test_revoke_all_for_user_per_tenant_and_across_tenants(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    public = t.syncio.create_new_session("user-1").get_handle()
    acme = t.syncio.create_new_session("user-1", tenant_id="acme").get_handle()
    beta = t.syncio.create_new_session("user-1", tenant_id="beta").get_handle()
    other = t.syncio.create_new_session("user-2", tenant_id="acme").get_handle()
    assert acme.endswith("_acme")
    assert sorted(t.syncio.get_all_session_handles_for_user("user-1")) == sorted(
        [public, acme, beta]
    )
    assert t.syncio.get_all_session_handles_for_user("user-1", "acme") == [acme]
    assert sorted(
        t.syncio.get_all_session_handles_for_user("user-1", "acme", fetch_across_all_tenants=True)
    ) == sorted([public, acme, beta])
    assert t.syncio.revoke_all_sessions_for_user("user-1", "acme") == [acme]
    assert sorted(t.syncio.revoke_all_sessions_for_user("user-1")) == sorted([public, beta])
    assert t.syncio.get_all_session_handles_for_user("user-2") == [other]


def test_revoke_all_across_tenants_flag(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    a = t.syncio.create_new_session("user-1", tenant_id="acme").get_handle()
    b = t.syncio.create_new_session("user-1").get_handle()
    revoked = t.syncio.revoke_all_sessions_for_user(
        "user-1", "acme", revoke_across_all_tenants=True
    )
    assert sorted(revoked) == sorted([a, b])


@pytest.mark.parametrize("blacklisting", [True, False])
def test_blacklisting_rejects_revoked_tokens_at_once(
    make_tessera: MakeTessera, blacklisting: bool
) -> None:
    t = make_tessera(access_token_blacklisting=blacklisting)
    session = t.syncio.create_new_session("user-1")
    access, _ = tokens(session)
    t.syncio.revoke_all_sessions_for_user("user-1")
    if blacklisting:
        with pytest.raises(UnauthorisedError):
            t.syncio.get_session_without_request_response(access)
    else:
        assert t.syncio.get_session_without_request_response(access) is not None
    # A per-call database check works either way.
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(access, check_database=True)


def test_session_data_and_payload_updates(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user-1", {"a": 1, "b": 2}, {"x": 1})
    handle = session.get_handle()
    assert t.syncio.update_session_data_in_database(handle, {"y": 2})
    assert session.get_session_data_from_database() == {"y": 2}
    session.update_session_data_in_database({"z": 3})
    info = t.syncio.get_session_information(handle)
    assert info is not None
    assert info.session_data_in_database == {"z": 3}
    assert t.syncio.merge_into_access_token_payload(handle, {"a": None, "c": 3})
    info = t.syncio.get_session_information(handle)
    assert info is not None
    assert info.custom_claims_in_access_token_payload == {"b": 2, "c": 3}
    assert not t.syncio.update_session_data_in_database("missing", {})
    assert not t.syncio.merge_into_access_token_payload("missing", {"a": 1})
    with pytest.raises(ValueError, match="sub"):
        t.syncio.merge_into_access_token_payload(handle, {"sub": "someone-else"})


def test_session_merge_gives_a_new_token_with_the_same_expiry(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user-1", {"role": "user"})
    before = session.get_access_token()
    expiry = session.get_access_token_expiry()
    clock.advance(30)
    session.merge_into_access_token_payload({"role": "admin"})
    assert session.get_access_token() != before
    assert session.get_access_token_expiry() == expiry
    assert session.get_all_session_tokens_dangerously()["accessAndFrontTokenUpdated"]
    verified = t.syncio.get_session_without_request_response(session.get_access_token())
    assert verified is not None
    assert verified.get_access_token_payload()["role"] == "admin"


def test_regenerate_access_token(make_tessera: MakeTessera, clock: FakeClock) -> None:
    t = make_tessera(access_token_validity=60)
    session = t.syncio.create_new_session("user-1", {"a": 1})
    access, _ = tokens(session)
    regenerated = t.syncio.regenerate_access_token(access, {"a": 2})
    assert regenerated is not None
    assert regenerated.get_access_token_payload()["a"] == 2
    assert regenerated.get_access_token_expiry() == session.get_access_token_expiry()
    clock.advance(61)
    late = t.syncio.regenerate_access_token(access, {"a": 3})
    assert late is not None
    assert late.get_access_token() == access  # expired: payload stored, no new token
    info = t.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert info.custom_claims_in_access_token_payload == {"a": 3}
    session.revoke_session()
    assert t.syncio.regenerate_access_token(access) is None


def test_protected_claims_cannot_be_set(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    for claim in ("sub", "exp", "sessionHandle", "tId", "antiCsrfToken"):
        with pytest.raises(ValueError, match=claim):
            t.syncio.create_new_session("user-1", {claim: "x"})


def test_bad_arguments_are_caller_errors(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    with pytest.raises(ValueError, match="user_id"):
        t.syncio.create_new_session(7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="user_id"):
        t.syncio.create_new_session("u" * 129)
    with pytest.raises(ValueError, match="tenant"):
        t.syncio.create_new_session("user-1", tenant_id="Not Valid")
    with pytest.raises(TypeError):
        t.syncio.create_new_session("user-1", session_data_in_database={"when": object()})
    assert t.syncio.get_all_session_handles_for_user("user-1") == []


def test_absolute_lifetime_cannot_be_extended_by_refresh(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(access_token_validity=600, session_max_lifetime=1000)
    session = t.syncio.create_new_session("user-1")
    _, refresh = tokens(session)
    clock.advance(900)
    renewed = t.syncio.refresh_session_without_request_response(refresh)
    # The new access token may not outlive the session.
    assert renewed.get_access_token_expiry() <= session.get_time_created() + 1_000_000
    info = t.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert info.expiry == info.time_created + 1_000_000
    clock.advance(101)
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(renewed.get_access_token())
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(tokens(renewed)[1])
    assert t.syncio.get_session_information(session.get_handle()) is None


def test_idle_session_expires_with_its_refresh_token(
    make_tessera: MakeTessera, clock: FakeClock
) -> None:
    t = make_tessera(access_token_validity=60, refresh_token_validity=10)
    session = t.syncio.create_new_session("user-1")
    _, refresh = tokens(session)
    clock.advance(10 * 60 + 1)
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(refresh)
    assert t.syncio.get_all_session_handles_for_user("user-1") == []
    assert t.syncio.purge_expired() == 1
    assert t.syncio.revoke_session(session.get_handle()) is False


def test_anti_csrf_via_token(make_tessera: MakeTessera) -> None:
    t = make_tessera(anti_csrf="VIA_TOKEN")
    session = t.syncio.create_new_session("user-1")
    all_tokens = session.get_all_session_tokens_dangerously()
    csrf = all_tokens["antiCsrfToken"]
    assert csrf is not None
    access, refresh = all_tokens["accessToken"], all_tokens["refreshToken"]
    assert refresh is not None
    assert t.syncio.get_session_without_request_response(access, csrf) is not None
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(access)
    with pytest.raises(TryRefreshTokenError):
        t.syncio.get_session_without_request_response(access, csrf + "x")
    assert t.syncio.get_session_without_request_response(access, anti_csrf_check=False) is not None
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(refresh, None)
    with pytest.raises(UnauthorisedError):
        t.syncio.refresh_session_without_request_response(refresh, "wrong")
    renewed = t.syncio.refresh_session_without_request_response(refresh, csrf)
    new_csrf = renewed.get_all_session_tokens_dangerously()["antiCsrfToken"]
    assert new_csrf is not None
    assert new_csrf != csrf
    assert t.syncio.get_session_without_request_response(renewed.get_access_token(), new_csrf)


def test_header_mode_sessions_skip_anti_csrf(make_tessera: MakeTessera) -> None:
    t = make_tessera(anti_csrf="VIA_TOKEN")
    session = t.syncio.create_new_session("user-1", disable_anti_csrf=True)
    access, refresh = tokens(session)
    assert session.get_all_session_tokens_dangerously()["antiCsrfToken"] is None
    assert t.syncio.get_session_without_request_response(access, anti_csrf_check=False)
    renewed = t.syncio.refresh_session_without_request_response(refresh, disable_anti_csrf=True)
    assert renewed.get_all_session_tokens_dangerously()["antiCsrfToken"] is None


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_every_algorithm_verifies_with_a_generic_jwt_library(
    make_tessera: MakeTessera, algorithm: str
) -> None:
    import jwt

    from tessera._tessera import wall_clock_ms

    # A generic library checks exp/iat against the real clock.
    t = make_tessera(access_token_signing_algorithm=algorithm, clock=wall_clock_ms)
    session = t.syncio.create_new_session("user-1", {"role": "admin"})
    jwks = jwt.PyJWKSet.from_dict(t.syncio.get_jwks())
    header = jwt.get_unverified_header(session.get_access_token())
    assert header == {"alg": algorithm, "kid": header["kid"], "typ": "JWT", "version": "5"}
    key = next(k for k in jwks.keys if k.key_id == header["kid"])
    claims = jwt.decode(session.get_access_token(), key.key, algorithms=[algorithm])
    assert claims["sub"] == "user-1"
    assert claims["role"] == "admin"


def test_static_signing_key(make_tessera: MakeTessera) -> None:
    t = make_tessera(use_dynamic_access_token_signing_key=False)
    session = t.syncio.create_new_session("user-1")
    import jwt

    kid = jwt.get_unverified_header(session.get_access_token())["kid"]
    assert kid.startswith("s-")
    assert kid in {k["kid"] for k in t.syncio.get_jwks()["keys"]}
    _, refresh = tokens(session)
    renewed = t.syncio.refresh_session_without_request_response(refresh)
    assert jwt.get_unverified_header(renewed.get_access_token())["kid"] == kid


def test_front_token_decodes_as_the_frontend_expects(make_tessera: MakeTessera) -> None:
    import base64
    import json

    t = make_tessera()
    session = t.syncio.create_new_session("user-1", {"name": "Zoë"})
    front = session.get_all_session_tokens_dangerously()["frontToken"]
    decoded = json.loads(base64.b64decode(front, validate=True))
    assert decoded["uid"] == "user-1"
    assert decoded["ate"] == session.get_access_token_expiry()
    assert decoded["up"]["name"] == "Zoë"


def test_two_processes_of_one_app_share_sessions_and_keys(make_tessera: MakeTessera) -> None:
    first, second = make_tessera(), make_tessera()
    session = first.syncio.create_new_session("user-1")
    access, refresh = tokens(session)
    assert second.syncio.get_session_without_request_response(access, check_database=True)
    renewed = second.syncio.refresh_session_without_request_response(refresh)
    assert first.syncio.get_session_without_request_response(renewed.get_access_token())
    second.syncio.revoke_session(session.get_handle())
    with pytest.raises(UnauthorisedError):
        first.syncio.get_session_without_request_response(access, check_database=True)


async def test_async_api_matches_sync(make_tessera: MakeTessera) -> None:
    t = make_tessera(refresh_token_grace_period=0)
    session = await t.asyncio.create_new_session("user-1", {"a": 1}, {"d": 1}, "acme")
    tokens_ = session.get_all_session_tokens_dangerously()
    access, refresh = tokens_["accessToken"], tokens_["refreshToken"]
    assert refresh is not None
    verified = await t.asyncio.get_session_without_request_response(access, check_database=True)
    assert verified is not None
    assert verified.get_tenant_id() == "acme"
    assert await verified.get_session_data_from_database() == {"d": 1}
    await verified.update_session_data_in_database({"d": 2})
    await verified.merge_into_access_token_payload({"b": 2})
    assert verified.get_access_token_payload()["b"] == 2
    assert await verified.get_time_created() == t.now()
    assert await verified.get_expiry() > t.now()
    assert (
        await t.asyncio.get_session_without_request_response(None, session_required=False) is None
    )
    renewed = await t.asyncio.refresh_session_without_request_response(refresh)
    with pytest.raises(TokenTheftError):
        await t.asyncio.refresh_session_without_request_response(refresh)
    assert await t.asyncio.get_session_information(renewed.get_handle()) is None
    again = await t.asyncio.create_new_session("user-1")
    assert await t.asyncio.get_all_session_handles_for_user("user-1") == [again.get_handle()]
    assert await t.asyncio.revoke_all_sessions_for_user("user-1") == [again.get_handle()]
    assert await t.asyncio.revoke_multiple_sessions([again.get_handle()]) == []
    assert await t.asyncio.revoke_session(again.get_handle()) is False
    assert "keys" in await t.asyncio.get_jwks()
    assert await t.asyncio.purge_expired() == 0
    one_more = await t.asyncio.create_new_session("user-3")
    await one_more.revoke_session()
    assert await t.asyncio.update_session_data_in_database(one_more.get_handle(), {}) is False
    assert await t.asyncio.merge_into_access_token_payload(one_more.get_handle(), {"x": 1}) is False
    assert await t.asyncio.regenerate_access_token(one_more.get_access_token()) is None


def test_token_type_claim_decides_whether_a_token_is_a_session_token(
    make_tessera: MakeTessera,
) -> None:
    t = make_tessera()
    plain = t.syncio.create_new_session("user-1", {"stt": 0})
    assert t.syncio.get_session_without_request_response(plain.get_access_token()) is not None
    # A token typed as something else (OAuth tokens carry stt=1) is never a session.
    typed = t.syncio.create_new_session("user-1", {"stt": 1})
    with pytest.raises(UnauthorisedError):
        t.syncio.get_session_without_request_response(typed.get_access_token())


def test_empty_user_id_is_allowed_as_in_supertokens(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("")
    verified = t.syncio.get_session_without_request_response(session.get_access_token())
    assert verified is not None
    assert verified.get_user_id() == ""


def test_session_merge_changes_only_the_given_keys(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user-1", {"role": "admin", "plan": "pro"})
    access, _ = tokens(session)
    # An operator takes the role away while the user's request holds the old token.
    assert t.syncio.merge_into_access_token_payload(session.get_handle(), {"role": None})
    in_request = t.syncio.get_session_without_request_response(access)
    assert in_request is not None
    in_request.merge_into_access_token_payload({"theme": "dark"})
    info = t.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert info.custom_claims_in_access_token_payload == {"plan": "pro", "theme": "dark"}
    payload = in_request.get_access_token_payload()
    assert "role" not in payload
    assert (payload["plan"], payload["theme"]) == ("pro", "dark")
    # Both changes reach the revocation log, for other processes' revocation feeds.
    assert isinstance(t.store, SqlStore)
    logged = [(r.session_handle, r.kind) for r in t.store.read_revocations(0, (), 10)]
    assert logged == [(session.get_handle(), PAYLOAD_CHANGED)] * 2


def test_two_requests_merging_different_keys_keep_both(make_tessera: MakeTessera) -> None:
    t = make_tessera()
    session = t.syncio.create_new_session("user-1", {"a": 1})
    access, _ = tokens(session)
    first = t.syncio.get_session_without_request_response(access)
    second = t.syncio.get_session_without_request_response(access)
    assert first is not None
    assert second is not None
    first.merge_into_access_token_payload({"x": 1})
    second.merge_into_access_token_payload({"y": 2})
    info = t.syncio.get_session_information(session.get_handle())
    assert info is not None
    assert info.custom_claims_in_access_token_payload == {"a": 1, "x": 1, "y": 2}
    assert second.get_access_token_payload()["x"] == 1
